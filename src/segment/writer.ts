// SegmentWriter: turns records into a segment object as a stream of byte chunks. Memory is one
// block (plus whatever output the caller has not drained yet), never the whole segment.
import {createHash, randomBytes, type Hash} from 'node:crypto'
import {compress} from 'zstd-napi'
import {KbkError} from '../errors.js'
import type {KafkaRecord, RecordCursor} from '../kafka/port.js'
import {checkMasterKey, newDataKey, sealBlock, wrapDataKey} from './crypto.js'
import {
  BLOCK_CHECKSUM_BYTES, BLOCK_HEADER_BYTES, BLOCK_TAG, CODEC_IDS, DEFAULT_BLOCK_BYTES, DEFAULT_ZSTD_LEVEL, ENCRYPTION_AES_256_GCM,
  ENCRYPTION_FIELDS_BYTES, ENCRYPTION_NONE, FOOTER_CHECKSUM_BYTES, FOOTER_FIXED_BYTES, FOOTER_TAG, FORMAT_VERSION, GCM_TAG_BYTES,
  HEADER_CHECKSUM_BYTES, HEADER_FIXED_BYTES, INDEX_ENTRY_BYTES, MAGIC, SEGMENT_ID_BYTES, MAX_BLOCK_BYTES, MAX_KEY_ID_BYTES, TRAILER_BYTES,
  TRAILER_CHECKSUM_BYTES, TRAILER_MAGIC, digest, u32, writeInt64,
} from './layout.js'
import type {CompressPool} from './compress-pool.js'
import {cursorEncodedBound, encodeCursorRecord, encodeRecord, encodedBound} from './record-codec.js'
import type {SegmentOptions, SegmentSummary} from './types.js'

/** First block buffer size; it doubles up to the block size, so tiny segments stay tiny. */
const INITIAL_BLOCK_BUFFER = 64 * 1024

export interface SegmentFinish {
  /** Every byte not yet taken with takeOutput(): the last block, the footer and the trailer. */
  tail: Buffer[]
  summary: SegmentSummary
  /** sha256 (hex) of the whole object, every byte. */
  sha256: string
  /** Size of the whole object in bytes. */
  size: number
}

/** What a block needs to be written once its compressed payload is ready. */
interface BlockMeta {
  fill: number
  records: number
  first: number
  last: number
  minTs: number
  maxTs: number
}

export class SegmentWriter {
  private readonly codecId: number
  private readonly level: number
  private readonly blockBytes: number
  private readonly keyId: string | undefined
  private readonly dataKey: Buffer | undefined
  private readonly noncePrefix: Buffer | undefined
  private readonly headerSum: Buffer
  private readonly hash: Hash = createHash('sha256')
  private out: Buffer[] = []
  private written = 0
  private finished = false

  private buf: Buffer = Buffer.alloc(0)
  private fill = 0
  private blockRecords = 0
  private blockFirst = 0
  private blockLast = 0
  private blockMinTs = 0
  private blockMaxTs = 0

  /** Blocks being compressed on the pool, in order; written by drain(). */
  private pending: Array<{packed: Promise<Buffer>; meta: BlockMeta; done?: Buffer}> = []
  private readonly pool: CompressPool | undefined

  private readonly index: Buffer[] = []
  private records = 0
  private firstOffset = -1
  private lastOffset = -1
  private minTs = 0
  private maxTs = 0
  private uncompressed = 0

  /**
   * With a pool, zstd blocks are compressed on worker threads: takeOutput() then returns only
   * blocks already written, and the caller must `await drain()` before finish(). `segmentId` is
   * random unless given (tests that compare two writers' bytes).
   */
  constructor(options: SegmentOptions, pool?: CompressPool, segmentId?: Buffer) {
    const codec = options.codec
    if (codec !== 'zstd' && codec !== 'none') throw optionError(`Unknown segment codec "${String(codec)}"; kbk writes "zstd" or "none".`, 'Set the policy\'s `compression.codec` to zstd or none.')
    this.codecId = CODEC_IDS[codec]
    const level = codec === 'zstd' ? (options.level ?? DEFAULT_ZSTD_LEVEL) : 0
    if (!Number.isInteger(level) || level < -100 || level > 22) throw optionError(`zstd level ${level} is out of range; use an integer from -100 to 22 (3 is a good default).`, 'Set the policy\'s `compression.level`.')
    this.level = level
    const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES
    if (!Number.isInteger(blockBytes) || blockBytes < 1 || blockBytes > MAX_BLOCK_BYTES) throw optionError(`Segment block size ${blockBytes} is out of range (1 byte to ${MAX_BLOCK_BYTES}).`, 'Use the default block size (1 MiB) unless measurements say otherwise.')
    this.blockBytes = blockBytes
    this.pool = this.codecId === CODEC_IDS.zstd ? pool : undefined

    let keyIdBytes = Buffer.alloc(0)
    const encrypted = options.encryption !== undefined
    if (options.encryption) {
      const {keyId, masterKey} = options.encryption
      keyIdBytes = Buffer.from(keyId, 'utf8')
      if (keyIdBytes.length === 0 || keyIdBytes.length > MAX_KEY_ID_BYTES) throw optionError(`Encryption key id "${keyId}" must be 1 to ${MAX_KEY_ID_BYTES} bytes of UTF-8.`, 'Set the policy\'s `encryption.keyId`.')
      checkMasterKey(keyId, masterKey)
      this.keyId = keyId
      const {dataKey, noncePrefix} = newDataKey()
      this.dataKey = dataKey
      this.noncePrefix = noncePrefix
    }

    const headerLength = HEADER_FIXED_BYTES + keyIdBytes.length + (encrypted ? ENCRYPTION_FIELDS_BYTES : 0) + HEADER_CHECKSUM_BYTES
    const fixed = Buffer.alloc(HEADER_FIXED_BYTES)
    MAGIC.copy(fixed, 0)
    fixed.writeUInt16LE(FORMAT_VERSION, 6)
    fixed.writeUInt16LE(headerLength, 8)
    fixed[10] = this.codecId
    fixed.writeInt8(this.level, 11)
    fixed[12] = encrypted ? ENCRYPTION_AES_256_GCM : ENCRYPTION_NONE
    fixed[13] = keyIdBytes.length
    fixed.writeUInt32LE(blockBytes, 16)
    const id = segmentId ?? randomBytes(SEGMENT_ID_BYTES)
    id.copy(fixed, 20, 0, SEGMENT_ID_BYTES)
    const parts: Buffer[] = [fixed, keyIdBytes]
    if (this.dataKey && this.noncePrefix && options.encryption) {
      const w = wrapDataKey(options.encryption.masterKey, this.dataKey, Buffer.concat(parts))
      parts.push(w.wrapNonce, w.wrapped, w.wrapTag, this.noncePrefix)
    }
    this.headerSum = digest(parts, HEADER_CHECKSUM_BYTES)
    parts.push(this.headerSum)
    for (const p of parts) if (p.length > 0) this.emit(p)
  }

  /** Uncompressed bytes in the block being filled. */
  get bufferedBytes(): number {
    return this.fill
  }

  get recordCount(): number {
    return this.records
  }

  /** Bytes of the object produced so far (taken or not). */
  get bytesWritten(): number {
    return this.written
  }

  add(record: KafkaRecord): void {
    this.#check(record.offset, record.timestamp)
    const bound = encodedBound(record)
    this.#reserve(record.offset, bound)
    this.fill = encodeRecord(this.buf, this.fill, record)
    this.#account(record.offset, record.timestamp)
  }

  /**
   * add() of the cursor's current record, without a KafkaRecord: the same checks and the same
   * bytes (a backup's hot path; test/unit/segment/cursor-writer.test.ts compares the two).
   */
  addFromCursor(record: RecordCursor): void {
    this.#check(record.offset, record.timestamp)
    const bound = cursorEncodedBound(record)
    this.#reserve(record.offset, bound)
    this.fill = encodeCursorRecord(this.buf, this.fill, record)
    this.#account(record.offset, record.timestamp)
  }

  #check(offset: number, timestamp: number): void {
    if (this.finished) throw new KbkError('KBK_INTERNAL', 'SegmentWriter.add() after finish(): this is a bug in kbk.', {kind: 'internal'})
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(timestamp)) {
      throw new KbkError('KBK_SEGMENT_RECORD', `Record at offset ${offset} has an offset or timestamp kbk cannot store (timestamp ${timestamp}).`, {kind: 'internal'})
    }
    if (this.records > 0 && offset <= this.lastOffset) {
      throw new KbkError('KBK_SEGMENT_ORDER', `Record offsets must strictly increase within a segment: got ${offset} after ${this.lastOffset}.`, {
        kind: 'internal',
        suggestion: 'This is a bug in kbk (or the Kafka client returned records out of order). Report it with the topic and partition.',
      })
    }
  }

  /** Room for a record of at most `bound` bytes in the block, sealing the block first if it would not fit. */
  #reserve(offset: number, bound: number): void {
    if (bound > MAX_BLOCK_BYTES) {
      throw new KbkError('KBK_SEGMENT_RECORD_TOO_LARGE', `Record at offset ${offset} is ${bound} bytes; a segment block holds at most ${MAX_BLOCK_BYTES}.`, {kind: 'user'})
    }
    if (this.fill > 0 && this.fill + bound > this.blockBytes) this.sealBlock()
    this.ensureCapacity(this.fill + bound)
  }

  /** Counts the record just encoded into the block's and the segment's offsets and timestamps. */
  #account(offset: number, timestamp: number): void {
    if (this.blockRecords === 0) {
      this.blockFirst = offset
      this.blockMinTs = timestamp
      this.blockMaxTs = timestamp
    }
    this.blockRecords++
    this.blockLast = offset
    if (timestamp < this.blockMinTs) this.blockMinTs = timestamp
    if (timestamp > this.blockMaxTs) this.blockMaxTs = timestamp
    if (this.records === 0) {
      this.firstOffset = offset
      this.minTs = timestamp
      this.maxTs = timestamp
    }
    this.records++
    this.lastOffset = offset
    if (timestamp < this.minTs) this.minTs = timestamp
    if (timestamp > this.maxTs) this.maxTs = timestamp

    if (this.fill >= this.blockBytes) this.sealBlock()
  }

  /** Blocks handed to the compression pool and not yet written. */
  get pendingBlocks(): number {
    return this.pending.length
  }

  /**
   * What the object may still grow by before finish() adds its index and footer, at most: the
   * blocks not yet written and the block being filled, at their uncompressed size.
   */
  get unwrittenBytes(): number {
    let n = this.fill
    for (const e of this.pending) n += e.meta.fill
    return n
  }

  /** Writes the blocks whose compression already finished, in order, without waiting for others. */
  collect(): void {
    while (this.pending[0]?.done) {
      const next = this.pending.shift()!
      this.writeBlock(next.done!, next.meta)
    }
  }

  /** Waits for the blocks being compressed and writes them, in order. */
  async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const next = this.pending[0]!
      const packed = await next.packed
      this.pending.shift()
      this.writeBlock(packed, next.meta)
    }
  }

  /** takeOutput() appended to `into`, without an array per call when there is nothing to take. */
  moveOutputTo(into: Buffer[]): void {
    if (this.out.length === 0) return
    for (const b of this.out) into.push(b)
    this.out = []
  }

  /** Bytes ready to be written out; drain after add() to keep memory at one block. */
  takeOutput(): Buffer[] {
    const out = this.out
    this.out = []
    return out
  }

  finish(): SegmentFinish {
    if (this.finished) throw new KbkError('KBK_INTERNAL', 'SegmentWriter.finish() called twice: this is a bug in kbk.', {kind: 'internal'})
    if (this.records === 0) {
      throw new KbkError('KBK_SEGMENT_EMPTY', 'A segment needs at least one record: its name and summary come from its offsets.', {kind: 'internal', suggestion: 'This is a bug in kbk: only finish a writer that has records.'})
    }
    if (this.pending.length > 0) throw new KbkError('KBK_INTERNAL', 'SegmentWriter.finish() with blocks still compressing: await drain() first. This is a bug in kbk.', {kind: 'internal'})
    this.sealBlock(true)
    this.finished = true
    this.buf = Buffer.alloc(0)

    const footerOffset = this.written
    const keyIdBytes = Buffer.from(this.keyId ?? '', 'utf8')
    const fixed = Buffer.alloc(FOOTER_FIXED_BYTES)
    FOOTER_TAG.copy(fixed, 0)
    fixed.writeUInt16LE(FORMAT_VERSION, 4)
    fixed[6] = this.codecId
    fixed.writeInt8(this.level, 7)
    fixed[8] = this.keyId ? ENCRYPTION_AES_256_GCM : ENCRYPTION_NONE
    fixed[9] = keyIdBytes.length
    fixed.writeUInt32LE(this.index.length, 12)
    writeInt64(fixed, this.records, 16)
    writeInt64(fixed, this.firstOffset, 24)
    writeInt64(fixed, this.lastOffset, 32)
    writeInt64(fixed, this.minTs, 40)
    writeInt64(fixed, this.maxTs, 48)
    writeInt64(fixed, this.uncompressed, 56)
    const footer = [fixed, keyIdBytes, ...this.index]
    footer.push(digest(footer, FOOTER_CHECKSUM_BYTES))
    for (const p of footer) if (p.length > 0) this.emit(p)

    const trailer = Buffer.alloc(TRAILER_BYTES)
    writeInt64(trailer, footerOffset, 0)
    trailer.writeUInt32LE(this.written - footerOffset, 8)
    // copy(): the running hash goes on to cover the trailer too, for the whole-object sha256.
    this.hash.copy().digest().copy(trailer, 16)
    digest([trailer.subarray(0, 48)], TRAILER_CHECKSUM_BYTES).copy(trailer, 48)
    TRAILER_MAGIC.copy(trailer, 56)
    this.emit(trailer)

    const summary: SegmentSummary = {
      formatVersion: FORMAT_VERSION,
      codec: this.codecId === CODEC_IDS.zstd ? 'zstd' : 'none',
      encrypted: this.keyId !== undefined,
      ...(this.keyId !== undefined ? {keyId: this.keyId} : {}),
      recordCount: this.records,
      firstOffset: this.firstOffset,
      lastOffset: this.lastOffset,
      minTimestamp: this.minTs,
      maxTimestamp: this.maxTs,
      uncompressedBytes: this.uncompressed,
      blockCount: this.index.length,
    }
    return {tail: this.takeOutput(), summary, sha256: this.hash.digest('hex'), size: this.written}
  }

  private emit(b: Buffer): void {
    this.out.push(b)
    this.hash.update(b)
    this.written += b.length
  }

  private ensureCapacity(n: number): void {
    if (n <= this.buf.length) return
    const size = Math.max(n, Math.min(this.blockBytes, Math.max(INITIAL_BLOCK_BUFFER, this.buf.length * 2)))
    // Own memory (never a shared slab), so a sealed block can be transferred to a worker whole.
    const next = Buffer.allocUnsafeSlow(size)
    this.buf.copy(next, 0, 0, this.fill)
    this.buf = next
  }

  private sealBlock(sync = false): void {
    if (this.blockRecords === 0) return
    const meta: BlockMeta = {fill: this.fill, records: this.blockRecords, first: this.blockFirst, last: this.blockLast, minTs: this.blockMinTs, maxTs: this.blockMaxTs}
    const plain = this.buf.subarray(0, this.fill)
    if (this.pool && !sync) {
      // The pool takes the block's memory itself (transferred to a worker, no copy); start a fresh one.
      const size = this.buf.length
      const packed = this.pool.compress(plain, this.level)
      // Awaited in order by drain(); until then a failure must not count as unhandled.
      const entry: {packed: Promise<Buffer>; meta: BlockMeta; done?: Buffer} = {packed, meta}
      packed.then((b) => (entry.done = b), () => undefined)
      this.pending.push(entry)
      this.buf = size > this.blockBytes ? Buffer.alloc(0) : this.pool.takeBuffer(size)
    } else {
      if (this.pending.length > 0) throw new KbkError('KBK_INTERNAL', 'SegmentWriter: a block was sealed while earlier ones were compressing. This is a bug in kbk.', {kind: 'internal'})
      // zstd returns a fresh buffer; without compression copy, because this.buf is reused.
      const packed = this.codecId === CODEC_IDS.zstd ? compress(plain, {compressionLevel: this.level}) : this.dataKey ? plain : Buffer.from(plain)
      this.writeBlock(packed, meta)
    }
    this.fill = 0
    this.blockRecords = 0
    // A record bigger than the block size grew the buffer: let that memory go.
    if (this.buf.length > this.blockBytes) this.buf = Buffer.alloc(0)
  }

  private writeBlock(packed: Buffer, meta: BlockMeta): void {
    const blockIndex = this.index.length
    const blockOffset = this.written
    const stored = packed.length + (this.dataKey ? GCM_TAG_BYTES : 0)
    const head = Buffer.allocUnsafe(BLOCK_HEADER_BYTES)
    BLOCK_TAG.copy(head, 0)
    head.writeUInt32LE(stored, 4)
    head.writeUInt32LE(meta.fill, 8)
    head.writeUInt32LE(meta.records, 12)
    const indexBytes = u32(blockIndex)
    const payload = this.dataKey && this.noncePrefix
      ? sealBlock(this.dataKey, this.noncePrefix, blockIndex, Buffer.concat([this.headerSum, indexBytes, head]), packed)
      : [packed]
    const sum = digest([this.headerSum, indexBytes, head, ...payload], BLOCK_CHECKSUM_BYTES)
    this.emit(head)
    for (const p of payload) this.emit(p)
    this.emit(sum)

    const entry = Buffer.allocUnsafe(INDEX_ENTRY_BYTES)
    writeInt64(entry, blockOffset, 0)
    entry.writeUInt32LE(BLOCK_HEADER_BYTES + stored + BLOCK_CHECKSUM_BYTES, 8)
    entry.writeUInt32LE(meta.records, 12)
    writeInt64(entry, meta.first, 16)
    writeInt64(entry, meta.last, 24)
    writeInt64(entry, meta.minTs, 32)
    writeInt64(entry, meta.maxTs, 40)
    this.index.push(entry)
    this.uncompressed += meta.fill
  }
}

function optionError(message: string, suggestion: string): KbkError {
  return new KbkError('KBK_SEGMENT_OPTIONS', message, {kind: 'user', suggestion})
}
