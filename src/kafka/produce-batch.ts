// Kafka's wire formats for producing, encoded by kbk: record batches (magic 2) and
// the Produce request (v3-v8) and response. No Kafka client here: kafkajs-produce.ts sends the
// request on a kafkajs connection. Every record is written once, straight into the request
// buffer (then compressed in place): no per-record objects or buffers (kafkajs' own encoder
// allocated several per record and was most of a restore's time, docs/performance.md).
import type {EncodedRecords, RecordHeader} from './port.js'
import {crc32c} from './crc32c.js'
import {WireReader} from './wire-reader.js'

/** What a record batch needs of a record: exactly what a restore has. */
export interface BatchRecord {
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

/** A batch codec: Kafka's id for it (attributes bits 0-2) and a synchronous compressor. */
export interface BatchCodec {
  id: number
  compress(records: Buffer): Buffer
}

/** A batch codec that compresses off the main thread (libuv's pool or a worker). */
export interface AsyncBatchCodec {
  id: number
  compress(records: Buffer): Promise<Buffer>
}

export interface ProducerIdentity {
  producerId: bigint
  producerEpoch: number
}

/** Everything before the first record in a v2 record batch. */
export const BATCH_HEADER_BYTES = 61
const MAGIC = 2
/** The CRC covers the batch from its attributes on. */
const CRC_OFFSET = 17
const ATTRIBUTES_OFFSET = 21

// ---- varints (zig-zag, as record batches use them) ----
const TWO_31 = 2 ** 31

/** Zig-zag of a safe integer, as a non-negative number (exact up to 2^53). */
export function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1
}

export function uvarintSize(z: number): number {
  if (z < 0x80) return 1
  if (z < 0x4000) return 2
  if (z < 0x200000) return 3
  if (z < 0x10000000) return 4
  let n = 4
  z = Math.floor(z / 0x10000000)
  while (z > 0) {
    n++
    z = Math.floor(z / 0x80)
  }
  return n
}

export function writeUvarint(buf: Buffer, pos: number, z: number): number {
  if (z < TWO_31) {
    while (z >= 0x80) {
      buf[pos++] = (z & 0x7f) | 0x80
      z >>>= 7
    }
    buf[pos++] = z
    return pos
  }
  while (z >= 0x80) {
    buf[pos++] = (z % 0x80) | 0x80
    z = Math.floor(z / 0x80)
  }
  buf[pos++] = z
  return pos
}

function bytesSize(b: Buffer | null): number {
  return b === null ? 1 : uvarintSize(b.length * 2) + b.length
}

function writeBytes(buf: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) {
    buf[pos] = 1 // zig-zag -1
    return pos + 1
  }
  pos = writeUvarint(buf, pos, b.length * 2)
  b.copy(buf, pos)
  return pos + b.length
}

/** Header keys that are plain ASCII (nearly all) take one byte per character. */
function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8')
  return s.length
}

/** The bytes a record takes in a batch at `offsetDelta`, `timestampDelta`, without its length prefix. */
function recordBodySize(r: BatchRecord, offsetDelta: number, timestampDelta: number): number {
  let n = 1 + uvarintSize(zigzag(timestampDelta)) + uvarintSize(offsetDelta * 2) + bytesSize(r.key) + bytesSize(r.value) + uvarintSize(r.headers.length * 2)
  for (const h of r.headers) {
    const k = utf8Length(h.key)
    n += uvarintSize(k * 2) + k + bytesSize(h.value)
  }
  return n
}

/** An upper bound of the bytes `records` take as one batch (cheap: no UTF-8 pass over header keys). */
export function batchBound(records: readonly BatchRecord[]): number {
  let n = BATCH_HEADER_BYTES
  for (const r of records) {
    // length, attributes, timestamp delta (≤ 10), offset delta (≤ 5), key and value lengths, header count.
    n += 5 + 1 + 10 + 5 + 5 + (r.key?.length ?? 0) + 5 + (r.value?.length ?? 0) + 5
    for (const h of r.headers) n += 5 + h.key.length * 3 + 5 + (h.value?.length ?? 0)
  }
  return n
}

/**
 * Writes `records` as one idempotent record batch at `pos` (the caller made room for batchBound
 * bytes); returns the end. Offsets are relative (the broker assigns them); the base timestamp is
 * the first record's, as Kafka's producer does. With a codec the records are compressed in place,
 * unless that would not make them smaller (then the batch says uncompressed).
 */
export function writeBatch(buf: Buffer, pos: number, records: readonly BatchRecord[], id: ProducerIdentity, baseSequence: number, codec?: BatchCodec): number {
  const start = pos
  const {end, baseTimestamp, maxTimestamp} = writeBatchRecords(buf, start, records)
  let p = end
  let attributes = 0 // create time, not transactional
  if (codec) {
    const raw = buf.subarray(start + BATCH_HEADER_BYTES, p)
    const packed = codec.compress(raw)
    if (packed.length < raw.length) {
      packed.copy(buf, start + BATCH_HEADER_BYTES)
      p = start + BATCH_HEADER_BYTES + packed.length
      attributes = codec.id
    }
  }
  writeBatchHeader(buf, start, p, records.length, baseTimestamp, maxTimestamp, id, baseSequence, attributes)
  return p
}

/**
 * One record batch in a buffer of its own, like writeBatch, with the codec's work done off the
 * main thread: a restore's lz4 compression was a third of its main thread (docs/performance.md).
 * The CRC is computed once, over the final (compressed or not) bytes.
 */
export async function writeBatchAsync(records: readonly BatchRecord[], id: ProducerIdentity, baseSequence: number, codec?: AsyncBatchCodec): Promise<Buffer> {
  return finishBatch(encodeRecords(records), id, baseSequence, codec)
}

/** The records of one batch in Kafka's format, with room for the header in front (see EncodedRecords). */
export function encodeRecords(records: readonly BatchRecord[]): EncodedRecords {
  const buf = Buffer.allocUnsafe(batchBound(records))
  const {end, baseTimestamp, maxTimestamp} = writeBatchRecords(buf, 0, records)
  return {buf: buf.subarray(0, end), count: records.length, baseTimestamp, maxTimestamp}
}

/**
 * The whole record batch of `encoded`: compressed off the main thread when a codec is given and
 * that makes it smaller, then the header, CRC last (computed once, over the final bytes). An
 * uncompressed batch is finished in place in `encoded.buf`.
 */
export async function finishBatch(encoded: EncodedRecords, id: ProducerIdentity, baseSequence: number, codec?: AsyncBatchCodec): Promise<Buffer> {
  const {buf, count, baseTimestamp, maxTimestamp} = encoded
  if (count === 0) throw new Error('a record batch needs at least one record')
  if (codec) {
    const raw = buf.subarray(BATCH_HEADER_BYTES)
    const packed = await codec.compress(raw)
    if (packed.length < raw.length) {
      // The header goes in front of the compressed records; the uncompressed buffer is dropped.
      const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + packed.length)
      packed.copy(out, BATCH_HEADER_BYTES)
      writeBatchHeader(out, 0, out.length, count, baseTimestamp, maxTimestamp, id, baseSequence, codec.id)
      return out
    }
  }
  writeBatchHeader(buf, 0, buf.length, count, baseTimestamp, maxTimestamp, id, baseSequence, 0)
  return buf
}

/** Writes the records of a batch after its header's place at `start`; returns where they end. */
function writeBatchRecords(buf: Buffer, start: number, records: readonly BatchRecord[]): {end: number; baseTimestamp: number; maxTimestamp: number} {
  if (records.length === 0) throw new Error('a record batch needs at least one record')
  const baseTimestamp = records[0]!.timestamp
  let maxTimestamp = baseTimestamp
  let p = start + BATCH_HEADER_BYTES
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!
    if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp
    const timestampDelta = r.timestamp - baseTimestamp
    p = writeUvarint(buf, p, recordBodySize(r, i, timestampDelta) * 2)
    buf[p++] = 0 // record attributes: unused
    p = writeUvarint(buf, p, zigzag(timestampDelta))
    p = writeUvarint(buf, p, i * 2)
    p = writeBytes(buf, p, r.key)
    p = writeBytes(buf, p, r.value)
    p = writeUvarint(buf, p, r.headers.length * 2)
    for (const h of r.headers) {
      const k = utf8Length(h.key)
      p = writeUvarint(buf, p, k * 2)
      buf.write(h.key, p, k, 'utf8')
      p += k
      p = writeBytes(buf, p, h.value)
    }
  }
  return {end: p, baseTimestamp, maxTimestamp}
}

/** The batch header of buf[start, p) (records already in place), CRC last. */
function writeBatchHeader(buf: Buffer, start: number, p: number, count: number, baseTimestamp: number, maxTimestamp: number, id: ProducerIdentity, baseSequence: number, attributes: number): void {
  buf.writeBigInt64BE(0n, start) // base offset: the broker assigns it
  buf.writeInt32BE(p - start - 12, start + 8)
  buf.writeInt32BE(-1, start + 12) // partition leader epoch: the broker sets it
  buf[start + 16] = MAGIC
  buf.writeInt16BE(attributes, start + ATTRIBUTES_OFFSET)
  buf.writeInt32BE(count - 1, start + 23) // last offset delta
  buf.writeBigInt64BE(BigInt(baseTimestamp), start + 27)
  buf.writeBigInt64BE(BigInt(maxTimestamp), start + 35)
  buf.writeBigInt64BE(id.producerId, start + 43)
  buf.writeInt16BE(id.producerEpoch, start + 51)
  buf.writeInt32BE(baseSequence, start + 53)
  buf.writeInt32BE(count, start + 57)
  buf.writeUInt32BE(crc32c(buf, start + ATTRIBUTES_OFFSET, p), start + CRC_OFFSET)
}

/** The next batch's base sequence: sequences wrap to 0 after 2^31 - 1, as Kafka's do. */
export function nextSequence(sequence: number, count: number): number {
  return (sequence + count) % TWO_31
}

// ---- Produce request and response ----

export interface PartitionBatch {
  partition: number
  /** One complete record batch. */
  batch: Buffer
}

/** One partition's records for writeProduceRequest. */
export interface PartitionRecordsToWrite {
  partition: number
  records: readonly BatchRecord[]
  baseSequence: number
}

/**
 * The Produce request body (v3-v8 share it) for one topic, not transactional, with one record
 * batch per partition written straight into it. Also returns each batch (views into the body),
 * for a retry of some of them (encodeProduceRequest).
 */
export function writeProduceRequest(topic: string, acks: number, timeoutMs: number, parts: readonly PartitionRecordsToWrite[], id: ProducerIdentity, codec?: BatchCodec): {body: Buffer; batches: PartitionBatch[]} {
  const name = Buffer.from(topic, 'utf8')
  let bound = 2 + 2 + 4 + 4 + 2 + name.length + 4
  for (const p of parts) bound += 4 + 4 + batchBound(p.records)
  const buf = Buffer.allocUnsafe(bound)
  let pos = writeRequestHead(buf, name, acks, timeoutMs, parts.length)
  const batches: PartitionBatch[] = []
  for (const p of parts) {
    pos = buf.writeInt32BE(p.partition, pos)
    const start = pos + 4
    const end = writeBatch(buf, start, p.records, id, p.baseSequence, codec)
    buf.writeInt32BE(end - start, pos)
    batches.push({partition: p.partition, batch: buf.subarray(start, end)})
    pos = end
  }
  return {body: buf.subarray(0, pos), batches}
}

function writeRequestHead(buf: Buffer, name: Buffer, acks: number, timeoutMs: number, partitions: number): number {
  let pos = buf.writeInt16BE(-1, 0) // transactional id: null
  pos = buf.writeInt16BE(acks, pos)
  pos = buf.writeInt32BE(timeoutMs, pos)
  pos = buf.writeInt32BE(1, pos) // one topic
  pos = buf.writeInt16BE(name.length, pos)
  pos += name.copy(buf, pos)
  return buf.writeInt32BE(partitions, pos)
}

/**
 * The Produce request body for batches already written, as pieces to send one after the other
 * (a socket writes them in one go): the batches are not copied into a body of their own.
 */
export function produceRequestPieces(topic: string, acks: number, timeoutMs: number, partitions: readonly PartitionBatch[]): Buffer[] {
  const name = Buffer.from(topic, 'utf8')
  const head = Buffer.allocUnsafe(2 + 2 + 4 + 4 + 2 + name.length + 4 + 8 * partitions.length)
  let pos = writeRequestHead(head, name, acks, timeoutMs, partitions.length)
  const pieces: Buffer[] = []
  let from = 0
  for (const p of partitions) {
    pos = head.writeInt32BE(p.partition, pos)
    pos = head.writeInt32BE(p.batch.length, pos)
    pieces.push(head.subarray(from, pos), p.batch)
    from = pos
  }
  if (partitions.length === 0) pieces.push(head.subarray(0, pos))
  return pieces
}

/** The Produce request body for batches already written (a retry of some of a request's). */
export function encodeProduceRequest(topic: string, acks: number, timeoutMs: number, partitions: readonly PartitionBatch[]): Buffer {
  return Buffer.concat(produceRequestPieces(topic, acks, timeoutMs, partitions))
}

export interface ProducedPartition {
  partition: number
  errorCode: number
  baseOffset: number
  /** v8+: the broker's message for the error, when it gave one. */
  errorMessage?: string
}

/** Parses a Produce response body (v3-v8) into its partitions of `topic`. */
export function parseProduceResponse(buf: Buffer, version: number, topic: string): ProducedPartition[] {
  const r = new WireReader(buf)
  const out: ProducedPartition[] = []
  for (let t = r.int32(); t > 0; t--) {
    const name = r.nullableString()
    for (let n = r.int32(); n > 0; n--) {
      const partition = r.int32()
      const errorCode = r.int16()
      const baseOffset = r.int64Loose()
      r.int64Loose() // log append time
      if (version >= 5) r.int64Loose() // log start offset
      let errorMessage: string | undefined
      if (version >= 8) {
        for (let e = r.int32(); e > 0; e--) {
          r.int32() // batch index
          r.nullableString() // batch index error message
        }
        errorMessage = r.nullableString() ?? undefined
      }
      if (name === topic) out.push({partition, errorCode, baseOffset, ...(errorMessage ? {errorMessage} : {})})
    }
  }
  return out
}
