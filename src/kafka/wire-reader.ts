// The one reader of Kafka's wire format: big-endian fixed-width fields, int16-length strings and
// zig-zag varints, bounds-checked (a short or damaged buffer is a RecordFormatError, never a read
// past the end). Fetch (record-batch.ts), Produce (produce-batch.ts) and DescribeLogDirs
// (kafkajs-log-dirs.ts) responses are all parsed with it.

/** Data that is not what the Kafka protocol says it should be (short, damaged, unsupported). */
export class RecordFormatError extends Error {}

/** A byte cursor over big-endian Kafka fields and zig-zag varints. */
export class WireReader {
  pos: number
  constructor(
    readonly buf: Buffer,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw new RecordFormatError(`data ends early at byte ${this.pos} (needs ${n} more)`)
  }

  int8(): number {
    this.need(1)
    return this.buf.readInt8(this.pos++)
  }

  int16(): number {
    this.need(2)
    const v = this.buf.readInt16BE(this.pos)
    this.pos += 2
    return v
  }

  int32(): number {
    this.need(4)
    const v = this.buf.readInt32BE(this.pos)
    this.pos += 4
    return v
  }

  int64(): number {
    this.need(8)
    const v = int64At(this.buf, this.pos)
    this.pos += 8
    return v
  }

  /** An int64 as a JS number, converted like Number(bigint) (no range check). */
  int64Loose(): number {
    return Number(this.bigint64())
  }

  bigint64(): bigint {
    this.need(8)
    const v = this.buf.readBigInt64BE(this.pos)
    this.pos += 8
    return v
  }

  /** An int16-length string; null (length -1) reads as ''. */
  string(): string {
    return this.nullableString() ?? ''
  }

  /** An int16-length string, null for length -1. */
  nullableString(): string | null {
    const len = this.int16()
    if (len < 0) return null
    this.need(len)
    const s = this.buf.toString('utf8', this.pos, this.pos + len)
    this.pos += len
    return s
  }

  /** Unsigned varint as a JS number (up to 2^53). */
  private uvarint(): number {
    const buf = this.buf
    let result = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RecordFormatError(`varint runs past the end at byte ${this.pos}`)
      const b = buf[this.pos++]!
      result += (b & 0x7f) * scale
      if (b < 0x80) return result
      scale *= 128
    }
    throw new RecordFormatError(`varint longer than 10 bytes at byte ${this.pos}`)
  }

  /** Zig-zag varint (int32 or int64 on the wire). */
  varint(): number {
    const buf = this.buf
    // Fast path: one byte, the common case for lengths of small fields and header counts.
    if (this.pos < this.end) {
      const b = buf[this.pos]!
      if (b < 0x80) {
        this.pos++
        return (b >>> 1) ^ -(b & 1)
      }
    }
    const u = this.uvarint()
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2
  }

  /** Varint-length bytes: null for length -1. A view, not a copy. */
  bytes(): Buffer | null {
    return this.view(this.varint())
  }

  /** int32-length bytes (v0/v1 messages): null for length -1. A view, not a copy. */
  int32Bytes(): Buffer | null {
    return this.view(this.int32())
  }

  private view(len: number): Buffer | null {
    if (len < 0) return null
    this.need(len)
    const b = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return b
  }
}

export function int64At(buf: Buffer, pos: number): number {
  const hi = buf.readInt32BE(pos)
  const lo = buf.readUInt32BE(pos + 4)
  const v = hi * 0x1_0000_0000 + lo
  if (!Number.isSafeInteger(v)) throw new RecordFormatError(`64-bit value at byte ${pos} is beyond what kbk can represent exactly`)
  return v
}
