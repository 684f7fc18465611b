// `kbk backups describe ADDRESS`: one topic's segments and the holes between them.
import {Args, Flags} from '@oclif/core'
import {backupSnapshotsOfTopic} from '../../app/offsets.js'
import {KbkCommand} from '../../cli/base-command.js'
import {openWorkspaceStore} from '../../cli/context.js'
import {KbkError} from '../../errors.js'
import {formatBytes, formatCount} from '../../format/numbers.js'
import {describeTopic} from '../../inventory/backups.js'
import type {TopicDescription} from '../../inventory/backups.js'
import {parseAddress} from '../../plan/addresses.js'
import {topicKey} from '../../state/types.js'
import {formatTable} from './list.js'

export default class BackupsDescribe extends KbkCommand<typeof BackupsDescribe> {
  static override description = 'Describe one backed-up topic: partitions, segments, holes (compaction, transactions, data loss) and captured consumer group offsets.'
  static override examples = [`<%= config.bin %> backups describe 'backup.orders["orders.created"]'`]
  static override args = {address: Args.string({description: 'backup.POLICY["TOPIC"]', required: true})}
  static override flags = {store: Flags.string({description: 'The store to read (when the workspace has several).'})}

  async run(): Promise<TopicDescription & {offset_snapshots: Awaited<ReturnType<typeof backupSnapshotsOfTopic>>}> {
    const parsed = parseAddress(this.args.address)
    if (!parsed || parsed.type !== 'backup' || parsed.topic === undefined) {
      throw new KbkError('KBK_USAGE', `"${this.args.address}" is not a backup address.`, {suggestion: `Use the form backup.POLICY["TOPIC"], e.g. 'backup.orders["orders.created"]' (see kbk backups list).`})
    }
    const s = await openWorkspaceStore(this.flags)
    try {
      const {snapshot} = await s.state.read()
      const index = snapshot.topics[topicKey(parsed.name, parsed.topic)]
      if (!index) throw new KbkError('KBK_NOT_FOUND', `No backup of topic "${parsed.topic}" under policy "${parsed.name}" in store "${s.storeName}".`, {suggestion: 'Run kbk backups list to see what is recorded.'})
      const d = describeTopic(snapshot, index, await s.state.loadSegments(snapshot, parsed.name, parsed.topic))
      this.out(`${this.args.address}: ${d.partition_count} partition(s)${d.deleted_at ? `, deleted from the cluster at ${d.deleted_at}` : ''}`)
      this.out(`configs: ${JSON.stringify(d.configs)}`)
      this.out('')
      this.out(formatTable(d.partitions))
      this.out('')
      this.out('SEGMENTS')
      for (const seg of d.segments) this.out(`  p${seg.partition} ${seg.first_offset}..${seg.last_offset}  ${formatCount(seg.records)} rec  ${formatBytes(seg.bytes)}  ${new Date(seg.min_timestamp).toISOString()}..${new Date(seg.max_timestamp).toISOString()}  ${seg.key}${seg.retain_until ? `  immutable until ${seg.retain_until}` : ''}`)
      if (d.holes.length > 0) {
        this.out('')
        this.out('HOLES (offsets with no records: compaction, transaction markers, or recorded data loss)')
        for (const h of d.holes) this.out(`  p${h.partition} ${h.from}..${h.to - 1}${h.recorded_gap ? '  DATA LOSS (recorded)' : ''}`)
      }
      if (Object.keys(d.group_offsets).length > 0) this.out(`\nconsumer group offsets captured: ${JSON.stringify(d.group_offsets)}`)
      // The history of those offsets: one snapshot per backup run, usable as `to: timestamp` (docs/offsets.md).
      const offsetSnapshots = await backupSnapshotsOfTopic(s.ctx, s.storeName, parsed.name, parsed.topic)
      if (offsetSnapshots.length > 0) {
        this.out('\nOFFSET SNAPSHOTS (taken with backups, newest first; usable as offsetResets to: timestamp)')
        for (const o of offsetSnapshots) this.out(`  ${o.id}  ${o.taken_at}  ${Object.entries(o.groups).map(([g, p]) => `${g} ${Object.entries(p).map(([k, v]) => `${k}:${v}`).join(' ')}`).join('; ')}`)
      }
      return {...d, offset_snapshots: offsetSnapshots}
    } finally {
      await s.close()
    }
  }
}
