// Applies one replicate change: the planned segments are copied (copy-segment.ts) partition by
// partition, oldest first, and each is recorded in the REPLICA store's own state only after its
// copy was read back and checked. Then the primary's checkpoints, gaps and topic facts are
// mirrored, so the replica is a complete kbk store by itself: a restore needs nothing else.
// Runs under the locks of both stores (apply takes every store of the plan).
import {pushTo} from '../collections.js'
import {KbkError} from '../errors.js'
import type {ReplicationSet} from '../plan/types.js'
import type {StateCommitter} from '../apply/state-committer.js'
import type {Reporter} from '../apply/events.js'
import type {StateStore} from '../state/state-store.js'
import type {SegmentRef} from '../state/types.js'
import {mapLimit} from '../storage/keys.js'
import type {ObjectStore} from '../storage/object-store.js'
import {copySegment} from './copy-segment.js'

export interface ReplicateDeps {
  source: {store: ObjectStore; state: StateStore; committer: StateCommitter}
  target: {store: ObjectStore; state: StateStore; committer: StateCommitter}
  reporter: Reporter
  now: () => Date
  signal?: AbortSignal
  /** Partitions copied at once (segments of one partition go in order). Default 4. */
  concurrency?: number
  /** Called after each copy is queued for the state (tests kill the process here). */
  afterCopy?: () => void
  tally: ReplicateTally
}

export interface ReplicateTally {
  segments: number
  bytes: number
  records: number
}

export async function applyReplication(set: ReplicationSet, address: string, deps: ReplicateDeps): Promise<ReplicateTally> {
  const {source, target} = deps
  const wanted = new Set(set.segments.map((s) => s.key))
  const primary = wanted.size === 0 ? [] : await source.state.loadSegments(source.committer.current.snapshot, set.policy, set.topic)
  const refs = primary.filter((s) => wanted.has(s.key))
  if (refs.length !== wanted.size) {
    throw new KbkError('KBK_PLAN_STALE', `Saved plan is stale — some segments of ${set.topic} it would copy are no longer recorded in store "${set.source_store}".`, {suggestion: 'Run `kbk plan` again.'})
  }
  // Copies recorded earlier but no longer good (missing, replaced): forgotten first, so the replica
  // never records an object that is not the verified copy — whatever happens next.
  const stale = set.segments.filter((s) => s.reason === 'changed').map((s) => s.key)
  if (stale.length > 0) {
    const recorded = await target.state.loadSegments(target.committer.current.snapshot, set.policy, set.topic)
    const drop = recorded.filter((s) => stale.includes(s.key))
    if (drop.length > 0) await target.committer.removeSegments(set.policy, set.topic, drop)
  }

  const byPartition = new Map<number, SegmentRef[]>()
  for (const s of refs) pushTo(byPartition, s.partition, s)
  await mapLimit([...byPartition.entries()].sort((a, b) => a[0] - b[0]), deps.concurrency ?? 4, async ([partition, list]) => {
    for (const seg of list.sort((a, b) => a.first_offset - b.first_offset)) {
      if (deps.signal?.aborted) throw new KbkError('KBK_APPLY_INTERRUPTED', `Replication of ${set.topic} stopped by ${String(deps.signal.reason)}.`, {kind: 'user'})
      const retainUntil = set.retain_ms !== undefined ? new Date(Date.parse(seg.written_at) + set.retain_ms) : undefined
      const copy = await copySegment(source.store, target.store, seg.key, {sha256: seg.sha256, bytes: seg.bytes}, {...(retainUntil ? {retainUntil} : {}), ...(deps.signal ? {signal: deps.signal} : {})})
      const {retain_until: _primaryLock, ...rest} = seg
      void _primaryLock
      const recorded: SegmentRef = {...rest, ...(retainUntil ? {retain_until: retainUntil.toISOString()} : {}), replica_etag: copy.etag}
      await target.committer.checkpoint(set.policy, set.topic, partition, seg.covers_to ?? seg.last_offset + 1, recorded, () => {
        deps.tally.segments++
        deps.tally.bytes += seg.bytes
        deps.tally.records += seg.records
      })
      deps.reporter.emit({type: 'segment.written', address, key: seg.key, partition, first_offset: seg.first_offset, last_offset: seg.last_offset, records: seg.records, bytes: seg.bytes})
      deps.afterCopy?.()
    }
  })

  // Everything planned is copied: the replica takes the primary's checkpoints, gaps and topic facts.
  const m = set.topic_meta
  await target.committer.update({
    policy: set.policy,
    topic: set.topic,
    partitionCount: m.partition_count,
    configs: m.configs,
    deletedAt: m.deleted_at ?? null,
    ...(m.group_offsets ? {groupOffsets: m.group_offsets} : {}),
    ...(m.last_backup_at ? {lastBackupAt: m.last_backup_at} : {}),
    partitions: set.partitions.map((p) => ({partition: p.partition, nextOffset: p.next_offset, ...(p.gaps.length > 0 ? {addGaps: p.gaps} : {})})),
  })
  return deps.tally
}
