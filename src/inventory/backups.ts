// The backup inventory: what is restorable, per topic and partition, computed from the recorded
// state alone (pure). `kbk backups list` and `describe` render it.
import {pushTo} from '../collections.js'
import type {SegmentRef, StateSnapshot, TopicIndex} from '../state/types.js'

export interface PartitionBackup {
  policy: string
  topic: string
  partition: number
  /** Restorable offsets [first_offset, next_offset). */
  first_offset: number
  next_offset: number
  min_timestamp: string | null
  max_timestamp: string | null
  records: number
  segments: number
  bytes_stored: number
  uncompressed_bytes: number
  /** uncompressed / stored. */
  compression_ratio: number | null
  encrypted: boolean
  retention_tier: string | null
  /** The earliest point in time a restore can target: the oldest record held. */
  earliest_point_in_time: string | null
  last_backup_at: string | null
  /** The read-back after the topic's last backup run (policies.X.verify), when there was one. */
  last_verify: TopicIndex['last_verify'] | null
  gaps: Array<{from: number; to: number; reason: string}>
}

export interface BackupFilter {
  policy?: string
  topic?: string
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString()
}

export function listBackups(state: StateSnapshot, filter: BackupFilter = {}): PartitionBackup[] {
  const rows: PartitionBackup[] = []
  for (const index of Object.values(state.topics)) {
    if (filter.policy && index.policy !== filter.policy) continue
    if (filter.topic && index.topic !== filter.topic) continue
    const settings = state.policies[index.policy]?.settings as {encryption?: unknown; retention?: string} | undefined
    for (const p of index.partitions) {
      rows.push({
        policy: index.policy,
        topic: index.topic,
        partition: p.partition,
        first_offset: p.first_offset,
        next_offset: p.next_offset,
        min_timestamp: iso(p.min_timestamp),
        max_timestamp: iso(p.max_timestamp),
        records: p.records,
        segments: p.segment_count,
        bytes_stored: p.bytes,
        uncompressed_bytes: p.uncompressed_bytes,
        compression_ratio: p.bytes > 0 ? Math.round((p.uncompressed_bytes / p.bytes) * 100) / 100 : null,
        encrypted: Boolean(settings?.encryption),
        retention_tier: settings?.retention ?? null,
        earliest_point_in_time: iso(p.min_timestamp),
        last_backup_at: index.last_backup_at ?? null,
        last_verify: index.last_verify ?? null,
        gaps: p.gaps.map((g) => ({from: g.from, to: g.to, reason: g.reason})),
      })
    }
  }
  return rows.sort((a, b) => a.policy.localeCompare(b.policy) || a.topic.localeCompare(b.topic) || a.partition - b.partition)
}

export interface TopicDescription {
  policy: string
  topic: string
  partition_count: number
  configs: Record<string, string>
  deleted_at: string | null
  group_offsets: Record<string, Record<number, number>>
  partitions: PartitionBackup[]
  segments: Array<Pick<SegmentRef, 'key' | 'partition' | 'first_offset' | 'last_offset' | 'records' | 'bytes' | 'min_timestamp' | 'max_timestamp' | 'written_at' | 'run_id'> & {retain_until?: string}>
  /** Offset ranges between consecutive segments that hold no records (compaction, transactions, data loss). */
  holes: Array<{partition: number; from: number; to: number; recorded_gap: boolean}>
}

export function describeTopic(state: StateSnapshot, index: TopicIndex, segments: SegmentRef[]): TopicDescription {
  const holes: TopicDescription['holes'] = []
  const byPartition = new Map<number, SegmentRef[]>()
  for (const s of segments) pushTo(byPartition, s.partition, s)
  for (const [partition, list] of byPartition) {
    const sorted = [...list].sort((a, b) => a.first_offset - b.first_offset)
    const gaps = index.partitions.find((p) => p.partition === partition)?.gaps ?? []
    for (let i = 1; i < sorted.length; i++) {
      const from = sorted[i - 1]!.last_offset + 1
      const to = sorted[i]!.first_offset
      if (to > from) holes.push({partition, from, to, recorded_gap: gaps.some((g) => g.from <= from && g.to >= to)})
    }
  }
  // A recorded gap with no segment after it yet (or with none held at all) is a hole too.
  for (const p of index.partitions) {
    for (const g of p.gaps) {
      if (!holes.some((h) => h.partition === p.partition && h.from <= g.from && h.to >= g.to)) holes.push({partition: p.partition, from: g.from, to: g.to, recorded_gap: true})
    }
  }
  return {
    policy: index.policy,
    topic: index.topic,
    partition_count: index.partition_count,
    configs: index.configs,
    deleted_at: index.deleted_at ?? null,
    group_offsets: index.group_offsets ?? {},
    partitions: listBackups(state, {policy: index.policy, topic: index.topic}),
    segments: segments.map((s) => ({key: s.key, partition: s.partition, first_offset: s.first_offset, last_offset: s.last_offset, records: s.records, bytes: s.bytes, min_timestamp: s.min_timestamp, max_timestamp: s.max_timestamp, written_at: s.written_at, run_id: s.run_id, ...(s.retain_until ? {retain_until: s.retain_until} : {})})),
    holes: holes.sort((a, b) => a.partition - b.partition || a.from - b.from),
  }
}
