// The status of each policy — RPO now against its rpo, lag, size, growth, restorable window, last
// drill — and the cost view by label: pure, from the recorded state and the clusters' watermarks.
// src/app/status.ts does the reading; `kbk status` and the status metrics render it.
import type {PolicyConfig, Workspace} from '../config/types.js'
import type {PartitionWatermarks} from '../kafka/port.js'
import {topicMatches} from '../plan/topic-selection.js'
import type {DesiredPolicy} from '../plan/types.js'
import type {StateSnapshot} from '../state/types.js'

const DAY_MS = 86_400_000
const GIB = 1024 ** 3

export interface PartitionLag {
  topic: string
  partition: number
  lag: number
}

export interface PolicyStatus {
  policy: string
  store: string
  cluster: string
  labels: Record<string, string>
  /** When a backup run of the policy last copied records (the newest of its topics). */
  last_backup_at: string | null
  /** Timestamp of the newest record held in a durable segment. */
  newest_record_at: string | null
  /** The oldest point in time a restore can target. */
  oldest_restorable_at: string | null
  /** The declared rpo, as written and in ms. */
  rpo: string | null
  rpo_ms: number | null
  /**
   * RPO now: the age of the last backup of the most stale topic with records not yet backed up;
   * 0 when every record on the cluster is backed up; null when such a topic was never backed up.
   */
  rpo_now_ms: number | null
  rpo_breached: boolean
  /** Records on the cluster not in a durable segment; null when the cluster could not be asked. */
  lag_records: number | null
  lag: PartitionLag[]
  topics: number
  stored_bytes: number
  uncompressed_bytes: number
  records: number
  segments: number
  /** Average growth of stored bytes per day over the held segments' write times; null below a day of history. */
  growth_bytes_per_day: number | null
  /** stored GiB × the store's pricePerGiBMonth; null when the store declares no price. */
  monthly_cost: number | null
  last_drill_at: string | null
  /** Why lag is unknown (the cluster could not be reached). */
  cluster_error?: string
}

export interface StoreStatus {
  store: string
  state_updated_at: string | null
  /** The lock held now, if any. */
  lock: {id: string; who: string; operation: string; heartbeat: string; age_ms: number} | null
}

export interface StatusReport {
  at: string
  policies: PolicyStatus[]
  stores: StoreStatus[]
  breached: string[]
}

/** Does a label set carry every label of the filter? */
export function labelsMatch(labels: Record<string, string>, filter: Record<string, string> | undefined): boolean {
  return Object.entries(filter ?? {}).every(([k, v]) => labels[k] === v)
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString()
}

/**
 * One policy's status from its recorded state and the cluster's watermarks (undefined: the
 * cluster could not be asked; then RPO now is the age of the last backup, the cautious answer).
 */
export function policyStatus(
  policy: PolicyConfig,
  desired: DesiredPolicy,
  state: StateSnapshot,
  watermarks: Map<string, PartitionWatermarks[]> | undefined,
  now: Date,
  pricePerGiBMonth: number | undefined,
  clusterError?: string,
): PolicyStatus {
  const indexes = Object.values(state.topics).filter((t) => t.policy === policy.name)
  let stored = 0
  let uncompressed = 0
  let records = 0
  let segments = 0
  let lastBackup: number | undefined
  let newestRecord: number | undefined
  let oldestRecord: number | undefined
  let oldestWrite: number | undefined
  let newestWrite: number | undefined
  for (const t of indexes) {
    if (t.last_backup_at) lastBackup = Math.max(lastBackup ?? 0, Date.parse(t.last_backup_at))
    for (const p of t.partitions) {
      stored += p.bytes
      uncompressed += p.uncompressed_bytes
      records += p.records
      segments += p.segment_count
      if (p.max_timestamp !== undefined) newestRecord = Math.max(newestRecord ?? p.max_timestamp, p.max_timestamp)
      if (p.min_timestamp !== undefined) oldestRecord = Math.min(oldestRecord ?? p.min_timestamp, p.min_timestamp)
      if (p.oldest_written_at) oldestWrite = Math.min(oldestWrite ?? Infinity, Date.parse(p.oldest_written_at))
      if (p.newest_written_at) newestWrite = Math.max(newestWrite ?? 0, Date.parse(p.newest_written_at))
    }
  }

  const lag: PartitionLag[] = []
  let rpoNow: number | null = 0
  const byTopic = new Map(indexes.filter((t) => !t.deleted_at).map((t) => [t.topic, t]))
  if (watermarks) {
    for (const [topic, marks] of [...watermarks].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!topicMatches(desired, topic) && !byTopic.has(topic)) continue
      const index = byTopic.get(topic)
      const next = new Map(index?.partitions.map((p) => [p.partition, p.next_offset]) ?? [])
      let pending = 0
      for (const w of [...marks].sort((a, b) => a.partition - b.partition)) {
        const n = Math.max(0, w.high - Math.max(next.get(w.partition) ?? w.low, w.low))
        lag.push({topic, partition: w.partition, lag: n})
        pending += n
      }
      if (pending === 0) continue
      // A topic with records not backed up loses everything since its last backup in a disaster.
      const age = index?.last_backup_at ? now.getTime() - Date.parse(index.last_backup_at) : null
      rpoNow = rpoNow === null || age === null ? null : Math.max(rpoNow, age)
    }
  } else {
    rpoNow = lastBackup === undefined ? null : now.getTime() - lastBackup
  }
  // Never backed up while records wait (or unknown and never backed up) breaches any rpo.
  const breached = policy.rpoMs !== undefined && (rpoNow === null || rpoNow > policy.rpoMs)

  const spanDays = oldestWrite !== undefined && newestWrite !== undefined ? (newestWrite - oldestWrite) / DAY_MS : 0
  const drills = Object.values(state.restores)
    .filter((r) => r.status === 'complete' && (r.settings as {policy?: string}).policy === policy.name)
    .map((r) => r.applied_at)
    .sort()
  return {
    policy: policy.name,
    store: policy.store,
    cluster: policy.cluster,
    labels: {...policy.labels},
    last_backup_at: iso(lastBackup),
    newest_record_at: iso(newestRecord),
    oldest_restorable_at: iso(oldestRecord),
    rpo: policy.rpo ?? null,
    rpo_ms: policy.rpoMs ?? null,
    rpo_now_ms: rpoNow,
    rpo_breached: breached,
    lag_records: watermarks ? lag.reduce((n, l) => n + l.lag, 0) : null,
    lag,
    topics: new Set([...byTopic.keys(), ...lag.map((l) => l.topic)]).size,
    stored_bytes: stored,
    uncompressed_bytes: uncompressed,
    records,
    segments,
    growth_bytes_per_day: spanDays >= 1 ? Math.round(stored / spanDays) : null,
    monthly_cost: pricePerGiBMonth === undefined ? null : Math.round((stored / GIB) * pricePerGiBMonth * 100) / 100,
    last_drill_at: drills.pop() ?? null,
    ...(clusterError !== undefined ? {cluster_error: clusterError} : {}),
  }
}

export interface CostGroup {
  value: string
  policies: string[]
  stored_bytes: number
  /** Sum over the group's policies whose store has a price; null when none has. */
  monthly_cost: number | null
  /** Policies whose store declares no price (not in monthly_cost). */
  unpriced: string[]
}

/** `--by label:KEY`: stored bytes and projected monthly cost per value of a label. */
export function costByLabel(policies: readonly PolicyStatus[], key: string): CostGroup[] {
  const groups = new Map<string, CostGroup>()
  for (const p of policies) {
    const value = p.labels[key] ?? '(none)'
    const g = groups.get(value) ?? {value, policies: [], stored_bytes: 0, monthly_cost: null, unpriced: []}
    g.policies.push(p.policy)
    g.stored_bytes += p.stored_bytes
    if (p.monthly_cost === null) g.unpriced.push(p.policy)
    else g.monthly_cost = Math.round(((g.monthly_cost ?? 0) + p.monthly_cost) * 100) / 100
    groups.set(value, g)
  }
  return [...groups.values()].sort((a, b) => b.stored_bytes - a.stored_bytes || (a.value < b.value ? -1 : 1))
}

/** Label keys used by the workspace's policies (for kbk_policy_labels). */
export function labelKeysOf(ws: Workspace): string[] {
  return [...new Set(Object.values(ws.policies).flatMap((p) => Object.keys(p.labels)))].sort()
}
