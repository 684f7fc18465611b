// The recorded state: what kbk knows it has written. A data type only; persistence is in
// state-store.ts. Layout for scale (10,000 partitions, 1,000,000 segments):
//   _kbk/state/head.json                         small: lineage, serial, policies, restores, topic refs
//   _kbk/state/topics/<policy>/<topic>/<serial>.json   per-topic index: partition summaries + chunk refs
//   _kbk/state/chunks/<policy>/<topic>/<id>.json  immutable lists of segments (appended, never rewritten)
// A run rewrites the head and the index of each topic it touched, and adds one chunk per touched
// topic: the write cost of a run is proportional to what it did, not to the history.

export const STATE_FORMAT_VERSION = 1

/** The fields the head file and the in-memory snapshot share. */
export interface StateHeader {
  format_version: number
  lineage: string
  serial: number
  kbk_version: string
  updated_at: string
  /** Settings recorded when each policy was last applied (no secrets: only a digest of keys). */
  policies: Record<string, PolicyRecord>
  restores: Record<string, RestoreRecord>
  /** Applied consumer offset resets and rollbacks (absent until the first one). */
  offset_resets?: Record<string, OffsetResetRecord>
}

/** Everything a plan needs, without loading segment lists. */
export interface StateSnapshot extends StateHeader {
  /** Keyed by topicKey(policy, topic). */
  topics: Record<string, TopicIndex>
}

export interface PolicyRecord {
  name: string
  /** Canonical, secret-free settings as applied; the plan diffs the config against these. */
  settings: Record<string, unknown>
  created_at: string
  updated_at: string
}

export interface TopicIndex {
  policy: string
  topic: string
  partition_count: number
  configs: Record<string, string>
  /** Set when the topic was last seen deleted from the cluster. */
  deleted_at?: string
  partitions: PartitionSummary[]
  /** Immutable chunk objects holding this topic's segments, oldest first. */
  chunks: ChunkRef[]
  /** Consumer group offsets captured with the last backup of this topic. */
  group_offsets?: Record<string, Record<number, number>>
  /** The read-back of the segments the last backup run wrote (policies.X.verify). */
  last_verify?: {at: string; mode: 'deep' | 'shallow'; ok: boolean; segments: number; problem?: string}
  last_backup_at?: string
}

export interface PartitionSummary {
  partition: number
  /** Checkpoint: every offset below this is in a durable segment or a recorded gap. */
  next_offset: number
  /** Earliest offset still held in the store (after expiry), or next_offset when none. */
  first_offset: number
  segment_count: number
  records: number
  /** Bytes stored (compressed, encrypted). */
  bytes: number
  uncompressed_bytes: number
  min_timestamp?: number
  max_timestamp?: number
  /**
   * End (exclusive) of the offsets accounted for by held segments: the next segment of this
   * partition covers from here, so offsets a run consumed without data records (transaction
   * markers, aborted or compacted records) stay explained even when no segment follows them.
   */
  covered_to?: number
  /** Oldest written_at among held segments: lets a plan see due expiry without loading chunks. */
  oldest_written_at?: string
  newest_written_at?: string
  /** Offset ranges that can never be restored (Kafka deleted them before kbk copied them). */
  gaps: Gap[]
}

export interface Gap {
  from: number
  /** Exclusive. */
  to: number
  reason: 'retention-loss' | 'topic-recreated'
  detected_at: string
}

export interface ChunkRef {
  key: string
  sha256: string
  segments: number
  /** Offset range covered, for pruning loads by partition and offset. */
  partitions: number[]
}

export interface SegmentRef {
  key: string
  policy: string
  topic: string
  partition: number
  first_offset: number
  last_offset: number
  records: number
  bytes: number
  uncompressed_bytes: number
  min_timestamp: number
  max_timestamp: number
  /**
   * The offsets this segment accounts for, [covers_from, covers_to): its records plus the offsets
   * around them that held no data records. Consecutive segments of a partition abut, except
   * across a recorded gap. Absent on segments written before kbk recorded it.
   */
  covers_from?: number
  covers_to?: number
  /** sha256 of the whole object, hex. */
  sha256: string
  /** The backup run that wrote it (a run is one apply). */
  run_id: string
  written_at: string
  /** Write-once until (immutable tiers). */
  retain_until?: string
  /** Encryption key id, when encrypted. */
  key_id?: string
  /**
   * In a replica store only: the copy's version token (ETag, generation) as it was when kbk read it
   * back and checked its sha256. A listing with another token means the object was replaced since.
   */
  replica_etag?: string
}

export interface ChunkFile {
  format_version: number
  policy: string
  topic: string
  segments: SegmentRef[]
  /** Keys of segments that later runs expired (tombstones, so chunks stay immutable). */
  removed?: string[]
}

export interface RestoreRecord {
  name: string
  /** Canonical settings as applied, including the pinned point in time. */
  settings: Record<string, unknown>
  applied_at: string
  point_in_time: string
  records: number
  /** topic -> partition -> source offset of the last restored record + 1. */
  progress: Record<string, Record<number, number>>
  status: 'complete' | 'in-progress'
  /** target topic -> partition -> the target's high watermark before this restore wrote anything. */
  target_base?: Record<string, Record<number, number>>
  /** Store key of the offset mapping written for this restore. */
  offset_map_key?: string
}

/** A consumer offset reset as applied: a snapshot was taken first, then the offsets were committed. */
export interface OffsetResetRecord {
  name: string
  /** Canonical settings as applied (the next plan shows no change while they are the same). */
  settings: Record<string, unknown>
  applied_at: string
  cluster: string
  /** in-progress: the snapshot is taken, the commits may not all have happened (a rerun finishes them). */
  status: 'complete' | 'in-progress'
  /** The snapshot of the groups' offsets taken before anything was committed. */
  snapshot_id: string
  /** group -> topic -> partition -> the offset committed (pinned: a rerun commits exactly these). */
  offsets: Record<string, Record<string, Record<number, number>>>
}

export function topicKey(policy: string, topic: string): string {
  return `${policy}/${topic}`
}

/** `_kbk/state/head.json`: O(topics), never holds segment lists. */
export interface StateHeadFile extends StateHeader {
  /** Keyed by topicKey(policy, topic). */
  topics: Record<string, TopicIndexRef>
}

/** Points at one immutable topic index object; the sha256 is checked when it is read. */
export interface TopicIndexRef {
  policy: string
  topic: string
  key: string
  sha256: string
}

/** `_kbk/state/topics/<policy>/<topic>/<serial>-<id>.json`: written once, replaced by a new one. */
export interface TopicIndexFile extends TopicIndex {
  format_version: number
}
