// `kbk drill NAME`: run a recovery drill of any restore intent now — restore into scratch topics,
// validate every record against the backup, measure the RTO, clean up, store the evidence.
import {Args, Flags} from '@oclif/core'
import type {Reporter} from '../../apply/events.js'
import {formatMs, runDrill, type DrillRunResult} from '../../app/drill.js'
import {KbkCommand} from '../../cli/base-command.js'
import {openWorkspace} from '../../cli/context.js'
import {durationFlag} from '../../cli/flags.js'
import {plainReporter} from '../../format/progress.js'

export default class Drill extends KbkCommand<typeof Drill> {
  static override description = `Run a recovery drill of restore intent NAME now, whether or not it is marked drill:.

Restores the intent's topics into scratch topics (its target names plus -drill-<time>) on its target cluster, refusing topics the policy backs up; validates every restored record against the backup's segments (count and digest per partition, translated consumer group offsets); measures the RTO from start to the last record validated against drill.rto; deletes the scratch topics (unless --keep or drill.cleanup: false); and writes an evidence object to the store, linked into the audit trail. Exit 1 when the drill fails.`

  static override examples = ['<%= config.bin %> drill orders-drill', '<%= config.bin %> drill orders-drill --keep --json']

  static override args = {name: Args.string({description: 'A restore intent under restores:.', required: true})}

  static override flags = {
    keep: Flags.boolean({description: 'Keep the scratch topics afterwards (to look at them); delete them yourself.'}),
    'lock-timeout': durationFlag({description: 'How long to wait for the lock held by another run (e.g. 90s, 2m).', default: 0}),
  }

  async run(): Promise<Omit<DrillRunResult, 'plan'> | undefined> {
    const ws = await openWorkspace(this.flags)
    try {
      // Progress goes to stderr; with --json, stdout holds only the result.
      const reporter: Reporter = this.jsonEnabled() ? {emit: () => undefined} : plainReporter()
      const result = await runDrill(ws, this.args.name, {reporter, lockTimeoutMs: this.flags['lock-timeout'], keep: this.flags.keep})
      const e = result.evidence
      if (!this.jsonEnabled()) {
        if (e) {
          this.out(`Drill ${e.drill}: ${e.result === 'pass' ? 'PASSED' : 'FAILED'}`)
          this.out(`  ${e.records} record(s) validated in ${e.topics.length} topic(s); RTO ${formatMs(e.rto.measured_ms)}${e.rto.target_ms !== null ? ` (target ${formatMs(e.rto.target_ms)}: ${e.rto.ok ? 'met' : 'missed'})` : ''}; scratch topics ${e.cleanup}`)
          for (const r of e.reasons) this.out(`  ✖ ${r}`)
          this.out(`  evidence: ${result.evidence_key}`)
        }
      }
      if (!result.outcome.ok || e?.result !== 'pass') process.exitCode = 1
      const {plan: _plan, ...rest} = result
      return rest
    } finally {
      await ws.close()
    }
  }
}
