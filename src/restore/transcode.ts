// The restore's fast path: kbk's stored records (record-codec.ts layout, found in place by
// record-scan.ts) are written straight into Kafka v2 record-batch records, with no JS object per
// record. Keys, values and header keys and values are copied as the bytes they are (header keys
// were stored as UTF-8 from JS strings, so they are valid UTF-8 and the object path's decode to a
// string and encode back gives these same bytes). Only where a per-record transform is configured
// (the schema-ID rewrite) does a restore decode records into objects.
import type {EncodedRecords} from '../kafka/port.js'
import {BATCH_HEADER_BYTES, uvarintSize, writeUvarint, zigzag} from '../kafka/produce-batch.js'
import type {ScannedBlock} from '../segment/index.js'

/** kbk record layout (record-codec.ts): attributes, offset, timestamp, then the key's length. */
const KEY_LENGTH_AT = 17

/** Below this many bytes a loop beats Buffer#copy's per-call overhead (keys, header values). */
const SMALL_COPY = 48

function copyBytes(from: Buffer, start: number, end: number, to: Buffer, at: number): number {
  if (end - start > SMALL_COPY) return at + from.copy(to, at, start, end)
  for (let i = start; i < end; i++) to[at++] = from[i]!
  return at
}

/**
 * Batch buffers of one size, reused once a batch is acknowledged: a 1 MiB buffer per batch counted
 * as external memory and had V8 run twice as many full collections (docs/performance.md).
 */
export class BufferPool {
  readonly #free: Buffer[] = []
  constructor(readonly size: number, readonly max: number) {}

  take(size: number): Buffer {
    return size === this.size ? (this.#free.pop() ?? Buffer.allocUnsafe(size)) : Buffer.allocUnsafe(size)
  }

  /** Hands back the memory of a buffer take() gave (any view of it); nothing may use it afterwards. */
  give(view: Buffer): void {
    if (view.byteOffset !== 0 || view.buffer.byteLength !== this.size || this.#free.length >= this.max) return
    this.#free.push(Buffer.from(view.buffer, 0, this.size))
  }
}

/** A varint-prefixed byte string (Kafka) of a kbk length-prefixed one of `len` (-1: null). */
function bytesSize(len: number): number {
  return len < 0 ? 1 : uvarintSize(len * 2) + len
}

/**
 * One batch's records, appended from scanned blocks. `size` counts the batch as it will be sent
 * (header included, uncompressed), so a caller can cap it exactly.
 */
export class EncodedChunkBuilder {
  #buf: Buffer | undefined
  #pos = BATCH_HEADER_BYTES
  /** The body length measure() found last (add() writes it as the record's length). */
  #body = 0
  count = 0
  baseTimestamp = 0
  maxTimestamp = Number.NEGATIVE_INFINITY
  minTimestamp = Number.POSITIVE_INFINITY
  /** Key and value bytes, for progress and rate limits. */
  bytes = 0
  /** Source offsets of the records, in order: the offset map's input. */
  readonly offsets: number[] = []

  /** `capacity`: bytes of records the chunk is allowed (a single larger record still goes alone). */
  constructor(readonly capacity: number, readonly pool?: BufferPool) {}

  get size(): number {
    return this.#pos
  }

  /** The bytes record `i` of `block` takes as this batch's next record (length prefix included). */
  measure(block: ScannedBlock, i: number): number {
    const plain = block.plain
    let p = block.starts[i]! + KEY_LENGTH_AT
    const tsDelta = this.count === 0 ? 0 : block.timestamps[i]! - this.baseTimestamp
    const klen = plain.readInt32LE(p)
    p += 4 + (klen > 0 ? klen : 0)
    const vlen = plain.readInt32LE(p)
    p += 4 + (vlen > 0 ? vlen : 0)
    const headers = plain.readUInt32LE(p)
    p += 4
    let body = 1 + uvarintSize(zigzag(tsDelta)) + uvarintSize(this.count * 2) + bytesSize(klen) + bytesSize(vlen) + uvarintSize(headers * 2)
    for (let h = 0; h < headers; h++) {
      const hk = plain.readUInt32LE(p)
      p += 4 + hk
      const hv = plain.readInt32LE(p)
      p += 4 + (hv > 0 ? hv : 0)
      body += uvarintSize(hk * 2) + hk + bytesSize(hv)
    }
    this.#body = body
    return uvarintSize(body * 2) + body
  }

  /** Appends record `i` of `block`; `size` is what measure() said for it, called just before. */
  add(block: ScannedBlock, i: number, size: number): void {
    const plain = block.plain
    const timestamp = block.timestamps[i]!
    if (this.count === 0) this.baseTimestamp = timestamp
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp
    if (timestamp < this.minTimestamp) this.minTimestamp = timestamp
    if (this.#buf === undefined) {
      const n = BATCH_HEADER_BYTES + Math.max(this.capacity, size)
      this.#buf = this.pool ? this.pool.take(n) : Buffer.allocUnsafe(n)
    }
    else if (this.#pos + size > this.#buf.length) {
      // Only when the caller let one record past the capacity: grow (rare: a chunk of one huge record).
      const bigger = Buffer.allocUnsafe(this.#pos + size)
      this.#buf.copy(bigger, 0, 0, this.#pos)
      this.#buf = bigger
    }
    const out = this.#buf
    let o = writeUvarint(out, this.#pos, this.#body * 2)
    out[o++] = 0 // record attributes: unused
    o = writeUvarint(out, o, zigzag(timestamp - this.baseTimestamp))
    o = writeUvarint(out, o, this.count * 2)
    let p = block.starts[i]! + KEY_LENGTH_AT
    for (let field = 0; field < 2; field++) {
      const len = plain.readInt32LE(p)
      p += 4
      if (len < 0) out[o++] = 1 // zig-zag -1: null
      else {
        o = writeUvarint(out, o, len * 2)
        o = copyBytes(plain, p, p + len, out, o)
        p += len
        this.bytes += len
      }
    }
    const headers = plain.readUInt32LE(p)
    p += 4
    o = writeUvarint(out, o, headers * 2)
    for (let h = 0; h < headers; h++) {
      const hk = plain.readUInt32LE(p)
      p += 4
      o = writeUvarint(out, o, hk * 2)
      o = copyBytes(plain, p, p + hk, out, o)
      p += hk
      const hv = plain.readInt32LE(p)
      p += 4
      if (hv < 0) out[o++] = 1
      else {
        o = writeUvarint(out, o, hv * 2)
        o = copyBytes(plain, p, p + hv, out, o)
        p += hv
      }
    }
    if (o !== this.#pos + size) throw new Error(`transcoded record ${block.offsets[i]} took ${o - this.#pos} bytes, measured ${size}`)
    this.#pos = o
    this.offsets.push(block.offsets[i]!)
    this.count++
  }

  finish(): EncodedRecords {
    if (this.#buf === undefined) throw new Error('an empty chunk has no batch')
    const buf = this.#buf.subarray(0, this.#pos)
    const pool = this.pool
    return {buf, count: this.count, baseTimestamp: this.baseTimestamp, maxTimestamp: this.maxTimestamp, ...(pool ? {release: () => pool.give(buf)} : {})}
  }
}
