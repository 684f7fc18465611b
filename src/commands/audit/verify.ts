// `kbk audit verify`: detect a removed, altered or reordered audit record, and name it; and
// re-hash every drill evidence object the trail links.
import {Flags} from '@oclif/core'
import {readAuditEntries, verifyAuditEntries} from '../../audit/audit-log.js'
import type {AuditProblem} from '../../audit/audit-log.js'
import {verifyEvidenceLinks} from '../../audit/evidence.js'
import {KbkCommand} from '../../cli/base-command.js'
import {openWorkspaceStore} from '../../cli/context.js'

export default class AuditVerify extends KbkCommand<typeof AuditVerify> {
  static override description = 'Verify the audit trail hash chain and the drill evidence it links: exit 1 naming any removed, altered or reordered record.'
  static override flags = {store: Flags.string({description: 'The store to read (when the workspace has several).'})}

  async run(): Promise<{store: string; records: number; ok: boolean; problems: AuditProblem[]}> {
    const s = await openWorkspaceStore(this.flags)
    try {
      const entries = await readAuditEntries(s.store)
      const problems = [...verifyAuditEntries(entries), ...(await verifyEvidenceLinks(s.store, entries))]
      for (const p of problems) this.out(`✖ ${p.key}: ${p.kind}: ${p.message}`)
      const evidence = entries.filter((e) => e.entry?.evidence).length
      this.out(problems.length === 0 ? `OK: ${entries.length} audit record(s)${evidence > 0 ? `, ${evidence} drill evidence object(s)` : ''}, hash chain intact.` : `FAILED: ${problems.length} problem(s) in ${entries.length} audit record(s).`)
      if (problems.length > 0) process.exitCode = 1
      return {store: s.storeName, records: entries.length, ok: problems.length === 0, problems}
    } finally {
      await s.close()
    }
  }
}
