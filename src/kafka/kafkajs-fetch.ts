// Reading exact offset ranges with plain Fetch requests: no consumer group, no join, nothing
// committed or left behind. kafkajs has no manual partition assignment, but its cluster object
// (metadata, leaders, connections with TLS and SASL) does everything else; kbk sends Fetch v11 on
// those connections and decodes the responses itself (record-batch.ts), which is several times
// cheaper than kafkajs' per-record objects. The quirks of reaching into kafkajs live here only.
//
// Per leader broker, one fetch is always in flight while the previous response is decoded and
// delivered: the broker reads the next chunk while kbk compresses this one.
import {createRequire} from 'node:module'
import kafkajs from 'kafkajs'
import {KbkError} from '../errors.js'
import {isTransientKafkaError} from './kafkajs-errors.js'
import type {KafkaRecord, RecordCursor} from './port.js'
import type {RangeProgress} from './range-progress.js'
import {batchesOf, cursorPartition, decodePartition, firstCorruptBatch, nextFetchOffset, parseFetchResponse, RecordFormatError, type Decompressors, type FetchedPartition, type FetchResponse} from './record-batch.js'
import {sleep} from '../sleep.js'

const require = createRequire(import.meta.url)
// The Fetch v11 request encoder (kafkajs' own) and its protocol error table.
const fetchRequestV11 = require('kafkajs/src/protocol/requests/fetch/v11/request.js') as (args: FetchArgs) => KafkajsRequest
const {createErrorFromCode} = require('kafkajs/src/protocol/error.js') as {createErrorFromCode(code: number): Error}

const FETCH_API_KEY = 1
const FETCH_VERSION = 11
const READ_COMMITTED = 1

/** Error codes after which the partition's leader is looked up again and the fetch retried. */
const RELOCATE = new Set([
  3, // UNKNOWN_TOPIC_OR_PARTITION (checked: deleted topics fail at once)
  5, // LEADER_NOT_AVAILABLE
  6, // NOT_LEADER_OR_FOLLOWER
  7, // REQUEST_TIMED_OUT
  9, // REPLICA_NOT_AVAILABLE
  56, // KAFKA_STORAGE_ERROR
  74, // FENCED_LEADER_EPOCH
  75, // UNKNOWN_LEADER_EPOCH
  100, // UNKNOWN_TOPIC_ID
])
const OFFSET_OUT_OF_RANGE = 1
/** Consecutive failed attempts (no progress in between) before a read gives up. */
const MAX_ATTEMPTS = 10

interface FetchArgs {
  replicaId: number
  isolationLevel: number
  maxWaitTime: number
  minBytes: number
  maxBytes: number
  topics: {topic: string; partitions: {partition: number; fetchOffset: string; maxBytes: number}[]}[]
  rackId: string
}

interface KafkajsRequest {
  apiKey: number
  apiVersion: number
  apiName: string
  encode(): Promise<unknown>
}

interface KafkajsBroker {
  versions?: Record<number, {minVersion: number; maxVersion: number}>
  connectionPool: {send(r: {request: KafkajsRequest; response: {decode(b: Buffer): Promise<unknown>; parse(d: unknown): Promise<unknown>}}): Promise<unknown>}
}

/** The parts of kafkajs' (internal) Cluster that reading needs. */
export interface KafkajsCluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  addTargetTopic(topic: string): Promise<void>
  refreshMetadata(): Promise<void>
  findTopicPartitionMetadata(topic: string): {partitionId: number; leader: number | null | undefined}[]
  findBroker(args: {nodeId: number}): Promise<KafkajsBroker>
}

type KafkaClient = InstanceType<typeof kafkajs.Kafka>

/**
 * A kafkajs Cluster with the client's own settings (brokers, TLS, SASL, retries, logger). kafkajs
 * builds one per consumer/producer/admin through a private method; we call the same method.
 */
export function createReadCluster(kafka: KafkaClient): KafkajsCluster {
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster')
  const create = key === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[key]
  if (typeof create !== 'function') {
    throw new KbkError('KBK_INTERNAL', 'The installed kafkajs has no cluster factory where kbk expects one (kbk is built for kafkajs 2.2.4).', {
      kind: 'internal',
      suggestion: 'Reinstall kbk\'s dependencies with `npm ci` so the locked kafkajs version is used.',
    })
  }
  return (create as (o: object) => KafkajsCluster).call(kafka, {allowAutoTopicCreation: false, isolationLevel: READ_COMMITTED, metadataMaxAge: 300_000})
}

export interface FetchLimits {
  /** Per partition, per request. The broker still returns a larger first batch whole (KIP-74). */
  partitionBytes: number
  /** Per request. */
  responseBytes: number
  maxWaitMs: number
}

export interface FetchHooks {
  decompressors: Decompressors
  signal?: AbortSignal
  /** The error for a partition whose wanted offsets retention deleted. */
  offsetGone(partition: number, from: number, to: number, logStart: number): Error
  /** The error for a topic that no longer exists. */
  noTopic(cause?: unknown): Error
  /** Whether the topic still exists (asked after unknown-topic errors). */
  topicExists(): Promise<boolean>
}

type Deliver = (partition: number, records: never, nextOffset: number) => Promise<void>

/** Thrown inside a leader's loop when partitions must be regrouped under fresh metadata. */
class Relocate extends Error {}

/** Wraps what the record handler threw, so it is never mistaken for a retriable fetch failure. */
class HandlerFailed extends Error {}

/**
 * Reads every partition in `progress` up to its `to`, delivering records in offset order per
 * partition: as KafkaRecords, or with `cursor: true` as a cursor over each fetch's records. `deliver` calls never overlap (they are chained), so a slow consumer slows the reads.
 * With cursors, `recycle` gets each response's raw body once every handler of it has resolved
 * (nothing reads its bytes any more), so its memory can take a later response.
 */
export async function fetchRanges(cluster: KafkajsCluster, topic: string, progress: RangeProgress, deliver: (partition: number, records: KafkaRecord[], nextOffset: number) => Promise<void>, limits: FetchLimits, hooks: FetchHooks & {cursor?: false}): Promise<void>
export async function fetchRanges(cluster: KafkajsCluster, topic: string, progress: RangeProgress, deliver: (partition: number, records: RecordCursor, nextOffset: number) => Promise<void>, limits: FetchLimits, hooks: FetchHooks & {cursor: true; recycle?: (raw: Buffer) => void}): Promise<void>
export async function fetchRanges(cluster: KafkajsCluster, topic: string, progress: RangeProgress, deliver: Deliver, limits: FetchLimits, hooks: FetchHooks & {cursor?: boolean; recycle?: (raw: Buffer) => void}): Promise<void> {
  let chain: Promise<void> = Promise.resolve()
  const serialDeliver: Deliver = (p, records, next) => {
    const run = chain.then(() => deliver(p, records, next))
    chain = run.catch(() => undefined)
    return run
  }
  await cluster.connect()
  let failures = 0
  let refresh = false
  while (!progress.allDone()) {
    checkAborted(hooks.signal, topic)
    const before = progressSum(progress)
    let failure: unknown
    try {
      if (refresh) await cluster.refreshMetadata()
      await cluster.addTargetTopic(topic)
      const byLeader = leadersOf(cluster, topic, progress)
      const stop = {stopped: false}
      const loops = [...byLeader].map(([leader, partitions]) =>
        leaderLoop(cluster, leader, topic, partitions, progress, serialDeliver, limits, hooks, stop).catch((e: unknown) => {
          stop.stopped = true
          throw e
        }),
      )
      const results = await Promise.allSettled(loops)
      await chain
      failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason
    } catch (e) {
      failure = e
    }
    if (failure === undefined) continue
    // The handler's own failure ends the read: its records were taken and must not be skipped.
    if (failure instanceof HandlerFailed) throw failure.cause
    if (!isRetriable(failure)) throw failure
    if (progressSum(progress) > before) failures = 0
    if (!(await hooks.topicExists().catch(() => true))) throw hooks.noTopic(failure)
    if (++failures >= MAX_ATTEMPTS) throw failure instanceof Relocate && failure.cause !== undefined ? failure.cause : failure
    refresh = true
    // Cut short by a cancel: the loop's next check turns it into KBK_ABORTED.
    await sleep(Math.min(2000, 100 * 2 ** failures), hooks.signal).catch(() => undefined)
  }
}

function checkAborted(signal: AbortSignal | undefined, topic: string): void {
  if (signal?.aborted) throw new KbkError('KBK_ABORTED', `Reading "${topic}" was cancelled.`, {kind: 'user'})
}

function progressSum(progress: RangeProgress): number {
  let n = 0
  for (const p of progress.partitions) n += p.position
  return n
}

function leadersOf(cluster: KafkajsCluster, topic: string, progress: RangeProgress): Map<number, number[]> {
  const meta = cluster.findTopicPartitionMetadata(topic)
  const out = new Map<number, number[]>()
  for (const p of progress.partitions) {
    if (p.position >= p.to) continue
    const m = meta.find((x) => x.partitionId === p.partition)
    if (!m || m.leader === null || m.leader === undefined || m.leader < 0) throw new Relocate(`no leader known for partition ${p.partition} of "${topic}"`)
    const list = out.get(m.leader) ?? []
    list.push(p.partition)
    out.set(m.leader, list)
  }
  return out
}

function isRetriable(e: unknown): boolean {
  return e instanceof Relocate || isTransientKafkaError(e)
}

async function leaderLoop(
  cluster: KafkajsCluster,
  leader: number,
  topic: string,
  partitions: number[],
  progress: RangeProgress,
  deliver: Deliver,
  limits: FetchLimits,
  hooks: FetchHooks & {cursor?: boolean; recycle?: (raw: Buffer) => void},
  stop: {stopped: boolean},
): Promise<void> {
  const broker = await cluster.findBroker({nodeId: leader})
  const max = broker.versions?.[FETCH_API_KEY]?.maxVersion
  if (max !== undefined && max < FETCH_VERSION) {
    throw new KbkError('KBK_KAFKA_UNSUPPORTED', `Broker ${leader} speaks Fetch up to v${max}; kbk reads with Fetch v${FETCH_VERSION} (Kafka 2.3 or newer).`, {
      kind: 'environment',
      suggestion: 'Upgrade the cluster to Kafka 2.3 or newer.',
    })
  }
  // Where the next request starts, per partition: ahead of `progress` while a response is in flight.
  const ahead = new Map<number, number>()
  for (const p of partitions) ahead.set(p, progress.get(p)!.position)
  // Per partition: the offset of a batch whose CRC did not match once. It is fetched again; a
  // second mismatch at the same offset is not the wire's doing, and the read fails.
  const corrupt = new Map<number, number>()
  let rotation = 0
  const send = (): Promise<Fetched> | undefined => {
    const wanted = partitions.filter((p) => ahead.get(p)! < progress.get(p)!.to)
    if (wanted.length === 0 || stop.stopped) return undefined
    // Rotate the order: the broker fills a response from the first partition on, so each gets to lead.
    const k = rotation++ % wanted.length
    const order = [...wanted.slice(k), ...wanted.slice(0, k)]
    return fetchOnce(broker, {
      replicaId: -1,
      isolationLevel: READ_COMMITTED,
      maxWaitTime: limits.maxWaitMs,
      minBytes: 1,
      maxBytes: limits.responseBytes,
      topics: [{topic, partitions: order.map((p) => ({partition: p, fetchOffset: String(ahead.get(p)), maxBytes: limits.partitionBytes}))}],
      rackId: '',
    })
  }
  let inflight = send()
  try {
    while (inflight !== undefined) {
      checkAborted(hooks.signal, topic)
      const {response, raw} = await inflight
      if (stop.stopped) return
      const parts = (response.topics.find((t) => t.topic === topic)?.partitions ?? []).filter((fp) => ahead.has(fp.partition))
      // Check every partition before anything is delivered or fetched ahead.
      for (const fp of parts) checkPartition(fp, topic, progress, hooks)
      if (response.errorCode !== 0) throw protocolError(response.errorCode)
      // Fetch ahead: the next request starts after the last complete batch of each partition, or
      // at the first batch whose CRC does not match (kept out of this response: fetched again).
      const batches = new Map<number, {list: ReturnType<typeof batchesOf>; records: Buffer | null}>()
      for (const fp of parts) {
        let list = fp.records && fp.records.length > 0 ? batchesOf(fp.records) : []
        let records = fp.records
        const bad = records === null ? -1 : firstCorruptBatch(records, list)
        if (bad >= 0) {
          const offset = list[bad]!.baseOffset
          if (corrupt.get(fp.partition) === offset) throw corruptBatch(topic, fp.partition, offset)
          corrupt.set(fp.partition, offset)
          list = list.slice(0, bad)
          records = bad === 0 ? null : records!.subarray(0, list[bad - 1]!.end)
        } else if (list.length > 0) corrupt.delete(fp.partition)
        batches.set(fp.partition, {list, records})
        ahead.set(fp.partition, Math.max(ahead.get(fp.partition)!, nextFetchOffset(list, ahead.get(fp.partition)!)))
      }
      inflight = send()
      for (const fp of parts) {
        const state = progress.get(fp.partition)!
        if (state.position >= state.to) continue
        const {list, records} = batches.get(fp.partition)!
        if (!records || list.length === 0) {
          // Nothing at our position although the plan pinned data there: the log lost it.
          if (fp.highWatermark <= state.position) throw pastEnd(topic, fp, state.position, state.to)
          continue
        }
        const from = state.position
        const badRecords = (e: unknown): unknown =>
          e instanceof RecordFormatError
            ? new KbkError('KBK_KAFKA_BAD_RECORDS', `Partition ${fp.partition} of "${topic}" returned record data kbk cannot decode: ${e.message}.`, {kind: 'environment', cause: e})
            : e
        const decoded = await (hooks.cursor ? cursorPartition(records, from, state.to, fp.aborted, hooks.decompressors, badRecords) : decodePartition(records, from, fp.aborted, hooks.decompressors)).catch((e: unknown) => {
          throw badRecords(e)
        })
        // A first batch past our position: compaction removed the offsets between, unless retention did.
        if (decoded.firstBatchOffset !== undefined && decoded.firstBatchOffset > from && fp.logStartOffset > from) {
          throw hooks.offsetGone(fp.partition, from, state.to, fp.logStartOffset)
        }
        const step = Array.isArray(decoded.records)
          ? progress.take(fp.partition, decoded.records, decoded.nextOffset)
          : progress.advance(fp.partition, decoded.nextOffset, decoded.records)
        if (step) {
          try {
            await deliver(fp.partition, step.records as never, step.nextOffset)
          } catch (e) {
            throw new HandlerFailed('record handler failed', {cause: e})
          }
        }
      }
      // Every cursor handler has resolved: nothing reads the response's bytes any more (a cursor's
      // ranges are valid until then), so its memory may take a later response.
      if (hooks.cursor && hooks.recycle) hooks.recycle(raw)
      // A partition whose data ends before `to` only in aborted/control batches is covered by the
      // batches above; one with no complete batch yet is simply fetched again.
      if (inflight === undefined && !partitions.every((p) => progress.isDone(p))) inflight = send()
    }
  } finally {
    // A fetch still in flight when the loop ends early is dropped; its outcome must not go unhandled.
    inflight?.catch(() => undefined)
  }
}

function checkPartition(fp: FetchedPartition, topic: string, progress: RangeProgress, hooks: FetchHooks): void {
  if (fp.errorCode === 0) return
  const state = progress.get(fp.partition)
  if (fp.errorCode === OFFSET_OUT_OF_RANGE && state) {
    if (fp.logStartOffset > state.position) throw hooks.offsetGone(fp.partition, state.position, state.to, fp.logStartOffset)
    throw pastEnd(topic, fp, state.position, state.to)
  }
  const error = protocolError(fp.errorCode)
  if (RELOCATE.has(fp.errorCode)) throw new Relocate(`partition ${fp.partition}: ${error.message}`, {cause: error})
  throw error
}

function corruptBatch(topic: string, partition: number, offset: number): KbkError {
  return new KbkError('KBK_KAFKA_CORRUPT_BATCH', `The record batch at offset ${offset} of "${topic}" partition ${partition} failed its CRC check twice (fetched again after the first mismatch): the data is damaged on the broker or on the way, and kbk backs up nothing it cannot verify.`, {
    suggestion: 'Check the segment holding that offset on the leader (kafka-dump-log.sh --deep-iteration --files <segment>) and the network path; another replica may hold an intact copy (move the partition\'s leadership to it), then run `kbk apply` again.',
    kind: 'environment',
    details: {topic, partition, offset},
  })
}

function pastEnd(topic: string, fp: FetchedPartition, position: number, to: number): KbkError {
  return new KbkError('KBK_KAFKA_RANGE_PAST_END', `Partition ${fp.partition} of "${topic}" ends at offset ${fp.highWatermark}, before the planned ${to} (the log was truncated, or the plan came from another cluster).`, {
    suggestion: 'Run `kbk plan` again to pin ranges the cluster really has.',
    kind: 'environment',
    details: {topic, partition: fp.partition, position, to, high: fp.highWatermark},
  })
}

function protocolError(code: number): Error {
  return createErrorFromCode(code)
}

/** A parsed Fetch response and the raw body its partitions' records are views of. */
interface Fetched {
  response: FetchResponse
  raw: Buffer
}

async function fetchOnce(broker: KafkajsBroker, args: FetchArgs): Promise<Fetched> {
  const request = fetchRequestV11(args)
  const result = await broker.connectionPool.send({
    request,
    // kafkajs hands the raw response body (after the correlation id) to decode, then to parse.
    response: {decode: async (raw: Buffer) => raw, parse: async (raw: unknown) => ({response: parseFetchResponse(raw as Buffer), raw: raw as Buffer})},
  })
  return result as Fetched
}

