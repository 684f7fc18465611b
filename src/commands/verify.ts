// `kbk verify [--deep]`: are the backups really there, and really readable?
import {Flags} from '@oclif/core'
import {KbkCommand} from '../cli/base-command.js'
import {assertFilterMatches} from '../cli/filters.js'
import {openWorkspaceStore} from '../cli/context.js'
import {formatBytes, formatCount} from '../format/numbers.js'
import {verifyBackups} from '../verify/verify-backups.js'
import type {VerifyReport} from '../verify/verify-backups.js'
import {metricsFlags, startMetrics} from '../cli/metrics.js'
import type {MetricsSession} from '../metrics/outputs.js'

export default class Verify extends KbkCommand<typeof Verify> {
  static override description = `Check the backups in the store.

Without --deep: every recorded segment exists with its recorded size. With --deep: every segment is read, every checksum checked, every record decrypted and decoded, and offsets checked against the state. Exit 1 on any problem.`
  static override examples = ['<%= config.bin %> verify', '<%= config.bin %> verify --deep --policy orders']
  static override flags = {
    deep: Flags.boolean({description: 'Read and decode every segment.'}),
    policy: Flags.string({description: 'Only this policy.'}),
    topic: Flags.string({description: 'Only this topic.'}),
    store: Flags.string({description: 'The store to read (when the workspace has several).'}),
    concurrency: Flags.integer({description: 'Segments checked at once.', default: 4, min: 1, max: 64}),
    ...metricsFlags,
  }

  async run(): Promise<VerifyReport> {
    const metrics = await startMetrics('verify', this.flags)
    try {
      const {report, store: storeName} = await this.verify(metrics)
      if (metrics) {
        const store = {store: storeName}
        metrics.metrics.gauge('kbk_verify_failures').set(store, report.problems.length)
        metrics.metrics.gauge('kbk_verify_segments').set(store, report.objects)
        metrics.metrics.gauge('kbk_verify_last_run_timestamp_seconds').set(store, Date.now() / 1000)
      }
      return report
    } finally {
      await metrics?.finish()
    }
  }

  private async verify(session: MetricsSession | undefined): Promise<{report: VerifyReport; store: string}> {
    const s = await openWorkspaceStore(this.flags, session ? {metrics: session.metrics} : {})
    try {
      const {snapshot} = await s.state.read()
      assertFilterMatches({policy: this.flags.policy, topic: this.flags.topic}, {configPolicies: Object.keys(s.ctx.desired.policies), snapshot, storeName: s.storeName})
      let last = 0
      const report = await verifyBackups(snapshot, s.state, s.store, {
        deep: this.flags.deep,
        policy: this.flags.policy,
        topic: this.flags.topic,
        concurrency: this.flags.concurrency,
        keyring: (p) => s.ctx.keyring(p),
        onProgress: (done, total, bytes) => {
          if (Date.now() - last > 1000 || done === total) {
            last = Date.now()
            this.info(`verify: ${formatCount(done)}/${formatCount(total)} segment(s), ${formatBytes(bytes)}`)
          }
        },
      })
      for (const p of report.problems) this.out(`✖ ${p.key} (${p.address}, partition ${p.partition}) ${p.kind}: ${p.message}`)
      this.out(
        report.ok
          ? `OK: ${formatCount(report.objects)} segment(s), ${formatBytes(report.bytes)}${report.deep ? `, ${formatCount(report.records)} record(s) decoded` : ''} — all ${report.deep ? 'readable and intact' : 'present with their recorded sizes'}.`
          : `FAILED: ${formatCount(report.problems.length)} problem(s) in ${formatCount(report.objects)} segment(s).${report.deep ? '' : ' Run kbk verify --deep to read every record.'}`,
      )
      if (!report.ok) process.exitCode = 1
      return {report, store: s.storeName}
    } finally {
      await s.close()
    }
  }
}
