// The backup's fast path (fetched bytes → BatchRecordCursor → SegmentWriter.addFromCursor) must
// write exactly the bytes of the object path (decodePartition → KafkaRecord → SegmentWriter.add):
// restores, verify and drills read those segments and must not notice which path wrote them.
// Fuzzed record sets: compressed and not, headers (non-ASCII and invalid UTF-8 keys), null and
// empty keys/values, log-append time, compaction gaps, transactions with aborts and control
// batches, legacy v0/v1 messages, and `from`/`to` bounds anywhere, inside a batch too.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {gzipSync} from 'node:zlib'
import fc from 'fast-check'
import {compress as zstdCompress} from 'zstd-napi'
import {cursorPartition, decodePartition, RecordFormatError, type AbortedTransaction} from '../../../src/kafka/record-batch.js'
import {kafkaDecompressors} from '../../../src/kafka/kafkajs-codecs.js'
import {SegmentWriter} from '../../../src/segment/index.js'
import {cursorEncodedBound, encodedBound} from '../../../src/segment/record-codec.js'
import type {KafkaRecord} from '../../../src/kafka/port.js'
import type {SegmentOptions} from '../../../src/segment/index.js'
import {batch, legacyMessage, marker, type TestRecord} from '../../helpers/kafka-wire.js'

const SEGMENT_ID = Buffer.alloc(16, 7)

interface PartitionCase {
  records: Buffer
  aborted: AbortedTransaction[]
  from: number
  to: number
}

/** Writes one segment from each path; returns both segments (null when no record was in range). */
async function bothPaths(c: PartitionCase, options: SegmentOptions): Promise<{objects: Buffer | null; cursor: Buffer | null; count: number}> {
  const decoded = await decodePartition(c.records, c.from, c.aborted, kafkaDecompressors)
  const viaObjects = new SegmentWriter(options, undefined, SEGMENT_ID)
  const inRange: KafkaRecord[] = []
  for (const r of decoded.records) {
    if (r.offset < c.from) continue
    if (r.offset >= c.to) break
    viaObjects.add(r)
    inRange.push(r)
  }
  const objectCount = inRange.length
  const p = await cursorPartition(c.records, c.from, c.to, c.aborted, kafkaDecompressors)
  assert.equal(p.nextOffset, decoded.nextOffset)
  assert.equal(p.firstBatchOffset, decoded.firstBatchOffset)
  const viaCursor = new SegmentWriter(options, undefined, SEGMENT_ID)
  let cursorCount = 0
  while (p.records.next()) {
    // The size bound decides where blocks end: it must be the object path's to the byte.
    assert.equal(cursorEncodedBound(p.records), encodedBound(inRange[cursorCount]!))
    viaCursor.addFromCursor(p.records)
    cursorCount++
  }
  assert.equal(p.records.next(), false, 'an ended cursor stays ended')
  assert.equal(cursorCount, objectCount)
  const finish = (w: SegmentWriter): Buffer | null => {
    if (w.recordCount === 0) return null
    const out = w.takeOutput()
    const fin = w.finish()
    return Buffer.concat([...out, ...fin.tail])
  }
  return {objects: finish(viaObjects), cursor: finish(viaCursor), count: cursorCount}
}

const bytesArb = fc.oneof(
  {weight: 1, arbitrary: fc.constant(null)},
  {weight: 1, arbitrary: fc.constant(Buffer.alloc(0))},
  {weight: 4, arbitrary: fc.uint8Array({maxLength: 40}).map((u) => Buffer.from(u))},
  {weight: 1, arbitrary: fc.uint8Array({minLength: 200, maxLength: 2500}).map((u) => Buffer.from(u))},
)
/** Header keys: ASCII, any Unicode, raw bytes (often invalid UTF-8), empty. */
const headerKeyArb = fc.oneof(
  fc.string({maxLength: 12}),
  fc.string({maxLength: 6, unit: 'binary'}),
  fc.uint8Array({maxLength: 8}).map((u) => Buffer.from(u)),
  fc.constant(''),
)
const recordArb = fc.record({
  gap: fc.nat({max: 2}),
  timestampDelta: fc.integer({min: -5_000, max: 5_000_000}),
  key: bytesArb,
  value: bytesArb,
  headers: fc.array(fc.record({key: headerKeyArb, value: bytesArb}), {maxLength: 4}),
})
const batchArb = fc.record({
  kind: fc.constantFrom('data', 'data', 'data', 'txn', 'txn', 'commit', 'abort'),
  producer: fc.constantFrom(1n, 2n),
  codec: fc.constantFrom('none', 'none', 'gzip', 'zstd'),
  logAppend: fc.boolean(),
  baseTimestamp: fc.integer({min: 0, max: 2_000_000_000_000}),
  records: fc.array(recordArb, {minLength: 1, maxLength: 6}),
  gapAfter: fc.nat({max: 3}),
})

/** A record set as a broker would return it, plus the aborted-transaction list and bounds. */
const partitionArb = fc
  .record({
    base: fc.nat({max: 1_000_000}),
    batches: fc.array(batchArb, {minLength: 1, maxLength: 8}),
    abortPick: fc.array(fc.nat(), {maxLength: 3}),
    // Half the cases take the whole record set, so that most hold records in range; the others
    // put both bounds anywhere, inside batches too.
    whole: fc.boolean(),
    fromPick: fc.nat(),
    toPick: fc.nat(),
  })
  .map(({base, batches, abortPick, whole, fromPick, toPick}): PartitionCase => {
    const sets: Buffer[] = []
    const txnStarts: {producerId: bigint; firstOffset: number}[] = []
    let offset = base
    for (const b of batches) {
      if (b.kind === 'commit' || b.kind === 'abort') {
        sets.push(marker(offset, b.producer, b.kind === 'commit' ? 1 : 0))
        offset += 1 + b.gapAfter
        continue
      }
      const records: TestRecord[] = []
      let delta = 0
      for (const r of b.records) {
        records.push({offsetDelta: delta, timestampDelta: r.timestampDelta, key: r.key, value: r.value, headers: r.headers as {key: string; value: Buffer | null}[]})
        delta += 1 + r.gap
      }
      const lastOffsetDelta = delta - 1
      const attributes = (b.codec === 'gzip' ? 1 : b.codec === 'zstd' ? 4 : 0) | (b.logAppend ? 0x08 : 0) | (b.kind === 'txn' ? 0x10 : 0)
      const compress = b.codec === 'gzip' ? (x: Buffer) => gzipSync(x) : b.codec === 'zstd' ? (x: Buffer) => zstdCompress(x) : undefined
      sets.push(batch({
        baseOffset: offset,
        lastOffsetDelta,
        baseTimestamp: b.baseTimestamp,
        maxTimestamp: b.baseTimestamp + 7,
        attributes,
        producerId: b.kind === 'txn' ? b.producer : -1n,
        records,
        ...(compress ? {compress} : {}),
      }))
      if (b.kind === 'txn') txnStarts.push({producerId: b.producer, firstOffset: offset})
      offset += lastOffsetDelta + 1 + b.gapAfter
    }
    const aborted = txnStarts.length === 0 ? [] : abortPick.map((i) => txnStarts[i % txnStarts.length]!)
    const span = offset - base + 1
    const from = whole ? base : base + (fromPick % span)
    const to = whole ? offset + 1 : from + (toPick % (offset - from + 2))
    return {records: Buffer.concat(sets), aborted, from, to}
  })

const optionsArb = fc.record({
  codec: fc.constantFrom('none' as const, 'zstd' as const),
  blockBytes: fc.constantFrom(64, 700, 4096, 1024 * 1024),
})

describe('the cursor path writes the same segment bytes as the object path', () => {
  it('on fuzzed v2 record sets: compression, headers, nulls, transactions, bounds inside batches', async () => {
    let withRecords = 0
    await fc.assert(
      fc.asyncProperty(partitionArb, optionsArb, async (c, options) => {
        const {objects, cursor, count} = await bothPaths(c, options)
        if (count > 0) withRecords++
        assert.equal(cursor === null, objects === null)
        if (objects && cursor) assert.ok(cursor.equals(objects), `segments differ (${cursor.length} vs ${objects.length} bytes)`)
      }),
      {numRuns: 400},
    )
    // The property must not pass vacuously. About 285 of 400 cases hold records in range (268–299
    // over 60 seeds); fewer than half would mean the generator broke.
    assert.ok(withRecords > 200, `only ${withRecords} of 400 cases had records in range`)
  })

  it('on legacy v0/v1 messages, plain and in compressed wrappers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({key: bytesArb, value: bytesArb, ts: fc.integer({min: 0, max: 2_000_000_000_000})}), {minLength: 1, maxLength: 6}),
        fc.constantFrom(0 as const, 1 as const),
        fc.boolean(),
        fc.boolean(),
        fc.nat(),
        async (msgs, magic, wrap, logAppend, fromPick) => {
          const base = 50
          let records: Buffer
          if (wrap) {
            const inner = Buffer.concat(msgs.map((m, i) => legacyMessage({offset: magic === 1 ? i : base + i, magic, timestamp: m.ts, key: m.key, value: m.value})))
            records = legacyMessage({offset: base + msgs.length - 1, magic, attributes: 1 | (logAppend && magic === 1 ? 0x08 : 0), timestamp: 1_600_000_000_000, key: null, value: gzipSync(inner)})
          } else {
            records = Buffer.concat(msgs.map((m, i) => legacyMessage({offset: base + i, magic, attributes: logAppend && magic === 1 ? 0x08 : 0, timestamp: m.ts, key: m.key, value: m.value})))
          }
          const from = base + (fromPick % (msgs.length + 1))
          const {objects, cursor} = await bothPaths({records, aborted: [], from, to: base + msgs.length}, {codec: 'none', blockBytes: 100})
          assert.equal(cursor === null, objects === null)
          if (objects && cursor) assert.ok(cursor.equals(objects))
        },
      ),
      {numRuns: 150},
    )
  })

  it('reports damaged record data from next(), through the caller\'s error mapping', async () => {
    const set = batch({baseOffset: 0, records: [{offsetDelta: 0, key: 'k', value: 'v'}, {offsetDelta: 1, key: 'k', value: 'v'}]})
    // The second record's length varint (after the 61-byte header and the first record's 1 + 8
    // bytes) says 9 where its fields take 8.
    assert.equal(set[70], 0x10)
    set[70] = 0x12
    const p = await cursorPartition(set, 0, 2, [], kafkaDecompressors, (e) => new Error(`mapped: ${(e as Error).message}`, {cause: e}))
    assert.equal(p.records.next(), true)
    assert.throws(() => p.records.next(), (e: Error) => e.message.startsWith('mapped: ') && e.cause instanceof RecordFormatError)
    assert.equal(p.records.next(), false)
  })
})
