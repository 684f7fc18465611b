// The tests' replacement of kafkajs' record codec (test/helpers/kafkajs-records.ts), which the
// integration tests' kafkajs producers rely on: what it writes, kafkajs' framing reads back with
// order, duplicates and nulls intact — and it is really the codec kafkajs uses.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createRequire} from 'node:module'
import {installRecordPatches, orderedHeadersOf, toKafkajsHeaders, batchEndOf, type DecodedMessage} from '../../helpers/kafkajs-records.js'
import {lz4Codec, registerKafkaCodecs, zstdCodec} from '../../../src/kafka/kafkajs-codecs.js'
import type {RecordHeader} from '../../../src/kafka/port.js'

registerKafkaCodecs()
installRecordPatches()

const require = createRequire(import.meta.url)
type BatchEncoder = (o: Record<string, unknown>) => Promise<{buffer: Buffer}>
type BatchDecoder = (d: unknown) => Promise<{records: DecodedMessage[]}>
const {RecordBatch} = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {RecordBatch: BatchEncoder}
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: Record<string, unknown>) => unknown
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as BatchDecoder
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown
const {Types} = require('kafkajs/src/protocol/message/compression/index.js') as {Types: Record<string, number>}

const h = (key: string, value: string | null): RecordHeader => ({key, value: value === null ? null : Buffer.from(value)})

async function roundTrip(headers: RecordHeader[][], compression = Types.None as number): Promise<DecodedMessage[]> {
  const records = headers.map((hs, i) => Record({offsetDelta: i, timestampDelta: i, key: i === 0 ? null : Buffer.alloc(0), value: Buffer.from(`v${i}`), headers: toKafkajsHeaders(hs)}))
  const enc = await RecordBatch({compression, records, firstOffset: 100, firstTimestamp: 1000, maxTimestamp: 1000 + headers.length, lastOffsetDelta: headers.length - 1})
  // The encoder writes FirstOffset then the batch as bytes; the decoder wants the same framing.
  const decoded = await decodeBatch(new Decoder(enc.buffer))
  return decoded.records
}

describe('ordered-header record codec inside kafkajs', () => {
  for (const [name, type] of Object.entries({none: Types.None, gzip: Types.GZIP, snappy: Types.Snappy, lz4: Types.LZ4, zstd: Types.ZSTD})) {
    it(`keeps interleaved duplicates, null and empty values and integer-like keys in order (${name})`, async () => {
      const hs = [[h('a', '1'), h('b', '2'), h('a', '3'), h('b', null), h('a', ''), h('10', 'x'), h('2', 'y'), h('__proto__', 'z')], []]
      const got = await roundTrip(hs, type as number)
      assert.equal(got.length, 2)
      assert.deepEqual(orderedHeadersOf(got[0]!), hs[0])
      assert.deepEqual(orderedHeadersOf(got[1]!), [])
      assert.equal(got[0]!.key, null)
      assert.deepEqual(got[1]!.key, Buffer.alloc(0))
      assert.equal(got[1]!.offset, '101')
      assert.equal(got[1]!.timestamp, '1001')
      assert.equal(batchEndOf(got[0]!), 102)
    })
  }

  it('refuses messages decoded by kafkajs itself instead of silently losing header order', () => {
    assert.throws(() => orderedHeadersOf({headers: {}} as unknown as DecodedMessage), /header order would be lost/)
  })
})

describe('lz4 and zstd codecs', () => {
  const data = Buffer.from('kafka '.repeat(10_000))
  it('lz4 writes LZ4 frames (magic 04 22 4d 18, independent blocks) and reads them back', async () => {
    const c = await lz4Codec.compress({buffer: data})
    assert.deepEqual([...c.subarray(0, 4)], [0x04, 0x22, 0x4d, 0x18])
    assert.equal(c[4]! & 0x20, 0x20, 'block independence flag: Kafka refuses dependent blocks')
    assert.ok(c.length < data.length)
    assert.deepEqual(await lz4Codec.decompress(c), data)
  })
  it('zstd round-trips', async () => {
    const c = await zstdCodec.compress({buffer: data})
    assert.ok(c.length < data.length)
    assert.deepEqual(await zstdCodec.decompress(c), data)
  })
})
