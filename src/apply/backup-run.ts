// Executes one pinned backup action: streams each partition's [from, to) out of Kafka into
// segments, writes each segment create-only, and checkpoints offsets into the state only after
// the segment holding them is durably written. Killed at any moment, a rerun starts from the
// last checkpoint and first removes what the dead run left behind, so nothing is lost or doubled.
import {KbkError} from '../errors.js'
import type {KafkaPort, KafkaRecord} from '../kafka/port.js'
import type {BackupRun} from '../plan/types.js'
import {segmentKey, SegmentWriter} from '../segment/index.js'
import type {SegmentOptions} from '../segment/index.js'
import {sharedCompressPool} from '../segment/compress-pool.js'
import {joinsBufferLists, type ObjectStore} from '../storage/object-store.js'
import type {Gap, SegmentRef} from '../state/types.js'
import {topicKey} from '../state/types.js'
import type {Reporter} from './events.js'
import type {MaskingStats} from './masking.js'
import type {StateCommitter} from './state-committer.js'
import {perProcessRateLimit, RateLimiter, type RateLimit} from './rate-limit.js'

export interface BackupRuntime {
  segment: SegmentOptions
  /** Roll a segment when this many uncompressed bytes are buffered. */
  segmentMaxBytes: number
  segmentMaxRecords?: number
  /** Write-once protection for immutable tiers. */
  retainUntil?: Date
  /** Applied to each record before it is written (GDPR masking); returns the record to keep. */
  transform?: (record: KafkaRecord) => KafkaRecord
  /** Counters the masking transform keeps, reported with the run's outcome. */
  masking?: MaskingStats
  /** Consumer groups whose committed offsets are snapshotted with the topic. */
  groups?: (kafka: KafkaPort, topic: string) => Promise<Record<string, Record<number, number>>>
  /** Read back what the run wrote before it counts as done (policies.X.verify; absent: off). */
  verify?: {mode: 'deep' | 'shallow'; keyring: Map<string, Buffer>}
  /** The policy's rateLimit: the whole run (all partitions) reads no faster. */
  rateLimit?: RateLimit
  /** Processes the run is split over (`--shard I/N`): each takes 1/N of the rate limit. */
  shards?: number
}

/**
 * Blocks of one partition's segment that may be compressing on worker threads at once (and at
 * most 2 per worker + 2 across all partitions, see poolLimit).
 */
const MAX_BLOCKS_IN_FLIGHT = 4

/**
 * Memory that full segments on their way to the store may hold at once, over all partitions of a
 * run: each holds its compressed blocks, and where the store joins them into one body (every
 * store but fs, joinsBufferLists) that copy too while it is stored. A segment counts as what it
 * wrote plus its blocks not yet written at their uncompressed size (17-20 MiB for a full 16 MiB
 * one), so 96 MiB lets four or five full segments through on fs and two elsewhere; at least one
 * always goes. Against two at a time, each with a joined copy (session 7), a 1 GiB backup on fs
 * held 47-66 MiB less at peak, wall time within the noise (docs/performance.md, session 8).
 */
const SEALING_MEMORY = 96 * 1024 * 1024

/**
 * What a run committed: records, key+value bytes, stored bytes and segments whose checkpoint is
 * durable in the state, counted only then. The caller may own it (`deps.tally`), so that a run
 * that fails or is interrupted part-way still reports exactly what it committed.
 */
export interface BackupResult {
  records: number
  bytes: number
  storedBytes: number
  segments: number
  removedLeftovers: number
}

export function emptyBackupResult(): BackupResult {
  return {records: 0, bytes: 0, storedBytes: 0, segments: 0, removedLeftovers: 0}
}

/** Thrown when the apply's signal stops a run: the caller reports it as interrupted, not failed. */
export function interruptedError(signal: AbortSignal | undefined, what: string): KbkError {
  const reason = typeof signal?.reason === 'string' ? signal.reason : 'a signal'
  return new KbkError('KBK_APPLY_INTERRUPTED', `${what} stopped by ${reason}.`, {
    suggestion: 'Run `kbk plan` and `kbk apply` again: the next run continues from what was committed.',
    kind: 'user',
  })
}

interface PartitionWriter {
  partition: number
  to: number
  writer: SegmentWriter | undefined
  chunks: Buffer[]
  /** Records and key+value bytes handed to the current writer (not yet in a durable segment). */
  pendingRecords: number
  pendingBytes: number
  /** Offset after the last record handed to the current writer. */
  consumedTo: number
  /** Where the next segment's covered span starts (see SegmentRef.covers_from). */
  coverFrom: number
  done: boolean
  /** The partition's previous segment, still being sealed and stored (sealInBackground). */
  sealing?: Promise<void> | undefined
}

export async function applyBackupRun(
  run: BackupRun,
  address: string,
  deps: {kafka: KafkaPort; store: ObjectStore; state: StateCommitter; reporter: Reporter; runId: string; now: () => Date; signal?: AbortSignal; tally?: BackupResult},
  runtime: BackupRuntime,
): Promise<BackupResult> {
  const {kafka, store, state, reporter, runId, now, signal} = deps
  const result: BackupResult = deps.tally ?? emptyBackupResult()
  /** What was read, for progress: ahead of what is committed by the open segments and the commit batching. */
  const read = {records: 0, bytes: 0}
  const stopIfInterrupted = (): void => {
    if (signal?.aborted) throw interruptedError(signal, `Backup of "${run.topic}"`)
  }
  stopIfInterrupted()

  // The plan pinned `from` against the state it read; apply checked that state is unchanged.
  const checkpoints = state.nextOffsets(run.policy, run.topic)
  for (const r of run.ranges) {
    const recorded = checkpoints.get(r.partition)
    const expected = r.lost ? r.lost.from : r.from
    if (recorded !== undefined && recorded !== expected) {
      throw new KbkError('KBK_PLAN_STALE', `Saved plan is stale — partition ${r.partition} of "${run.topic}" was backed up to offset ${recorded} after the plan pinned ${expected}.`, {
        suggestion: 'Run `kbk plan` again and apply the new plan.',
        kind: 'conflict',
      })
    }
  }

  result.removedLeftovers = await removeLeftovers(store, run, state.initial.snapshot.updated_at)

  // Record topic metadata and data-loss gaps first: a gap is a fact whatever happens next.
  const gaps = run.ranges.filter((r) => r.lost).map((r) => ({partition: r.partition, nextOffset: r.from, addGaps: [gapOf(r.lost!, now())]}))
  await state.update({policy: run.policy, topic: run.topic, partitionCount: run.partition_count, configs: run.configs, deletedAt: null, ...(gaps.length > 0 ? {partitions: gaps} : {})})

  const writers = new Map<number, PartitionWriter>()
  const summaries = new Map((state.current.snapshot.topics[topicKey(run.policy, run.topic)]?.partitions ?? []).map((p) => [p.partition, p]))
  for (const r of run.ranges) {
    // Offsets the last run consumed after its last segment (markers, aborted records) are covered
    // by this run's first segment; across a data-loss gap, coverage restarts after the gap.
    const coveredTo = summaries.get(r.partition)?.covered_to
    const coverFrom = r.lost || coveredTo === undefined || coveredTo > r.from ? r.from : coveredTo
    writers.set(r.partition, {partition: r.partition, to: r.to, writer: undefined, chunks: [], pendingRecords: 0, pendingBytes: 0, consumedTo: r.from, coverFrom, done: r.from >= r.to})
  }

  // Segments on their way to the store (sealInBackground), and the first of them that failed.
  const sealing = new Set<Promise<void>>()
  let sealingMemory = 0
  const joinsLists = joinsBufferLists(store.kind)
  let sealFailure: {error: unknown} | undefined
  const throwIfSealFailed = (): void => {
    if (sealFailure) throw sealFailure.error
  }
  /**
   * Seals the partition's open segment, stores it and moves the checkpoint past it. Everything of
   * the segment is taken at once, before any wait: the partition may read on into a new writer
   * meanwhile (sealInBackground). `after`: the partition's previous segment, still being sealed;
   * nothing of this one is stored or checkpointed before that one is, and nothing at all once a
   * seal of this run failed.
   */
  const flush = async (pw: PartitionWriter, nextOffset: number, after?: Promise<void>): Promise<void> => {
    const w = pw.writer
    pw.writer = undefined
    const chunks = pw.chunks
    pw.chunks = []
    const records = pw.pendingRecords
    const bytes = pw.pendingBytes
    pw.pendingRecords = 0
    pw.pendingBytes = 0
    if (!w || w.recordCount === 0) {
      // No data records since the last segment (control records, compaction): only the checkpoint
      // moves, and not past a previous segment that is not durable yet.
      if (after) await after
      if (sealFailure) return
      await state.checkpoint(run.policy, run.topic, pw.partition, nextOffset, undefined)
      return
    }
    const coverFrom = pw.coverFrom
    pw.coverFrom = nextOffset
    await w.drain()
    if (after) await after
    if (sealFailure) return
    chunks.push(...w.takeOutput())
    const fin = w.finish()
    // The blocks as they are: the store writes them in order (fs) or joins them itself.
    const body = [...chunks, ...fin.tail]
    chunks.length = 0
    const s = fin.summary
    const key = segmentKey(run.policy, run.topic, pw.partition, s.firstOffset, s.lastOffset)
    await store.put(key, body, {ifNoneMatch: '*', contentType: 'application/vnd.kbk.segment', ...(runtime.retainUntil ? {retainUntil: runtime.retainUntil} : {})})
    const ref: SegmentRef = {
      key,
      policy: run.policy,
      topic: run.topic,
      partition: pw.partition,
      first_offset: s.firstOffset,
      last_offset: s.lastOffset,
      records: s.recordCount,
      bytes: fin.size,
      uncompressed_bytes: s.uncompressedBytes,
      min_timestamp: s.minTimestamp,
      max_timestamp: s.maxTimestamp,
      sha256: fin.sha256,
      run_id: runId,
      written_at: now().toISOString(),
      ...(runtime.retainUntil ? {retain_until: runtime.retainUntil.toISOString()} : {}),
      ...(s.keyId ? {key_id: s.keyId} : {}),
      covers_from: coverFrom,
      covers_to: nextOffset,
    }
    // Only the length: the callback below lives until the batched commit, and must not keep the
    // segment's whole body alive that long (it held ~140 MiB more at peak on a 1 GiB backup).
    const stored = fin.size
    reporter.emit({type: 'segment.written', address, key, partition: pw.partition, first_offset: s.firstOffset, last_offset: s.lastOffset, records: s.recordCount, bytes: stored})
    // Only now, with the segment durable, may the checkpoint move past its records.
    await state.checkpoint(run.policy, run.topic, pw.partition, nextOffset, ref, () => {
      result.segments++
      result.storedBytes += stored
      result.records += records
      result.bytes += bytes
    })
  }

  // A full segment is sealed and stored while its partition reads on. Inline, every flush (the
  // last blocks compressed, the body joined, written and made durable) held up the whole fetch
  // loop, every partition's records included, and the compression workers ran dry meanwhile.
  // A partition's segments are stored and checkpointed in order (each waits for the one before),
  // and those on their way over the run hold at most SEALING_MEMORY (at least one always goes).
  const sealInBackground = async (pw: PartitionWriter, nextOffset: number): Promise<void> => {
    const w = pw.writer
    const cost = (w ? w.bytesWritten + w.unwrittenBytes : 0) * (joinsLists ? 2 : 1)
    while (sealing.size > 0 && sealingMemory + cost > SEALING_MEMORY) await Promise.race(sealing)
    throwIfSealFailed()
    sealingMemory += cost
    const done: Promise<void> = flush(pw, nextOffset, pw.sealing).then(
      () => undefined,
      (error: unknown) => {
        sealFailure ??= {error}
      },
    )
    const tracked = done.finally(() => {
      sealingMemory -= cost
      sealing.delete(tracked)
      if (pw.sealing === tracked) pw.sealing = undefined
    })
    sealing.add(tracked)
    pw.sealing = tracked
  }

  let lastProgress = 0
  const startedAt = Date.now()
  const partitionsDone = (): number => [...writers.values()].filter((p) => p.done).length
  const progress = (force: boolean): void => {
    const t = Date.now()
    if (!force && t - lastProgress < 500) return
    lastProgress = t
    reporter.emit({type: 'backup.progress', address, records: read.records, bytes: read.bytes, stored_bytes: result.storedBytes, partitions_done: partitionsDone(), partitions: writers.size, elapsed_ms: Date.now() - startedAt})
  }

  // Blocks waiting for a worker, across all partitions: enough to keep every worker busy, few
  // enough that a topic with many partitions does not queue a block per partition in memory.
  const pool = sharedCompressPool()
  const poolLimit = 2 * pool.size + 2
  const toRead = run.ranges.filter((r) => r.from < r.to).map((r) => ({partition: r.partition, from: r.from, to: r.to}))
  // One limiter for every partition of the run; a chunk is paid for before the next is taken.
  const limiter = runtime.rateLimit ? new RateLimiter(perProcessRateLimit(runtime.rateLimit, runtime.shards)) : undefined
  /**
   * The read, then every segment it left sealing, whatever became of the read: nothing of this
   * run may still be writing once it returns or throws. A failed seal is the run's failure.
   */
  const readUntilSealed = async (reading: Promise<void>): Promise<void> => {
    try {
      await reading
    } finally {
      while (sealing.size > 0) await Promise.all(sealing)
    }
    throwIfSealFailed()
  }
  const writerOf = (partition: number): PartitionWriter => {
    // Interrupted: stop at once. The open segments are dropped, never committed part-way.
    stopIfInterrupted()
    // A segment of this run failed to store: stop reading; the run fails with that error.
    throwIfSealFailed()
    const pw = writers.get(partition)
    if (!pw) throw new KbkError('KBK_INTERNAL', `Kafka returned partition ${partition} of "${run.topic}", which this run did not ask for.`, {kind: 'internal'})
    return pw
  }
  // After a record went into its writer: wait for the workers if too many blocks are in flight,
  // then take finished blocks and count the record. Synchronous unless there is something to
  // wait for, so most records cost no promise.
  const backpressure = (w: SegmentWriter): Promise<void> | undefined =>
    w.pendingBlocks >= MAX_BLOCKS_IN_FLIGHT ? w.drain() : pool.inFlight >= poolLimit ? pool.whenBelow(poolLimit) : undefined
  /** Counts a record the writer took; true when its segment is full (flush it). */
  const accept = (pw: PartitionWriter, w: SegmentWriter, offset: number, kv: number): boolean => {
    w.collect()
    w.moveOutputTo(pw.chunks)
    read.records++
    read.bytes += kv
    pw.pendingRecords++
    pw.pendingBytes += kv
    pw.consumedTo = offset + 1
    return w.bufferedBytes + w.bytesWritten >= runtime.segmentMaxBytes || (runtime.segmentMaxRecords !== undefined && w.recordCount >= runtime.segmentMaxRecords)
  }
  /** After a fetch's records: the rate limit, the position reached, the partition's last segment. */
  const fetched = async (pw: PartitionWriter, nextOffset: number, before: {records: number; bytes: number}): Promise<void> => {
    if (limiter) await limiter.take(read.bytes - before.bytes, read.records - before.records, signal)
    const reached = Math.min(nextOffset, pw.to)
    if (reached > pw.consumedTo) pw.consumedTo = reached
    if (pw.consumedTo >= pw.to && !pw.done) {
      await sealInBackground(pw, pw.to)
      pw.done = true
    }
    progress(false)
  }
  const options = signal ? {signal} : undefined
  if (toRead.length > 0 && !runtime.transform && kafka.readRecordRanges) {
    // The hot path: records go from the fetched bytes into the segment block, no object per record.
    await readUntilSealed(kafka.readRecordRanges(run.topic, toRead, async (partition, cursor, nextOffset) => {
      const pw = writerOf(partition)
      const before = {records: read.records, bytes: read.bytes}
      while (cursor.next()) {
        if (signal?.aborted) stopIfInterrupted()
        const w = (pw.writer ??= new SegmentWriter(runtime.segment, pool))
        w.addFromCursor(cursor)
        const wait = backpressure(w)
        if (wait) await wait
        const kv = (cursor.keyLength > 0 ? cursor.keyLength : 0) + (cursor.valueLength > 0 ? cursor.valueLength : 0)
        if (accept(pw, w, cursor.offset, kv)) await sealInBackground(pw, pw.consumedTo)
      }
      await fetched(pw, nextOffset, before)
    }, options))
  } else if (toRead.length > 0) {
    await readUntilSealed(kafka.readRanges(run.topic, toRead, async (partition, records, nextOffset) => {
      const pw = writerOf(partition)
      const before = {records: read.records, bytes: read.bytes}
      for (const raw of records) {
        if (raw.offset >= pw.to) break
        stopIfInterrupted()
        const record = runtime.transform ? runtime.transform(raw) : raw
        const w = (pw.writer ??= new SegmentWriter(runtime.segment, pool))
        w.add(record)
        const wait = backpressure(w)
        if (wait) await wait
        if (accept(pw, w, record.offset, (record.key?.length ?? 0) + (record.value?.length ?? 0))) await sealInBackground(pw, pw.consumedTo)
      }
      await fetched(pw, nextOffset, before)
    }, options))
  }
  // The read may end cut short by the signal (KBK_ABORTED from the adapter) or whole: either way
  // an interrupted run must not flush the segments it has open (the full ones sealed above are
  // durable and committed, as they were when sealing held up the read).
  stopIfInterrupted()
  for (const pw of writers.values()) {
    if (pw.done) continue
    if (pw.consumedTo < pw.to) {
      throw new KbkError('KBK_BACKUP_INCOMPLETE', `Partition ${pw.partition} of "${run.topic}" stopped at offset ${pw.consumedTo}, before the planned ${pw.to}.`, {
        suggestion: 'Run `kbk plan` and `kbk apply` again: the next run continues from the last durable segment.',
        kind: 'environment',
        retriable: true,
      })
    }
    await flush(pw, pw.to)
    pw.done = true
  }
  const groups = runtime.groups ? await runtime.groups(kafka, run.topic) : undefined
  await state.update({policy: run.policy, topic: run.topic, lastBackupAt: now().toISOString(), ...(groups ? {groupOffsets: groups} : {})})
  await state.flush()
  progress(true)
  return result
}

/** Store and client clocks may differ; a leftover is still recognised within this margin. */
const CLOCK_SKEW_MS = 60_000

function gapOf(lost: {from: number; to: number}, at: Date): Gap {
  return {from: lost.from, to: lost.to, reason: 'retention-loss', detected_at: at.toISOString()}
}

/**
 * Segments at or past a partition's checkpoint are not in any state: a run died after writing
 * them and before recording them. We hold the lock, so nobody else is writing them; remove them
 * so this run's create-only writes of the same ranges succeed.
 */
async function removeLeftovers(store: ObjectStore, run: BackupRun, stateUpdatedAt: string): Promise<number> {
  // A dead run wrote its leftovers after the last state commit. Anything older is not ours to
  // remove (a lost state, a shared prefix): keep it, and let the create-only write fail loudly.
  const notBefore = Date.parse(stateUpdatedAt) - CLOCK_SKEW_MS
  let removed = 0
  for (const r of run.ranges) {
    const checkpoint = r.lost ? r.lost.from : r.from
    const prefix = segmentKey(run.policy, run.topic, r.partition, 0, 0).replace(/[^/]+$/, '')
    const first = segmentKey(run.policy, run.topic, r.partition, checkpoint, 0)
    const startAfter = first.slice(0, first.lastIndexOf('-'))
    const stale: string[] = []
    for await (const o of store.list(prefix, {startAfter})) {
      if (o.lastModified && o.lastModified.getTime() >= notBefore) stale.push(o.key)
    }
    if (stale.length > 0) {
      await store.delete(stale)
      removed += stale.length
    }
  }
  return removed
}
