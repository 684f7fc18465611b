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
  static override description = `Check the backups in the store (and, without --store, its policies' replicas).

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
      // Without --store, the copies of the store's policies are verified too (policies.X.replicas).
      const replicas = this.flags.store
        ? []
        : [...new Set(Object.values(s.ctx.desired.policies).filter((p) => p.store === s.storeName && (!this.flags.policy || p.name === this.flags.policy)).flatMap((p) => (p.replicas ?? []).map((r) => r.store)))].sort()
      const reports: VerifyReport[] = [await this.verifyOne(s.storeName, snapshot, s.state, s.store, replicas.length > 0, (p) => s.ctx.keyring(p))]
      for (const name of replicas) {
        const h = s.ctx.storeHandle(name)
        reports.push(await this.verifyOne(name, (await h.state.read()).snapshot, h.state, h.store, true, (p) => s.ctx.keyring(p)))
      }
      const report: VerifyReport = reports.length === 1 ? reports[0]! : {deep: this.flags.deep, ok: reports.every((r) => r.ok), objects: sum(reports, 'objects'), bytes: sum(reports, 'bytes'), records: sum(reports, 'records'), problems: reports.flatMap((r) => r.problems)}
      if (!report.ok) process.exitCode = 1
      return {report, store: s.storeName}
    } finally {
      await s.close()
    }
  }

  private async verifyOne(storeName: string, snapshot: Parameters<typeof verifyBackups>[0], state: Parameters<typeof verifyBackups>[1], store: Parameters<typeof verifyBackups>[2], named: boolean, keyring: (policy: string) => Map<string, Buffer>): Promise<VerifyReport> {
    let last = 0
    const report = await verifyBackups(snapshot, state, store, {
      deep: this.flags.deep,
      policy: this.flags.policy,
      topic: this.flags.topic,
      concurrency: this.flags.concurrency,
      keyring,
      onProgress: (done, total, bytes) => {
        if (Date.now() - last > 1000 || done === total) {
          last = Date.now()
          this.info(`verify${named ? ` ${storeName}` : ''}: ${formatCount(done)}/${formatCount(total)} segment(s), ${formatBytes(bytes)}`)
        }
      },
    })
    const where = named ? `store "${storeName}": ` : ''
    for (const p of report.problems) this.out(`✖ ${where}${p.key} (${p.address}, partition ${p.partition}) ${p.kind}: ${p.message}`)
    this.out(
      where +
        (report.ok
          ? `OK: ${formatCount(report.objects)} segment(s), ${formatBytes(report.bytes)}${report.deep ? `, ${formatCount(report.records)} record(s) decoded` : ''} — all ${report.deep ? 'readable and intact' : 'present with their recorded sizes'}.`
          : `FAILED: ${formatCount(report.problems.length)} problem(s) in ${formatCount(report.objects)} segment(s).${report.deep ? '' : ' Run kbk verify --deep to read every record.'}`),
    )
    return report
  }
}

function sum(reports: VerifyReport[], key: 'objects' | 'bytes' | 'records'): number {
  return reports.reduce((n, r) => n + r[key], 0)
}
