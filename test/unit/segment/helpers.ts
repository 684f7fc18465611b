// Shared by the segment tests: record arbitraries and whole-segment write/read helpers.
import fc from 'fast-check'
import type {KafkaRecord} from '../../../src/kafka/port.js'
import {SegmentWriter, decodeSegment} from '../../../src/segment/index.js'
import type {SegmentFinish, SegmentOptions} from '../../../src/segment/index.js'

export const KEY_A = Buffer.alloc(32, 0xa1)
export const KEY_B = Buffer.alloc(32, 0xb2)

/** Writes records, draining output after every add as a streaming caller would. */
export function writeSegment(records: KafkaRecord[], options: SegmentOptions): {bytes: Buffer; chunks: Buffer[]; fin: SegmentFinish} {
  const w = new SegmentWriter(options)
  const chunks: Buffer[] = []
  for (const r of records) {
    w.add(r)
    chunks.push(...w.takeOutput())
  }
  const fin = w.finish()
  chunks.push(...fin.tail)
  return {bytes: Buffer.concat(chunks), chunks, fin}
}

export async function decode(bytes: Buffer, keyring?: Map<string, Buffer>) {
  return decodeSegment(bytes, {objectName: 'data/p/t/0/test.kbs', ...(keyring ? {keyring} : {})})
}

export function record(offset: number, value: string | null, extra: Partial<KafkaRecord> = {}): KafkaRecord {
  return {offset, timestamp: 1_700_000_000_000 + offset, timestampType: 'create', key: Buffer.from(`k${offset}`), value: value === null ? null : Buffer.from(value), headers: [], ...extra}
}

/** Async chunks of `size` bytes, counting how many bytes the consumer has pulled. */
export function chunked(bytes: Buffer, size: number): {source: AsyncGenerator<Buffer>; pulled: () => number; closed: () => boolean} {
  let pulled = 0
  let closed = false
  async function* gen(): AsyncGenerator<Buffer> {
    try {
      for (let i = 0; i < bytes.length; i += size) {
        const c = bytes.subarray(i, i + size)
        pulled += c.length
        yield c
      }
    } finally {
      closed = true
    }
  }
  return {source: gen(), pulled: () => pulled, closed: () => closed}
}

const bytesArb = (maxLength: number): fc.Arbitrary<Buffer> => fc.uint8Array({maxLength}).map((a) => Buffer.from(a))
/** null, empty and non-empty are three different things the format must keep apart. */
const nullableBytes = (maxLength: number): fc.Arbitrary<Buffer | null> =>
  fc.oneof(fc.constant(null), fc.constant(Buffer.alloc(0)), bytesArb(maxLength))

const headerArb = fc.record({
  key: fc.oneof(fc.string({unit: 'binary', maxLength: 12}), fc.constantFrom('trace-id', '', 'dup')),
  value: nullableBytes(40),
})

const recordShape = fc.record({
  gap: fc.oneof(fc.constant(1), fc.integer({min: 1, max: 1_000_000})),
  timestamp: fc.oneof(fc.integer({min: 1_600_000_000_000, max: 1_800_000_000_000}), fc.constant(-1), fc.constant(0), fc.maxSafeInteger(), fc.integer({min: -(2 ** 50), max: 2 ** 50})),
  timestampType: fc.constantFrom('create' as const, 'log-append' as const),
  key: nullableBytes(64),
  value: fc.oneof({weight: 5, arbitrary: nullableBytes(300)}, {weight: 1, arbitrary: bytesArb(6000)}),
  headers: fc.array(headerArb, {maxLength: 5}),
})

/** Records with strictly increasing offsets (gaps as compaction and transactions leave them). */
export const recordsArb: fc.Arbitrary<KafkaRecord[]> = fc
  .tuple(fc.oneof(fc.constant(0), fc.integer({min: 0, max: 2 ** 40}), fc.constant(2 ** 52)), fc.array(recordShape, {minLength: 1, maxLength: 40}))
  .map(([start, shapes]) => {
    let offset = start
    return shapes.map((s, i) => {
      if (i > 0) offset += s.gap
      return {offset, timestamp: s.timestamp, timestampType: s.timestampType, key: s.key, value: s.value, headers: s.headers}
    })
  })

export const optionsArb: fc.Arbitrary<SegmentOptions> = fc.record({
  codec: fc.constantFrom('zstd' as const, 'none' as const),
  level: fc.constantFrom(1, 3, 9, -5),
  blockBytes: fc.constantFrom(1, 64, 500, 4096, 1024 * 1024),
  encrypted: fc.boolean(),
}).map(({encrypted, ...o}) => (encrypted ? {...o, encryption: {keyId: 'key-a', masterKey: KEY_A}} : o))
