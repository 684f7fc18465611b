// The restore's fast path (segment blocks copied straight into Kafka record batches, no record
// objects) against the object path it replaces, on fuzzed records: the same batch bytes, the same
// records after a round trip through kbk's fetch decoder, the same target topics and offset map.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import fc from 'fast-check'
import type {KafkaRecord} from '../../../src/kafka/port.js'
import {BATCH_HEADER_BYTES, encodeRecords, finishBatch} from '../../../src/kafka/produce-batch.js'
import {decodePartition} from '../../../src/kafka/record-batch.js'
import {decodeRecords, encodedBound, encodeRecord} from '../../../src/segment/record-codec.js'
import {scanRecords} from '../../../src/segment/record-scan.js'
import {EncodedChunkBuilder} from '../../../src/restore/transcode.js'
import {World} from '../../helpers/executor-world.js'
import {desired, policy, restore} from '../plan/fixtures.js'

const bytes = (max: number) => fc.option(fc.uint8Array({maxLength: max}).map((u) => Buffer.from(u)), {nil: null, freq: 5})
/** Header keys of any Unicode, lone surrogates included (stored as UTF-8, they come back as U+FFFD). */
const headerKey = fc.oneof(fc.string({maxLength: 8}), fc.string({unit: 'binary', maxLength: 6}), fc.constantFrom('', 'ключ', '🔑', '\ud800x'))
const recordArb = fc.record({
  timestamp: fc.oneof(fc.integer({min: -1, max: 2 ** 45}), fc.constantFrom(-1, 0, 1_780_000_000_000)),
  logAppend: fc.boolean(),
  key: bytes(40),
  value: fc.oneof(bytes(300), fc.constant(Buffer.alloc(0))),
  headers: fc.array(fc.record({key: headerKey, value: bytes(20)}), {maxLength: 4}),
  gap: fc.nat({max: 3}),
})

/** Records as a block stores them (offsets ascending, gaps allowed), and the block's bytes. */
type RecordIn = {timestamp: number; logAppend: boolean; key: Buffer | null; value: Buffer | null; headers: Array<{key: string; value: Buffer | null}>; gap: number}
type SeedIn = {key: Buffer | null; value: Buffer | null; headers: Array<{key: string; value: Buffer | null}>; gapBefore: number; dt: number}

function block(input: RecordIn[], firstOffset: number): {records: KafkaRecord[]; plain: Buffer} {
  let offset = firstOffset
  const records: KafkaRecord[] = input.map((r) => {
    offset += r.gap
    return {offset: offset++, timestamp: r.timestamp, timestampType: r.logAppend ? 'log-append' : 'create', key: r.key, value: r.value, headers: r.headers}
  })
  const buf = Buffer.alloc(records.reduce((n, r) => n + encodedBound(r), 0))
  let pos = 0
  for (const r of records) pos = encodeRecord(buf, pos, r)
  return {records, plain: buf.subarray(0, pos)}
}

/** Chunks the way a lane does: a new batch when the next record would pass `maxBytes` or `maxRecords`. */
function transcode(plain: Buffer, count: number, maxBytes: number, maxRecords: number, keep: (i: number) => boolean): EncodedChunkBuilder[] {
  const scanned = scanRecords(plain, count)
  const out: EncodedChunkBuilder[] = []
  let b = new EncodedChunkBuilder(maxBytes)
  for (let i = 0; i < count; i++) {
    if (!keep(i)) continue
    let size = b.measure(scanned, i)
    if (b.count > 0 && (b.size + size > maxBytes || b.count >= maxRecords)) {
      out.push(b)
      b = new EncodedChunkBuilder(maxBytes)
      size = b.measure(scanned, i)
    }
    b.add(scanned, i, size)
  }
  if (b.count > 0) out.push(b)
  return out
}

describe('restore fast path: segment blocks straight into Kafka record batches', () => {
  it('writes byte for byte the records the object path writes, and they decode back to the stored records', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, {minLength: 1, maxLength: 60}), fc.nat({max: 1000}), fc.integer({min: 64, max: 4000}), fc.integer({min: 1, max: 30}), fc.func(fc.boolean()), async (input, first, maxBytes, maxRecords, keepFn) => {
        const {records, plain} = block(input, first)
        const keep = (i: number): boolean => keepFn(i)
        const chunks = transcode(plain, records.length, maxBytes, maxRecords, keep)
        const kept = records.filter((_, i) => keep(i))
        assert.deepEqual(chunks.flatMap((c) => c.offsets), kept.map((r) => r.offset), 'the offsets the offset map gets')
        // The object path: records decoded from the block, encoded by produce-batch.ts.
        const decoded = decodeRecords(plain, records.length).filter((_, i) => keep(i))
        let at = 0
        for (const c of chunks) {
          const mine = c.finish()
          const theirs = encodeRecords(decoded.slice(at, at + c.count))
          assert.ok(mine.buf.subarray(BATCH_HEADER_BYTES).equals(theirs.buf.subarray(BATCH_HEADER_BYTES)), 'the same record bytes')
          assert.equal(mine.buf.length, theirs.buf.length)
          assert.deepEqual([mine.count, mine.baseTimestamp, mine.maxTimestamp], [theirs.count, theirs.baseTimestamp, theirs.maxTimestamp])
          assert.ok(c.size <= maxBytes || c.count === 1, `a chunk of ${c.count} stays within ${maxBytes} bytes (${c.size})`)
          assert.ok(c.count <= maxRecords)
          assert.equal(c.bytes, decoded.slice(at, at + c.count).reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0))
          assert.equal(c.minTimestamp, Math.min(...decoded.slice(at, at + c.count).map((r) => r.timestamp)))
          // Through the producer's finishing and kbk's own fetch decoder, as a broker would store it.
          const batch = await finishBatch(mine, {producerId: 7n, producerEpoch: 1}, 5)
          const back = (await decodePartition(batch, 0, [], {})).records
          assert.deepEqual(back.map((r) => [r.timestamp, r.key, r.value, r.headers]), decoded.slice(at, at + c.count).map((r) => [r.timestamp, r.key, r.value, r.headers]))
          at += c.count
        }
        assert.equal(at, kept.length)
      }),
      {numRuns: 300},
    )
  })

  it('accepts exactly the blocks the object decoder accepts, with the same offsets and timestamps', () => {
    fc.assert(
      fc.property(fc.array(recordArb, {minLength: 1, maxLength: 12}), fc.array(fc.tuple(fc.nat(), fc.nat({max: 255})), {maxLength: 3}), fc.nat(), fc.integer({min: -1, max: 1}), (input, flips, cut, countDelta) => {
        const {records, plain} = block(input, 0)
        const damaged = Buffer.from(plain)
        for (const [at, v] of flips) damaged[at % damaged.length] = v
        const bytesIn = damaged.subarray(0, flips.length > 0 || cut % 4 !== 0 ? damaged.length : Math.max(0, damaged.length - (cut % 7)))
        const count = Math.max(0, records.length + countDelta)
        let objects: KafkaRecord[] | Error
        let scanned: ReturnType<typeof scanRecords> | Error
        try {
          objects = decodeRecords(bytesIn, count)
        } catch (e) {
          objects = e as Error
        }
        try {
          scanned = scanRecords(bytesIn, count)
        } catch (e) {
          scanned = e as Error
        }
        assert.equal(scanned instanceof Error, objects instanceof Error, `decodeRecords: ${String(objects instanceof Error ? objects.message : 'ok')}, scanRecords: ${String(scanned instanceof Error ? scanned.message : 'ok')}`)
        if (!(objects instanceof Error) && !(scanned instanceof Error)) {
          assert.deepEqual([...scanned.offsets], objects.map((r) => r.offset))
          assert.deepEqual([...scanned.timestamps], objects.map((r) => r.timestamp))
        }
      }),
      {numRuns: 500},
    )
  })

  it('a huge record goes alone in its chunk, in a buffer of its own size', () => {
    const {records, plain} = block([
      {timestamp: 1, logAppend: false, key: null, value: Buffer.alloc(10), headers: [], gap: 0},
      {timestamp: 2, logAppend: false, key: Buffer.from('k'), value: Buffer.alloc(5000, 7), headers: [], gap: 0},
      {timestamp: 3, logAppend: false, key: null, value: Buffer.alloc(10), headers: [], gap: 0},
    ], 0)
    const chunks = transcode(plain, records.length, 1000, 100, () => true)
    assert.deepEqual(chunks.map((c) => c.count), [1, 1, 1])
    assert.ok(chunks[1]!.finish().buf.subarray(BATCH_HEADER_BYTES).equals(encodeRecords([records[1]!]).buf.subarray(BATCH_HEADER_BYTES)))
  })
})

/** What a consumer compares: everything but the offset. */
function content(r: KafkaRecord): unknown[] {
  return [r.timestamp, r.key, r.value, r.headers]
}

describe('restore fast path end to end (in-memory cluster): the same topics and offset map as the object path', () => {
  const T0 = Date.parse('2026-05-31T00:00:00Z')
  const seedArb = fc.array(fc.array(fc.record({key: bytes(12), value: bytes(60), headers: fc.array(fc.record({key: headerKey, value: bytes(8)}), {maxLength: 2}), gapBefore: fc.nat({max: 2}), dt: fc.integer({min: -5000, max: 5000})}), {minLength: 1, maxLength: 70}), {minLength: 1, maxLength: 3})

  async function restoreWith(seeds: SeedIn[][], fast: boolean, pitOffsetMs: number | undefined, failAt: number | undefined): Promise<{ok: boolean; target: unknown[]; map: unknown}> {
    const world = new World()
    const prod = world.cluster('prod')
    prod.addTopic('orders.eu', seeds.length)
    seeds.forEach((rs, p) => prod.seed('orders.eu', p, rs.map((r, i) => ({key: r.key, value: r.value, headers: r.headers, gapBefore: r.gapBefore, timestamp: T0 + i * 1000 + r.dt}))))
    assert.equal((await world.planAndApply(desired([policy('orders')]))).outcome.ok, true)
    world.advance(60_000)
    const staging = world.cluster('staging')
    // The object path: a port without produceEncoded gets records as objects.
    if (!fast) Object.defineProperty(staging, 'produceEncoded', {value: undefined})
    const pit = pitOffsetMs === undefined ? undefined : new Date(T0 + pitOffsetMs).toISOString()
    const d = desired([policy('orders')], [restore('drill', {policy: 'orders', cluster: 'staging', ...(pit ? {pointInTime: pit, settings: {}} : {})})])
    let requests = 0
    if (failAt !== undefined) {
      staging.beforeProduce = () => {
        if (++requests === failAt) throw Object.assign(new Error('connection reset'), {retriable: false})
      }
      await world.planAndApply(d)
      staging.beforeProduce = undefined
      world.advance(60_000)
    }
    const {outcome} = await world.planAndApply(d)
    const snap = await world.snapshot()
    const key = snap.restores.drill?.offset_map_key
    const map = key ? JSON.parse(world.store.objects.get(key)!.body.toString()) : undefined
    const target = staging.records('orders.eu-restored') ?? []
    return {ok: outcome.ok, target: target.map((p) => p.map((r) => [r.offset, ...content(r)])), map}
  }

  it('restores fuzzed topics (point in time, a crash and rerun) exactly as the object path does', async () => {
    await fc.assert(
      fc.asyncProperty(seedArb, fc.option(fc.integer({min: -2000, max: 70_000}), {nil: undefined}), fc.option(fc.integer({min: 1, max: 6}), {nil: undefined}), async (seeds, pit, failAt) => {
        const fast = await restoreWith(seeds, true, pit, failAt)
        const slow = await restoreWith(seeds, false, pit, failAt)
        assert.equal(fast.ok, slow.ok)
        assert.deepEqual(fast.target, slow.target)
        assert.deepEqual(fast.map, slow.map)
      }),
      {numRuns: 25},
    )
  })
})
