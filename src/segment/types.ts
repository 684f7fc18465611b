// Public shapes of the segment format: what a writer is configured with and what a reader reports.

export interface SegmentOptions {
  codec: 'zstd' | 'none'
  /** zstd level (default 3); ignored for codec none. */
  level?: number
  /** Target uncompressed bytes per block (default 1 MiB). A bigger record gets a block of its own. */
  blockBytes?: number
  /** Client-side encryption: the master key (32 bytes) wraps a fresh data key per segment. */
  encryption?: {keyId: string; masterKey: Buffer}
}

export interface SegmentSummary {
  formatVersion: number
  codec: string
  encrypted: boolean
  keyId?: string
  recordCount: number
  firstOffset: number
  lastOffset: number
  /** True minimum over all records (timestamps need not follow offsets). */
  minTimestamp: number
  maxTimestamp: number
  /** Bytes of encoded records before compression (the sum of the blocks' uncompressed lengths). */
  uncompressedBytes: number
  blockCount: number
}

/** One block as the footer indexes it, for readers that seek with byte ranges. */
export interface SegmentBlockInfo {
  /** Byte offset of the block in the object. */
  offset: number
  /** Bytes of the block in the object (header, payload and checksum). */
  size: number
  recordCount: number
  firstOffset: number
  lastOffset: number
  minTimestamp: number
  maxTimestamp: number
}

export interface SegmentReadOptions {
  /** Master keys by key id: the current key and the previous ones, so rotated segments stay readable. */
  keyring?: Map<string, Buffer>
  /** Named in every error (the object key). */
  objectName: string
  /** When known (from the state), the whole-object sha256 (hex) and size are checked as well. */
  expectedSha256?: string
  expectedSize?: number
  /**
   * zstd decompression of a block somewhere other than in line (a worker pool: restores). Its
   * failure is reported as a corrupt block, as in line.
   */
  decompress?: (packed: Buffer, plainLength: number) => Promise<Buffer>
  /**
   * readSegmentBlocks only: called with each decompressed block once the consumer asked for the
   * next one (the block's records must be copied by then, no view kept), so its memory can be reused.
   */
  releaseBlock?: (plain: Buffer) => void
  /**
   * The caller already hashed the whole object in memory (and checked it against the state): the
   * sha256 of every byte before the trailer. The reader then checks the trailer against it and
   * does not hash the object a second time (block checksums are still checked, unless
   * wholeObjectVerified).
   */
  digestBeforeTrailer?: Buffer
  /**
   * The caller checked the whole object's sha256 against the digest recorded when it was written
   * (the state): every byte is as written, so each block's checksum, which the writer computed over
   * those same bytes, holds too and is not computed again (a restore hashed every stored byte
   * twice). Structure, lengths, offsets, the footer and the trailer are still checked.
   */
  wholeObjectVerified?: boolean
}
