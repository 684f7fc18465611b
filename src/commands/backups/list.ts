// `kbk backups list`: what is restorable, per topic and partition.
import {Flags} from '@oclif/core'
import {KbkCommand} from '../../cli/base-command.js'
import {assertFilterMatches} from '../../cli/filters.js'
import {openWorkspaceStore} from '../../cli/context.js'
import {formatBytes, formatCount} from '../../format/numbers.js'
import {renderTable} from '../../format/table.js'
import {listBackups} from '../../inventory/backups.js'
import type {PartitionBackup} from '../../inventory/backups.js'

export default class BackupsList extends KbkCommand<typeof BackupsList> {
  static override description = 'List what is restorable: per topic and partition, offset and time ranges, records, bytes, compression, encryption, retention tier and the earliest point in time a restore can target.'
  static override examples = ['<%= config.bin %> backups list', '<%= config.bin %> backups list --policy orders --json']
  static override flags = {
    policy: Flags.string({description: 'Only this policy.'}),
    topic: Flags.string({description: 'Only this topic.'}),
    store: Flags.string({description: 'The store to read (when the workspace has several).'}),
  }

  async run(): Promise<{store: string; partitions: PartitionBackup[]}> {
    const s = await openWorkspaceStore(this.flags)
    try {
      const {snapshot} = await s.state.read()
      assertFilterMatches({policy: this.flags.policy, topic: this.flags.topic}, {configPolicies: Object.keys(s.ctx.desired.policies), snapshot, storeName: s.storeName})
      const rows = listBackups(snapshot, {policy: this.flags.policy, topic: this.flags.topic})
      if (rows.length === 0) this.out(`No backups recorded in store "${s.storeName}" yet. Run kbk plan and kbk apply.`)
      else this.out(formatTable(rows))
      return {store: s.storeName, partitions: rows}
    } finally {
      await s.close()
    }
  }
}

export function formatTable(rows: PartitionBackup[]): string {
  const header = ['POLICY', 'TOPIC', 'PART', 'OFFSETS', 'RECORDS', 'STORED', 'RATIO', 'ENC', 'TIER', 'EARLIEST PIT', 'LATEST PIT', 'GAPS', 'VERIFIED']
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
  ])
  return renderTable(header, body)
}
