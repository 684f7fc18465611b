import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {gzipSync} from 'node:zlib'
import {createRequire} from 'node:module'
import {compress as zstdCompress} from 'zstd-napi'
import {batchCrcMatches, batchesOf, Compression, crc32, firstCorruptBatch, decodePartition, nextFetchOffset, parseFetchResponse, RecordFormatError} from '../../../src/kafka/record-batch.js'
import type {RecordHeader} from '../../../src/kafka/port.js'
import {batch, crc32Bitwise, crc32cBitwise, legacyMessage, marker} from '../../helpers/kafka-wire.js'
import {kafkaDecompressors} from '../../../src/kafka/kafkajs-codecs.js'
import {writeBatch} from '../../../src/kafka/produce-batch.js'

const require = createRequire(import.meta.url)
const values = (d: {records: {value: Buffer | null}[]}): (string | null)[] => d.records.map((r) => r.value?.toString() ?? null)

describe('record batches (magic 2)', () => {
  it('decodes offsets, timestamps, null and empty keys/values, and headers in order with duplicates and nulls', async () => {
    const headers = [
      {key: 'b', value: 'x'},
      {key: 'a', value: null},
      {key: 'b', value: ''},
    ]
    const set = batch({
      baseOffset: 100,
      baseTimestamp: 1_700_000_000_000,
      records: [
        {offsetDelta: 0, timestampDelta: 5, key: null, value: 'v0', headers},
        {offsetDelta: 1, timestampDelta: -3, key: '', value: null},
        {offsetDelta: 2, timestampDelta: 3_000_000_000, key: 'k', value: ''},
      ],
    })
    const d = await decodePartition(set, 100, [], {})
    assert.deepEqual(d.records.map((r) => r.offset), [100, 101, 102])
    assert.deepEqual(d.records.map((r) => r.timestamp), [1_700_000_000_005, 1_699_999_999_997, 1_703_000_000_000])
    assert.deepEqual(d.records.map((r) => r.timestampType), ['create', 'create', 'create'])
    assert.equal(d.records[0]!.key, null)
    assert.deepEqual(d.records[1]!.key, Buffer.alloc(0))
    assert.equal(d.records[1]!.value, null)
    assert.deepEqual(d.records[2]!.value, Buffer.alloc(0))
    const want: RecordHeader[] = [
      {key: 'b', value: Buffer.from('x')},
      {key: 'a', value: null},
      {key: 'b', value: Buffer.alloc(0)},
    ]
    assert.deepEqual(d.records[0]!.headers, want)
    assert.equal(d.nextOffset, 103)
  })

  it('uses the batch max timestamp for log-append-time batches', async () => {
    const set = batch({baseOffset: 0, attributes: 0x08, baseTimestamp: 1, maxTimestamp: 1_800_000_000_000, records: [{offsetDelta: 0, key: null, value: 'a'}]})
    const d = await decodePartition(set, 0, [], {})
    assert.equal(d.records[0]!.timestamp, 1_800_000_000_000)
    assert.equal(d.records[0]!.timestampType, 'log-append')
  })

  it('skips records before `from` in the first batch, and leaves out a partial last batch', async () => {
    const first = batch({baseOffset: 10, records: [0, 1, 2, 3].map((i) => ({offsetDelta: i, key: null, value: `v${10 + i}`}))})
    const second = batch({baseOffset: 14, records: [{offsetDelta: 0, key: null, value: 'v14'}]})
    const set = Buffer.concat([first, second.subarray(0, second.length - 3)])
    assert.equal(batchesOf(set).length, 1)
    const d = await decodePartition(set, 12, [], {})
    assert.deepEqual(values(d), ['v12', 'v13'])
    assert.equal(d.nextOffset, 14, 'the next fetch starts at the cut batch')
    assert.equal(nextFetchOffset([], 7), 7)
  })

  it('moves past compacted offsets: a batch keeps its offset span even when records are gone', async () => {
    const set = Buffer.concat([
      batch({baseOffset: 0, lastOffsetDelta: 4, records: [{offsetDelta: 1, key: 'k', value: 'a'}, {offsetDelta: 4, key: 'j', value: 'b'}]}),
      batch({baseOffset: 5, lastOffsetDelta: 2, records: []}),
    ])
    const d = await decodePartition(set, 0, [], {})
    assert.deepEqual(d.records.map((r) => r.offset), [1, 4])
    assert.equal(d.nextOffset, 8)
    assert.equal(d.firstBatchOffset, 0)
  })

  it('drops aborted transactions and control batches (read_committed), but not committed ones', async () => {
    const p1 = 7n
    const p2 = 9n
    const set = Buffer.concat([
      batch({baseOffset: 0, attributes: 0x10, producerId: p1, records: [{offsetDelta: 0, key: null, value: 'c1'}, {offsetDelta: 1, key: null, value: 'c2'}]}),
      marker(2, p1, 1),
      batch({baseOffset: 3, attributes: 0x10, producerId: p2, records: [{offsetDelta: 0, key: null, value: 'a1'}]}),
      batch({baseOffset: 4, producerId: -1n, records: [{offsetDelta: 0, key: null, value: 'plain'}]}),
      batch({baseOffset: 5, attributes: 0x10, producerId: p2, records: [{offsetDelta: 0, key: null, value: 'a2'}]}),
      marker(6, p2, 0),
      // The same producer's next transaction is committed: after the abort marker it is visible again.
      batch({baseOffset: 7, attributes: 0x10, producerId: p2, records: [{offsetDelta: 0, key: null, value: 'c3'}]}),
      marker(8, p2, 1),
    ])
    const d = await decodePartition(set, 0, [{producerId: p2, firstOffset: 3}], {})
    assert.deepEqual(values(d), ['c1', 'c2', 'plain', 'c3'])
    assert.equal(d.nextOffset, 9, 'the position passes the trailing marker')
  })

  it('decompresses gzip (built in) and codecs it is given; names a codec it lacks', async () => {
    const recs = [0, 1, 2].map((i) => ({offsetDelta: i, key: `k${i}`, value: `value ${i}`.repeat(20)}))
    const gz = batch({baseOffset: 0, attributes: Compression.Gzip, records: recs, compress: (b) => gzipSync(b)})
    assert.deepEqual(values(await decodePartition(gz, 0, [], {})), recs.map((r) => r.value))
    const zs = batch({baseOffset: 0, attributes: Compression.Zstd, records: recs, compress: (b) => zstdCompress(b)})
    const {decompress} = await import('zstd-napi')
    assert.deepEqual(values(await decodePartition(zs, 0, [], {[Compression.Zstd]: (b) => decompress(b)})), recs.map((r) => r.value))
    await assert.rejects(decodePartition(zs, 0, [], {}), (e: unknown) => e instanceof RecordFormatError && /codec 4/.test(e.message))
  })

  it('refuses damaged records with a RecordFormatError', async () => {
    const v7 = batch({baseOffset: 0, records: [{offsetDelta: 0, key: null, value: 'x'}]})
    v7.writeInt8(7, 16)
    assert.throws(() => batchesOf(v7), /magic byte 7/)
    const damaged = batch({baseOffset: 0, records: [{offsetDelta: 0, key: null, value: 'xyz'}]})
    damaged.writeInt32BE(5, 57) // claims 5 records, holds 1
    await assert.rejects(decodePartition(damaged, 0, [], {}), RecordFormatError)
  })
})

describe('message formats v0 and v1 (hand-built from the documented layout)', () => {
  const decode = async (set: Buffer, from = 0, decompressors = {}): Promise<{offset: number; timestamp: number; timestampType: string; key: string | null; value: string | null}[]> =>
    (await decodePartition(set, from, [], decompressors)).records.map((r) => ({offset: r.offset, timestamp: r.timestamp, timestampType: r.timestampType, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null}))

  it('decodes v0 messages: no timestamp, null and empty keys and values, no headers', async () => {
    const set = Buffer.concat([
      legacyMessage({offset: 10, magic: 0, key: 'k', value: 'v'}),
      legacyMessage({offset: 11, magic: 0, key: null, value: ''}),
      legacyMessage({offset: 12, magic: 0, key: '', value: null}),
    ])
    assert.deepEqual(await decode(set), [
      {offset: 10, timestamp: -1, timestampType: 'create', key: 'k', value: 'v'},
      {offset: 11, timestamp: -1, timestampType: 'create', key: null, value: ''},
      {offset: 12, timestamp: -1, timestampType: 'create', key: '', value: null},
    ])
    const d = await decodePartition(set, 0, [], {})
    assert.equal(d.nextOffset, 13)
    assert.ok(d.records.every((r) => r.headers.length === 0))
  })

  it('decodes v1 messages with create and log-append timestamps, and leaves out a message the fetch size cut', async () => {
    const set = Buffer.concat([
      legacyMessage({offset: 0, magic: 1, timestamp: 1_400_000_000_000, key: 'a', value: '1'}),
      legacyMessage({offset: 1, magic: 1, attributes: 0x08, timestamp: 1_400_000_000_500, key: 'b', value: '2'}),
      legacyMessage({offset: 2, magic: 1, timestamp: 5, key: 'c', value: '3'}).subarray(0, 20),
    ])
    assert.deepEqual(await decode(set), [
      {offset: 0, timestamp: 1_400_000_000_000, timestampType: 'create', key: 'a', value: '1'},
      {offset: 1, timestamp: 1_400_000_000_500, timestampType: 'log-append', key: 'b', value: '2'},
    ])
    assert.equal(nextFetchOffset(batchesOf(set), 0), 2)
  })

  it('decodes a gzip v1 wrapper: relative inner offsets, the wrapper at the last one, records before `from` skipped', async () => {
    const inner = Buffer.concat(['x', 'y', 'z'].map((v, i) => legacyMessage({offset: i, magic: 1, timestamp: 1_500_000_000_000 + i, key: v, value: v.toUpperCase()})))
    const wrapper = legacyMessage({offset: 102, magic: 1, attributes: Compression.Gzip, timestamp: 1_500_000_000_002, key: null, value: gzipSync(inner)})
    const set = Buffer.concat([wrapper, legacyMessage({offset: 103, magic: 1, timestamp: 7, key: 'w', value: 'W'})])
    assert.deepEqual(await decode(set), [
      {offset: 100, timestamp: 1_500_000_000_000, timestampType: 'create', key: 'x', value: 'X'},
      {offset: 101, timestamp: 1_500_000_000_001, timestampType: 'create', key: 'y', value: 'Y'},
      {offset: 102, timestamp: 1_500_000_000_002, timestampType: 'create', key: 'z', value: 'Z'},
      {offset: 103, timestamp: 7, timestampType: 'create', key: 'w', value: 'W'},
    ])
    assert.deepEqual((await decode(set, 101)).map((r) => r.offset), [101, 102, 103])
    // Log-append time on the wrapper: every inner message takes the wrapper's timestamp.
    const stamped = legacyMessage({offset: 2, magic: 1, attributes: Compression.Gzip | 0x08, timestamp: 1_600_000_000_000, key: null, value: gzipSync(inner)})
    assert.deepEqual((await decode(stamped)).map((r) => [r.offset, r.timestamp, r.timestampType]), [[0, 1_600_000_000_000, 'log-append'], [1, 1_600_000_000_000, 'log-append'], [2, 1_600_000_000_000, 'log-append']])
  })

  it('decodes a snappy v0 wrapper with absolute inner offsets', async () => {
    const snappy = (require('kafkajs-snappy') as () => {compress(e: {buffer: Buffer}): Promise<Buffer>})()
    const inner = Buffer.concat([legacyMessage({offset: 40, magic: 0, key: 'p', value: 'P'}), legacyMessage({offset: 41, magic: 0, key: 'q', value: null})])
    const wrapper = legacyMessage({offset: 41, magic: 0, attributes: Compression.Snappy, key: null, value: await snappy.compress({buffer: inner})})
    assert.deepEqual(await decode(wrapper, 0, kafkaDecompressors), [
      {offset: 40, timestamp: -1, timestampType: 'create', key: 'p', value: 'P'},
      {offset: 41, timestamp: -1, timestampType: 'create', key: 'q', value: null},
    ])
  })

  it('reads a log upgraded in place: v0 and v1 messages, then v2 batches, in offset order', async () => {
    const set = Buffer.concat([
      legacyMessage({offset: 0, magic: 0, key: 'old', value: 'v0'}),
      legacyMessage({offset: 1, magic: 1, timestamp: 1000, key: 'mid', value: 'v1'}),
      batch({baseOffset: 2, baseTimestamp: 2000, records: [{offsetDelta: 0, key: 'new', value: 'v2', headers: [{key: 'h', value: 'x'}]}]}),
    ])
    assert.deepEqual((await decode(set)).map((r) => r.value), ['v0', 'v1', 'v2'])
    assert.equal(firstCorruptBatch(set, batchesOf(set)), -1)
  })

  it('checks v0/v1 CRC-32 (from the magic byte on) and refuses malformed messages', async () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926)
    assert.equal(crc32Bitwise(Buffer.from('123456789')), 0xcbf43926)
    const good = legacyMessage({offset: 5, magic: 1, timestamp: 1, key: 'k', value: 'value'})
    const bad = Buffer.from(good)
    bad[bad.length - 1]! ^= 0x20
    const set = Buffer.concat([good, bad])
    assert.equal(firstCorruptBatch(set, batchesOf(set)), 1)
    const trailing = legacyMessage({offset: 0, magic: 0, key: 'k', value: 'v'})
    trailing.writeInt32BE(trailing.readInt32BE(8) - 1, 8) // size one short: the value's length runs past it
    await assert.rejects(decodePartition(Buffer.concat([trailing, Buffer.alloc(1)]), 0, [], {}), RecordFormatError)
  })
})

describe('record batch CRC-32C', () => {
  it('the test encoder\'s bitwise CRC-32C gives the standard check value', () => {
    assert.equal(crc32cBitwise(Buffer.from('123456789')), 0xe3069283)
  })

  it('accepts intact batches (kbk\'s own and independently built ones), whatever the broker rewrites outside the CRC', () => {
    const own = Buffer.alloc(4096)
    const end = writeBatch(own, 0, [{timestamp: 5, key: Buffer.from('k'), value: Buffer.from('v'), headers: []}], {producerId: 7n, producerEpoch: 1}, 0)
    const set = Buffer.concat([batch({baseOffset: 0, records: [{offsetDelta: 0, key: 'a', value: 'b'}]}), own.subarray(0, end)])
    // The broker assigns the base offset and the partition leader epoch after the producer computed the CRC.
    set.writeBigInt64BE(1n, set.readInt32BE(8) + 12)
    set.writeInt32BE(42, set.readInt32BE(8) + 12 + 12)
    const list = batchesOf(set)
    assert.equal(list.length, 2)
    assert.ok(list.every((b) => batchCrcMatches(set, b)))
    assert.equal(firstCorruptBatch(set, list), -1)
  })

  it('finds a flipped bit anywhere from the attributes to the last byte, and a wrong CRC field', () => {
    const one = batch({baseOffset: 0, records: [{offsetDelta: 0, key: 'key', value: 'value', headers: [{key: 'h', value: 'x'}]}]})
    for (let i = 17; i < one.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const damaged = Buffer.concat([one, one])
        damaged[one.length + i]! ^= bit
        let list
        try {
          list = batchesOf(damaged)
        } catch {
          continue // damage batchesOf already refuses (lengths, magic)
        }
        assert.equal(firstCorruptBatch(damaged, list), 1, `byte ${i} bit ${bit}`)
      }
    }
  })
})

describe('Fetch v11 response', () => {
  it('parses partitions, watermarks, aborted transactions and keeps record sets raw', () => {
    const records = batch({baseOffset: 3, records: [{offsetDelta: 0, key: null, value: 'r'}]})
    const parts: Buffer[] = []
    const i32 = (n: number): Buffer => {
      const b = Buffer.alloc(4)
      b.writeInt32BE(n)
      return b
    }
    const i16 = (n: number): Buffer => {
      const b = Buffer.alloc(2)
      b.writeInt16BE(n)
      return b
    }
    const i64 = (n: bigint): Buffer => {
      const b = Buffer.alloc(8)
      b.writeBigInt64BE(n)
      return b
    }
    parts.push(i32(0), i16(0), i32(0), i32(1), i16(6), Buffer.from('orders'), i32(2))
    // partition 0: data and one aborted transaction
    parts.push(i32(0), i16(0), i64(10n), i64(9n), i64(2n), i32(1), i64(42n), i64(5n), i32(-1), i32(records.length), records)
    // partition 1: an error, no records
    parts.push(i32(1), i16(6), i64(-1n), i64(-1n), i64(-1n), i32(-1), i32(-1), i32(-1))
    const r = parseFetchResponse(Buffer.concat(parts))
    assert.equal(r.errorCode, 0)
    assert.equal(r.topics[0]!.topic, 'orders')
    const [p0, p1] = r.topics[0]!.partitions
    assert.deepEqual({...p0!, records: p0!.records?.length}, {partition: 0, errorCode: 0, highWatermark: 10, lastStableOffset: 9, logStartOffset: 2, aborted: [{producerId: 42n, firstOffset: 5}], records: records.length})
    assert.equal(p1!.errorCode, 6)
    assert.equal(p1!.records, null)
    assert.throws(() => parseFetchResponse(Buffer.concat(parts).subarray(0, 40)), RecordFormatError)
  })
})
