// Kafka's wire formats for reading, decoded straight into kbk's records: the Fetch response (v11)
// record batches (magic 2) and the older messages (magic 0 and 1, at the end of this file). Every
// batch's CRC can be checked (batchCrcMatches; kafkajs-fetch.ts checks all). No Kafka client here: kafkajs-fetch.ts sends the request on a
// kafkajs connection and hands the response bytes over. Keys, values and header values are views
// into the response (no copy); one object per record and per header is all that is allocated, and
// BatchRecordCursor (the backup's path) allocates none: it decodes one record per next().
// read_committed is applied here, the way Kafka's own consumer does it: data of aborted
// transactions and control batches are skipped, but the position still moves past them.
import {gunzipSync} from 'node:zlib'
import type {KafkaRecord, RecordCursor, RecordHeader} from './port.js'
import {crc32c} from './crc32c.js'
import {int64At, RecordFormatError, WireReader as Cursor} from './wire-reader.js'

/** Record batch attributes (KIP-98). */
const COMPRESSION_MASK = 0x07
const TIMESTAMP_LOG_APPEND = 0x08
const TRANSACTIONAL = 0x10
const CONTROL = 0x20
/** baseOffset (8) + batchLength (4): batchLength counts the bytes after these. */
const BATCH_PREFIX_BYTES = 12
/** Everything before the first record. */
const BATCH_HEADER_BYTES = 61
const MAGIC_OFFSET = 16
const CRC_OFFSET = 17
const ATTRIBUTES_OFFSET = 21
const LAST_OFFSET_DELTA_OFFSET = 23
const MAX_TIMESTAMP_OFFSET = 35
const PRODUCER_ID_OFFSET = 43
const RECORDS_COUNT_OFFSET = 57
const CONTROL_ABORT = 0

export const Compression = {None: 0, Gzip: 1, Snappy: 2, Lz4: 3, Zstd: 4} as const
export type Compression = (typeof Compression)[keyof typeof Compression]

/** Decompressors for the codecs producers use; gzip is built in. */
export type Decompressors = Partial<Record<Compression, (data: Buffer) => Buffer | Promise<Buffer>>>

export {RecordFormatError}

export interface AbortedTransaction {
  producerId: bigint
  firstOffset: number
}

export interface FetchedPartition {
  partition: number
  errorCode: number
  highWatermark: number
  lastStableOffset: number
  logStartOffset: number
  aborted: AbortedTransaction[]
  /** The record batches (the last one may be cut short by the fetch size); null or empty when none. */
  records: Buffer | null
}

export interface FetchResponse {
  errorCode: number
  topics: {topic: string; partitions: FetchedPartition[]}[]
}

/** Parses a Fetch v11 response body (after the correlation id). Record sets stay raw. */
export function parseFetchResponse(buf: Buffer): FetchResponse {
  const c = new Cursor(buf)
  c.int32() // throttle_time_ms
  const errorCode = c.int16()
  c.int32() // session_id
  const topics: FetchResponse['topics'] = []
  const topicCount = c.int32()
  for (let t = 0; t < topicCount; t++) {
    const topic = c.string()
    const partitions: FetchedPartition[] = []
    const partitionCount = c.int32()
    for (let p = 0; p < partitionCount; p++) {
      const partition = c.int32()
      const partitionError = c.int16()
      const highWatermark = c.int64()
      const lastStableOffset = c.int64()
      const logStartOffset = c.int64()
      const aborted: AbortedTransaction[] = []
      const abortedCount = c.int32()
      for (let a = 0; a < abortedCount; a++) aborted.push({producerId: c.bigint64(), firstOffset: c.int64()})
      c.int32() // preferred_read_replica
      const size = c.int32()
      let records: Buffer | null = null
      if (size >= 0) {
        c.need(size)
        records = buf.subarray(c.pos, c.pos + size)
        c.pos += size
      }
      partitions.push({partition, errorCode: partitionError, highWatermark, lastStableOffset, logStartOffset, aborted, records})
    }
    topics.push({topic, partitions})
  }
  return {errorCode, topics}
}

/** One complete record batch inside a record set. */
export interface BatchView {
  baseOffset: number
  /** Offset after the batch's last offset (compaction may have removed records; the span stays). */
  nextOffset: number
  magic: number
  attributes: number
  producerId: bigint
  recordsCount: number
  maxTimestamp: number
  /** Byte range of the whole batch in the record set. */
  start: number
  end: number
}

/**
 * The complete batches of a record set, in order. A fetch may end in a partial batch (the broker
 * cuts at the size limit): it is left out, and the next fetch starts at its offset.
 */
export function batchesOf(records: Buffer): BatchView[] {
  const out: BatchView[] = []
  let pos = 0
  while (pos + BATCH_PREFIX_BYTES <= records.length) {
    const baseOffset = int64At(records, pos)
    const length = records.readInt32BE(pos + 8)
    const end = pos + BATCH_PREFIX_BYTES + length
    if (end > records.length) break
    const magic = length > MAGIC_OFFSET - BATCH_PREFIX_BYTES ? records.readInt8(pos + MAGIC_OFFSET) : -1
    if (magic === 0 || magic === 1) {
      out.push(legacyView(records, pos, end, baseOffset, magic))
      pos = end
      continue
    }
    if (magic !== 2) throw new RecordFormatError(`record batch at offset ${baseOffset} has magic byte ${magic}: not a Kafka message format (damaged data)`)
    if (length < BATCH_HEADER_BYTES - BATCH_PREFIX_BYTES) {
      throw new RecordFormatError(`record batch at offset ${baseOffset} is ${length} bytes, shorter than a v2 batch header`)
    }
    out.push({
      baseOffset,
      nextOffset: baseOffset + records.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET) + 1,
      magic,
      attributes: records.readInt16BE(pos + ATTRIBUTES_OFFSET),
      producerId: records.readBigInt64BE(pos + PRODUCER_ID_OFFSET),
      recordsCount: records.readInt32BE(pos + RECORDS_COUNT_OFFSET),
      maxTimestamp: int64At(records, pos + MAX_TIMESTAMP_OFFSET),
      start: pos,
      end,
    })
    pos = end
  }
  return out
}

/**
 * Whether a batch's CRC-32C (over everything from its attributes on, as Kafka computes it) matches
 * the one it carries: what Java consumers check by default (check.crcs). The partition leader
 * epoch and base offset are outside the CRC (the broker rewrites them).
 */
export function batchCrcMatches(records: Buffer, b: BatchView): boolean {
  // Message formats v0/v1: CRC-32 (IEEE) over the message from its magic byte on, stored before it.
  if (b.magic < 2) return crc32(records, b.start + MAGIC_OFFSET, b.end) === records.readUInt32BE(b.start + BATCH_PREFIX_BYTES)
  return crc32c(records, b.start + ATTRIBUTES_OFFSET, b.end) === records.readUInt32BE(b.start + CRC_OFFSET)
}

/** The index of the first batch whose CRC does not match, or -1. */
export function firstCorruptBatch(records: Buffer, batches: readonly BatchView[]): number {
  for (let i = 0; i < batches.length; i++) if (!batchCrcMatches(records, batches[i]!)) return i
  return -1
}

/** Where the next fetch of this partition starts after these batches: the end of the last complete one. */
export function nextFetchOffset(batches: readonly BatchView[], position: number): number {
  const last = batches[batches.length - 1]
  return last && last.nextOffset > position ? last.nextOffset : position
}

export interface DecodedPartition {
  /** Data records at or after `from`, in offset order. */
  records: KafkaRecord[]
  /** Offset after the last complete batch (data or not); `from` when the fetch held none. */
  nextOffset: number
  /** Offset of the first complete batch, or undefined: lets the caller see gaps before `from`'s batch. */
  firstBatchOffset: number | undefined
}

/**
 * Decodes the data records of a partition's record set with read_committed semantics:
 * transactional batches of producers with an aborted transaction at that point are dropped, control
 * batches (commit/abort markers) are never delivered. Records before `from` are skipped (a fetch
 * returns the whole batch holding `from`).
 */
export async function decodePartition(records: Buffer, from: number, aborted: readonly AbortedTransaction[], decompressors: Decompressors): Promise<DecodedPartition> {
  const batches = batchesOf(records)
  const out: KafkaRecord[] = []
  const wanted = committedBatches(records, batches, from, aborted)
  const bodies = decompressAll(records, wanted, decompressors)
  for (let i = 0; i < wanted.length; i++) {
    const b = wanted[i]!
    if (b.magic < 2) decodeLegacy(records, b, from, out, await bodies[i])
    else decodeBatch(records, b, from, out, await bodies[i])
  }
  return {records: out, nextOffset: nextFetchOffset(batches, from), firstBatchOffset: batches[0]?.baseOffset}
}

/** What cursorPartition gives: decodePartition's answer with a cursor in place of the records. */
export interface PartitionCursor {
  records: BatchRecordCursor
  nextOffset: number
  firstBatchOffset: number | undefined
}

/**
 * decodePartition without an object per record: the same batches (read_committed, `from`), every
 * body decompressed before it resolves, and a cursor that decodes one record per next(), yielding
 * those in [from, to). Damaged record data surfaces from next() as a RecordFormatError.
 */
export async function cursorPartition(records: Buffer, from: number, to: number, aborted: readonly AbortedTransaction[], decompressors: Decompressors, wrapError: (e: unknown) => unknown = (e) => e): Promise<PartitionCursor> {
  const batches = batchesOf(records)
  const wanted = committedBatches(records, batches, from, aborted)
  const pending = decompressAll(records, wanted, decompressors)
  const bodies: Array<Buffer | undefined> = []
  for (const body of pending) bodies.push(await body) // in order: the first damaged batch is the one reported
  return {records: new BatchRecordCursor(records, wanted, bodies, from, to, wrapError), nextOffset: nextFetchOffset(batches, from), firstBatchOffset: batches[0]?.baseOffset}
}

/**
 * The batches whose records a read_committed consumer sees, from the one holding `from` on:
 * transactional batches of producers with an aborted transaction at that point are dropped, and
 * control batches (commit/abort markers) are never delivered.
 */
function committedBatches(records: Buffer, batches: readonly BatchView[], from: number, aborted: readonly AbortedTransaction[]): BatchView[] {
  const pending = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset)
  const abortedProducers = new Set<bigint>()
  const wanted: BatchView[] = []
  for (const b of batches) {
    if (b.nextOffset <= from) continue
    const transactional = (b.attributes & TRANSACTIONAL) !== 0
    const control = (b.attributes & CONTROL) !== 0
    if (transactional) {
      const last = b.nextOffset - 1
      while (pending.length > 0 && pending[0]!.firstOffset <= last) abortedProducers.add(pending.shift()!.producerId)
      if (control) {
        if (isAbortMarker(records, b)) abortedProducers.delete(b.producerId)
        continue
      }
      if (abortedProducers.has(b.producerId)) continue
    }
    if (control) continue
    wanted.push(b)
  }
  return wanted
}

/**
 * Starts every decompression at once (lz4 runs on libuv's thread pool, in parallel); the caller
 * awaits them in offset order. Undefined for an uncompressed batch.
 */
function decompressAll(records: Buffer, wanted: readonly BatchView[], decompressors: Decompressors): Array<Promise<Buffer> | undefined> {
  return wanted.map((b) => {
    const codec = (b.attributes & COMPRESSION_MASK) as Compression
    if (codec === Compression.None) return undefined
    const packed = b.magic < 2 ? legacyFields(records, b).value : records.subarray(b.start + BATCH_HEADER_BYTES, b.end)
    if (packed === null) return Promise.reject(new RecordFormatError(`compressed message at offset ${b.baseOffset} has no value`))
    const body = Promise.resolve().then(() => decompress(codec, packed, decompressors, b.baseOffset))
    body.catch(() => undefined) // awaited in order; a later failure must not go unhandled meanwhile
    return body
  })
}

function isAbortMarker(records: Buffer, b: BatchView): boolean {
  if (b.recordsCount < 1) return false
  const c = new Cursor(records, b.start + BATCH_HEADER_BYTES, b.end)
  c.varint() // length
  c.int8() // attributes
  c.varint() // timestamp delta
  c.varint() // offset delta
  const key = c.bytes()
  // Control record key: version (int16), type (int16).
  return key !== null && key.length >= 4 && key.readInt16BE(2) === CONTROL_ABORT
}

/** Decodes one batch's records at or after `from` into `out`; `unpacked` is its decompressed records section. */
function decodeBatch(records: Buffer, b: BatchView, from: number, out: KafkaRecord[], unpacked: Buffer | undefined): void {
  const header = new Cursor(records, b.start + 27, b.start + BATCH_HEADER_BYTES)
  const baseTimestamp = header.int64()
  const logAppend = (b.attributes & TIMESTAMP_LOG_APPEND) !== 0
  const body = unpacked ?? records
  const pos = unpacked ? 0 : b.start + BATCH_HEADER_BYTES
  const end = unpacked ? unpacked.length : b.end
  const c = new Cursor(body, pos, end)
  const timestampType = logAppend ? 'log-append' : 'create'
  for (let i = 0; i < b.recordsCount; i++) {
    const length = c.varint()
    const recordEnd = c.pos + length
    c.int8() // record attributes (unused)
    const timestampDelta = c.varint()
    const offset = b.baseOffset + c.varint()
    if (offset < from) {
      c.pos = recordEnd
      continue
    }
    const key = c.bytes()
    const value = c.bytes()
    const headerCount = c.varint()
    const headers: RecordHeader[] = headerCount > 0 ? new Array<RecordHeader>(headerCount) : []
    for (let h = 0; h < headerCount; h++) {
      const hk = c.bytes()
      headers[h] = {key: hk === null ? '' : hk.toString('utf8'), value: c.bytes()}
    }
    if (c.pos !== recordEnd) throw new RecordFormatError(`record at offset ${offset} is ${length} bytes long but its fields take ${c.pos - recordEnd + length}`)
    out.push({offset, timestamp: logAppend ? b.maxTimestamp : baseTimestamp + timestampDelta, timestampType, key, value, headers})
  }
}

const NO_BYTES = Buffer.alloc(0)

/** A v0/v1 record, as positions in the buffer it was found in (legacy logs only: rare). */
interface LegacyRecord {
  buf: Buffer
  offset: number
  timestamp: number
  keyStart: number
  keyLength: number
  valueStart: number
  valueLength: number
}

/**
 * The data records of one fetch of one partition, decoded one per next() straight from the
 * fetched (or decompressed) bytes into the fields below: what decodeBatch and decodeLegacy decode,
 * field for field, without a KafkaRecord, Buffer view or header object per record. Records before
 * `from` are skipped; the cursor ends at the first record at or past `to`. Damaged data throws
 * from next() whatever `wrapError` makes of the RecordFormatError.
 */
export class BatchRecordCursor implements RecordCursor {
  offset = 0
  timestamp = 0
  logAppend = false
  buf: Buffer = NO_BYTES
  keyStart = 0
  keyLength = -1
  valueStart = 0
  valueLength = -1
  headerCount = 0
  headers = new Int32Array(32)

  readonly #records: Buffer
  readonly #batches: readonly BatchView[]
  readonly #bodies: ReadonlyArray<Buffer | undefined>
  readonly #from: number
  readonly #to: number
  #index = -1
  #batch: BatchView | undefined
  #reader: Cursor | undefined
  #left = 0
  #baseTimestamp = 0
  #legacy: LegacyRecord[] | undefined
  #legacyIndex = 0
  #ended = false
  readonly #wrapError: (e: unknown) => unknown

  constructor(records: Buffer, batches: readonly BatchView[], bodies: ReadonlyArray<Buffer | undefined>, from: number, to: number, wrapError: (e: unknown) => unknown = (e) => e) {
    this.#wrapError = wrapError
    this.#records = records
    this.#batches = batches
    this.#bodies = bodies
    this.#from = from
    this.#to = to
  }

  next(): boolean {
    try {
      return this.#advance()
    } catch (e) {
      this.#ended = true
      throw this.#wrapError(e)
    }
  }

  #advance(): boolean {
    while (!this.#ended) {
      if (this.#left > 0) {
        this.#left--
        if (this.#legacy ? this.#nextLegacy() : this.#nextRecord()) {
          if (this.offset < this.#from) continue
          if (this.offset >= this.#to) break
          return true
        }
        continue
      }
      if (!this.#nextBatch()) break
    }
    this.#ended = true
    return false
  }

  #nextBatch(): boolean {
    const i = ++this.#index
    const b = this.#batches[i]
    if (b === undefined) return false
    this.#batch = b
    const unpacked = this.#bodies[i]
    if (b.magic < 2) {
      this.#legacy = legacyRecords(this.#records, b, unpacked)
      this.#legacyIndex = 0
      this.#left = this.#legacy.length
      this.logAppend = b.magic === 1 && (b.attributes & LEGACY_TIMESTAMP_LOG_APPEND) !== 0
      this.headerCount = 0
      return true
    }
    this.#legacy = undefined
    this.#baseTimestamp = int64At(this.#records, b.start + 27)
    this.logAppend = (b.attributes & TIMESTAMP_LOG_APPEND) !== 0
    this.buf = unpacked ?? this.#records
    this.#reader = unpacked ? new Cursor(unpacked, 0, unpacked.length) : new Cursor(this.#records, b.start + BATCH_HEADER_BYTES, b.end)
    this.#left = b.recordsCount
    return true
  }

  /** Decodes the next v2 record into the fields; false when it lies before `from` (skipped). */
  #nextRecord(): boolean {
    const c = this.#reader!
    const b = this.#batch!
    const length = c.varint()
    const recordEnd = c.pos + length
    c.int8() // record attributes (unused)
    const timestampDelta = c.varint()
    const offset = b.baseOffset + c.varint()
    this.offset = offset
    if (offset < this.#from) {
      c.pos = recordEnd
      return false
    }
    // A record past the batch's last offset would let the position run ahead of what was read.
    if (offset >= b.nextOffset) throw new RecordFormatError(`record at offset ${offset} lies past its batch's last offset ${b.nextOffset - 1}`)
    this.timestamp = this.logAppend ? b.maxTimestamp : this.#baseTimestamp + timestampDelta
    this.keyLength = span(c)
    this.keyStart = c.pos - (this.keyLength > 0 ? this.keyLength : 0)
    this.valueLength = span(c)
    this.valueStart = c.pos - (this.valueLength > 0 ? this.valueLength : 0)
    const headerCount = c.varint()
    if (headerCount < 0) throw new RecordFormatError(`record at offset ${offset} has ${headerCount} headers`)
    if (headerCount * 4 > this.headers.length) this.headers = new Int32Array(headerCount * 4)
    const h = this.headers
    for (let i = 0; i < headerCount; i++) {
      const kl = span(c)
      h[4 * i] = c.pos - (kl > 0 ? kl : 0)
      h[4 * i + 1] = kl
      const vl = span(c)
      h[4 * i + 2] = c.pos - (vl > 0 ? vl : 0)
      h[4 * i + 3] = vl
    }
    this.headerCount = headerCount
    if (c.pos !== recordEnd) throw new RecordFormatError(`record at offset ${offset} is ${length} bytes long but its fields take ${c.pos - recordEnd + length}`)
    return true
  }

  #nextLegacy(): boolean {
    const r = this.#legacy![this.#legacyIndex++]!
    this.offset = r.offset
    this.timestamp = this.logAppend ? this.#batch!.maxTimestamp : r.timestamp
    this.buf = r.buf
    this.keyStart = r.keyStart
    this.keyLength = r.keyLength
    this.valueStart = r.valueStart
    this.valueLength = r.valueLength
    return true
  }
}

/** Skips varint-length bytes; returns their length, -1 for null (any negative length, as bytes() reads it). */
function span(c: Cursor): number {
  const len = c.varint()
  if (len < 0) return -1
  c.need(len)
  c.pos += len
  return len
}

async function decompress(codec: Compression, packed: Buffer, decompressors: Decompressors, baseOffset: number): Promise<Buffer> {
  if (codec === Compression.Gzip) return gunzipSync(packed)
  const fn = decompressors[codec]
  if (!fn) throw new RecordFormatError(`record batch at offset ${baseOffset} uses compression codec ${codec}, which kbk cannot decode`)
  return fn(packed)
}

// ---- Message formats v0 and v1 (before Kafka 0.11) ----
// Logs carried over from old clusters still hold them (a broker never rewrites old segments).
// Layout per message: offset int64, size int32, then crc int32 (CRC-32 from magic on), magic int8,
// attributes int8 (codec in bits 0-2; v1: bit 3 = log-append time), timestamp int64 (v1 only),
// key and value (int32 length, -1 = null). A compressed message is a wrapper whose value is a
// compressed message set of inner messages; the wrapper's offset is that of the last inner one.
// Inner offsets are absolute in v0 and relative (0, 1, ...) in v1. No headers, no transactions.
// They are decoded into the same records as v2, so a restore writes them back as v2 batches.

const LEGACY_TIMESTAMP_LOG_APPEND = 0x08

/** A BatchView of one v0/v1 message (a compressed wrapper stands for all of its inner messages). */
function legacyView(records: Buffer, pos: number, end: number, offset: number, magic: number): BatchView {
  const minimum = BATCH_PREFIX_BYTES + 4 + 1 + 1 + (magic === 1 ? 8 : 0) + 4 + 4
  if (end - pos < minimum) throw new RecordFormatError(`message at offset ${offset} is ${end - pos - BATCH_PREFIX_BYTES} bytes, shorter than a v${magic} message`)
  const attributes = records.readInt8(pos + MAGIC_OFFSET + 1)
  return {
    baseOffset: offset,
    nextOffset: offset + 1,
    magic,
    attributes: attributes & (COMPRESSION_MASK | LEGACY_TIMESTAMP_LOG_APPEND),
    producerId: -1n,
    recordsCount: 1,
    maxTimestamp: magic === 1 ? int64At(records, pos + MAGIC_OFFSET + 2) : -1,
    start: pos,
    end,
  }
}

interface LegacyFields {
  timestamp: number
  key: Buffer | null
  value: Buffer | null
}

/** Timestamp, key and value of the v0/v1 message `b` in `buf` (views, no copy). */
function legacyFields(buf: Buffer, b: {start: number; end: number; magic: number; baseOffset: number}): LegacyFields {
  const c = new Cursor(buf, b.start + MAGIC_OFFSET + 2, b.end)
  const timestamp = b.magic === 1 ? c.int64() : -1
  const key = c.int32Bytes()
  const value = c.int32Bytes()
  if (c.pos !== b.end) throw new RecordFormatError(`message at offset ${b.baseOffset} has ${b.end - c.pos} bytes after its value`)
  return {timestamp, key, value}
}

/** Decodes a v0/v1 message (or a wrapper's inner messages, `unpacked`) at or after `from` into `out`. */
function decodeLegacy(records: Buffer, b: BatchView, from: number, out: KafkaRecord[], unpacked: Buffer | undefined): void {
  const logAppend = b.magic === 1 && (b.attributes & LEGACY_TIMESTAMP_LOG_APPEND) !== 0
  const timestampType = logAppend ? 'log-append' : 'create'
  if (unpacked === undefined) {
    if (b.baseOffset < from) return
    const f = legacyFields(records, b)
    out.push({offset: b.baseOffset, timestamp: f.timestamp, timestampType, key: f.key, value: f.value, headers: []})
    return
  }
  const inner = batchesOf(unpacked)
  if (inner.length === 0) throw new RecordFormatError(`compressed message at offset ${b.baseOffset} holds no complete message`)
  // v1 inner offsets count from 0 and the wrapper carries the last one's absolute offset.
  const shift = b.magic === 1 ? b.baseOffset - inner[inner.length - 1]!.baseOffset : 0
  for (const m of inner) {
    if (m.magic !== b.magic) throw new RecordFormatError(`compressed message at offset ${b.baseOffset} (v${b.magic}) holds a v${m.magic} message`)
    if ((m.attributes & COMPRESSION_MASK) !== 0) throw new RecordFormatError(`compressed message at offset ${b.baseOffset} holds another compressed message`)
    const offset = m.baseOffset + shift
    if (offset < from) continue
    const f = legacyFields(unpacked, m)
    // Log-append time on the wrapper: the broker stamped the wrapper, not the inner messages.
    out.push({offset, timestamp: logAppend ? b.maxTimestamp : f.timestamp, timestampType, key: f.key, value: f.value, headers: []})
  }
}

/** decodeLegacy's records as positions (the cursor's v0/v1 path): same checks, same offsets. */
function legacyRecords(records: Buffer, b: BatchView, unpacked: Buffer | undefined): LegacyRecord[] {
  if (unpacked === undefined) return [legacyRecord(records, b, b.baseOffset)]
  const inner = batchesOf(unpacked)
  if (inner.length === 0) throw new RecordFormatError(`compressed message at offset ${b.baseOffset} holds no complete message`)
  const shift = b.magic === 1 ? b.baseOffset - inner[inner.length - 1]!.baseOffset : 0
  const out: LegacyRecord[] = []
  for (const m of inner) {
    if (m.magic !== b.magic) throw new RecordFormatError(`compressed message at offset ${b.baseOffset} (v${b.magic}) holds a v${m.magic} message`)
    if ((m.attributes & COMPRESSION_MASK) !== 0) throw new RecordFormatError(`compressed message at offset ${b.baseOffset} holds another compressed message`)
    out.push(legacyRecord(unpacked, m, m.baseOffset + shift))
  }
  return out
}

function legacyRecord(buf: Buffer, m: BatchView, offset: number): LegacyRecord {
  const f = legacyFields(buf, m)
  const at = (x: Buffer | null): number => (x === null ? 0 : x.byteOffset - buf.byteOffset)
  return {buf, offset, timestamp: f.timestamp, keyStart: at(f.key), keyLength: f.key?.length ?? -1, valueStart: at(f.value), valueLength: f.value?.length ?? -1}
}

// CRC-32 (IEEE, as zlib), for v0/v1 messages only: rare, so one table lookup per byte is enough.
const CRC32_TABLE = (() => {
  const t = new Int32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1
    t[i] = c
  }
  return t
})()

/** CRC-32 (IEEE) of buf[start, end). */
export function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = -1
  for (let i = start; i < end; i++) crc = CRC32_TABLE[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8)
  return ~crc >>> 0
}
