// `kbk status`: per policy, RPO now against its target, lag, size, growth, restorable window and
// last drill. Read-only and cheap (state + one ListOffsets round): run it every minute with
// --metrics-file as an exporter, or with --detailed-exitcode in a check.
import {Flags} from '@oclif/core'
import {costByLabel, readStatus, type CostGroup, type StatusReport} from '../app/status.js'
import {KbkCommand} from '../cli/base-command.js'
import {openWorkspace} from '../cli/context.js'
import {labelFlag, parseBy, parseLabelFilter} from '../cli/labels.js'
import {metricsFlags, startMetrics} from '../cli/metrics.js'
import {KbkError} from '../errors.js'
import {formatCostText, formatStatusText} from '../format/status-text.js'
import type {MetricsSession} from '../metrics/outputs.js'
import {recordStatus} from '../metrics/status-metrics.js'

export default class Status extends KbkCommand<typeof Status> {
  static override description = `Show, per policy, how far behind its backups are: the last backup, RPO now against the declared rpo, records not yet backed up (lag), stored bytes and growth per day, the oldest and newest restorable point, and the last drill.

Read-only and fast: it reads the state and asks each cluster for its offsets once; it reads no segment.`

  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status --detailed-exitcode          # exit 2 when any RPO is breached',
    '<%= config.bin %> status --label env=prod --json',
    '<%= config.bin %> status --by label:team              # stored bytes and monthly cost per team',
    '<%= config.bin %> status --metrics-file /var/lib/node_exporter/textfile/kbk-status.prom',
  ]

  static override flags = {
    'detailed-exitcode': Flags.boolean({description: 'Exit 0: every RPO is met. Exit 2: at least one policy breaches its rpo. Exit 1: an error.'}),
    label: labelFlag,
    by: Flags.string({description: 'Group stored bytes and projected monthly cost by a label (label:KEY).', helpValue: 'label:KEY'}),
    ...metricsFlags,
  }

  async run(): Promise<StatusReport & {by?: {key: string; groups: CostGroup[]}}> {
    const labels = parseLabelFilter(this.flags.label)
    const by = parseBy(this.flags.by)
    const metrics = await startMetrics('status', this.flags)
    try {
      const report = await this.read(metrics, labels)
      // A label filter that selects nothing is a typo, not a healthy workspace.
      if (labels && report.policies.length === 0) throw new KbkError('KBK_FILTER_NO_MATCH', `No policy has the label(s) ${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ')}.`, {suggestion: 'Check the labels: in the workspace under policies.X.labels (and the top-level labels: defaults).'})
      if (metrics) recordStatus(metrics.metrics, report)
      const groups = by === undefined ? undefined : costByLabel(report.policies, by)
      this.out(groups ? formatCostText(by!, groups) : formatStatusText(report))
      if (this.flags['detailed-exitcode']) process.exitCode = report.breached.length > 0 ? 2 : 0
      return {...report, ...(groups ? {by: {key: by!, groups}} : {})}
    } finally {
      await metrics?.finish()
    }
  }

  private async read(session: MetricsSession | undefined, labels: Record<string, string> | undefined): Promise<StatusReport> {
    const ws = await openWorkspace(this.flags, session ? {metrics: session.metrics} : {})
    try {
      return await readStatus(ws, labels ? {labels} : {})
    } finally {
      await ws.close()
    }
  }
}
