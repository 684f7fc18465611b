// Per-record encoding inside a block: fixed-width little-endian fields written straight into a
// preallocated buffer (no per-record allocation or JSON), so the format never limits throughput.
import type {KafkaRecord, RecordCursor, RecordHeader} from '../kafka/port.js'
import {writeInt64} from './layout.js'
import {ATTR_LOG_APPEND, HEADER_FIXED_BYTES, NULL_LENGTH, RECORD_FIXED_BYTES, scanRecords} from './record-scan.js'


/**
 * Upper bound of a record's encoded size: header keys count 3 bytes per UTF-16 unit, the most
 * UTF-8 ever needs, so the bound is cheap (no byteLength pass) and never too small.
 */
export function encodedBound(r: KafkaRecord): number {
  let n = RECORD_FIXED_BYTES + (r.key?.length ?? 0) + (r.value?.length ?? 0)
  for (const h of r.headers) n += HEADER_FIXED_BYTES + h.key.length * 3 + (h.value?.length ?? 0)
  return n
}

/** Writes the record at `pos` (the caller made room for encodedBound bytes); returns the new end. */
export function encodeRecord(buf: Buffer, pos: number, r: KafkaRecord): number {
  buf[pos] = r.timestampType === 'log-append' ? ATTR_LOG_APPEND : 0
  writeInt64(buf, r.offset, pos + 1)
  writeInt64(buf, r.timestamp, pos + 9)
  pos += 17
  pos = writeBytes(buf, pos, r.key)
  pos = writeBytes(buf, pos, r.value)
  buf.writeUInt32LE(r.headers.length, pos)
  pos += 4
  for (const h of r.headers) {
    const len = buf.write(h.key, pos + 4, 'utf8')
    buf.writeUInt32LE(len, pos)
    pos = writeBytes(buf, pos + 4 + len, h.value)
  }
  return pos
}

function writeBytes(buf: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) {
    buf.writeInt32LE(NULL_LENGTH, pos)
    return pos + 4
  }
  buf.writeInt32LE(b.length, pos)
  b.copy(buf, pos + 4)
  return pos + 4 + b.length
}

/**
 * encodedBound of the cursor's current record, exactly (the writer's block boundaries depend on
 * it, so segments written from a cursor are byte-identical to those written from KafkaRecords).
 */
export function cursorEncodedBound(r: RecordCursor): number {
  let n = RECORD_FIXED_BYTES + (r.keyLength > 0 ? r.keyLength : 0) + (r.valueLength > 0 ? r.valueLength : 0)
  const h = r.headers
  for (let i = 0, end = r.headerCount * 4; i < end; i += 4) {
    const vl = h[i + 3]!
    n += HEADER_FIXED_BYTES + headerKeyUnits(r.buf, h[i]!, h[i + 1]!) * 3 + (vl > 0 ? vl : 0)
  }
  return n
}

/** encodeRecord of the cursor's current record: the same bytes a KafkaRecord of it encodes to. */
export function encodeCursorRecord(buf: Buffer, pos: number, r: RecordCursor): number {
  const src = r.buf
  buf[pos] = r.logAppend ? ATTR_LOG_APPEND : 0
  writeInt64(buf, r.offset, pos + 1)
  writeInt64(buf, r.timestamp, pos + 9)
  pos = copyBytes(buf, pos + 17, src, r.keyStart, r.keyLength)
  pos = copyBytes(buf, pos, src, r.valueStart, r.valueLength)
  const count = r.headerCount
  buf.writeUInt32LE(count, pos)
  pos += 4
  const h = r.headers
  for (let i = 0, end = count * 4; i < end; i += 4) {
    const ks = h[i]!
    const kl = h[i + 1]!
    if (kl <= 0) {
      // A null key decodes to '' (record-batch.ts): both are stored as an empty key.
      buf.writeUInt32LE(0, pos)
      pos += 4
    } else if (isAscii(src, ks, kl)) {
      pos = copyBytes(buf, pos, src, ks, kl)
    } else {
      // Through a string, as the object path does: invalid UTF-8 becomes U+FFFD the same way.
      const len = buf.write(src.toString('utf8', ks, ks + kl), pos + 4, 'utf8')
      buf.writeUInt32LE(len, pos)
      pos += 4 + len
    }
    pos = copyBytes(buf, pos, src, h[i + 2]!, h[i + 3]!)
  }
  return pos
}

/** UTF-16 units of a header key's string (what KafkaRecord's header key.length counts). */
function headerKeyUnits(src: Buffer, start: number, length: number): number {
  if (length <= 0) return 0
  return isAscii(src, start, length) ? length : src.toString('utf8', start, start + length).length
}

function isAscii(src: Buffer, start: number, length: number): boolean {
  for (let i = start, end = start + length; i < end; i++) if (src[i]! >= 0x80) return false
  return true
}

/** Below this, a loop beats Buffer#copy's checks and view. */
const SMALL_COPY = 24

/** writeBytes of src[start, start + length); length -1 is null. */
function copyBytes(buf: Buffer, pos: number, src: Buffer, start: number, length: number): number {
  if (length < 0) {
    buf.writeInt32LE(NULL_LENGTH, pos)
    return pos + 4
  }
  buf.writeInt32LE(length, pos)
  pos += 4
  if (length > SMALL_COPY) src.copy(buf, pos, start, start + length)
  else for (let i = 0; i < length; i++) buf[pos + i] = src[start + i]!
  return pos + length
}

/**
 * Decodes exactly `count` records filling `buf`. Keys and values are views into `buf` (no copy).
 * Throws a plain Error on malformed data; the reader turns it into KBK_SEGMENT_CORRUPT. Every
 * check is scanRecords' (the restore's fast path reads blocks with it alone), so both accept and
 * refuse the same blocks; this only turns the records it found into objects.
 */
export function decodeRecords(buf: Buffer, count: number): KafkaRecord[] {
  const {starts, offsets, timestamps} = scanRecords(buf, count)
  const out: KafkaRecord[] = new Array<KafkaRecord>(count)
  let pos = 0
  for (let i = 0; i < count; i++) {
    const attrs = buf[starts[i]!]!
    pos = starts[i]! + 17
    const key = readBytes()
    const value = readBytes()
    const headerCount = buf.readUInt32LE(pos)
    pos += 4
    const headers: RecordHeader[] = new Array<RecordHeader>(headerCount)
    for (let h = 0; h < headerCount; h++) {
      const klen = buf.readUInt32LE(pos)
      const hkey = buf.toString('utf8', pos + 4, pos + 4 + klen)
      pos += 4 + klen
      headers[h] = {key: hkey, value: readBytes()}
    }
    out[i] = {offset: offsets[i]!, timestamp: timestamps[i]!, timestampType: attrs & ATTR_LOG_APPEND ? 'log-append' : 'create', key, value, headers}
  }
  return out

  function readBytes(): Buffer | null {
    const len = buf.readInt32LE(pos)
    pos += 4
    if (len === NULL_LENGTH) return null
    const b = buf.subarray(pos, pos + len)
    pos += len
    return b
  }
}
