// Reads a block's records in place: where each starts, its offset and timestamp, without a JS
// object per record. The restore's fast path (src/restore/transcode.ts) copies the records
// straight from these positions into Kafka record batches; the layout is record-codec.ts's, and
// decodeRecords finds its records with this scan, so both accept and refuse the same blocks.
import {readInt64} from './layout.js'

/** The record layout (record-codec.ts writes it): attribute bit 0 is LogAppendTime. */
export const ATTR_LOG_APPEND = 0x01
/** A length of -1: a null key, value or header value. */
export const NULL_LENGTH = -1
/** attributes, offset, timestamp, key length, value length, header count. */
export const RECORD_FIXED_BYTES = 1 + 8 + 8 + 4 + 4 + 4
/** header key length, header value length. */
export const HEADER_FIXED_BYTES = 8

/** One block's records, in place in `plain`. */
export interface ScannedBlock {
  plain: Buffer
  count: number
  /** Record i spans plain[starts[i], starts[i + 1]). */
  starts: Uint32Array
  offsets: Float64Array
  timestamps: Float64Array
}

/** Scans exactly `count` records filling `buf`; throws a plain Error on malformed data, as decodeRecords does. */
export function scanRecords(buf: Buffer, count: number): ScannedBlock {
  const starts = new Uint32Array(count + 1)
  const offsets = new Float64Array(count)
  const timestamps = new Float64Array(count)
  const len = buf.length
  let pos = 0
  const need = (n: number): void => {
    if (n < 0 || pos + n > len) throw new Error(`record data ends early at byte ${pos}`)
  }
  const skipBytes = (): void => {
    need(4)
    const n = buf.readInt32LE(pos)
    pos += 4
    if (n === NULL_LENGTH) return
    need(n)
    pos += n
  }
  for (let i = 0; i < count; i++) {
    starts[i] = pos
    need(RECORD_FIXED_BYTES - 4)
    const attrs = buf[pos]!
    if ((attrs & ~ATTR_LOG_APPEND) !== 0) throw new Error(`unknown record attributes 0x${attrs.toString(16)}`)
    const offset = readInt64(buf, pos + 1)
    const timestamp = readInt64(buf, pos + 9)
    if (!(offset >= 0) || Number.isNaN(timestamp)) throw new Error(`record ${i} has an offset or timestamp out of range`)
    offsets[i] = offset
    timestamps[i] = timestamp
    pos += 17
    skipBytes()
    skipBytes()
    need(4)
    const headerCount = buf.readUInt32LE(pos)
    pos += 4
    need(headerCount * HEADER_FIXED_BYTES)
    for (let h = 0; h < headerCount; h++) {
      need(4)
      const klen = buf.readUInt32LE(pos)
      need(4 + klen)
      pos += 4 + klen
      skipBytes()
    }
  }
  if (pos !== len) throw new Error(`${len - pos} byte(s) left after the last record`)
  starts[count] = pos
  return {plain: buf, count, starts, offsets, timestamps}
}
