// Plans as data: what kbk intends to do, pinned exactly, with no secrets. Rendering is in
// src/format/, persistence in plan-file.ts, execution in src/apply/. Business rules about a
// plan (can it be applied?) live here, on the type, not in the UI.
import type {PartitionWatermarks} from '../kafka/port.js'
import type {SegmentRef, StateSnapshot} from '../state/types.js'
import type {DiagnosticCode, ErrorCode} from '../errors.js'

export const PLAN_FORMAT_VERSION = '1.0'

/** The closed set of actions: + create, ~ update, - destroy (expiry), > run (backup or restore). */
export type Action = 'create' | 'update' | 'delete' | 'run'
export type ResourceType = 'policy' | 'backup' | 'expire' | 'restore' | 'offsets' | 'replicate'

export interface AttributeDiff {
  path: string
  before: unknown
  after: unknown
}

export interface PartitionRange {
  partition: number
  /** First offset to copy, inclusive. */
  from: number
  /** High watermark seen at plan time: copy stops before it. */
  to: number
  /** Records Kafka deleted before they were backed up: [from, to) of this gap, recorded on apply. */
  lost?: {from: number; to: number}
}

export interface BackupRun {
  policy: string
  topic: string
  cluster: string
  store: string
  partition_count: number
  configs: Record<string, string>
  ranges: PartitionRange[]
  estimated_records: number
  /**
   * Estimated from the bytes per record of earlier runs; before the first, from the partitions'
   * log sizes on the brokers. Undefined when neither is known (no DESCRIBE permission on the cluster).
   */
  estimated_bytes?: number
  first_backup: boolean
  /** The policy's rateLimit: the run reads no faster, over all its partitions (absent: unlimited). */
  rate_limit?: {bytesPerSecond: number; recordsPerSecond?: number}
}

export interface ExpirySet {
  policy: string
  topic: string
  store: string
  tier: string
  segments: Array<Pick<SegmentRef, 'key' | 'partition' | 'first_offset' | 'last_offset' | 'records' | 'bytes' | 'written_at' | 'sha256'>>
  bytes: number
  records: number
  /** Oldest and newest write time of the segments to delete. */
  written_from: string
  written_to: string
  /** Segments kept although old enough: why (minKeep, immutable until, restore intent, compacted). */
  kept: Array<{reason: string; segments: number}>
}

export interface RestoreTopicPlan {
  source_topic: string
  target_topic: string
  partitions: number
  create: boolean
  configs: Record<string, string>
  partition_mapping?: Record<number, number>
  /** Source partition -> [first offset, last offset] of the records that will be restored. */
  ranges: Array<{partition: number; from: number; to: number}>
  estimated_records: number
  estimated_bytes: number
  /** Timestamp of the oldest record to restore (the retention and timestamp checks use it). */
  oldest_timestamp?: string
  /** Set when kbk raised the created topic's retention.ms so the restored records survive (extendRetention). */
  retention_extended?: {from_ms: number; to_ms: number}
  /** The target's effective time retention as planned (after any extension), when it deletes by time: apply re-checks it. */
  retention_ms?: number
}

export interface RestoreRun {
  name: string
  policy: string
  store: string
  cluster: string
  /** Pinned: `latest` becomes a concrete timestamp at plan time. */
  point_in_time: string
  point_in_time_requested: string
  topics: RestoreTopicPlan[]
  consumer_groups: string[]
  if_target_not_empty: 'fail' | 'append'
  estimated_records: number
  estimated_bytes: number
  /** Set when this restore is a recovery drill (docs/drills.md): into scratch topics, then validated, timed and cleaned up. */
  drill?: DrillRunPlan
  /** A Kafka Streams application restored as one (docs/offsets.md). */
  streams?: RestoreStreamsPlan
}

export interface DrillRunPlan {
  /** The restore intent drilled (the run's own name carries the scratch suffix). */
  intent: string
  /** Appended to each target topic name: the scratch topics. */
  scratch_suffix: string
  rto_ms: number | null
  cleanup: boolean
  /** Why it runs: due (never passed, or the last pass is older than `every`) or asked for (`kbk drill`). */
  reason: 'due' | 'requested'
  last_pass: string | null
}

export interface RestoreStreamsPlan {
  application_id: string
  /** Restored topics the application's group consumes: its offsets there resume after the last restored record. */
  input_topics: string[]
  changelog_topics: string[]
  /** Repartition topics: not restored, recreated empty on the target (the group starts them at 0). */
  repartition: Array<{source_topic: string; target_topic: string; partitions: number; configs: Record<string, string>; create: boolean}>
}

/**
 * What every change has. `store` names the store whose state the change commits to: apply looks
 * nothing up, and a change without a store cannot be written.
 */
interface ChangeBase {
  address: string
  /** Policy or restore name. */
  name: string
  store: string
  /** Set when the change is shown but will not be performed, and why (e.g. allowDestroy is false). */
  blocked?: string
  /** Extra lines for the reader (e.g. "backup data is kept"). */
  notes?: string[]
}

/**
 * The payload fields a variant does not carry are declared `?: undefined`, so a reader can ask any
 * change for `backup`, `expire` or `restore` and TypeScript narrows on the answer.
 */
interface NoPayload {
  backup?: undefined
  expire?: undefined
  restore?: undefined
  offsets?: undefined
  replicate?: undefined
}

/** A policy is created, its settings updated, or it is no longer managed (its backups are kept). */
export interface PolicyChange extends ChangeBase, NoPayload {
  type: 'policy'
  topic?: undefined
  actions: Array<'create' | 'update' | 'delete'>
  /** The recorded settings (null when created), and the wanted ones (null when no longer managed). */
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
  /** For `update`: the attributes that change, old → new. */
  diff?: AttributeDiff[]
}

/** Copy a topic's new records to the store. */
export interface BackupChange extends ChangeBase, Omit<NoPayload, 'backup'> {
  type: 'backup'
  topic: string
  actions: Array<'run'>
  before: {next_offsets: Record<number, number>} | null
  after: {next_offsets: Record<number, number>}
  backup: BackupRun
  diff?: undefined
}

/** A backed-up topic is gone from its cluster: apply records when, and keeps its backups. */
export interface TopicGoneChange extends ChangeBase, NoPayload {
  type: 'backup'
  topic: string
  actions: Array<'update'>
  before: {deleted_at: null}
  after: {deleted_at: string; store: string}
  diff?: undefined
}

/** Delete a topic's segments past their retention tier (DESTROYS BACKUP DATA). */
export interface ExpireChange extends ChangeBase, Omit<NoPayload, 'expire'> {
  type: 'expire'
  topic: string
  actions: Array<'delete'>
  before: {segments: number; bytes: number}
  after: null
  expire: ExpirySet
  diff?: undefined
}

/** Run a restore intent (`run`), or run it again because its settings changed (`update`). */
export interface RestoreChange extends ChangeBase, Omit<NoPayload, 'restore'> {
  type: 'restore'
  topic?: undefined
  actions: Array<'run' | 'update'>
  /** The recorded settings of an earlier run, or null. */
  before: Record<string, unknown> | null
  after: Record<string, unknown>
  restore: RestoreRun
  /** For `update`: the settings that changed since it was applied. */
  diff?: AttributeDiff[]
}

/**
 * One planned change. The variant says what apply does; each carries its store and payload, so
 * apply switches on the variant and never guesses.
 */
export type ResourceChange = PolicyChange | BackupChange | TopicGoneChange | ExpireChange | RestoreChange | OffsetsChange | ReplicateChange

// ---- consumer offset resets (docs/offsets.md) ----

/** One partition's committed offset now (null: none) and the one apply commits. */
export interface OffsetMove {
  partition: number
  before: number | null
  after: number
}

export interface OffsetResetGroupPlan {
  group: string
  /** The group's state at plan time (Empty, Stable, ...). */
  state: string
  /** Members at plan time (apply with ifActive: wait waits for them to leave). */
  members: Array<{member_id: string; client_id: string; host: string}>
  /** topic -> the partitions whose committed offset changes, ascending. */
  topics: Record<string, OffsetMove[]>
}

export interface OffsetResetRun {
  /** The intent's name, or rollback-<snapshot id> for `kbk offsets rollback`. */
  name: string
  cluster: string
  store: string
  to: 'restored' | 'earliest' | 'latest' | 'timestamp' | 'snapshot'
  /** Where the new offsets come from: the snapshot (to: snapshot/timestamp, rollbacks) or the restore (to: restored). */
  source?: {snapshot?: string; snapshot_taken_at?: string; restore?: string; timestamp?: string}
  groups: OffsetResetGroupPlan[]
  if_active: 'fail' | 'wait'
  wait_timeout_ms: number
  /** Set when an interrupted apply of the same reset already took its snapshot: apply reuses it. */
  resume_snapshot?: string
}

/** Commit new offsets for consumer groups (after a snapshot of their committed offsets). */
export interface OffsetsChange extends ChangeBase, Omit<NoPayload, 'offsets'> {
  type: 'offsets'
  topic?: undefined
  actions: Array<'update'>
  /** The recorded settings of an earlier apply, or null. */
  before: Record<string, unknown> | null
  after: Record<string, unknown>
  offsets: OffsetResetRun
  diff?: undefined
}

export interface DesiredOffsetReset {
  name: string
  cluster: string
  store: string
  groups: RegExp[]
  /** Empty: every topic the group has committed offsets for. */
  topics: RegExp[]
  to: OffsetResetRun['to']
  restore?: string
  timestamp?: string
  snapshot?: string
  ifActive: 'fail' | 'wait'
  waitTimeoutMs: number
  /** Canonical settings: recorded once applied, and diffed. */
  settings: Record<string, unknown>
}

/** What the refresh read for one offset reset (read-only: describe and fetch, never a join). */
export interface OffsetResetView {
  groups: Array<{group: string; state: string; members: Array<{member_id: string; client_id: string; host: string}>; offsets: Record<string, Record<number, number>>}>
  /** Watermarks of the topics the reset may touch. */
  watermarks: Record<string, PartitionWatermarks[]>
  /** to: snapshot / timestamp: the snapshot that gives the offsets (none found: undefined). */
  snapshot?: {id: string; taken_at: string; groups: Record<string, Record<string, Record<number, number>>>}
  /** to: restored: the positions the restore translated, group -> target topic -> partition -> offset. */
  restored?: Record<string, Record<string, Record<number, number>>>
  error?: {code: ErrorCode; message: string}
}

/** One segment to copy to a replica, and why it is not there yet. */
export interface ReplicaSegment {
  key: string
  partition: number
  first_offset: number
  last_offset: number
  records: number
  bytes: number
  sha256: string
  /** missing: never copied; changed: the replica's object differs from what was recorded (size or version). */
  reason: 'missing' | 'changed'
}

/** What one topic's replica needs: segments to copy and the primary's checkpoints to mirror. */
export interface ReplicationSet {
  policy: string
  topic: string
  /** The policy's store, read from, and its kind (for the egress estimate). */
  source_store: string
  source_kind: 'fs' | 's3' | 'azure' | 'gcs'
  /** The replica store, written to (its own state records the copy). */
  store: string
  tier: string
  segments: ReplicaSegment[]
  /** Per partition: the offset range and bytes the segments to copy cover. */
  ranges: Array<{partition: number; from: number; to: number; segments: number; bytes: number}>
  bytes: number
  records: number
  /** Write-once lock of each copy: its write time plus this (an immutable replica tier). */
  retain_ms?: number
  /** The topic as the primary records it, mirrored so a restore from the replica needs nothing else. */
  topic_meta: {partition_count: number; configs: Record<string, string>; group_offsets?: Record<string, Record<number, number>>; last_backup_at?: string; deleted_at?: string}
  /** The primary's checkpoints and gaps; a partition's checkpoint moves once all its segments are copied. */
  partitions: Array<{partition: number; next_offset: number; gaps: Array<{from: number; to: number; reason: 'retention-loss' | 'topic-recreated'; detected_at: string}>}>
}

/**
 * Copy a policy's segments to one of its replicas (`run`), or record the copy's settings in the
 * replica store (`create`/`update`, no topic). The change's `store` is the replica store.
 */
export interface ReplicateChange extends ChangeBase, Omit<NoPayload, 'replicate'> {
  type: 'replicate'
  topic?: string
  actions: Array<'run' | 'create' | 'update'>
  before: Record<string, unknown> | null
  after: Record<string, unknown>
  replicate?: ReplicationSet
  diff?: AttributeDiff[]
}

export type DriftKind =
  | 'segment-missing'
  | 'segment-changed'
  | 'unknown-object'
  | 'topic-deleted'
  | 'partitions-added'
  | 'new-topic'
  | 'topic-recreated'
  | 'data-loss'
  | 'rpo-exceeded'
  | 'drill-overdue'
  | 'cluster-unreachable'
  | 'replica-behind'
  | 'replica-missing'
  | 'replica-changed'

export interface Drift {
  address: string
  kind: DriftKind
  severity: 'critical' | 'warning' | 'info'
  message: string
  expected?: unknown
  found?: unknown
  fix: string
}

export interface PlanDiagnostic {
  severity: 'error' | 'warning'
  code: DiagnosticCode
  message: string
  suggestion?: string
  file?: string
  line?: number
  column?: number
}

export interface PlanSummary {
  create: number
  update: number
  delete: number
  run: number
  blocked: number
  drift: number
}

export interface Plan {
  format_version: string
  kbk_version: string
  created_at: string
  refresh_only: boolean
  config_digest: string
  /** Per store: the state this plan was made against. Apply refuses when any moved on. */
  states: Record<string, {lineage: string; serial: number}>
  targets?: string[]
  resource_changes: ResourceChange[]
  drift: Drift[]
  diagnostics: PlanDiagnostic[]
  summary: PlanSummary
  applyable: boolean
}

// ---- planner input ----

export interface DesiredRetention {
  tier: string
  /** null: never expires. */
  maxAgeMs: number | null
  minKeep: number
  immutable: boolean
  allowDestroy: boolean
}

export interface DesiredPolicy {
  name: string
  cluster: string
  store: string
  include: RegExp[]
  exclude: RegExp[]
  internalTopics: boolean
  groupInclude: RegExp[]
  groupExclude: RegExp[]
  retention: DesiredRetention
  rpoMs?: number
  tags: string[]
  /** Canonical, secret-free settings: what is recorded in state and diffed. */
  settings: Record<string, unknown>
  /** Copies in other stores, each expired by its own tier (the policy's allowDestroy applies). */
  replicas?: DesiredReplica[]
}

export interface DesiredReplica {
  store: string
  /** The kind of the policy's own store, which the copies are read out of (egress). */
  sourceKind: 'fs' | 's3' | 'azure' | 'gcs'
  retention: DesiredRetention
}

export interface DesiredRestore {
  name: string
  policy: string
  cluster: string
  /** ISO timestamp, or 'latest'. */
  pointInTime: string
  include: RegExp[]
  exclude: RegExp[]
  topicSuffix?: string
  rename: Record<string, string>
  createTopics: boolean
  partitions?: number
  configs: Record<string, string>
  partitionMapping?: Record<number, number>
  translateGroups: string[]
  ifTargetNotEmpty: 'fail' | 'append'
  /** Created topics get a retention.ms that keeps the oldest restored record, instead of the plan refusing. */
  extendRetention: boolean
  /** A Kafka Streams application restored as one: its application.id (docs/offsets.md). */
  streamsApplicationId?: string
  /** The copy to read from (`from.store`): the policy's store when undefined. */
  store?: string
  /** Canonical settings (without the pinned point in time). */
  settings: Record<string, unknown>
  /** A recovery drill (restores.X.drill): planned when due, never as a plain restore. */
  drill?: {everyMs?: number; rtoMs?: number; cleanup: boolean}
}

export interface Desired {
  policies: Record<string, DesiredPolicy>
  restores: Record<string, DesiredRestore>
  /** Absent when the workspace declares none. */
  offsetResets?: Record<string, DesiredOffsetReset>
  /** Restore-drill requirements from compliance tags: policy -> max age of the last drill. */
  drillWithinMs: Record<string, number>
  configDigest: string
  /** Compliance and other rule results computed from the config (and facts about stores). */
  diagnostics: PlanDiagnostic[]
  /** Restore intents to run as drills now whatever their schedule (`kbk drill NAME`). */
  forceDrills?: string[]
}

export interface TopicView {
  partitions: number
  configs: Record<string, string>
  watermarks: PartitionWatermarks[]
  /**
   * Partition -> bytes of its log on the leader, read only for topics a policy has never backed up
   * (the estimate of a first backup); partitions the brokers would not describe are missing.
   */
  log_bytes?: Record<number, number>
}

export interface ClusterView {
  topics: Record<string, TopicView>
  /**
   * Read only for clusters that restores write to: the brokers' defaults for topic configs a topic
   * does not set (retention.ms, message.timestamp.*), so the planner knows a target's effective
   * retention. Undefined when not read or not readable.
   */
  topic_defaults?: Record<string, string>
  /** Target topics of restores: their watermarks tell whether they are empty. Same shape. */
  error?: {code: ErrorCode; message: string}
}

export interface StoreObjectView {
  /** Store key -> size, for the recorded objects that were checked. */
  sizes: Record<string, number>
  /** Keys under the kbk area (data/ and _kbk/) that no state knows, with why when known. */
  unknown: string[]
  /** Why some unknown keys are there (e.g. an interrupted state commit), by key. */
  unknown_reasons?: Record<string, string>
  /** True when the listing covered every recorded object. */
  complete: boolean
}

/** What a normal plan's cheap probe of a store saw (a --refresh-only plan lists everything instead). */
export interface StoreProbe {
  /** Per probed partition: the first offset of the oldest segment object found, null when none. */
  partitions: Array<{policy: string; topic: string; partition: number; first_offset: number | null; first_key: string | null}>
  /** Partitions with recorded segments, and how many of them this plan probed (bounded per plan). */
  total: number
  probed: number
  /** Only for a store with no state yet: the first object found under data/, or null. */
  data_without_state?: string | null
}

export interface Observed {
  states: Record<string, StateSnapshot>
  clusters: Record<string, ClusterView>
  /** Segments loaded for (policy, topic) keys where expiry or restores need them. */
  segments: Record<string, SegmentRef[]>
  /** Per store: what a listing found, when the refresh listed (drift checks). */
  objects?: Record<string, StoreObjectView>
  /** Per store: the cheap probe of a normal plan, when the refresh did not list. */
  probes?: Record<string, StoreProbe>
  /** Per store, per restore intent: its drill runs, from the evidence objects' names (audit/evidence.ts). */
  drills?: Record<string, Record<string, DrillRuns>>
  /** Per offset reset: groups, offsets and sources (src/offsets/read-offsets.ts). */
  offsets?: Record<string, OffsetResetView>
  /** Per replica store (policies.X.replicas): its own state and what its data area holds. */
  replicas?: Record<string, ReplicaView>
  /** Stores whose state could not be read (unreachable, no bucket): their policies are not planned. */
  store_errors?: Record<string, {code: ErrorCode; message: string}>
}

export interface DrillRuns {
  last_run?: string
  last_result?: 'pass' | 'fail'
  last_pass?: string
}

/** What the refresh saw in one replica store. */
export interface ReplicaView {
  state?: StateSnapshot
  /** Segments recorded in the replica's state, by topicKey(policy, topic). */
  segments: Record<string, SegmentRef[]>
  /** Objects under data/<policy>/ for each replicated policy: key -> size and version token. */
  objects: Record<string, {size: number; etag: string}>
  /** Keys found there that the replica's state does not record (and are not recent). */
  extra: string[]
  error?: {code: ErrorCode; message: string}
}

export interface PlanOptions {
  now: Date
  kbkVersion: string
  refreshOnly?: boolean
  targets?: string[]
}

export function summarize(changes: ResourceChange[], drift: Drift[]): PlanSummary {
  const s: PlanSummary = {create: 0, update: 0, delete: 0, run: 0, blocked: 0, drift: drift.length}
  for (const c of changes) {
    if (c.blocked) {
      s.blocked++
      continue
    }
    for (const a of c.actions) s[a]++
  }
  return s
}

/** A plan has something to do when any change is not blocked. */
export function hasChanges(plan: Plan): boolean {
  return plan.resource_changes.some((c) => !c.blocked)
}

/**
 * The least severe drift that fails a drift job (`--fail-on`): `error` counts only critical
 * findings (data loss, missing or changed segments, RPO breaches, unreachable clusters);
 * `warning` (the default) adds what needs a person soon (deleted topics, unknown objects, overdue
 * drills); `info` adds what the next apply takes care of by itself (new topics, added partitions).
 */
export type FailOn = 'info' | 'warning' | 'error'
export const FAIL_ON_LEVELS: readonly FailOn[] = ['info', 'warning', 'error']

const FAIL_RANK: Record<Drift['severity'], number> = {info: 0, warning: 1, critical: 2}
const THRESHOLD: Record<FailOn, number> = {info: 0, warning: 1, error: 2}

/** The drift findings that count for `--detailed-exitcode` at this `--fail-on` level. */
export function failingDrift(drift: readonly Drift[], failOn: FailOn): Drift[] {
  return drift.filter((d) => FAIL_RANK[d.severity] >= THRESHOLD[failOn])
}

export function canApply(plan: Plan): {ok: true} | {ok: false; reason: string} {
  if (plan.refresh_only) return {ok: false, reason: 'a --refresh-only plan proposes no actions'}
  const errors = plan.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length > 0) return {ok: false, reason: `the plan has ${errors.length} error(s): ${errors[0]!.message}`}
  return {ok: true}
}
