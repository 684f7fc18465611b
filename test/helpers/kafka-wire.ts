// Kafka wire bytes built from the protocol description, independently of kbk's decoders, for unit
// tests of those decoders and of the fetch loop.

// A small encoder for Kafka's v2 record batches, written from the protocol description, so the
// decoder is checked against bytes built independently of it. CRCs are real (CRC-32C computed bit
// by bit here, not with kbk's table-driven one), so the fetch loop's CRC check passes them.

/** CRC-32C (Castagnoli), one bit at a time: slow and obviously right. */
export function crc32cBitwise(buf: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of buf) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

function varint(n: number): Buffer {
  let z = n >= 0 ? n * 2 : -n * 2 - 1
  const out: number[] = []
  while (z >= 0x80) {
    out.push((z % 128) | 0x80)
    z = Math.floor(z / 128)
  }
  out.push(z)
  return Buffer.from(out)
}

function vbytes(b: Buffer | string | null): Buffer {
  if (b === null) return varint(-1)
  const buf = typeof b === 'string' ? Buffer.from(b) : b
  return Buffer.concat([varint(buf.length), buf])
}

export interface TestRecord {
  offsetDelta: number
  timestampDelta?: number
  key: Buffer | string | null
  value: Buffer | string | null
  headers?: {key: string; value: Buffer | string | null}[]
}

function encodeRecord(r: TestRecord): Buffer {
  const body = Buffer.concat([
    Buffer.from([0]),
    varint(r.timestampDelta ?? 0),
    varint(r.offsetDelta),
    vbytes(r.key),
    vbytes(r.value),
    varint(r.headers?.length ?? 0),
    ...(r.headers ?? []).flatMap((h) => [vbytes(h.key), vbytes(h.value)]),
  ])
  return Buffer.concat([varint(body.length), body])
}

export interface BatchSpec {
  baseOffset: number
  lastOffsetDelta?: number
  baseTimestamp?: number
  maxTimestamp?: number
  attributes?: number
  producerId?: bigint
  records: TestRecord[]
  compress?: (b: Buffer) => Buffer
  /** Overrides the computed CRC (to make a corrupt batch). */
  crc?: number
}

export function batch(spec: BatchSpec): Buffer {
  let records: Buffer = Buffer.concat(spec.records.map(encodeRecord))
  if (spec.compress) records = spec.compress(records)
  const header = Buffer.alloc(61)
  header.writeBigInt64BE(BigInt(spec.baseOffset), 0)
  header.writeInt32BE(61 - 12 + records.length, 8)
  header.writeInt32BE(0, 12) // partition leader epoch
  header.writeInt8(2, 16) // magic
  header.writeUInt32BE(0, 17) // crc, written below
  header.writeInt16BE(spec.attributes ?? 0, 21)
  header.writeInt32BE(spec.lastOffsetDelta ?? Math.max(0, ...spec.records.map((r) => r.offsetDelta)), 23)
  header.writeBigInt64BE(BigInt(spec.baseTimestamp ?? 1_700_000_000_000), 27)
  header.writeBigInt64BE(BigInt(spec.maxTimestamp ?? 1_700_000_000_000), 35)
  header.writeBigInt64BE(spec.producerId ?? -1n, 43)
  header.writeInt16BE(0, 51)
  header.writeInt32BE(0, 53)
  header.writeInt32BE(spec.records.length, 57)
  const out = Buffer.concat([header, records])
  out.writeUInt32BE(spec.crc ?? crc32cBitwise(out.subarray(21)), 17)
  return out
}

/** A commit (type 1) or abort (type 0) marker batch of a transactional producer. */
export function marker(baseOffset: number, producerId: bigint, type: 0 | 1): Buffer {
  const key = Buffer.alloc(4)
  key.writeInt16BE(0, 0)
  key.writeInt16BE(type, 2)
  return batch({baseOffset, attributes: 0x10 | 0x20, producerId, records: [{offsetDelta: 0, key, value: Buffer.alloc(6)}]})
}

function i16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeInt16BE(n)
  return b
}
function i32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}
function i64(n: bigint | number): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigInt64BE(BigInt(n))
  return b
}

export interface PartitionAnswer {
  partition: number
  errorCode?: number
  highWatermark?: number
  logStartOffset?: number
  aborted?: {producerId: bigint; firstOffset: number}[]
  records?: Buffer | null
}

/** A Fetch v11 response body (after the correlation id). */
export function fetchResponse(topic: string, partitions: PartitionAnswer[]): Buffer {
  const parts: Buffer[] = [i32(0), i16(0), i32(0), i32(1), i16(Buffer.byteLength(topic)), Buffer.from(topic), i32(partitions.length)]
  for (const p of partitions) {
    const high = p.highWatermark ?? 1_000_000
    parts.push(i32(p.partition), i16(p.errorCode ?? 0), i64(high), i64(high), i64(p.logStartOffset ?? 0))
    const aborted = p.aborted ?? null
    parts.push(i32(aborted === null ? -1 : aborted.length))
    for (const a of aborted ?? []) parts.push(i64(a.producerId), i64(a.firstOffset))
    parts.push(i32(-1))
    const records = p.records ?? null
    parts.push(i32(records === null ? -1 : records.length))
    if (records) parts.push(records)
  }
  return Buffer.concat(parts)
}

export interface FetchRequestView {
  topic: string
  partitions: {partition: number; fetchOffset: number; maxBytes: number}[]
}

/** Reads back what a Fetch v11 request asks for (one topic). */
export function parseFetchRequest(buf: Buffer): FetchRequestView {
  let pos = 4 + 4 + 4 + 4 + 1 + 4 + 4 // replica, wait, min, max, isolation, session id, epoch
  const topics = buf.readInt32BE(pos)
  pos += 4
  if (topics !== 1) throw new Error(`expected one topic, got ${topics}`)
  const len = buf.readInt16BE(pos)
  const topic = buf.toString('utf8', pos + 2, pos + 2 + len)
  pos += 2 + len
  const n = buf.readInt32BE(pos)
  pos += 4
  const partitions: FetchRequestView['partitions'] = []
  for (let i = 0; i < n; i++) {
    partitions.push({partition: buf.readInt32BE(pos), fetchOffset: Number(buf.readBigInt64BE(pos + 8)), maxBytes: buf.readInt32BE(pos + 24)})
    pos += 28
  }
  return {topic, partitions}
}

export interface ProduceRequestView {
  acks: number
  topic: string
  partitions: {partition: number; batch: Buffer; producerId: bigint; producerEpoch: number; baseSequence: number; records: number}[]
}

/** Reads back a Produce request body (v3-v8, one topic) and the header fields of each batch. */
export function parseProduceRequest(buf: Buffer): ProduceRequestView {
  let pos = 0
  const txn = buf.readInt16BE(pos)
  pos += 2 + Math.max(0, txn)
  const acks = buf.readInt16BE(pos)
  pos += 2 + 4
  if (buf.readInt32BE(pos) !== 1) throw new Error('expected one topic')
  pos += 4
  const len = buf.readInt16BE(pos)
  const topic = buf.toString('utf8', pos + 2, pos + 2 + len)
  pos += 2 + len
  const partitions: ProduceRequestView['partitions'] = []
  for (let n = buf.readInt32BE(pos), i = (pos += 4, 0); i < n; i++) {
    const partition = buf.readInt32BE(pos)
    const size = buf.readInt32BE(pos + 4)
    const batch = Buffer.from(buf.subarray(pos + 8, pos + 8 + size))
    pos += 8 + size
    partitions.push({partition, batch, producerId: batch.readBigInt64BE(43), producerEpoch: batch.readInt16BE(51), baseSequence: batch.readInt32BE(53), records: batch.readInt32BE(57)})
  }
  return {acks, topic, partitions}
}

/** A Produce v8 response body (after the correlation id) for one topic. */
export function produceResponse(topic: string, partitions: {partition: number; errorCode?: number; baseOffset?: number}[]): Buffer {
  const parts: Buffer[] = [i32(1), i16(Buffer.byteLength(topic)), Buffer.from(topic), i32(partitions.length)]
  for (const p of partitions) parts.push(i32(p.partition), i16(p.errorCode ?? 0), i64(p.baseOffset ?? -1), i64(-1), i64(0), i32(0), i16(-1))
  parts.push(i32(0)) // throttle time
  return Buffer.concat(parts)
}

/** CRC-32 (IEEE), one bit at a time: the checksum of message formats v0/v1. */
export function crc32Bitwise(buf: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of buf) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

export interface LegacyMessageSpec {
  /** Absolute, or (inside a v1 wrapper) relative. */
  offset: number
  magic: 0 | 1
  /** Codec in bits 0-2; v1: bit 3 = log-append time. */
  attributes?: number
  /** v1 only. */
  timestamp?: number
  key: Buffer | string | null
  value: Buffer | string | null
}

/**
 * One message of message format v0 or v1 (Kafka before 0.11), with its offset and size prefix,
 * from the documented layout: offset, size, crc, magic, attributes, [timestamp], key, value.
 */
export function legacyMessage(spec: LegacyMessageSpec): Buffer {
  const bytes = (b: Buffer | string | null): Buffer => (b === null ? i32(-1) : Buffer.concat([i32(Buffer.byteLength(b)), Buffer.from(b)]))
  const body = Buffer.concat([Buffer.from([spec.magic, spec.attributes ?? 0]), spec.magic === 1 ? i64(spec.timestamp ?? -1) : Buffer.alloc(0), bytes(spec.key), bytes(spec.value)])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32Bitwise(body))
  return Buffer.concat([i64(spec.offset), i32(4 + body.length), crc, body])
}
