// Executes a restore intent: reads the policy's segments (verifying each whole object before any
// of its records is produced), keeps records with timestamp <= the pinned point in time, and
// produces them to the target topics with key, value, headers, timestamp and partition intact.
//
// Exactly once across crashes, without transactions: before producing anything the restore
// records each target partition's high watermark (the base). Records go to a target partition
// in one deterministic order (source partitions ascending, offsets ascending), so after a crash
// `high watermark - base` says exactly how many of that sequence are already there; the rerun
// skips them. This requires that nothing else writes to the target topics during a restore.
//
// Throughput: each target partition's sequence is a lane; lanes run side by side, each reading and
// decoding ahead while a request is in flight, and one produce request carries a chunk of every
// lane that has one. Only a target partition's own lane writes to it, and the producer keeps each
// partition's order and never duplicates a retried batch, so the rule above still holds.
import {sharedCompressPool} from '../segment/compress-pool.js'
import {KbkError} from '../errors.js'
import type {EncodedRecords, KafkaPort, KafkaRecord, ProduceCompression} from '../kafka/port.js'
import {BATCH_HEADER_BYTES, encodeRecords} from '../kafka/produce-batch.js'
import type {RestoreRun, RestoreTopicPlan} from '../plan/types.js'
import {readSegment, readSegmentBlocks, TRAILER_BYTES, type SegmentReadOptions} from '../segment/index.js'
import type {ScannedBlock} from '../segment/index.js'
import type {ObjectStore} from '../storage/object-store.js'
import type {RestoreRecord, SegmentRef, TopicIndex} from '../state/types.js'
import {topicKey} from '../state/types.js'
import type {Reporter} from '../apply/events.js'
import type {StateCommitter} from '../apply/state-committer.js'
import {interruptedError} from '../apply/backup-run.js'
import {perProcessRateLimit, RateLimiter, rateLimitOf} from '../apply/rate-limit.js'
import {BufferPool, EncodedChunkBuilder} from './transcode.js'

export interface RestoreDeps {
  store: ObjectStore
  state: StateCommitter
  reporter: Reporter
  now: () => Date
  kafka: KafkaPort
  loadSegments: (policy: string, topic: string) => Promise<SegmentRef[]>
  keyring: Map<string, Buffer>
  /** At most this many records per target partition in one produce request. */
  batchRecords?: number
  /** At most about this many bytes per target partition in one produce request. */
  chunkBytes?: number
  /** Stored segment bytes read into memory at once, over all target partitions. */
  segmentBudgetBytes?: number
  /** The intent's settings as the plan saw them: recorded so the next plan shows no change. */
  settings: Record<string, unknown>
  /** Aborted (SIGINT/SIGTERM): no further produce request is sent; the one in flight completes. */
  signal?: AbortSignal
  /** Owned by the caller, so a restore that fails or is interrupted still reports what it produced. */
  tally?: RestoreTally
  /**
   * A per-record change of key/value before the record is produced (the schema-ID rewrite of
   * src/schema-registry). Applied to each decoded record where it enters a produce chunk, after the
   * point-in-time filter and the skip of what an interrupted run produced; it may throw to stop the
   * restore, and may modify the record and its buffers (the restore's own decoded copy). A configured transform needs the records decoded: a restore path that passes record
   * batches through without decoding them must fall back to this per-record path when it is set.
   */
  transformRecord?: RecordTransform
  /** Processes the restore is split over (`--shard I/N`): each takes 1/N of its rateLimit. */
  shards?: number
}

/** `where` names the record in the backup: source topic, partition and offset. */
export type RecordTransform = (record: KafkaRecord, where: {topic: string; partition: number; offset: number}) => KafkaRecord

export interface RestoreTally {
  /** Records and key+value bytes this run produced (acknowledged by the target cluster). */
  records: number
  bytes: number
  /** Records earlier, interrupted runs of the same restore had produced. */
  before: number
}

export interface OffsetMapEntry {
  /** Source offsets [from, from+count) map to target offsets [target, target+count). */
  from: number
  count: number
  target_partition: number
  target: number
}

export interface OffsetMapFile {
  restore: string
  point_in_time: string
  topics: Record<string, {target_topic: string; partitions: Record<number, OffsetMapEntry[]>}>
  /**
   * Every group the backups captured on the restored topics, translated: group -> target topic ->
   * partition -> offset. What offset resets with `to: restored` commit (docs/offsets.md).
   */
  group_offsets?: Record<string, Record<string, Record<number, number>>>
}

export async function applyRestoreRun(run: RestoreRun, address: string, deps: RestoreDeps): Promise<RestoreTally> {
  const counters: RestoreTally = deps.tally ?? {records: 0, bytes: 0, before: 0}
  if (deps.signal?.aborted) throw interruptedError(deps.signal, `Restore "${run.name}"`)
  const pitMs = Date.parse(run.point_in_time)
  const prior = deps.state.current.snapshot.restores[run.name]
  const resuming = prior?.status === 'in-progress' && prior.point_in_time === run.point_in_time
  const base: Record<string, Record<number, number>> = resuming && prior.target_base ? structuredClone(prior.target_base) : {}

  // A Streams application's repartition topics are not restored: they are recreated empty.
  for (const r of run.streams?.repartition ?? []) {
    if (r.create && !(await deps.kafka.listTopics()).includes(r.target_topic)) await deps.kafka.createTopic({name: r.target_topic, partitions: r.partitions, configs: r.configs})
  }

  // 1. Targets exist, and their starting offsets are recorded before anything is produced.
  if (!resuming) {
    for (const t of run.topics) checkStillKept(t, deps.now())
    for (const t of run.topics) {
      if (t.create) await createIfMissing(deps.kafka, t)
      const wm = await settled(() => deps.kafka.watermarks(t.target_topic), t.create)
      base[t.target_topic] = Object.fromEntries(wm.map((w) => [w.partition, w.high]))
    }
    deps.state.setRestore(record(run, deps, 'in-progress', base, 0))
    await deps.state.flush()
  }

  const mapFile: OffsetMapFile = {restore: run.name, point_in_time: run.point_in_time, topics: {}}
  // The intent's rateLimit as the plan pinned it: one limiter over every topic and partition.
  const limit = rateLimitOf(deps.settings)
  const limiter = limit ? new RateLimiter(perProcessRateLimit(limit, deps.shards)) : undefined
  // The records of the whole restore: what interrupted runs produced (each target partition's
  // high watermark above its base, as the rerun rule counts them) and what this run produces.
  const plans = []
  for (const t of run.topics) {
    const wm = new Map((await settled(() => deps.kafka.watermarks(t.target_topic), t.create)).map((w) => [w.partition, w.high]))
    const tBase = base[t.target_topic] ?? {}
    const segments = (await deps.loadSegments(run.policy, t.source_topic)).filter((s) => s.min_timestamp <= pitMs)
    const partitions: Record<number, OffsetMapEntry[]> = {}
    const lanes = lanesOf(run, t, segments, partitions, (p) => ({base: tBase[p] ?? 0, already: (wm.get(p) ?? 0) - (tBase[p] ?? 0)}))
    counters.before += lanes.reduce((n, l) => n + l.already, 0)
    plans.push({t, lanes, partitions})
  }
  try {
    for (const {t, lanes, partitions} of plans) {
      await restoreLanes(t.target_topic, lanes, pitMs, deps, limiter, (records, bytes) => {
        counters.records += records
        counters.bytes += bytes
        deps.reporter.emit({type: 'restore.progress', address, records: counters.records, bytes: counters.bytes, topic: t.target_topic})
      })
      mapFile.topics[t.source_topic] = {target_topic: t.target_topic, partitions}
    }
  } catch (error) {
    // Stopped part-way: the state says how far the whole restore got, for `state show` and the
    // audit; the rerun still counts from the target's high watermarks, not from this number.
    deps.state.setRestore(record(run, deps, 'in-progress', base, counters.before + counters.records))
    throw error
  }
  const total = counters.before + counters.records

  mapFile.group_offsets = translatedGroups(run, mapFile, base, deps)
  const mapKey = `restores/${run.name}/${run.point_in_time.replace(/[:.]/g, '')}/offset-map.json`
  await deps.store.put(mapKey, Buffer.from(JSON.stringify(mapFile)), {contentType: 'application/json'})

  // Consumer groups resume where they were: translate each committed source offset.
  for (const group of run.consumer_groups) {
    for (const t of run.topics) {
      const index = deps.state.current.snapshot.topics[topicKey(run.policy, t.source_topic)]
      const committed = groupOffsetsOf(index, group)
      if (!committed) continue
      const offsets = translateGroupOffsets(committed, mapFile.topics[t.source_topic]?.partitions ?? {}, t)
      if (offsets.length > 0) await deps.kafka.commitGroupOffsets(group, t.target_topic, offsets)
    }
  }

  // A Streams application resumes exactly after the restored input; its repartition topics start empty.
  const app = run.streams?.application_id
  if (app !== undefined) for (const [topic, parts] of Object.entries(mapFile.group_offsets[app] ?? {})) await deps.kafka.commitGroupOffsets(app, topic, Object.entries(parts).map(([p, offset]) => ({partition: Number(p), offset})))

  const done = record(run, deps, 'complete', base, total)
  done.offset_map_key = mapKey
  deps.state.setRestore(done)
  await deps.state.flush()
  return counters
}

const KiB = 1024
/**
 * Per target partition per produce request. Below the broker's default max.message.bytes (1 MiB
 * per record batch) even if the records do not compress; a single larger record still goes alone.
 */
const CHUNK_BYTES = 960 * KiB
/**
 * Records per chunk: with ~100-byte records 8,000 per chunk and 12 lanes kept ~400k record objects
 * alive; 4,000 halves that at the same speed.
 */
const CHUNK_RECORDS = 4000
/** Chunks a lane decodes ahead of the request in flight. */
const LANE_AHEAD = 2
/** Target partitions restored at once; each holds a few chunks of records in memory. */
const MAX_ACTIVE_LANES = 16
/**
 * Stored segment bytes held at once, over all lanes (a segment is read whole and its checksum
 * checked before any of its records is produced). Bounds memory whatever the segment size: with
 * large segments fewer lanes read at a time. A single larger segment is still read, alone. 32 MiB
 * restored 1 GiB as fast as 96 MiB did, at ~290 instead of ~400 MiB peak RSS, and ~100-byte
 * records at ~420 instead of ~550 MiB (their segments compress 5.6×, so the same stored bytes
 * decode into far more records).
 */
const SEGMENT_BUDGET_BYTES = 32 * 1024 * KiB

/**
 * One target partition's sequence: its source partitions ascending, each one's segments by offset.
 * Only its lane writes to a target partition, so the order the rerun rule relies on holds while
 * lanes run side by side and share produce requests.
 */
interface Lane {
  /** The source topic, for transformRecord's errors. */
  topic: string
  target: number
  sources: Array<{partition: number; segments: SegmentRef[]; entries: OffsetMapEntry[]}>
  /** The target partition's high watermark before the restore started. */
  base: number
  /** How many records of this sequence an interrupted run already produced. */
  already: number
}

interface Chunk {
  target: number
  /** The offset map of the source partition all of the chunk's records come from. */
  entries: OffsetMapEntry[]
  /** Source offsets of the records, in order. */
  offsets: number[]
  /** The records as objects: a port without produceEncoded gets these. */
  records?: KafkaRecord[]
  /** The records already in Kafka's format (built in the lane, ahead of the request in flight). */
  encoded?: EncodedRecords
  count: number
  /** Key and value bytes, for progress. */
  bytes: number
  minTimestamp: number
  maxTimestamp: number
}

function lanesOf(run: RestoreRun, t: RestoreTopicPlan, segments: SegmentRef[], partitions: Record<number, OffsetMapEntry[]>, progressOf: (target: number) => {base: number; already: number}): Lane[] {
  const bySource = new Map<number, SegmentRef[]>()
  for (const s of segments) {
    const list = bySource.get(s.partition)
    if (list) list.push(s)
    else bySource.set(s.partition, [s])
  }
  const lanes = new Map<number, Lane>()
  // Every mapping is checked before anything is produced.
  for (const sourcePartition of [...bySource.keys()].sort((a, b) => a - b)) {
    const target = t.partition_mapping?.[sourcePartition] ?? sourcePartition
    if (target >= t.partitions) {
      throw new KbkError('KBK_RESTORE_PARTITION', `Source partition ${sourcePartition} of "${t.source_topic}" maps to partition ${target}, but "${t.target_topic}" has ${t.partitions}.`, {
        suggestion: `Add it to restores.${run.name}.partitionMapping, or set restores.${run.name}.partitions.`,
      })
    }
    let lane = lanes.get(target)
    if (!lane) lanes.set(target, (lane = {topic: t.source_topic, target, sources: [], ...progressOf(target)}))
    const segs = bySource.get(sourcePartition)!.sort((a, b) => a.first_offset - b.first_offset)
    lane.sources.push({partition: sourcePartition, segments: segs, entries: (partitions[sourcePartition] ??= [])})
  }
  return [...lanes.values()].sort((a, b) => a.target - b.target)
}

/**
 * Restores lanes side by side: each lane reads and decodes its segments ahead (up to LANE_AHEAD
 * chunks) while the previous request is in flight, and every request carries the next chunk of
 * each lane that has one: one Produce request per leader broker for many partitions, one request
 * at a time. Any failure stops every lane; what was produced is what the rerun rule counts.
 */
async function restoreLanes(topic: string, lanes: Lane[], pitMs: number, deps: RestoreDeps, limiter: RateLimiter | undefined, onProduced: (records: number, bytes: number) => void): Promise<void> {
  const limits = {bytes: deps.chunkBytes ?? CHUNK_BYTES, records: deps.batchRecords ?? CHUNK_RECORDS}
  // Records go to the target already in Kafka's format when the port takes them so (kbk's own
  // producer does); lanes then build each batch's records ahead, while a request is in flight.
  const produceEncoded = deps.kafka.produceEncoded?.bind(deps.kafka)
  // The intent's `compression` of produced batches, as the plan pinned it (default: auto).
  const compression = produceCompressionOf(deps.settings)
  const produceOptions = compression ? {compression} : undefined
  const encode = produceEncoded !== undefined
  // Each lane holds up to LANE_AHEAD chunks plus the one in flight.
  const buffers = new BufferPool(BATCH_HEADER_BYTES + limits.bytes, MAX_ACTIVE_LANES * (LANE_AHEAD + 1))
  const budget = new ByteBudget(deps.segmentBudgetBytes ?? SEGMENT_BUDGET_BYTES)
  interface Running {
    lane: Lane
    queue: Chunk[]
    done: boolean
    space?: () => void
    pump: Promise<void>
  }
  const running: Running[] = []
  let failure: {error: unknown} | undefined
  let wake: (() => void) | undefined
  const notify = (): void => {
    const w = wake
    wake = undefined
    w?.()
  }
  const release = (r: Running): void => {
    const s = r.space
    r.space = undefined
    s?.()
  }
  const fail = (error: unknown): void => {
    failure ??= {error}
    for (const r of running) release(r)
    budget.wakeAll()
    notify()
  }
  const start = (lane: Lane): Running => {
    const r: Running = {lane, queue: [], done: false, pump: Promise.resolve()}
    const push = async (c: Chunk): Promise<void> => {
      r.queue.push(c)
      notify()
      while (r.queue.length >= LANE_AHEAD && failure === undefined) await new Promise<void>((resolve) => (r.space = resolve))
    }
    r.pump = pumpLane(lane, pitMs, deps, limits, encode ? buffers : undefined, budget, push, () => failure !== undefined)
      .catch(fail)
      .finally(() => {
        r.done = true
        notify()
      })
    return r
  }

  let nextLane = 0
  try {
    while (failure === undefined) {
      for (let i = running.length - 1; i >= 0; i--) if (running[i]!.done && running[i]!.queue.length === 0) running.splice(i, 1)
      while (running.length < MAX_ACTIVE_LANES && nextLane < lanes.length) running.push(start(lanes[nextLane++]!))
      const ready = running.filter((r) => r.queue.length > 0)
      if (ready.length === 0) {
        if (running.length === 0) break
        await new Promise<void>((resolve) => (wake = resolve))
        continue
      }
      // Interrupted: send nothing more. What was acknowledged stays, and the rerun skips it.
      if (deps.signal?.aborted) throw interruptedError(deps.signal, `Restore into "${topic}"`)
      const chunks = ready.map((r) => r.queue.shift()!)
      // Paid for before it is sent: the target cluster never sees more than the limit.
      if (limiter) {
        await limiter.take(chunks.reduce((n, c) => n + c.bytes, 0), chunks.reduce((n, c) => n + c.count, 0), deps.signal)
        if (deps.signal?.aborted) throw interruptedError(deps.signal, `Restore into "${topic}"`)
      }
      // Let the lanes decode their next chunks while this request is in flight.
      for (const r of ready) release(r)
      const sent = produceEncoded
        ? produceEncoded(topic, chunks.map((c) => ({partition: c.target, records: c.encoded!})), produceOptions)
        : deps.kafka.producePartitions(topic, chunks.map((c) => ({partition: c.target, records: c.records!})), produceOptions)
      const bases = await sent.catch((error: unknown) => {
        throw timestampRejected(error, topic, chunks) ?? error
      })
      let records = 0
      let bytes = 0
      chunks.forEach((c, i) => {
        const first = bases[i]!
        for (let k = 0; k < c.count; k++) addMapping(c.entries, c.offsets[k]!, c.target, first + k)
        records += c.count
        bytes += c.bytes
      })
      onProduced(records, bytes)
    }
  } catch (error) {
    fail(error)
  }
  await Promise.all(running.map((r) => r.pump))
  if (failure !== undefined) throw failure.error
}

/**
 * Reads one lane's segments in order and hands its records over in chunks, skipping what an
 * interrupted run produced. With `encode` the chunks carry their records in Kafka's format: copied
 * straight from the segment's blocks (transcode.ts) unless a per-record transform needs them as
 * objects, in which case the transformed objects are encoded here.
 */
async function pumpLane(lane: Lane, pitMs: number, deps: RestoreDeps, limits: {bytes: number; records: number}, buffers: BufferPool | undefined, budget: ByteBudget, push: (c: Chunk) => Promise<void>, stopped: () => boolean): Promise<void> {
  const encode = buffers !== undefined
  if (buffers && !deps.transformRecord) return transcodeLane(lane, pitMs, deps, limits, buffers, budget, push, stopped)
  let position = 0
  const transform = deps.transformRecord
  for (const source of lane.sources) {
    let records: KafkaRecord[] = []
    let size = 0
    const flush = async (): Promise<void> => {
      const chunk: Chunk = {target: lane.target, entries: source.entries, offsets: records.map((r) => r.offset), count: records.length, bytes: 0, minTimestamp: Number.POSITIVE_INFINITY, maxTimestamp: Number.NEGATIVE_INFINITY}
      for (const r of records) {
        chunk.bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0)
        if (r.timestamp < chunk.minTimestamp) chunk.minTimestamp = r.timestamp
        if (r.timestamp > chunk.maxTimestamp) chunk.maxTimestamp = r.timestamp
      }
      if (encode) chunk.encoded = encodeRecords(records)
      else chunk.records = records
      records = []
      size = 0
      await push(chunk)
    }
    for (const seg of source.segments) {
      if (!(await budget.acquire(seg.bytes, stopped))) return
      try {
        for await (const block of readVerified(deps.store, seg, deps.keyring)) {
          if (stopped()) return
          for (const r of block) {
            if (r.timestamp > pitMs) continue
            if (position < lane.already) {
              // Produced by the interrupted run: its target offset is base + position.
              addMapping(source.entries, r.offset, lane.target, lane.base + position)
              position++
              continue
            }
            position++
            const out = transform ? transform(r, {topic: lane.topic, partition: source.partition, offset: r.offset}) : r
            const bound = encodedSize(out)
            if (records.length > 0 && (size + bound > limits.bytes || records.length >= limits.records)) {
              await flush()
              if (stopped()) return
            }
            records.push(out)
            size += bound
          }
        }
      } finally {
        budget.release(seg.bytes)
      }
    }
    if (records.length > 0) await flush()
  }
}

/** pumpLane's fast path: no record objects, each chunk's records written into its batch as they are read. */
async function transcodeLane(lane: Lane, pitMs: number, deps: RestoreDeps, limits: {bytes: number; records: number}, buffers: BufferPool, budget: ByteBudget, push: (c: Chunk) => Promise<void>, stopped: () => boolean): Promise<void> {
  let position = 0
  for (const source of lane.sources) {
    let builder = new EncodedChunkBuilder(limits.bytes, buffers)
    const flush = async (): Promise<void> => {
      const b = builder
      builder = new EncodedChunkBuilder(limits.bytes, buffers)
      await push({target: lane.target, entries: source.entries, offsets: b.offsets, encoded: b.finish(), count: b.count, bytes: b.bytes, minTimestamp: b.minTimestamp, maxTimestamp: b.maxTimestamp})
    }
    for (const seg of source.segments) {
      if (!(await budget.acquire(seg.bytes, stopped))) return
      try {
        for await (const block of readVerifiedBlocks(deps.store, seg, deps.keyring)) {
          if (stopped()) return
          const {offsets, timestamps} = block
          for (let i = 0; i < block.count; i++) {
            if (timestamps[i]! > pitMs) continue
            if (position < lane.already) {
              // Produced by the interrupted run: its target offset is base + position.
              addMapping(source.entries, offsets[i]!, lane.target, lane.base + position)
              position++
              continue
            }
            position++
            let size = builder.measure(block, i)
            if (builder.count > 0 && (builder.size + size > limits.bytes || builder.count >= limits.records)) {
              await flush()
              if (stopped()) return
              size = builder.measure(block, i) // its deltas restart in a new batch
            }
            builder.add(block, i, size)
          }
        }
      } finally {
        budget.release(seg.bytes)
      }
    }
    if (builder.count > 0) await flush()
  }
}

/** Bytes that may be held at once; one holder may exceed the limit alone (a segment larger than it). */
class ByteBudget {
  #held = 0
  #waiting: Array<() => void> = []
  constructor(readonly limit: number) {}

  /** Resolves true once `bytes` are held, or false if `stopped()` turned true while waiting. */
  async acquire(bytes: number, stopped: () => boolean): Promise<boolean> {
    while (this.#held > 0 && this.#held + bytes > this.limit) {
      if (stopped()) return false
      await new Promise<void>((resolve) => this.#waiting.push(resolve))
    }
    if (stopped()) return false
    this.#held += bytes
    return true
  }

  release(bytes: number): void {
    this.#held -= bytes
    this.wakeAll()
  }

  wakeAll(): void {
    const waiting = this.#waiting
    this.#waiting = []
    for (const w of waiting) w()
  }
}

/** An upper bound of what a record takes in a Kafka record batch. */
function encodedSize(r: KafkaRecord): number {
  let n = 40 + (r.key?.length ?? 0) + (r.value?.length ?? 0)
  for (const h of r.headers) n += 10 + h.key.length * 3 + (h.value?.length ?? 0)
  return n
}

function record(run: RestoreRun, deps: RestoreDeps, status: RestoreRecord['status'], base: Record<string, Record<number, number>>, records: number): RestoreRecord {
  return {
    name: run.name,
    settings: {...deps.settings},
    applied_at: deps.now().toISOString(),
    point_in_time: run.point_in_time,
    records,
    progress: {},
    status,
    target_base: base,
  }
}

/**
 * A topic kbk just created may not have partition leaders everywhere yet (NOT_LEADER_FOR_PARTITION
 * for a moment), and its metadata may still say UNKNOWN_TOPIC_OR_PARTITION (which the adapter
 * reports as KBK_KAFKA_NO_TOPIC) although the controller lists it: retry retriable errors, and a
 * missing topic when the restore creates it, a bounded number of times before giving up.
 */
async function settled<T>(fn: () => Promise<T>, created: boolean, attempts = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn()
    } catch (error) {
      // Leader changes arrive as retriable KBK_KAFKA_ERRORs (kafkajs-errors.ts decides by the broker's error type).
      const retriable = error instanceof KbkError ? error.retriable || (created && error.code === 'KBK_KAFKA_NO_TOPIC') : false
      if (!retriable || i >= attempts) throw error
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * i)))
    }
  }
}

/**
 * The plan checked the oldest record against the target's retention at plan time; a saved plan
 * applied days later could still restore records the broker deletes at once. Checked again with
 * the apply's clock before anything is created or produced.
 */
function checkStillKept(t: RestoreTopicPlan, now: Date): void {
  if (t.retention_ms === undefined || t.oldest_timestamp === undefined) return
  const oldest = Date.parse(t.oldest_timestamp)
  if (now.getTime() - oldest <= t.retention_ms) return
  throw new KbkError('KBK_RESTORE_RETENTION', `The oldest record to restore into "${t.target_topic}" (${t.oldest_timestamp}) is now older than its retention.ms ${t.retention_ms}: the broker would delete it right after the restore. The plan is too old; nothing was restored.`, {
    suggestion: 'Run kbk plan again: it shows the retention that keeps the records (or set extendRetention: true on the restore intent).',
  })
}

/**
 * The target refused records for their timestamp (INVALID_TIMESTAMP: outside its
 * message.timestamp.before.max.ms / after.max.ms). The plan checks this, but a topic or broker
 * setting can change after planning. Not retriable: the same records fail again until the
 * setting changes; what was produced before stays counted, so the rerun resumes exactly.
 */
function timestampRejected(error: unknown, topic: string, chunks: Array<{minTimestamp: number; maxTimestamp: number}>): KbkError | undefined {
  const seen = new Set<unknown>()
  const rejected = (e: unknown): boolean => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return false
    seen.add(e)
    const x = e as {type?: unknown; cause?: unknown; originalError?: unknown}
    return x.type === 'INVALID_TIMESTAMP' || rejected(x.cause) || rejected(x.originalError)
  }
  if (!rejected(error)) return undefined
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (const c of chunks) [min, max] = [Math.min(min, c.minTimestamp), Math.max(max, c.maxTimestamp)]
  const oldest = new Date(min).toISOString()
  const newest = new Date(max).toISOString()
  return new KbkError('KBK_RESTORE_TIMESTAMP_REJECTED', `Topic "${topic}" rejected restored records for their timestamps (INVALID_TIMESTAMP; this request held records from ${oldest} to ${newest}): they are outside its message.timestamp.before.max.ms / message.timestamp.after.max.ms.`, {
    suggestion: `Raise the limit on the topic (kafka-configs.sh --alter --entity-type topics --entity-name ${topic} --add-config message.timestamp.before.max.ms=<age of the oldest record in ms>), then run kbk apply again: the restore resumes where it stopped.`,
    kind: 'environment',
    cause: error,
    details: {topic, oldest, newest},
  })
}

async function createIfMissing(kafka: KafkaPort, t: RestoreTopicPlan): Promise<void> {
  const existing = await kafka.listTopics()
  if (existing.includes(t.target_topic)) return
  await kafka.createTopic({name: t.target_topic, partitions: t.partitions, configs: t.configs})
}

/**
 * Reads a whole segment and checks its checksum before a single record of it is produced, then
 * decodes it one block at a time: memory holds the stored (compressed) bytes and one block of
 * records, not the segment's records all at once.
 *
 * The object is hashed once, on a worker: one pass gives both the digest of the bytes before the trailer (for
 * the reader's own check, which then does not hash the object again) and, with the trailer, the
 * whole object's (against the state). Restores had hashed every stored byte three times.
 * Blocks decompress on the worker pool. In line it cost less CPU in all (no postMessage, no copy),
 * but on the quiet 2-core bench it was a quarter of the main thread (2.6 s of a 1 GiB restore) while
 * the second core sat idle; on the pool the same restores took 7.5 instead of 9.2 s, at ~90 MiB
 * more peak RSS (docs/performance.md, session 5).
 * (WebCrypto would hash off the main thread, but copies its input: two more copies of every
 * segment in memory, which showed as ~80 MiB more peak RSS.)
 */
async function* readVerified(store: ObjectStore, seg: SegmentRef, keyring: Map<string, Buffer>): AsyncGenerator<KafkaRecord[]> {
  const {bytes, options} = await fetchVerified(store, seg, keyring)
  yield* readSegment([bytes], options)
}

/** readVerified, each block's records left in place (readSegmentBlocks): the fast path's. */
async function* readVerifiedBlocks(store: ObjectStore, seg: SegmentRef, keyring: Map<string, Buffer>): AsyncGenerator<ScannedBlock> {
  const {bytes, options} = await fetchVerified(store, seg, keyring)
  // transcodeLane copies each block's records before it asks for the next: the block's memory is reused.
  const pool = sharedCompressPool()
  yield* readSegmentBlocks([bytes], {...options, releaseBlock: (plain) => pool.recycle(plain)})
}

async function fetchVerified(store: ObjectStore, seg: SegmentRef, keyring: Map<string, Buffer>): Promise<{bytes: Buffer; options: SegmentReadOptions}> {
  const read = await store.get(seg.key)
  // Hashed on a worker, in one pass: the digest before the trailer and the whole object's. The
  // bytes travel there and back (no copy): `read` is detached, `hashed.bytes` holds them.
  const hashed = await sharedCompressPool().sha256(read, Math.max(0, read.length - TRAILER_BYTES))
  const bytes = hashed.bytes
  const beforeTrailer = bytes.length >= TRAILER_BYTES ? hashed.before : undefined
  const digest = hashed.whole.toString('hex')
  if (digest !== seg.sha256 || bytes.length !== seg.bytes) {
    throw new KbkError('KBK_SEGMENT_CORRUPT', `Segment ${seg.key} does not match what kbk wrote (sha256 or size differs): restore stopped before producing any of its records.`, {
      suggestion: 'Run `kbk verify --deep` to see which segments are damaged; restore the object from a bucket version or another copy.',
      kind: 'environment',
    })
  }
  // Checked against the state above: every block is as written, so the reader skips its checksums.
  return {bytes, options: {keyring, objectName: seg.key, decompress: (p, n) => sharedCompressPool().decompress(p, n), wholeObjectVerified: true, ...(beforeTrailer ? {digestBeforeTrailer: beforeTrailer} : {})}}
}

function addMapping(entries: OffsetMapEntry[], source: number, targetPartition: number, target: number): void {
  const last = entries[entries.length - 1]
  if (last && last.target_partition === targetPartition && last.from + last.count === source && last.target + last.count === target) {
    last.count++
    return
  }
  entries.push({from: source, count: 1, target_partition: targetPartition, target})
}

/**
 * Every captured group's offsets on the restored topics, translated through the offset map. For a
 * Streams application (run.streams) its input topics instead resume exactly after the last restored
 * record of each partition (the changelogs hold the state as of the same instant), and its
 * repartition topics, recreated empty, start at 0.
 */
function translatedGroups(run: RestoreRun, mapFile: OffsetMapFile, base: Record<string, Record<number, number>>, deps: RestoreDeps): Record<string, Record<string, Record<number, number>>> {
  const out: Record<string, Record<string, Record<number, number>>> = {}
  const app = run.streams?.application_id
  for (const t of run.topics) {
    const index = deps.state.current.snapshot.topics[topicKey(run.policy, t.source_topic)]
    const partitions = mapFile.topics[t.source_topic]?.partitions ?? {}
    for (const [group, committed] of Object.entries(index?.group_offsets ?? {})) {
      if (group === app && run.streams!.input_topics.includes(t.source_topic)) continue
      const translated = translateGroupOffsets(committed, partitions, t)
      if (translated.length > 0) (out[group] ??= {})[t.target_topic] = Object.fromEntries(translated.map((o) => [o.partition, o.offset]))
    }
    if (app !== undefined && run.streams!.input_topics.includes(t.source_topic)) {
      const committed = index?.group_offsets?.[app] ?? {}
      const after: Record<number, number> = {}
      for (const p of Object.keys(committed).map(Number)) {
        const target = t.partition_mapping?.[p] ?? p
        const entries = partitions[p] ?? []
        const last = entries[entries.length - 1]
        const end = last ? last.target + last.count : (base[t.target_topic]?.[target] ?? 0)
        after[target] = Math.max(after[target] ?? 0, end)
      }
      if (Object.keys(after).length > 0) (out[app] ??= {})[t.target_topic] = after
    }
  }
  if (app !== undefined) for (const r of run.streams!.repartition) (out[app] ??= {})[r.target_topic] = Object.fromEntries(Array.from({length: r.partitions}, (_, p) => [p, 0]))
  return out
}

function groupOffsetsOf(index: TopicIndex | undefined, group: string): Record<number, number> | undefined {
  return index?.group_offsets?.[group]
}

/**
 * A committed offset O means "next to read is O". The target equivalent is the target offset of
 * the first restored record with source offset >= O; past the last one, the end of what was restored.
 */
export function translateGroupOffsets(committed: Record<number, number>, partitions: Record<number, OffsetMapEntry[]>, t: RestoreTopicPlan): Array<{partition: number; offset: number}> {
  const out: Array<{partition: number; offset: number}> = []
  for (const [p, offset] of Object.entries(committed)) {
    const sourcePartition = Number(p)
    const entries = partitions[sourcePartition] ?? []
    const targetPartition = t.partition_mapping?.[sourcePartition] ?? sourcePartition
    let target: number | undefined
    for (const e of entries) {
      if (offset < e.from + e.count) {
        target = offset <= e.from ? e.target : e.target + (offset - e.from)
        break
      }
    }
    if (target === undefined) {
      const last = entries[entries.length - 1]
      if (!last) continue
      target = last.target + last.count
    }
    out.push({partition: targetPartition, offset: target})
  }
  return out.sort((a, b) => a.partition - b.partition)
}

/** `compression` of the restore as the plan pinned it; undefined (the producer's auto) when not set. */
export function produceCompressionOf(settings: Record<string, unknown> | undefined): ProduceCompression | undefined {
  const c = settings?.compression
  return c === 'auto' || c === 'none' || c === 'lz4' || c === 'zstd' ? c : undefined
}
