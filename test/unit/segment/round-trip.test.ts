import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {describe, it} from 'node:test'
import fc from 'fast-check'
import type {KafkaRecord} from '../../../src/kafka/port.js'
import {SegmentWriter, readSegment, readSegmentSummary} from '../../../src/segment/index.js'
import {KEY_A, decode, optionsArb, record, recordsArb, writeSegment} from './helpers.js'

const keyring = new Map([['key-a', KEY_A]])

/** Plain objects with Buffers copied out, so equality never depends on how buffers are sliced. */
function plain(records: KafkaRecord[]): unknown[] {
  const b = (x: Buffer | null): string | null => (x === null ? null : x.toString('hex'))
  return records.map((r) => ({offset: r.offset, timestamp: r.timestamp, timestampType: r.timestampType, key: b(r.key), value: b(r.value), headers: r.headers.map((h) => ({key: h.key, value: b(h.value)}))}))
}

describe('segment round trip', () => {
  it('any records come back byte-exact, with a true summary, for every codec, block size and encryption', async () => {
    await fc.assert(
      fc.asyncProperty(recordsArb, optionsArb, async (records, options) => {
        const {bytes, fin} = writeSegment(records, options)
        const {summary, records: back} = await decode(bytes, keyring)
        assert.deepEqual(plain(back), plain(records))
        const timestamps = records.map((r) => r.timestamp)
        const expected = {
          formatVersion: 1,
          codec: options.codec,
          encrypted: options.encryption !== undefined,
          ...(options.encryption ? {keyId: 'key-a'} : {}),
          recordCount: records.length,
          firstOffset: records[0]!.offset,
          lastOffset: records[records.length - 1]!.offset,
          minTimestamp: Math.min(...timestamps),
          maxTimestamp: Math.max(...timestamps),
        }
        assert.deepEqual({...summary, uncompressedBytes: undefined, blockCount: undefined}, {...expected, uncompressedBytes: undefined, blockCount: undefined})
        assert.deepEqual(fin.summary, summary)
        assert.deepEqual(readSegmentSummary(bytes, {objectName: 'x'}), summary)
        assert.equal(fin.size, bytes.length)
        assert.equal(fin.sha256, createHash('sha256').update(bytes).digest('hex'))
        if (options.blockBytes === 1) assert.equal(summary.blockCount, records.length, 'a 1-byte block size puts each record in its own block')
      }),
      {numRuns: 150},
    )
  })

  it('keeps null and empty keys, tombstones and empty values, and duplicate headers in order apart', async () => {
    const records: KafkaRecord[] = [
      {offset: 5, timestamp: 10, timestampType: 'create', key: null, value: null, headers: []},
      {offset: 6, timestamp: 9, timestampType: 'log-append', key: Buffer.alloc(0), value: Buffer.alloc(0), headers: [{key: 'a', value: null}, {key: 'a', value: Buffer.alloc(0)}, {key: 'a', value: Buffer.from('x')}, {key: '', value: null}]},
      {offset: 9, timestamp: -1, timestampType: 'create', key: Buffer.from('k'), value: null, headers: [{key: 'ü→🐱', value: Buffer.from([0, 255])}]},
    ]
    for (const codec of ['zstd', 'none'] as const) {
      const {records: back, summary} = await decode(writeSegment(records, {codec}).bytes)
      assert.deepEqual(plain(back), plain(records))
      assert.equal(back[0]!.key, null)
      assert.equal(back[0]!.value, null)
      assert.equal(back[1]!.key?.length, 0)
      assert.equal(back[1]!.value?.length, 0)
      assert.equal(back[1]!.timestampType, 'log-append')
      assert.deepEqual([summary.minTimestamp, summary.maxTimestamp], [-1, 10], 'true min and max, not first and last')
    }
  })

  it('streams: output appears as blocks fill, and the taken chunks plus the tail are the object', async () => {
    const w = new SegmentWriter({codec: 'zstd', blockBytes: 4096})
    const header = w.takeOutput()
    assert.ok(header.length > 0 && w.bytesWritten > 0, 'the header is ready at once')
    let taken = 0
    let sawBlockBeforeFinish = false
    const records: KafkaRecord[] = []
    for (let i = 0; i < 200; i++) {
      const r = record(i, `{"order":${i},"status":"created","amount":${i * 7}}`.padEnd(200, ' '))
      records.push(r)
      w.add(r)
      assert.ok(w.bufferedBytes <= 4096, 'never more than one block buffered')
      const out = w.takeOutput()
      if (out.length > 0) sawBlockBeforeFinish = true
      taken += out.reduce((a, b) => a + b.length, 0)
    }
    assert.ok(sawBlockBeforeFinish)
    assert.equal(w.recordCount, 200)
    const fin = w.finish()
    const bytes = Buffer.concat([...header, ...fin.tail])
    assert.equal(fin.size, header.reduce((a, b) => a + b.length, 0) + taken + fin.tail.reduce((a, b) => a + b.length, 0))
    assert.ok(fin.summary.blockCount > 5)
    assert.ok(fin.summary.uncompressedBytes > 200 * 200)
    // The header alone plus the tail is not the object: the blocks taken in between are needed.
    await assert.rejects(decode(bytes), {code: 'KBK_SEGMENT_CORRUPT'})
  })

  it('a 10 MiB record round-trips in a block of its own', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024)
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i)
    const records = [record(1, 'small'), record(2, null, {value: big}), record(3, 'after')]
    for (const options of [{codec: 'zstd' as const}, {codec: 'none' as const, encryption: {keyId: 'key-a', masterKey: KEY_A}}]) {
      const {bytes, fin} = writeSegment(records, options)
      assert.equal(fin.summary.blockCount, 3)
      const blocks: number[] = []
      for await (const b of readSegment([bytes], {objectName: 'big', keyring})) blocks.push(b.length)
      assert.deepEqual(blocks, [1, 1, 1])
      const {records: back} = await decode(bytes, keyring)
      assert.ok(back[1]!.value!.equals(big))
      assert.equal(back[2]!.value!.toString(), 'after')
    }
  })

  it('refuses records out of order, records it cannot store, empty segments and bad options', () => {
    const w = new SegmentWriter({codec: 'zstd'})
    w.add(record(10, 'a'))
    assert.throws(() => w.add(record(10, 'b')), {code: 'KBK_SEGMENT_ORDER'})
    assert.throws(() => w.add(record(9, 'b')), {code: 'KBK_SEGMENT_ORDER'})
    assert.throws(() => w.add(record(11, 'b', {timestamp: 1.5})), {code: 'KBK_SEGMENT_RECORD'})
    assert.throws(() => w.add(record(-1, 'b')), {code: 'KBK_SEGMENT_RECORD'})
    assert.throws(() => new SegmentWriter({codec: 'zstd'}).finish(), {code: 'KBK_SEGMENT_EMPTY'})
    assert.throws(() => new SegmentWriter({codec: 'lz4' as 'zstd'}), {code: 'KBK_SEGMENT_OPTIONS'})
    assert.throws(() => new SegmentWriter({codec: 'zstd', level: 40}), {code: 'KBK_SEGMENT_OPTIONS'})
    assert.throws(() => new SegmentWriter({codec: 'zstd', blockBytes: 0}), {code: 'KBK_SEGMENT_OPTIONS'})
    assert.throws(() => new SegmentWriter({codec: 'zstd', encryption: {keyId: 'k', masterKey: Buffer.alloc(16)}}), {code: 'KBK_SEGMENT_KEY_INVALID'})
    assert.throws(() => new SegmentWriter({codec: 'zstd', encryption: {keyId: '', masterKey: KEY_A}}), {code: 'KBK_SEGMENT_OPTIONS'})
  })

  it('decodes the same records from any chunking of the stream', async () => {
    const records = Array.from({length: 50}, (_, i) => record(i * 3, `value-${i}`.repeat(i % 7)))
    const {bytes} = writeSegment(records, {codec: 'zstd', blockBytes: 256, encryption: {keyId: 'key-a', masterKey: KEY_A}})
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({min: 1, max: 400}), {minLength: 1, maxLength: 20}), async (sizes) => {
        async function* source(): AsyncGenerator<Buffer> {
          for (let pos = 0, i = 0; pos < bytes.length; i++) {
            const n = sizes[i % sizes.length]!
            yield bytes.subarray(pos, pos + n)
            pos += n
          }
        }
        const back: KafkaRecord[] = []
        for await (const block of readSegment(source(), {objectName: 'x', keyring})) back.push(...block)
        assert.deepEqual(plain(back), plain(records))
      }),
      {numRuns: 50},
    )
  })
})

