// Producing for restores: kbk encodes the record batches and the Produce request itself
// (produce-batch.ts) and sends it on kafkajs' connections (metadata, leaders, TLS and SASL stay
// kafkajs'), as reading does (kafkajs-fetch.ts). kafkajs' producer built a JS object per record
// and copied every key and value several times; that was most of a restore's time.
//
// Idempotent, like kafkajs' idempotent producer: one producer id for the client, a sequence number
// per partition, and a batch that is retried (broker moved, timeout, connection lost) is resent
// byte for byte with its sequence, so the broker appends it once. One request per leader broker
// at a time, so each partition has at most one batch in flight and its order holds.
import {createRequire} from 'node:module'
import {compressFrame} from 'lz4-napi'
import {KbkError} from '../errors.js'
import {isTransientKafkaError} from './kafkajs-errors.js'
import {createReadCluster, type KafkajsCluster} from './kafkajs-fetch.js'
import type {EncodedRecords, PartitionEncoded, PartitionRecords, ProduceCompression, ProduceOptions, ProduceRecord} from './port.js'
import {batchBound, encodeRecords, produceRequestPieces, finishBatch, nextSequence, parseProduceResponse, type AsyncBatchCodec, type ProducedPartition, type ProducerIdentity} from './produce-batch.js'
import {sharedCompressPool} from '../segment/compress-pool.js'
import {sleep} from '../sleep.js'

const require = createRequire(import.meta.url)
const {createErrorFromCode} = require('kafkajs/src/protocol/error.js') as {createErrorFromCode(code: number): Error & {type?: string; retriable?: boolean}}

export type {PartitionRecords}

const KiB = 1024
/** Per partition per request in produceRecords: below the default max.message.bytes (1 MiB per batch). */
const CHUNK_BYTES = 960 * KiB

const PRODUCE_API_KEY = 0
/** v3 is the first with record batches (magic 2); up to v8 the request is the same. */
const MIN_VERSION = 3
const MAX_VERSION = 8
const ACKS_ALL = -1
const TIMEOUT_MS = 30_000
/** Consecutive failed attempts before a produce call gives up (the restore can be rerun exactly). */
const MAX_ATTEMPTS = 10

/**
 * lz4 (Kafka's LZ4 is the frame format), as restores produced before: the broker writes a third
 * of the bytes, and the restored topic takes a third of the disk. Compressed on libuv's thread
 * pool, every partition's batch of a request at once (it was a third of a restore's main thread
 * when done in line). Callers cap batches by their uncompressed size, so compression never makes
 * one too large.
 */
const LZ4: AsyncBatchCodec = {id: 3, compress: (raw) => compressFrame(raw)}

/**
 * zstd at level 3 on kbk's worker threads (the pool that compresses a backup's segment blocks):
 * about a fifth of the bytes on the link and the target's disk, and no main-thread CPU. Kafka reads
 * zstd batches from Produce v7 (Kafka 2.1) on.
 */
const ZSTD: AsyncBatchCodec = {id: 4, compress: (raw) => sharedCompressPool().compress(raw, ZSTD_LEVEL)}
const ZSTD_LEVEL = 3
/** The first Produce version whose batches may be zstd-compressed (KIP-110). */
const ZSTD_MIN_VERSION = 7

/** Codecs of produced batches by name: `none` leaves batches uncompressed (a loopback-class link). */
export const PRODUCE_CODECS: Record<'lz4' | 'zstd' | 'none', AsyncBatchCodec | undefined> = {lz4: LZ4, zstd: ZSTD, none: undefined}

/** Partition errors after which the batch is resent (same bytes, same sequence) under fresh metadata. */
const RESEND = new Set([
  3, // UNKNOWN_TOPIC_OR_PARTITION (a topic just created)
  5, // LEADER_NOT_AVAILABLE
  6, // NOT_LEADER_OR_FOLLOWER
  7, // REQUEST_TIMED_OUT
  13, // NETWORK_EXCEPTION
  19, // NOT_ENOUGH_REPLICAS
  20, // NOT_ENOUGH_REPLICAS_AFTER_APPEND (appended: the resend is recognised as a duplicate)
  56, // KAFKA_STORAGE_ERROR
  74, // FENCED_LEADER_EPOCH
  75, // UNKNOWN_LEADER_EPOCH
])
const TOO_LARGE = new Set([10, 18]) // MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE

export interface ProduceBroker {
  versions?: Record<number, {minVersion: number; maxVersion: number}>
  connectionPool: {
    send(r: {request: object; response: {decode(b: Buffer): Promise<unknown>; parse(d: unknown): Promise<unknown>}}): Promise<unknown>
    /** kafkajs' pool has it: the connection a request would go on (then framed by kbk, sendFramed). */
    getConnectionByRequest?(r: {request: {apiKey: number}}): Promise<unknown>
  }
  initProducerId(args: {transactionalId?: string; transactionTimeout?: number}): Promise<{producerId: string; producerEpoch: number}>
}

/** The parts of kafkajs' (internal) Cluster that producing needs. */
export type ProduceCluster = Omit<KafkajsCluster, 'findBroker'> & {
  findBroker(args: {nodeId: number}): Promise<ProduceBroker>
  findControllerBroker(): Promise<ProduceBroker>
}

/** One partition's batch of a produce call: encoded once, finished once, resent as it is. */
interface Pending {
  count: number
  encode: () => EncodedRecords
  sequence: number
  batch?: Buffer
  /** The batch was finished in place (uncompressed): release its records' buffer once acknowledged. */
  release?: (() => void) | undefined
}

/** A retriable failure of some partitions: resend them after a metadata refresh. */
class Resend extends Error {}

type KafkaClient = Parameters<typeof createReadCluster>[0]

export class DirectProducer {
  readonly #cluster: ProduceCluster
  #identity?: ProducerIdentity
  #connected = false
  /** topic -> partition -> next base sequence. */
  readonly #sequences = new Map<string, Map<number, number>>()

  readonly #codec: keyof typeof PRODUCE_CODECS | 'auto'

  /**
   * On a kafkajs client (its own cluster: connections, metadata), or on a given cluster (tests
   * script one). `codec`: how produced batches are compressed; `auto` (the default) leaves them
   * uncompressed for a broker on the loopback interface and uses lz4 for any other.
   */
  constructor(source: KafkaClient | ProduceCluster, codec: keyof typeof PRODUCE_CODECS | 'auto' = 'auto') {
    this.#codec = codec
    this.#cluster = typeof (source as Partial<ProduceCluster>).findBroker === 'function' ? (source as ProduceCluster) : (createReadCluster(source as KafkaClient) as unknown as ProduceCluster)
  }

  async disconnect(): Promise<void> {
    this.#connected = false
    await this.#cluster.disconnect()
  }

  /** See KafkaPort.producePartitions. */
  async producePartitions(topic: string, batches: PartitionRecords[], options?: ProduceOptions): Promise<number[]> {
    return this.#produce(topic, batches.map((b) => ({partition: b.partition, count: b.records.length, encode: () => encodeRecords(b.records)})), options?.compression)
  }

  /** See KafkaPort.produceEncoded: the records are written already, the batch is finished here. */
  async produceEncoded(topic: string, batches: PartitionEncoded[], options?: ProduceOptions): Promise<number[]> {
    return this.#produce(topic, batches.map((b) => ({partition: b.partition, count: b.records.count, encode: () => b.records})), options?.compression)
  }

  async #produce(topic: string, batches: Array<{partition: number; count: number; encode: () => EncodedRecords}>, compression: ProduceCompression | undefined): Promise<number[]> {
    const seen = new Set<number>()
    for (const b of batches) {
      if (seen.has(b.partition)) throw new KbkError('KBK_INTERNAL', `Partition ${b.partition} of "${topic}" appears twice in one produce call.`, {kind: 'internal'})
      seen.add(b.partition)
    }
    const wanted = batches.filter((b) => b.count > 0)
    const result = new Map<number, number>()
    if (wanted.length > 0) {
      const identity = await this.#ready(topic)
      const sequences = this.#sequencesOf(topic)
      // Finished once; a resend reuses these bytes (and so their sequence numbers).
      const pending = new Map<number, Pending>()
      for (const b of wanted) pending.set(b.partition, {count: b.count, encode: b.encode, sequence: sequences.get(b.partition) ?? 0})
      let refresh = false
      for (let attempt = 1; pending.size > 0; attempt++) {
        let failure: unknown
        try {
          if (refresh) await this.#cluster.refreshMetadata()
          const byLeader = this.#leaders(topic, [...pending.keys()])
          const rounds = [...byLeader].map(async ([leader, partitions]) => {
            const broker = await this.#cluster.findBroker({nodeId: leader})
            const version = produceVersion(broker, leader)
            const connection = await broker.connectionPool.getConnectionByRequest?.({request: {apiKey: PRODUCE_API_KEY}})
            const codec = this.#codecFor(connection, compression)
            if (codec === ZSTD && version < ZSTD_MIN_VERSION) {
              throw new KbkError('KBK_KAFKA_UNSUPPORTED', `Broker ${leader} speaks Produce up to v${version}; zstd-compressed batches need v${ZSTD_MIN_VERSION} (Kafka 2.1 or newer).`, {
                kind: 'environment',
                suggestion: 'Set the restore\'s `compression` to lz4 (or none), or restore into a cluster on Kafka 2.1 or newer.',
              })
            }
            // Each batch once, compressed side by side off the main thread; a resend reuses it.
            await Promise.all(partitions.map((p) => pending.get(p)!).filter((p) => p.batch === undefined).map(async (p) => {
              const encoded = p.encode()
              p.batch = await finishBatch(encoded, identity, p.sequence, codec)
              // Compressed into a buffer of its own: the records' buffer is free at once.
              if (p.batch.buffer !== encoded.buf.buffer) encoded.release?.()
              else p.release = encoded.release
            }))
            const pieces = produceRequestPieces(topic, ACKS_ALL, TIMEOUT_MS, partitions.map((p) => ({partition: p, batch: pending.get(p)!.batch!})))
            const answer = await sendProduce(broker, connection, version, pieces, topic)
            return this.#settle(topic, partitions, answer, pending, result)
          })
          const outcomes = await Promise.allSettled(rounds)
          failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')?.reason
        } catch (e) {
          failure = e
        }
        // Whatever succeeded moved its partition's sequence; what is left is resent as it was.
        for (const [p, done] of result) {
          const sent = pending.get(p)
          if (sent === undefined || done < 0) continue
          // Acknowledged on the first attempt, so no earlier send of these bytes can still sit in
          // some connection's write queue: the memory may be reused. After a resend it is left to GC.
          if (attempt === 1) sent.release?.()
          pending.delete(p)
        }
        if (pending.size === 0) break
        if (failure === undefined) failure = new Resend(`partitions ${[...pending.keys()].join(', ')} got no answer`)
        if (!isRetriable(failure) || attempt >= MAX_ATTEMPTS) throw unwrap(failure, topic)
        refresh = true
        await sleep(Math.min(2000, 100 * 2 ** attempt))
      }
    }
    return batches.map((b) => (b.count === 0 ? -1 : result.get(b.partition)!))
  }

  /**
   * Records the partitions that succeeded; throws Resend for retriable errors, a KbkError for the
   * rest. Every success is recorded before anything is thrown: a partition whose batch was
   * appended must move its sequence on, or its next batch would reuse the sequence and the broker
   * would acknowledge it as a duplicate without appending it.
   */
  #settle(topic: string, partitions: number[], answer: ProducedPartition[], pending: Map<number, Pending>, result: Map<number, number>): void {
    const sequences = this.#sequencesOf(topic)
    for (const p of partitions) {
      const a = answer.find((x) => x.partition === p)
      if (a?.errorCode !== 0) continue
      if (!(a.baseOffset >= 0)) throw new KbkError('KBK_INTERNAL', `No offset came back for partition ${p} of "${topic}".`, {kind: 'internal'})
      const sent = pending.get(p)!
      result.set(p, a.baseOffset)
      sequences.set(p, nextSequence(sent.sequence, sent.count))
    }
    let resend: Error | undefined
    for (const p of partitions) {
      const a = answer.find((x) => x.partition === p)
      const sent = pending.get(p)!
      if (a === undefined) {
        resend ??= new Resend(`no answer for partition ${p} of "${topic}"`)
        continue
      }
      if (a.errorCode === 0) continue
      const error = createErrorFromCode(a.errorCode)
      const detail = a.errorMessage ? `${error.message} (${a.errorMessage})` : error.message
      if (RESEND.has(a.errorCode)) {
        resend ??= new Resend(`partition ${p} of "${topic}": ${detail}`, {cause: error})
        continue
      }
      if (TOO_LARGE.has(a.errorCode)) {
        throw new KbkError('KBK_KAFKA_TOO_LARGE', `Partition ${p} of "${topic}" refused a batch of ${sent.count} record(s): ${detail}.`, {
          kind: 'environment',
          suggestion: 'Raise the target topic\'s max.message.bytes (and the broker\'s message.max.bytes) to at least the source topic\'s, then run `kbk apply` again: the restore resumes where it stopped.',
          cause: error,
        })
      }
      // Sequence or producer-id errors, invalid records, authorization: the rerun rule restores exactly.
      throw new KbkError('KBK_KAFKA_ERROR', `Producing to partition ${p} of "${topic}" failed: ${detail}.`, {kind: 'environment', retriable: true, cause: error})
    }
    if (resend) throw resend
  }

  /**
   * A broker on this machine's loopback gets uncompressed batches: compressing only moved the
   * work from the link to both CPUs (kbk compresses, the broker decompresses to validate every
   * record), and on the 2-core bench a 256 MiB restore took 0.7–1 s less of kbk's CPU and ~60 MiB
   * less memory without it (docs/performance.md). Any other broker gets lz4, a third of the bytes.
   */
  #codecFor(connection: unknown, compression: ProduceCompression | undefined): AsyncBatchCodec | undefined {
    // The call's choice (a restore's `compression`) wins over the producer's own default.
    const choice = compression ?? this.#codec
    if (choice !== 'auto') return PRODUCE_CODECS[choice]
    const host = (connection as {host?: unknown} | undefined)?.host
    return typeof host === 'string' && isLoopback(host) ? undefined : LZ4
  }

  #sequencesOf(topic: string): Map<number, number> {
    let m = this.#sequences.get(topic)
    if (!m) this.#sequences.set(topic, (m = new Map()))
    return m
  }

  #leaders(topic: string, partitions: number[]): Map<number, number[]> {
    const meta = this.#cluster.findTopicPartitionMetadata(topic)
    const out = new Map<number, number[]>()
    for (const p of partitions) {
      const m = meta.find((x) => x.partitionId === p)
      if (!m || m.leader === null || m.leader === undefined || m.leader < 0) throw new Resend(`no leader known for partition ${p} of "${topic}"`)
      const list = out.get(m.leader)
      if (list) list.push(p)
      else out.set(m.leader, [p])
    }
    return out
  }

  /** Connects, knows the topic's leaders, and has a producer id. */
  async #ready(topic: string): Promise<ProducerIdentity> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (!this.#connected) {
          await this.#cluster.connect()
          this.#connected = true
        }
        await this.#cluster.addTargetTopic(topic)
        if (!this.#identity) {
          // A non-transactional producer id comes from any broker.
          const broker = await this.#cluster.findControllerBroker()
          const r = await broker.initProducerId({transactionalId: undefined, transactionTimeout: 30_000})
          this.#identity = {producerId: BigInt(r.producerId), producerEpoch: r.producerEpoch}
        }
        return this.#identity
      } catch (e) {
        if (!isRetriable(e) || attempt >= MAX_ATTEMPTS) throw e
        await sleep(Math.min(2000, 100 * 2 ** attempt))
      }
    }
  }
}

/** localhost, 127.0.0.0/8 or ::1 (a broker on the same machine). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::1' || /^::ffff:127\./.test(h)
}

function produceVersion(broker: ProduceBroker, leader: number): number {
  const range = broker.versions?.[PRODUCE_API_KEY]
  const version = Math.min(MAX_VERSION, range?.maxVersion ?? MAX_VERSION)
  if (version < MIN_VERSION || (range !== undefined && range.minVersion > MAX_VERSION)) {
    throw new KbkError('KBK_KAFKA_UNSUPPORTED', `Broker ${leader} speaks Produce v${range?.minVersion}-v${range?.maxVersion}; kbk produces with v${MIN_VERSION}-v${MAX_VERSION} (Kafka 0.11 or newer).`, {
      kind: 'environment',
    })
  }
  return version
}

async function sendProduce(broker: ProduceBroker, connection: unknown, version: number, pieces: Buffer[], topic: string): Promise<ProducedPartition[]> {
  const response = {decode: async (raw: Buffer) => raw, parse: async (raw: unknown) => parseProduceResponse(raw as Buffer, version, topic)}
  const request = {apiKey: PRODUCE_API_KEY, apiVersion: version, apiName: 'Produce'}
  // With SASL, a session that needs (re)authenticating goes through kafkajs' send, which does that.
  if (connection !== undefined && isRawConnection(connection) && connection.isConnected() && (!connection.sasl || connection.isAuthenticated())) {
    return parseProduceResponse(await sendFramed(connection, version, pieces), version, topic)
  }
  // kafkajs' own send: it wants an "encoder" (anything with the bytes in `buf` and `buffer`) and
  // copies them twice into its frame. Used where its connection is not as sendFramed expects it.
  const body = Buffer.concat(pieces)
  const answer = await broker.connectionPool.send({request: {...request, encode: async () => ({buf: body, buffer: body})}, response})
  return answer as ProducedPartition[]
}

/** The parts of a kafkajs Connection (src/network/connection.js) that sendFramed uses. */
interface RawConnection {
  clientId: string
  /** SASL settings, when the connection authenticates (kafkajs sends nothing else before it has). */
  sasl?: unknown
  socket: {cork(): void; uncork(): void; write(b: Buffer): boolean}
  requestQueue: {push(r: {entry: RequestEntry; expectResponse: boolean; requestTimeout: number | null; sendRequest(): void}): void}
  isConnected(): boolean
  isAuthenticated(): boolean
  nextCorrelationId(): number
}

interface RequestEntry {
  apiKey: number
  apiName: string
  apiVersion: number
  correlationId: number
  resolve(r: {payload: Buffer}): void
  reject(e: unknown): void
}

function isRawConnection(c: unknown): c is RawConnection {
  const x = c as Partial<RawConnection>
  return typeof x.nextCorrelationId === 'function' && typeof x.isAuthenticated === 'function' && typeof x.requestQueue?.push === 'function' && typeof x.socket?.write === 'function' && typeof x.clientId === 'string'
}

/**
 * Sends a Produce request on a kafkajs connection the way Connection#send does (its request queue
 * keeps in-flight limits, timeouts and matching responses to correlation ids), but framed here:
 * the size, request header and body pieces go to the socket as they are. kafkajs' own framing
 * copied every request twice into buffers it grows by doubling and zero-fills (~half a restore's
 * bytes in "node internals"). Resolves with the response body after the correlation id.
 */
function sendFramed(connection: RawConnection, version: number, pieces: Buffer[]): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const correlationId = connection.nextCorrelationId()
    const client = Buffer.from(connection.clientId, 'utf8')
    let size = 2 + 2 + 4 + 2 + client.length
    for (const p of pieces) size += p.length
    const head = Buffer.allocUnsafe(4 + 2 + 2 + 4 + 2 + client.length)
    let pos = head.writeInt32BE(size, 0)
    pos = head.writeInt16BE(PRODUCE_API_KEY, pos)
    pos = head.writeInt16BE(version, pos)
    pos = head.writeInt32BE(correlationId, pos)
    pos = head.writeInt16BE(client.length, pos)
    client.copy(head, pos)
    const entry: RequestEntry = {apiKey: PRODUCE_API_KEY, apiName: 'Produce', apiVersion: version, correlationId, resolve: (r) => resolve(r.payload), reject}
    try {
      if (!connection.isConnected()) throw Object.assign(new Error('Not connected'), {name: 'KafkaJSConnectionError', retriable: true})
      connection.requestQueue.push({
        entry,
        expectResponse: true,
        requestTimeout: null,
        sendRequest: () => {
          // One writev for the whole request.
          connection.socket.cork()
          connection.socket.write(head)
          for (const p of pieces) connection.socket.write(p)
          connection.socket.uncork()
        },
      })
    } catch (e) {
      reject(e)
    }
  })
}

function isRetriable(e: unknown): boolean {
  return e instanceof Resend || isTransientKafkaError(e)
}

function unwrap(e: unknown, topic: string): unknown {
  if (!(e instanceof Resend)) return e
  return new KbkError('KBK_KAFKA_ERROR', `Producing to "${topic}" kept failing: ${e.message}.`, {kind: 'environment', retriable: true, ...(e.cause !== undefined ? {cause: e.cause} : {})})
}


/**
 * KafkaPort.produce: records of any partitions, in order per partition, sent in rounds of at most
 * about CHUNK_BYTES per partition. Returns each record's offset.
 */
export async function produceRecords(producer: DirectProducer, topic: string, records: ProduceRecord[]): Promise<number[]> {
  const offsets = new Array<number>(records.length)
  let round = new Map<number, {indexes: number[]; bytes: number}>()
  const flush = async (): Promise<void> => {
    const entries = [...round]
    round = new Map()
    const bases = await producer.producePartitions(topic, entries.map(([partition, e]) => ({partition, records: e.indexes.map((i) => records[i]!)})))
    entries.forEach(([, e], k) => e.indexes.forEach((i, n) => (offsets[i] = bases[k]! + n)))
  }
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!
    const size = batchBound([r])
    const entry = round.get(r.partition)
    if (entry && entry.bytes + size > CHUNK_BYTES) await flush()
    const e = round.get(r.partition)
    if (e) {
      e.indexes.push(i)
      e.bytes += size
    } else round.set(r.partition, {indexes: [i], bytes: size})
  }
  if (round.size > 0) await flush()
  return offsets
}
