// `kbk backups list`: what is restorable, per topic and partition.
import {Flags} from '@oclif/core'
import {KbkCommand} from '../../cli/base-command.js'
import {assertFilterMatches} from '../../cli/filters.js'
import {openWorkspaceStore} from '../../cli/context.js'
import {formatBytes, formatCount} from '../../format/numbers.js'
import {renderTable} from '../../format/table.js'
import {listBackups} from '../../inventory/backups.js'
import type {PartitionBackup} from '../../inventory/backups.js'
import {labelsMatch} from '../../app/status.js'
import {labelFlag, parseLabelFilter} from '../../cli/labels.js'
import {KbkError} from '../../errors.js'
import type {StateSnapshot} from '../../state/types.js'

/** A row with the labels its policy had when it was last applied (as recorded in the state). */
type LabelledBackup = PartitionBackup & {labels: Record<string, string>}

function recordedLabels(snapshot: StateSnapshot, policy: string): Record<string, string> {
  return {...((snapshot.policies[policy]?.settings as {labels?: Record<string, string>} | undefined)?.labels ?? {})}
}

export default class BackupsList extends KbkCommand<typeof BackupsList> {
  static override description = 'List what is restorable: per topic and partition, offset and time ranges, records, bytes, compression, encryption, retention tier and the earliest point in time a restore can target.'
  static override examples = ['<%= config.bin %> backups list', '<%= config.bin %> backups list --policy orders --json']
  static override flags = {
    policy: Flags.string({description: 'Only this policy.'}),
    topic: Flags.string({description: 'Only this topic.'}),
    store: Flags.string({description: 'The store to read (when the workspace has several).'}),
    label: labelFlag,
  }

  async run(): Promise<{store: string; partitions: LabelledBackup[]}> {
    const labels = parseLabelFilter(this.flags.label)
    const s = await openWorkspaceStore(this.flags)
    try {
      const {snapshot} = await s.state.read()
      assertFilterMatches({policy: this.flags.policy, topic: this.flags.topic}, {configPolicies: Object.keys(s.ctx.desired.policies), snapshot, storeName: s.storeName})
      const all = listBackups(snapshot, {policy: this.flags.policy, topic: this.flags.topic}).map((r) => ({...r, labels: recordedLabels(snapshot, r.policy)}))
      const rows = all.filter((r) => labelsMatch(r.labels, labels))
      if (labels && all.length > 0 && rows.length === 0) {
        throw new KbkError('KBK_FILTER_NO_MATCH', `No backed-up policy in store "${s.storeName}" was applied with the label(s) ${this.flags.label!.join(', ')}.`, {
          suggestion: 'Labels are recorded when a policy is applied: check policies.X.labels, and run kbk apply after changing them.',
        })
      }
      if (rows.length === 0) this.out(`No backups recorded in store "${s.storeName}" yet. Run kbk plan and kbk apply.`)
      else this.out(formatTable(rows))
      return {store: s.storeName, partitions: rows}
    } finally {
      await s.close()
    }
  }
}

export function formatTable(rows: Array<PartitionBackup & {labels?: Record<string, string>}>): string {
  // The LABELS column only when some policy has labels: tables of workspaces without stay as they were.
  const withLabels = rows.some((r) => Object.keys(r.labels ?? {}).length > 0)
  const header = ['POLICY', 'TOPIC', 'PART', 'OFFSETS', 'RECORDS', 'STORED', 'RATIO', 'ENC', 'TIER', 'EARLIEST PIT', 'LATEST PIT', 'GAPS', 'VERIFIED', ...(withLabels ? ['LABELS'] : [])]
  const body = rows.map((r) => [
    r.policy,
    r.topic,
    String(r.partition),
    r.records > 0 ? `${r.first_offset}..${r.next_offset - 1}` : `(none) next ${r.next_offset}`,
    formatCount(r.records),
    formatBytes(r.bytes_stored),
    r.compression_ratio === null ? '-' : `${r.compression_ratio}x`,
    r.encrypted ? 'yes' : 'no',
    r.retention_tier ?? '-',
    r.earliest_point_in_time ?? '-',
    r.max_timestamp ?? '-',
    r.gaps.length > 0 ? r.gaps.map((g) => `${g.from}..${g.to - 1} ${g.reason}`).join('; ') : '-',
    r.last_verify ? `${r.last_verify.mode} ${r.last_verify.ok ? 'ok' : 'FAILED'}` : '-',
    ...(withLabels
      ? [
          Object.entries(r.labels ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(',') || '-',
        ]
      : []),
  ])
  return renderTable(header, body)
}
