import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createRequire} from 'node:module'
import {dirname} from 'node:path'
import {randomBytes} from 'node:crypto'
import {crc32c, crc32cImplementation, crc32cJs} from '../../../src/kafka/crc32c.js'
import {batchBound, encodeProduceRequest, nextSequence, parseProduceResponse, writeBatch, writeBatchAsync, writeProduceRequest, type BatchRecord} from '../../../src/kafka/produce-batch.js'
import {compressFrame, compressFrameSync} from 'lz4-napi'
import {kafkaDecompressors} from '../../../src/kafka/kafkajs-codecs.js'
import {batchesOf, decodePartition} from '../../../src/kafka/record-batch.js'

const require = createRequire(import.meta.url)
// kafkajs' own (byte-at-a-time) CRC-32C: an independent implementation to compare against.
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number

const id = {producerId: 4242n, producerEpoch: 3}

const lz4 = {id: 3, compress: (b: Buffer) => compressFrameSync(b)}

function encode(records: BatchRecord[], baseSequence = 0, codec?: typeof lz4): Buffer {
  const buf = Buffer.alloc(batchBound(records))
  return buf.subarray(0, writeBatch(buf, 0, records, id, baseSequence, codec))
}

describe('produce-batch', () => {
  it('writes the same bytes compressing off the main thread (writeBatchAsync) as in line, and falls back to uncompressed the same way', async () => {
    const compressible: BatchRecord[] = Array.from({length: 300}, (_, i) => ({timestamp: 1_700_000_000_000 + i, key: Buffer.from(`cust-${i % 7}`), value: Buffer.from(JSON.stringify({i, text: 'alpha bravo charlie '.repeat(20)})), headers: [{key: 'h', value: Buffer.from('v')}]}))
    const random: BatchRecord[] = [{timestamp: 5, key: null, value: randomBytes(5000), headers: []}]
    const asyncLz4 = {id: 3, compress: (b: Buffer) => compressFrame(b)}
    for (const records of [compressible, random]) {
      const inline = encode(records, 42, lz4)
      const offThread = await writeBatchAsync(records, id, 42, asyncLz4)
      assert.deepEqual(offThread, inline)
      assert.deepEqual(await writeBatchAsync(records, id, 42), encode(records, 42))
    }
    assert.equal(encode(compressible, 42, lz4).readInt16BE(21), 3, 'the compressible batch is lz4')
    assert.equal(encode(random, 42, lz4).readInt16BE(21), 0, 'the incompressible batch stays uncompressed')
    const decoded = await decodePartition(await writeBatchAsync(compressible, id, 0, asyncLz4), 0, [], kafkaDecompressors)
    assert.deepEqual(decoded.records.map((r) => r.value?.toString()), compressible.map((r) => r.value?.toString()))
  })

  it('computes CRC-32C, native and in JavaScript: the standard check value, and the same as kafkajs at every length and alignment', () => {
    // The native path is expected wherever @node-rs/crc32's prebuilt binary for this platform is
    // installed (npm installs the one optional package that matches); elsewhere the JS fallback.
    assert.equal(crc32cImplementation, process.env.KBK_CRC32C === 'js' || !nativeCrcInstalled() ? 'js' : 'native')
    for (const f of [crc32c, crc32cJs]) {
      assert.equal(f(Buffer.from('123456789')), 0xe3069283)
      assert.equal(f(Buffer.alloc(0)), 0)
      const data = randomBytes(4099)
      for (const [start, end] of [[0, 4099], [1, 4099], [3, 17], [5, 12], [7, 7], [0, 8], [2, 4000]] as const) {
        assert.equal(f(data, start, end), kafkajsCrc32c(data.subarray(start, end)), `bytes ${start}..${end}`)
      }
    }
  })

  it('writes a batch the decoder reads back: keys, null keys and values, empty values, ordered duplicate and null headers, timestamps back and forth', async () => {
    const records: BatchRecord[] = [
      {timestamp: 1_700_000_000_000, key: Buffer.from('k1'), value: Buffer.from('{"a":1}'), headers: []},
      {timestamp: 1_699_999_999_000, key: null, value: null, headers: [{key: 'a', value: Buffer.from('1')}, {key: 'b', value: null}, {key: 'a', value: Buffer.from('2')}]},
      {timestamp: 1_700_000_500_000, key: Buffer.alloc(0), value: Buffer.alloc(0), headers: [{key: 'ünï', value: Buffer.alloc(0)}]},
      {timestamp: 0, key: Buffer.from('big'), value: randomBytes(70_000), headers: []},
    ]
    const batch = encode(records, 17)
    assert.ok(batch.length <= batchBound(records))
    const views = batchesOf(batch)
    assert.equal(views.length, 1)
    assert.equal(batch.readInt32BE(8), batch.length - 12, 'batch length')
    assert.equal(batch[16], 2, 'magic')
    assert.equal(batch.readUInt32BE(17), crc32c(batch, 21, batch.length), 'crc over attributes..end')
    assert.equal(batch.readInt16BE(21), 0, 'uncompressed, create time')
    assert.equal(batch.readInt32BE(23), records.length - 1, 'last offset delta')
    assert.equal(Number(batch.readBigInt64BE(27)), 1_700_000_000_000, 'base timestamp is the first record\'s')
    assert.equal(Number(batch.readBigInt64BE(35)), 1_700_000_500_000, 'max timestamp')
    assert.equal(batch.readBigInt64BE(43), 4242n)
    assert.equal(batch.readInt16BE(51), 3)
    assert.equal(batch.readInt32BE(53), 17, 'base sequence')
    assert.equal(batch.readInt32BE(57), records.length)
    const decoded = await decodePartition(batch, 0, [], {})
    assert.equal(decoded.records.length, records.length)
    decoded.records.forEach((r, i) => {
      const want = records[i]!
      assert.equal(r.offset, i)
      assert.equal(r.timestamp, want.timestamp)
      assert.deepEqual(r.key, want.key)
      assert.deepEqual(r.value, want.value)
      assert.deepEqual(r.headers, want.headers)
    })
  })

  it('compresses a batch with the codec given (the decoder reads it back), and leaves records that do not shrink uncompressed', async () => {
    const json = Array.from({length: 500}, (_, i) => ({timestamp: 1_700_000_000_000 + i, key: Buffer.from(`k${i % 7}`), value: Buffer.from(JSON.stringify({i, name: 'order', qty: i % 13, note: 'x'.repeat(i % 50)})), headers: i % 9 ? [] : [{key: 'h', value: null}]}))
    const plain = encode(json)
    const packed = encode(json, 0, lz4)
    assert.equal(packed.readInt16BE(21), 3, 'attributes say lz4')
    assert.ok(packed.length < plain.length / 2, `${packed.length} < ${plain.length} / 2`)
    assert.equal(packed.readUInt32BE(17), crc32c(packed, 21, packed.length))
    assert.equal(packed.readInt32BE(8), packed.length - 12)
    const decoded = await decodePartition(packed, 0, [], kafkaDecompressors)
    assert.deepEqual(decoded.records.map((r) => [r.offset, r.timestamp, r.key, r.value, r.headers]), json.map((r, i) => [i, r.timestamp, r.key, r.value, r.headers]))

    const noise = [{timestamp: 5, key: null, value: randomBytes(5000), headers: []}]
    const raw = encode(noise, 0, lz4)
    assert.equal(raw.readInt16BE(21), 0, 'random bytes stay uncompressed')
    assert.deepEqual(raw, encode(noise))
  })

  it('writes a Produce request with one batch per partition, and re-encodes some of them byte for byte', () => {
    const a = [{timestamp: 1, key: null, value: Buffer.from('x'), headers: []}]
    const b = [{timestamp: 2, key: Buffer.from('k'), value: Buffer.from('yy'), headers: []}, {timestamp: 3, key: null, value: Buffer.from('z'), headers: []}]
    const {body, batches} = writeProduceRequest('t.one', -1, 30_000, [{partition: 4, records: a, baseSequence: 0}, {partition: 9, records: b, baseSequence: 5}], id)
    let pos = 0
    assert.equal(body.readInt16BE(pos), -1, 'no transactional id')
    assert.equal(body.readInt16BE((pos += 2)), -1, 'acks=all')
    assert.equal(body.readInt32BE((pos += 2)), 30_000)
    assert.equal(body.readInt32BE((pos += 4)), 1, 'one topic')
    assert.equal(body.readInt16BE((pos += 4)), 5)
    assert.equal(body.toString('utf8', (pos += 2), (pos += 5)), 't.one')
    assert.equal(body.readInt32BE(pos), 2, 'two partitions')
    pos += 4
    for (const [partition, recs, seq] of [[4, a, 0], [9, b, 5]] as const) {
      assert.equal(body.readInt32BE(pos), partition)
      const size = body.readInt32BE(pos + 4)
      const bytes = body.subarray(pos + 8, pos + 8 + size)
      assert.deepEqual(bytes, encode([...recs], seq))
      pos += 8 + size
    }
    assert.equal(pos, body.length)
    assert.deepEqual(encodeProduceRequest('t.one', -1, 30_000, batches), body, 'a resend is the same bytes')
  })

  it('parses Produce responses v3 to v8 and keeps only the asked topic', () => {
    const response = (version: number): Buffer => {
      const parts: Buffer[] = []
      const int16 = (n: number): void => void parts.push(Buffer.from([(n >> 8) & 0xff, n & 0xff]))
      const int32 = (n: number): void => {
        const b = Buffer.alloc(4)
        b.writeInt32BE(n)
        parts.push(b)
      }
      const int64 = (n: number): void => {
        const b = Buffer.alloc(8)
        b.writeBigInt64BE(BigInt(n))
        parts.push(b)
      }
      const str = (s: string | null): void => {
        if (s === null) return int16(-1)
        int16(Buffer.byteLength(s))
        parts.push(Buffer.from(s))
      }
      int32(2)
      for (const [topic, partition, code, offset] of [['other', 0, 0, 5], ['t', 3, 6, -1]] as const) {
        str(topic)
        int32(1)
        int32(partition)
        int16(code)
        int64(offset)
        int64(-1)
        if (version >= 5) int64(0)
        if (version >= 8) {
          int32(1)
          int32(0)
          str('bad record')
          str(code ? 'not the leader' : null)
        }
      }
      int32(0)
      return Buffer.concat(parts)
    }
    for (const v of [3, 5, 7, 8]) {
      assert.deepEqual(parseProduceResponse(response(v), v, 't'), [{partition: 3, errorCode: 6, baseOffset: -1, ...(v >= 8 ? {errorMessage: 'not the leader'} : {})}], `v${v}`)
    }
    assert.throws(() => parseProduceResponse(response(7).subarray(0, 20), 7, 't'), /ends early/)
  })

  it('wraps sequence numbers after 2^31 - 1, as Kafka does', () => {
    assert.equal(nextSequence(0, 10), 10)
    assert.equal(nextSequence(2 ** 31 - 5, 5), 0)
    assert.equal(nextSequence(2 ** 31 - 5, 8), 3)
  })
})

/** Whether one of @node-rs/crc32's platform packages (its prebuilt binaries) is installed here. */
function nativeCrcInstalled(): boolean {
  const main = require.resolve('@node-rs/crc32/package.json')
  const platforms = Object.keys((require(main) as {optionalDependencies?: Record<string, string>}).optionalDependencies ?? {})
  return platforms.some((name) => {
    try {
      require.resolve(`${name}/package.json`, {paths: [dirname(main)]})
      return true
    } catch {
      return false
    }
  })
}
