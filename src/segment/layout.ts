// Byte layout constants and the small helpers writer and reader share. docs/format.md is the
// normative description; change both together, and bump FORMAT_VERSION for any change a v1
// reader could misread.
import {createHash} from 'node:crypto'
import {KbkError} from '../errors.js'

export const FORMAT_VERSION = 1
export const MAGIC = Buffer.from('KBKSEG', 'latin1')
export const TRAILER_MAGIC = Buffer.from('KBKSEGTR', 'latin1')
export const BLOCK_TAG = Buffer.from('KBKB', 'latin1')
export const FOOTER_TAG = Buffer.from('KBKF', 'latin1')

/** Fixed prelude of the header, stable across format versions: magic, version, header length. */
export const PRELUDE_BYTES = 10
/** Fixed part of a v1 header (prelude included), before the key id. */
export const HEADER_FIXED_BYTES = 36
/**
 * Random per segment: it makes every header checksum unique, and block checksums chain to it,
 * so a block copied from another segment fails before any of its records is yielded.
 */
export const SEGMENT_ID_BYTES = 16
export const HEADER_CHECKSUM_BYTES = 16
/** Longest header a reader accepts: bounds what a flipped length field can make us buffer. */
export const MAX_HEADER_BYTES = 4096
export const MAX_KEY_ID_BYTES = 255

export const WRAP_NONCE_BYTES = 12
export const DATA_KEY_BYTES = 32
export const GCM_TAG_BYTES = 16
export const NONCE_PREFIX_BYTES = 8
export const ENCRYPTION_FIELDS_BYTES = WRAP_NONCE_BYTES + DATA_KEY_BYTES + GCM_TAG_BYTES + NONCE_PREFIX_BYTES

/** tag, stored length, uncompressed length, record count. */
export const BLOCK_HEADER_BYTES = 16
export const BLOCK_CHECKSUM_BYTES = 16
/**
 * Largest block (stored or uncompressed) the format admits. A reader refuses bigger length
 * fields at once, so a flipped bit cannot make it buffer an unbounded amount.
 */
export const MAX_BLOCK_BYTES = 256 * 1024 * 1024

/** Footer fields before the key id (tag included). */
export const FOOTER_FIXED_BYTES = 64
export const INDEX_ENTRY_BYTES = 48
export const FOOTER_CHECKSUM_BYTES = 16

export const TRAILER_BYTES = 64
export const TRAILER_CHECKSUM_BYTES = 8

export const DEFAULT_BLOCK_BYTES = 1024 * 1024
export const DEFAULT_ZSTD_LEVEL = 3

export const CODEC_IDS = {none: 0, zstd: 1} as const
export type Codec = keyof typeof CODEC_IDS
export const ENCRYPTION_NONE = 0
export const ENCRYPTION_AES_256_GCM = 1

export function codecName(id: number): Codec | undefined {
  return id === CODEC_IDS.none ? 'none' : id === CODEC_IDS.zstd ? 'zstd' : undefined
}

const TWO_32 = 2 ** 32

/** int64 little-endian from a safe integer, without BigInt (which costs on every record). */
export function writeInt64(buf: Buffer, value: number, pos: number): void {
  const hi = Math.floor(value / TWO_32)
  buf.writeUInt32LE(value - hi * TWO_32, pos)
  buf.writeInt32LE(hi, pos + 4)
}

/** Reads an int64; values outside the safe-integer range come back as NaN for the caller to reject. */
export function readInt64(buf: Buffer, pos: number): number {
  const n = buf.readInt32LE(pos + 4) * TWO_32 + buf.readUInt32LE(pos)
  return Number.isSafeInteger(n) ? n : Number.NaN
}

/** First `bytes` bytes of the sha256 of the parts, in order. */
export function digest(parts: readonly Uint8Array[], bytes: number): Buffer {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest().subarray(0, bytes)
}

export function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4)
  b.writeUInt32LE(n, 0)
  return b
}

export function corrupt(objectName: string, what: string, details: Record<string, unknown> = {}): KbkError {
  return new KbkError('KBK_SEGMENT_CORRUPT', `Segment ${objectName} is corrupt: ${what}.`, {
    kind: 'environment',
    suggestion: 'Run `kbk verify --deep` to find every damaged segment; restore the object from a bucket version or another copy, or expire it and back the range up again while Kafka still holds it.',
    details: {object: objectName, ...details},
  })
}
