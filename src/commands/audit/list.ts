// `kbk audit list`: every apply, who ran it, what it did, and how it ended.
import {Flags} from '@oclif/core'
import {readAuditEntries} from '../../audit/audit-log.js'
import type {AuditEntry} from '../../audit/audit-log.js'
import {KbkCommand} from '../../cli/base-command.js'
import {openWorkspaceStore} from '../../cli/context.js'

export default class AuditList extends KbkCommand<typeof AuditList> {
  static override description = 'List the audit trail: one hash-chained record per apply (who, when, kbk version, plan digest, actions, outcome, counts).'
  static override flags = {store: Flags.string({description: 'The store to read (when the workspace has several).'})}

  async run(): Promise<{store: string; entries: AuditEntry[]}> {
    const s = await openWorkspaceStore(this.flags)
    try {
      const entries = (await readAuditEntries(s.store)).flatMap((e) => (e.entry ? [e.entry] : []))
      if (entries.length === 0) this.out(`No audit records in store "${s.storeName}" yet.`)
      for (const e of entries) {
        this.out(`#${e.seq} ${e.at} ${e.who} kbk ${e.kbk_version} ${e.outcome.toUpperCase()} run ${e.run_id}`)
        for (const a of e.actions) this.out(`    ${a.action.padEnd(6)} ${a.address} (${a.status})`)
        this.out(`    records ${e.counts.records ?? 0}, segments ${e.counts.segments ?? 0}, expired ${e.counts.deleted_segments ?? 0}, restored ${e.counts.restored_records ?? 0}; plan ${e.plan_digest.slice(0, 19)}…`)
      }
      return {store: s.storeName, entries}
    } finally {
      await s.close()
    }
  }
}
