// Sharded apply: N workers (Kubernetes Indexed Job pods) apply one saved plan together. Each
// computes the same assignment from the plan file alone, so they never talk to each other:
//
//   plan → work items (a generic list: id, kind, weight in planned bytes)
//        → LPT assignment (heaviest item first, onto the least loaded shard; ties by id and index)
//        → this shard's share, as a smaller plan the ordinary applier runs unchanged.
//
// A new kind of work (replication copies, ...) adds one entry to WORK_KINDS: how it splits into
// items and how a change is narrowed to some of its items. Kinds without an entry are one item,
// weighted by the change's `estimated_bytes` when it has one. Everything here is pure.
import {KbkError} from '../errors.js'
import type {BackupChange, ExpireChange, PartitionRange, Plan, ResourceChange} from '../plan/types.js'
import type {RestoreRecord} from '../state/types.js'
import {pushTo} from '../collections.js'

/** `--shard I/N` parsed: index is 1-based (shard 1 is the first), 1 ≤ index ≤ count. */
export interface ShardSpec {
  index: number
  count: number
}

/** One unit of work: assigned to exactly one shard. */
export interface WorkItem {
  /** Stable and unique in the plan: the change's address, and the part of it (e.g. `#p7`). */
  id: string
  kind: string
  /** Planned bytes (or an equivalent cost): what the assignment balances. */
  weight: number
  /** Index of the change in plan.resource_changes. */
  change: number
  /** Which part of the change, for kinds that split (a backup's partition). */
  part?: number
}

interface WorkKind {
  /** The change's items; more than one when the kind can be split across workers. */
  items(change: ResourceChange, index: number): WorkItem[]
  /** The change cut down to the given items of it (all of them: the change itself). */
  narrow?(change: ResourceChange, parts: WorkItem[]): ResourceChange
}

/** Bytes a record counts for when the plan has no byte estimate (no DESCRIBE permission). */
const BYTES_PER_RECORD_UNKNOWN = 1024
/** Deleting one segment costs about as much as copying this many bytes (one request, no body). */
const DELETE_COST_BYTES = 256 * 1024
/** Every item weighs at least this: a zero-weight item still costs a request or two. */
const MIN_WEIGHT = 1

const WORK_KINDS: Record<string, WorkKind> = {
  backup: {
    // One item per partition range: a topic with many partitions spreads over all workers, and a
    // partition is only ever written by one worker (its segments and checkpoint are its own).
    items(change, index) {
      if (change.type !== 'backup' || !change.backup) return [whole(change, index, 0)]
      const run = change.backup
      const bytesPerRecord = run.estimated_bytes !== undefined && run.estimated_records > 0 ? run.estimated_bytes / run.estimated_records : BYTES_PER_RECORD_UNKNOWN
      return run.ranges.map((r) => ({id: `${change.address}#p${r.partition}`, kind: 'backup', weight: Math.max(MIN_WEIGHT, Math.round((r.to - r.from) * bytesPerRecord)), change: index, part: r.partition}))
    },
    narrow(change, parts) {
      const c = change as BackupChange
      const keep = new Set(parts.map((p) => p.part))
      return narrowBackup(c, c.backup.ranges.filter((r) => keep.has(r.partition)))
    },
  },
  expire: {
    items: (change, index) => [whole(change, index, change.type === 'expire' ? change.expire.segments.length * DELETE_COST_BYTES : 0)],
  },
  // A restore is one item: its lanes share one resume record (the target partitions' base
  // offsets), so they stay on one worker; restores of different intents spread.
  restore: {
    items: (change, index) => [whole(change, index, change.type === 'restore' ? change.restore.estimated_bytes : 0)],
  },
  policy: {items: (change, index) => [whole(change, index, 0)]},
}

function whole(change: ResourceChange, index: number, weight: number): WorkItem {
  return {id: change.address, kind: change.type, weight: Math.max(MIN_WEIGHT, Math.round(weight)), change: index}
}

/** A kind this module does not know: one item, weighted by its payload's estimated_bytes if any. */
function genericItems(change: ResourceChange, index: number): WorkItem[] {
  const payload = Object.values(change).find((v): v is {estimated_bytes: number} => typeof v === 'object' && v !== null && typeof (v as {estimated_bytes?: unknown}).estimated_bytes === 'number')
  return [whole(change, index, payload?.estimated_bytes ?? 0)]
}

/** The plan's work, in plan order. Blocked changes are one weightless item (a worker reports them skipped). */
export function workItemsOf(plan: Plan): WorkItem[] {
  const out: WorkItem[] = []
  plan.resource_changes.forEach((change, index) => {
    if (change.blocked) out.push(whole(change, index, 0))
    else out.push(...(WORK_KINDS[change.type]?.items(change, index) ?? genericItems(change, index)))
  })
  return out
}

/**
 * Longest processing time first: items by weight descending (id breaks ties), each onto the shard
 * with the least weight so far (the lowest index breaks ties). Within 4/3 of the best possible
 * makespan, and the same on every worker because it depends on nothing but the items.
 * Returns, for each shard (0-based here), its items in plan order.
 */
export function assignWorkItems(items: readonly WorkItem[], count: number): WorkItem[][] {
  const shards: WorkItem[][] = Array.from({length: count}, () => [])
  const load = new Array<number>(count).fill(0)
  const order = [...items].sort((a, b) => b.weight - a.weight || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  for (const item of order) {
    let best = 0
    for (let s = 1; s < count; s++) if (load[s]! < load[best]!) best = s
    shards[best]!.push(item)
    load[best]! += item.weight
  }
  const position = new Map(items.map((it, i) => [it.id, i]))
  for (const s of shards) s.sort((a, b) => position.get(a.id)! - position.get(b.id)!)
  return shards
}

/** The planned bytes of each shard (what `kbk apply --shard` reports, and the tests check). */
export function shardWeights(plan: Plan, count: number): number[] {
  return assignWorkItems(workItemsOf(plan), count).map((items) => items.reduce((n, it) => n + it.weight, 0))
}

/** Shard `spec.index` of `spec.count`'s share of the plan: a plan with only its changes, narrowed to its parts. */
export function shardPlan(plan: Plan, spec: ShardSpec): Plan {
  const mine = assignWorkItems(workItemsOf(plan), spec.count)[spec.index - 1] ?? []
  const byChange = new Map<number, WorkItem[]>()
  for (const it of mine) pushTo(byChange, it.change, it)
  const all = new Map<number, number>()
  for (const it of workItemsOf(plan)) all.set(it.change, (all.get(it.change) ?? 0) + 1)
  const changes: ResourceChange[] = []
  plan.resource_changes.forEach((change, index) => {
    const parts = byChange.get(index)
    if (!parts) return
    const kind = WORK_KINDS[change.type]
    changes.push(parts.length === all.get(index) || !kind?.narrow ? change : kind.narrow(change, parts))
  })
  return {...plan, resource_changes: changes}
}

/** What resumeShare needs to know about the state now (read under the run lock). */
export interface ShareProgress {
  /** Recorded checkpoint of each partition of the topic. */
  nextOffsets(store: string, policy: string, topic: string): Map<number, number>
  /** Keys of the topic's segments still recorded. */
  recordedSegments(store: string, policy: string, topic: string): Promise<Set<string>>
  restore(store: string, name: string): RestoreRecord | undefined
}

/**
 * A share a worker of this run already started (it died, and Kubernetes reran the index): what is
 * left of it. Backups continue from each partition's recorded checkpoint, expiry skips what is
 * gone, a completed restore is not run again. Anything that does not fit the plan (a checkpoint
 * behind the plan or past its end) is left as planned, so the applier's stale checks refuse it.
 */
export async function remainingShare(plan: Plan, progress: ShareProgress): Promise<Plan> {
  const left: ResourceChange[] = []
  for (const change of plan.resource_changes) {
    if (change.blocked) {
      left.push(change)
      continue
    }
    if (change.type === 'backup' && change.backup) {
      const run = change.backup
      const recorded = progress.nextOffsets(run.store, run.policy, run.topic)
      const ranges: PartitionRange[] = []
      let moved = false
      for (const r of run.ranges) {
        const at = recorded.get(r.partition)
        const expected = r.lost ? r.lost.from : r.from
        if (at === undefined || at === expected || at < r.from || at > r.to) {
          ranges.push(r)
          continue
        }
        moved = true
        // The gap (if any) is recorded, and [from, at) is in durable segments: continue from `at`.
        if (at < r.to) ranges.push({partition: r.partition, from: at, to: r.to})
      }
      if (!moved) left.push(change)
      else if (ranges.length > 0) left.push(narrowBackup(change, ranges))
      continue
    }
    if (change.type === 'expire') {
      const set = change.expire
      const recorded = await progress.recordedSegments(set.store, set.policy, set.topic)
      const segments = set.segments.filter((s) => recorded.has(s.key))
      if (segments.length === set.segments.length) left.push(change)
      else if (segments.length > 0) left.push(narrowExpire(change, segments))
      continue
    }
    if (change.type === 'restore') {
      const done = progress.restore(change.store, change.restore.name)
      if (done?.status === 'complete' && done.point_in_time === change.restore.point_in_time) continue
    }
    left.push(change)
  }
  return {...plan, resource_changes: left}
}

function narrowBackup(c: BackupChange, ranges: PartitionRange[]): BackupChange {
  const run = c.backup
  const records = ranges.reduce((n, r) => n + Math.max(0, r.to - r.from), 0)
  const keep = new Set(ranges.map((r) => r.partition))
  const pick = (m: Record<number, number>): Record<number, number> => Object.fromEntries(Object.entries(m).filter(([p]) => keep.has(Number(p))))
  return {
    ...c,
    before: c.before ? {next_offsets: pick(c.before.next_offsets)} : null,
    after: {next_offsets: pick(c.after.next_offsets)},
    backup: {
      ...run,
      ranges,
      estimated_records: records,
      ...(run.estimated_bytes !== undefined ? {estimated_bytes: run.estimated_records > 0 ? Math.round((run.estimated_bytes * records) / run.estimated_records) : 0} : {}),
    },
  }
}

function narrowExpire(c: ExpireChange, segments: ExpireChange['expire']['segments']): ExpireChange {
  const bytes = segments.reduce((n, s) => n + s.bytes, 0)
  const records = segments.reduce((n, s) => n + s.records, 0)
  return {...c, before: {segments: segments.length, bytes}, expire: {...c.expire, segments, bytes, records}}
}

/**
 * `--shard I/N` (I from 1) or `auto/N`, where I is JOB_COMPLETION_INDEX + 1 (Kubernetes counts
 * Indexed Job pods from 0). `jobIndex` is that variable's value as the environment gave it.
 */
export function parseShardSpec(text: string, jobIndex: string | undefined): ShardSpec {
  const m = /^\s*(auto|\d+)\s*\/\s*(\d+)\s*$/i.exec(text)
  const usage = 'Pass --shard I/N with 1 ≤ I ≤ N (e.g. --shard 2/4), or --shard auto/N in a Kubernetes Indexed Job.'
  if (!m) throw new KbkError('KBK_SHARD_INVALID', `--shard "${text}" is not I/N or auto/N.`, {suggestion: usage})
  const count = Number(m[2])
  if (!Number.isSafeInteger(count) || count < 1) throw new KbkError('KBK_SHARD_INVALID', `--shard "${text}": N must be at least 1.`, {suggestion: usage})
  if (m[1]!.toLowerCase() === 'auto') {
    if (jobIndex === undefined || jobIndex.trim() === '') {
      throw new KbkError('KBK_SHARD_INVALID', `--shard ${text} reads JOB_COMPLETION_INDEX, and it is not set.`, {
        suggestion: 'Run it as a Kubernetes Job with completionMode: Indexed (deploy/helm/kbk does), or pass the shard explicitly: --shard I/N.',
      })
    }
    if (!/^\d+$/.test(jobIndex.trim())) throw new KbkError('KBK_SHARD_INVALID', `--shard ${text}: JOB_COMPLETION_INDEX is "${jobIndex}", not a number.`, {suggestion: usage})
    const zeroBased = Number(jobIndex.trim())
    if (zeroBased >= count) {
      throw new KbkError('KBK_SHARD_INVALID', `--shard ${text}: JOB_COMPLETION_INDEX is ${zeroBased}, but indexes of ${count} workers run from 0 to ${count - 1}.`, {
        suggestion: `Make the Job's completions equal N (${count}), or change N to the Job's completions.`,
      })
    }
    return {index: zeroBased + 1, count}
  }
  const index = Number(m[1])
  if (index < 1 || index > count) throw new KbkError('KBK_SHARD_INVALID', `--shard ${text}: I must be between 1 and ${count} (shards are numbered from 1).`, {suggestion: usage})
  return {index, count}
}

