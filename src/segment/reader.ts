// Segment readers: a streaming reader that verifies each block before yielding its records and
// the whole object at the end, plus footer-only parsing for callers with byte-range reads.
import {createHash, type Hash} from 'node:crypto'
import type {Readable} from 'node:stream'
import {decompress} from 'zstd-napi'
import {KbkError} from '../errors.js'
import type {KafkaRecord} from '../kafka/port.js'
import {openBlock, unwrapDataKey} from './crypto.js'
import {
  BLOCK_CHECKSUM_BYTES, BLOCK_HEADER_BYTES, BLOCK_TAG, DATA_KEY_BYTES, ENCRYPTION_AES_256_GCM, ENCRYPTION_FIELDS_BYTES, ENCRYPTION_NONE,
  FOOTER_CHECKSUM_BYTES, FOOTER_FIXED_BYTES, FOOTER_TAG, FORMAT_VERSION, GCM_TAG_BYTES, HEADER_CHECKSUM_BYTES, HEADER_FIXED_BYTES,
  INDEX_ENTRY_BYTES, MAGIC, MAX_BLOCK_BYTES, MAX_HEADER_BYTES, NONCE_PREFIX_BYTES, PRELUDE_BYTES, TRAILER_BYTES, TRAILER_CHECKSUM_BYTES,
  TRAILER_MAGIC, WRAP_NONCE_BYTES, codecName, corrupt, digest, readInt64, u32,
} from './layout.js'
import {ByteSource} from './byte-source.js'
import {decodeRecords} from './record-codec.js'
import {scanRecords, type ScannedBlock} from './record-scan.js'
import type {SegmentBlockInfo, SegmentReadOptions, SegmentSummary} from './types.js'

/** Stands in for the running hash when the caller hashed the object already (digestBeforeTrailer). */
const NO_HASH = {update: () => NO_HASH, copy: () => NO_HASH, digest: () => Buffer.alloc(0)} as unknown as Hash

/** zstd and GCM add a little to an incompressible block; anything beyond this is a damaged length. */
const MAX_STORED_BLOCK_BYTES = MAX_BLOCK_BYTES + 4 * 1024 * 1024
/** Bytes from the end that hold the footer of all but very large segments (~1,300 blocks). */
export const SUMMARY_TAIL_BYTES = 64 * 1024

interface Header {
  codecId: number
  level: number
  keyId: string | undefined
  headerSum: Buffer
  dataKey: Buffer | undefined
  noncePrefix: Buffer | undefined
}

export interface SegmentFooter {
  summary: SegmentSummary
  level: number
  blocks: SegmentBlockInfo[]
}

/**
 * Reads a segment from a stream, a block at a time. Every block's checksum (and, when encrypted,
 * its GCM tag) is checked before its records are yielded, so a damaged block never produces a
 * record; the footer, trailer and whole-object digest are checked after the last block. Stop
 * consuming and the source is closed. The generator's return value is the verified summary.
 */
export function readSegment(source: AsyncIterable<Buffer> | Iterable<Buffer> | Readable, options: SegmentReadOptions): AsyncGenerator<KafkaRecord[], SegmentSummary> {
  return readBlocks(source, options, (plain, count) => {
    const records = decodeRecords(plain, count)
    return {block: records, count, offset: (i) => records[i]!.offset, timestamp: (i) => records[i]!.timestamp}
  })
}

/**
 * readSegment without a JS object per record: each block's records stay in place in its
 * decompressed bytes (record-scan.ts), for a restore that copies them into Kafka record batches
 * as they are. Same checks, in the same order.
 */
export function readSegmentBlocks(source: AsyncIterable<Buffer> | Iterable<Buffer> | Readable, options: SegmentReadOptions): AsyncGenerator<ScannedBlock, SegmentSummary> {
  return readBlocks(source, options, (plain, count) => {
    const b = scanRecords(plain, count)
    return {block: b, count, offset: (i) => b.offsets[i]!, timestamp: (i) => b.timestamps[i]!}
  })
}

/** A block's records as a reader yields them, with what the reader checks of each. */
interface DecodedBlock<T> {
  block: T
  count: number
  offset(i: number): number
  timestamp(i: number): number
}

async function* readBlocks<T>(source: AsyncIterable<Buffer> | Iterable<Buffer> | Readable, options: SegmentReadOptions, decode: (plain: Buffer, count: number) => DecodedBlock<T>): AsyncGenerator<T, SegmentSummary> {
  const name = options.objectName
  const hash: Hash = options.digestBeforeTrailer ? NO_HASH : createHash('sha256')
  const it: AsyncIterator<unknown> | Iterator<unknown> = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
  const src = new ByteSource(it, hash, name)
  try {
    const header = await readHeader(src, name, options.keyring)
    const seen: SegmentBlockInfo[] = []
    let uncompressed = 0
    let lastOffset = -1
    for (let blockIndex = 0; ; blockIndex++) {
      const tag = await src.take(4, blockIndex === 0 ? 'the first block' : `block ${blockIndex} or the footer`)
      if (tag.equals(FOOTER_TAG)) break
      const blockOffset = src.consumed - 4
      if (!tag.equals(BLOCK_TAG)) throw corrupt(name, `unexpected bytes at byte ${blockOffset} where block ${blockIndex} or the footer should start`, {byteOffset: blockOffset})
      const fields = await src.take(BLOCK_HEADER_BYTES - 4, `block ${blockIndex} header`)
      const stored = fields.readUInt32LE(0)
      const plainLength = fields.readUInt32LE(4)
      const count = fields.readUInt32LE(8)
      if (stored > MAX_STORED_BLOCK_BYTES || plainLength > MAX_BLOCK_BYTES || count === 0) {
        throw corrupt(name, `block ${blockIndex} has impossible lengths (stored ${stored}, uncompressed ${plainLength}, records ${count})`, {block: blockIndex, byteOffset: blockOffset})
      }
      const payload = await src.take(stored, `block ${blockIndex}`)
      const sum = await src.take(BLOCK_CHECKSUM_BYTES, `block ${blockIndex} checksum`)
      const head = Buffer.concat([tag, fields])
      const indexBytes = u32(blockIndex)
      if (!options.wholeObjectVerified && !digest([header.headerSum, indexBytes, head, payload], BLOCK_CHECKSUM_BYTES).equals(sum)) {
        throw corrupt(name, `block ${blockIndex} checksum does not match (bytes ${blockOffset}–${src.consumed - 1})`, {block: blockIndex, byteOffset: blockOffset})
      }
      const plain = options.decompress && header.codecId !== 0 ? await unpackBlockOffThread(header, blockIndex, head, payload, plainLength, name, options.decompress) : unpackBlock(header, blockIndex, head, payload, plainLength, name)
      let records: DecodedBlock<T>
      try {
        records = decode(plain, count)
      } catch (e) {
        throw corrupt(name, `block ${blockIndex} does not decode: ${(e as Error).message}`, {block: blockIndex})
      }
      const info: SegmentBlockInfo = {offset: blockOffset, size: src.consumed - blockOffset, recordCount: count, firstOffset: records.offset(0), lastOffset: 0, minTimestamp: records.timestamp(0), maxTimestamp: records.timestamp(0)}
      for (let i = 0; i < count; i++) {
        const offset = records.offset(i)
        const timestamp = records.timestamp(i)
        if (offset <= lastOffset) throw corrupt(name, `block ${blockIndex}: offset ${offset} follows ${lastOffset}`, {block: blockIndex})
        lastOffset = offset
        if (timestamp < info.minTimestamp) info.minTimestamp = timestamp
        if (timestamp > info.maxTimestamp) info.maxTimestamp = timestamp
      }
      info.lastOffset = lastOffset
      seen.push(info)
      uncompressed += plainLength
      yield records.block
      // Only memory the decompress callback returned is given back (never a view of the object).
      if (options.releaseBlock && options.decompress && header.codecId !== 0) options.releaseBlock(plain)
    }

    const footerOffset = src.consumed - 4
    const fixed = Buffer.concat([FOOTER_TAG, await src.take(FOOTER_FIXED_BYTES - 4, 'the footer')])
    const blockCount = fixed.readUInt32LE(12)
    if (blockCount !== seen.length) throw corrupt(name, `the footer counts ${blockCount} block(s) but the object holds ${seen.length}`)
    const rest = await src.take(fixed[9]! + blockCount * INDEX_ENTRY_BYTES + FOOTER_CHECKSUM_BYTES, 'the footer')
    const footerBytes = Buffer.concat([fixed, rest])
    const footer = parseFooter(footerBytes, name)
    checkFooterAgainstContent(footer, header, seen, uncompressed, name)

    const before = options.digestBeforeTrailer ?? hash.copy().digest()
    const trailer = await src.take(TRAILER_BYTES, 'the trailer')
    const t = parseTrailer(trailer, name)
    if (t.footerOffset !== footerOffset || t.footerLength !== footerBytes.length) throw corrupt(name, 'the trailer points to the wrong footer position')
    if (!t.objectDigest.equals(before)) throw corrupt(name, 'the whole-object checksum in the trailer does not match the bytes before it')
    if (!(await src.atEnd())) throw corrupt(name, `unexpected bytes after the trailer (the object should end at byte ${src.consumed})`)
    if (options.expectedSize !== undefined && src.consumed !== options.expectedSize) {
      throw corrupt(name, `size is ${src.consumed} bytes, the state recorded ${options.expectedSize}`)
    }
    if (options.expectedSha256 !== undefined && !options.digestBeforeTrailer && hash.digest('hex') !== options.expectedSha256.toLowerCase()) {
      throw corrupt(name, 'its sha256 differs from the one recorded when it was written')
    }
    return footer.summary
  } finally {
    // Closes the underlying stream when the consumer stops early or a check failed.
    await it.return?.()
  }
}

/** Reads a whole segment held in memory. Same checks as readSegment. */
export async function decodeSegment(bytes: Buffer, options: SegmentReadOptions): Promise<{summary: SegmentSummary; records: KafkaRecord[]}> {
  const records: KafkaRecord[] = []
  const gen = readSegment([bytes], options)
  for (;;) {
    const r = await gen.next()
    if (r.done) return {summary: r.value, records}
    for (const rec of r.value) records.push(rec)
  }
}

/**
 * The summary from the last bytes of a segment (at least TRAILER_BYTES + the footer; the footer
 * grows 48 bytes per block). Too short a tail throws KBK_SEGMENT_TAIL_SHORT with
 * `details.needBytes`. Checks the footer's and trailer's own checksums, not the blocks.
 */
export function readSegmentSummary(tail: Buffer, options: {objectName: string}): SegmentSummary {
  return parseSegmentFooter(tail, options).summary
}

/** Like readSegmentSummary, with the block index (byte offsets, offset and time ranges per block). */
export function parseSegmentFooter(tail: Buffer, options: {objectName: string}): SegmentFooter {
  const name = options.objectName
  if (tail.length < TRAILER_BYTES) throw tailShort(name, TRAILER_BYTES)
  const t = parseTrailer(tail.subarray(tail.length - TRAILER_BYTES), name)
  const need = t.footerLength + TRAILER_BYTES
  if (tail.length < need) throw tailShort(name, need)
  return parseFooter(tail.subarray(tail.length - need, tail.length - TRAILER_BYTES), name)
}

/**
 * The summary of a stored segment with at most two range reads. `readRange` returns bytes
 * [start, end] inclusive (the ObjectStore's ByteRange convention).
 */
export async function readSegmentSummaryByRange(readRange: (start: number, end: number) => Promise<Buffer>, size: number, objectName: string): Promise<SegmentFooter> {
  const first = Math.min(size, SUMMARY_TAIL_BYTES)
  const tail = await readRange(size - first, size - 1)
  try {
    return parseSegmentFooter(tail, {objectName})
  } catch (e) {
    const need = e instanceof KbkError && e.code === 'KBK_SEGMENT_TAIL_SHORT' ? Number(e.details?.needBytes) : Number.NaN
    if (!(need > tail.length) || need > size) throw e instanceof KbkError && e.code === 'KBK_SEGMENT_TAIL_SHORT' ? corrupt(objectName, 'the trailer gives a footer larger than the object') : e
    return parseSegmentFooter(await readRange(size - need, size - 1), {objectName})
  }
}

function tailShort(name: string, needBytes: number): KbkError {
  return new KbkError('KBK_SEGMENT_TAIL_SHORT', `The last bytes of segment ${name} given do not hold its whole footer; ${needBytes} are needed.`, {
    kind: 'internal',
    details: {object: name, needBytes},
  })
}

async function readHeader(src: ByteSource, name: string, keyring: Map<string, Buffer> | undefined): Promise<Header> {
  const prelude = await src.take(PRELUDE_BYTES, 'the header')
  if (!prelude.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt(name, 'bad magic: this is not a kbk segment (or its first bytes are damaged)')
  const headerLength = prelude.readUInt16LE(8)
  if (headerLength < HEADER_FIXED_BYTES + HEADER_CHECKSUM_BYTES || headerLength > MAX_HEADER_BYTES) throw corrupt(name, `the header length ${headerLength} is impossible`)
  const header = Buffer.concat([prelude, await src.take(headerLength - PRELUDE_BYTES, 'the header')])
  const body = header.subarray(0, headerLength - HEADER_CHECKSUM_BYTES)
  const headerSum = header.subarray(headerLength - HEADER_CHECKSUM_BYTES)
  if (!digest([body], HEADER_CHECKSUM_BYTES).equals(headerSum)) throw corrupt(name, 'header checksum does not match')

  const version = header.readUInt16LE(6)
  if (version !== FORMAT_VERSION) {
    throw new KbkError('KBK_SEGMENT_VERSION', `Segment ${name} uses format version ${version}; this kbk reads version ${FORMAT_VERSION}.`, {
      kind: 'user',
      suggestion: 'Upgrade kbk to the version that wrote this backup (or newer).',
      details: {object: name, formatVersion: version},
    })
  }
  const codecId = header[10]!
  if (codecName(codecId) === undefined) throw unsupported(name, `codec id ${codecId}`)
  const level = header.readInt8(11)
  const encryption = header[12]!
  if (encryption !== ENCRYPTION_NONE && encryption !== ENCRYPTION_AES_256_GCM) throw unsupported(name, `encryption id ${encryption}`)
  const keyIdLength = header[13]!
  const fieldsAt = HEADER_FIXED_BYTES + keyIdLength
  const expected = fieldsAt + (encryption === ENCRYPTION_AES_256_GCM ? ENCRYPTION_FIELDS_BYTES : 0) + HEADER_CHECKSUM_BYTES
  if (expected !== headerLength || (encryption === ENCRYPTION_AES_256_GCM) !== keyIdLength > 0) throw corrupt(name, 'the header fields do not add up to its length')
  if (encryption === ENCRYPTION_NONE) return {codecId, level, keyId: undefined, headerSum, dataKey: undefined, noncePrefix: undefined}

  const keyId = header.toString('utf8', HEADER_FIXED_BYTES, fieldsAt)
  let p = fieldsAt
  const slice = (n: number): Buffer => header.subarray(p, (p += n))
  const wrapNonce = slice(WRAP_NONCE_BYTES)
  const wrapped = slice(DATA_KEY_BYTES)
  const wrapTag = slice(GCM_TAG_BYTES)
  const noncePrefix = slice(NONCE_PREFIX_BYTES)
  const masterKey = keyring?.get(keyId)
  if (masterKey === undefined) {
    const known = keyring && keyring.size > 0 ? ` (the keyring holds: ${[...keyring.keys()].map((k) => `"${k}"`).join(', ')})` : ' (no keys were given)'
    throw new KbkError('KBK_SEGMENT_KEY_MISSING', `Segment ${name} is encrypted with key "${keyId}", which is not in the keyring${known}.`, {
      kind: 'user',
      suggestion: `Add the key with keyId "${keyId}" to the policy's \`encryption.previousKeys\` (or make it \`encryption.key\`).`,
      details: {object: name, keyId},
    })
  }
  const dataKey = unwrapDataKey(masterKey, {wrapNonce, wrapped, wrapTag}, header.subarray(0, fieldsAt))
  if (dataKey === undefined) {
    throw new KbkError('KBK_SEGMENT_KEY_WRONG', `The key listed as "${keyId}" does not open segment ${name}: it is not the key that segment was written with.`, {
      kind: 'user',
      suggestion: `Check the policy's \`encryption\` entry with keyId "${keyId}": it must hold the same 32 bytes as when the segment was written.`,
      details: {object: name, keyId},
    })
  }
  return {codecId, level, keyId, headerSum, dataKey, noncePrefix}
}

/** unpackBlock with the zstd step handed to `decompress` (a worker). */
async function unpackBlockOffThread(header: Header, blockIndex: number, head: Buffer, payload: Buffer, plainLength: number, name: string, decompress: (packed: Buffer, plainLength: number) => Promise<Buffer>): Promise<Buffer> {
  const packed = openPayload(header, blockIndex, head, payload, name)
  let plain: Buffer
  try {
    plain = await decompress(packed, plainLength)
  } catch (e) {
    throw corrupt(name, `block ${blockIndex} does not decompress: ${(e as Error).message}`, {block: blockIndex})
  }
  if (plain.length !== plainLength) throw corrupt(name, `block ${blockIndex} is ${plain.length} bytes uncompressed, its header says ${plainLength}`, {block: blockIndex})
  return plain
}

/** The block's stored bytes, decrypted when the segment is encrypted. */
function openPayload(header: Header, blockIndex: number, head: Buffer, payload: Buffer, name: string): Buffer {
  let packed = payload
  if (header.dataKey && header.noncePrefix) {
    const opened = openBlock(header.dataKey, header.noncePrefix, blockIndex, Buffer.concat([header.headerSum, u32(blockIndex), head]), payload)
    // The checksum matched, so these are the bytes the writer stored: failing here means they were
    // sealed for another segment or position, not that the key is wrong (the key unwrapped).
    if (!opened) throw corrupt(name, `block ${blockIndex} fails authentication (it does not belong at this place in this segment)`, {block: blockIndex})
    packed = opened
  }
  return packed
}

function unpackBlock(header: Header, blockIndex: number, head: Buffer, payload: Buffer, plainLength: number, name: string): Buffer {
  const packed = openPayload(header, blockIndex, head, payload, name)
  let plain = packed
  if (header.codecId !== 0) {
    try {
      plain = decompress(packed)
    } catch (e) {
      throw corrupt(name, `block ${blockIndex} does not decompress: ${(e as Error).message}`, {block: blockIndex})
    }
  }
  if (plain.length !== plainLength) throw corrupt(name, `block ${blockIndex} is ${plain.length} bytes uncompressed, its header says ${plainLength}`, {block: blockIndex})
  return plain
}

function parseTrailer(trailer: Buffer, name: string): {footerOffset: number; footerLength: number; objectDigest: Buffer} {
  if (!trailer.subarray(56).equals(TRAILER_MAGIC)) throw corrupt(name, 'bad trailer magic: the object is truncated or its last bytes are damaged')
  if (!digest([trailer.subarray(0, 48)], TRAILER_CHECKSUM_BYTES).equals(trailer.subarray(48, 56))) throw corrupt(name, 'trailer checksum does not match')
  const footerOffset = readInt64(trailer, 0)
  const footerLength = trailer.readUInt32LE(8)
  if (!(footerOffset >= 0) || footerLength < FOOTER_FIXED_BYTES + FOOTER_CHECKSUM_BYTES || trailer.readUInt32LE(12) !== 0) throw corrupt(name, 'the trailer fields are impossible')
  return {footerOffset, footerLength, objectDigest: trailer.subarray(16, 48)}
}

function parseFooter(footer: Buffer, name: string): SegmentFooter {
  if (footer.length < FOOTER_FIXED_BYTES + FOOTER_CHECKSUM_BYTES || !footer.subarray(0, 4).equals(FOOTER_TAG)) throw corrupt(name, 'the footer is not where the trailer says')
  const body = footer.subarray(0, footer.length - FOOTER_CHECKSUM_BYTES)
  if (!digest([body], FOOTER_CHECKSUM_BYTES).equals(footer.subarray(body.length))) throw corrupt(name, 'footer checksum does not match')
  const version = footer.readUInt16LE(4)
  if (version !== FORMAT_VERSION) throw corrupt(name, `the footer says format version ${version}`)
  const codec = codecName(footer[6]!)
  if (codec === undefined) throw unsupported(name, `codec id ${footer[6]}`)
  const encryption = footer[8]!
  const keyIdLength = footer[9]!
  const blockCount = footer.readUInt32LE(12)
  if (body.length !== FOOTER_FIXED_BYTES + keyIdLength + blockCount * INDEX_ENTRY_BYTES || (encryption === ENCRYPTION_AES_256_GCM) !== keyIdLength > 0 || (encryption !== ENCRYPTION_NONE && encryption !== ENCRYPTION_AES_256_GCM)) {
    throw corrupt(name, 'the footer fields do not add up to its length')
  }
  const n = (pos: number): number => {
    const v = readInt64(footer, pos)
    if (Number.isNaN(v)) throw corrupt(name, `the footer holds an out-of-range number at byte ${pos}`)
    return v
  }
  const keyId = keyIdLength > 0 ? footer.toString('utf8', FOOTER_FIXED_BYTES, FOOTER_FIXED_BYTES + keyIdLength) : undefined
  const summary: SegmentSummary = {
    formatVersion: version,
    codec,
    encrypted: encryption === ENCRYPTION_AES_256_GCM,
    ...(keyId !== undefined ? {keyId} : {}),
    recordCount: n(16),
    firstOffset: n(24),
    lastOffset: n(32),
    minTimestamp: n(40),
    maxTimestamp: n(48),
    uncompressedBytes: n(56),
    blockCount,
  }
  const blocks: SegmentBlockInfo[] = []
  for (let i = 0, p = FOOTER_FIXED_BYTES + keyIdLength; i < blockCount; i++, p += INDEX_ENTRY_BYTES) {
    blocks.push({offset: n(p), size: footer.readUInt32LE(p + 8), recordCount: footer.readUInt32LE(p + 12), firstOffset: n(p + 16), lastOffset: n(p + 24), minTimestamp: n(p + 32), maxTimestamp: n(p + 40)})
  }
  return {summary, level: footer.readInt8(7), blocks}
}

/** The footer passed its own checksum; it must also describe exactly what the blocks held. */
function checkFooterAgainstContent(footer: SegmentFooter, header: Header, seen: SegmentBlockInfo[], uncompressed: number, name: string): void {
  const s = footer.summary
  const records = seen.reduce((a, b) => a + b.recordCount, 0)
  const mismatch = (what: string): KbkError => corrupt(name, `the footer's ${what} does not match the blocks`)
  if (codecName(header.codecId) !== s.codec || header.level !== footer.level || header.keyId !== s.keyId) throw mismatch('codec or key id')
  if (s.recordCount !== records || s.uncompressedBytes !== uncompressed) throw mismatch('record count or size')
  if (seen.length > 0) {
    if (s.firstOffset !== seen[0]!.firstOffset || s.lastOffset !== seen[seen.length - 1]!.lastOffset) throw mismatch('offset range')
    const min = seen.reduce((m, b) => Math.min(m, b.minTimestamp), Number.POSITIVE_INFINITY)
    const max = seen.reduce((m, b) => Math.max(m, b.maxTimestamp), Number.NEGATIVE_INFINITY)
    if (s.minTimestamp !== min || s.maxTimestamp !== max) throw mismatch('timestamp range')
  }
  footer.blocks.forEach((b, i) => {
    const o = seen[i]!
    if (b.offset !== o.offset || b.size !== o.size || b.recordCount !== o.recordCount || b.firstOffset !== o.firstOffset || b.lastOffset !== o.lastOffset || b.minTimestamp !== o.minTimestamp || b.maxTimestamp !== o.maxTimestamp) {
      throw mismatch(`index entry for block ${i}`)
    }
  })
}

function unsupported(name: string, what: string): KbkError {
  return new KbkError('KBK_SEGMENT_UNSUPPORTED', `Segment ${name} uses ${what}, which this kbk does not know.`, {
    kind: 'user',
    suggestion: 'Upgrade kbk to the version that wrote this backup (or newer).',
    details: {object: name},
  })
}
