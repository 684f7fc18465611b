// The digest of restored data: every record's key, value, headers (in order, duplicates kept),
// timestamp and timestamp type, in one canonical byte encoding, hashed per partition in order.
// The same function hashes the records read from the backup's segments and the records read back
// from the scratch topic, so equal digests mean the restore reproduced the backup exactly. Pure.
import {createHash, type Hash} from 'node:crypto'
import type {KafkaRecord} from '../kafka/port.js'

type Digestible = Pick<KafkaRecord, 'timestamp' | 'timestampType' | 'key' | 'value' | 'headers'>

function lenPrefixed(parts: Buffer[], b: Buffer | null): void {
  const n = Buffer.alloc(5)
  // null (-1) is kept distinct from empty (0).
  if (b === null) {
    n.writeUInt8(0, 0)
    parts.push(n.subarray(0, 1))
    return
  }
  n.writeUInt8(1, 0)
  n.writeUInt32BE(b.length, 1)
  parts.push(n, b)
}

/** The canonical bytes of one record (offset excluded: a restore assigns new offsets). */
export function recordBytes(r: Digestible): Buffer {
  const parts: Buffer[] = []
  const head = Buffer.alloc(9)
  head.writeBigInt64BE(BigInt(r.timestamp), 0)
  head.writeUInt8(r.timestampType === 'log-append' ? 1 : 0, 8)
  parts.push(head)
  lenPrefixed(parts, r.key)
  lenPrefixed(parts, r.value)
  const hn = Buffer.alloc(4)
  hn.writeUInt32BE(r.headers.length, 0)
  parts.push(hn)
  for (const h of r.headers) {
    lenPrefixed(parts, Buffer.from(h.key, 'utf8'))
    lenPrefixed(parts, h.value)
  }
  return Buffer.concat(parts)
}

/** A short per-record fingerprint, kept to name the first record that differs. */
export function recordFingerprint(r: Digestible): Buffer {
  return createHash('sha256').update(recordBytes(r)).digest().subarray(0, 16)
}

/**
 * One partition's running digest: records in order. Keeps each record's 16-byte fingerprint
 * (16 bytes per record) so a mismatch can be named by offset, not only detected.
 */
export class PartitionDigest {
  readonly #hash: Hash = createHash('sha256')
  readonly #fingerprints: Buffer[] = []
  /** Offset of each record, in the topic the digest is of. */
  readonly offsets: number[] = []
  records = 0

  add(r: Digestible & {offset: number}): void {
    const bytes = recordBytes(r)
    this.#hash.update(bytes)
    this.#fingerprints.push(createHash('sha256').update(bytes).digest().subarray(0, 16))
    this.offsets.push(r.offset)
    this.records++
  }

  fingerprint(i: number): Buffer | undefined {
    return this.#fingerprints[i]
  }

  digest(): string {
    return this.#hash.copy().digest('hex')
  }
}

export interface PartitionMismatch {
  /** Position in the partition's sequence. */
  index: number
  /** Offset in the scratch topic (undefined: the record is missing there). */
  restoredOffset?: number
  /** Offset in the source topic (undefined: an extra record the backup does not hold). */
  sourceOffset?: number
}

/** The first record where the two sequences differ, or undefined when they are equal. */
export function firstMismatch(expected: PartitionDigest, restored: PartitionDigest): PartitionMismatch | undefined {
  const n = Math.max(expected.records, restored.records)
  for (let i = 0; i < n; i++) {
    const a = expected.fingerprint(i)
    const b = restored.fingerprint(i)
    if (a && b && a.equals(b)) continue
    return {index: i, ...(restored.offsets[i] !== undefined ? {restoredOffset: restored.offsets[i]} : {}), ...(expected.offsets[i] !== undefined ? {sourceOffset: expected.offsets[i]} : {})}
  }
  return undefined
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}
