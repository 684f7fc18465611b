// End to end on a real broker: the backup's fast path (readRecordRanges → addFromCursor) writes
// the same segment bytes as the object path (readRanges → add), over batches of every codec, a
// producer's transactions (committed and aborted, with their control batches), headers with
// non-ASCII keys, null and empty keys and values, and ranges that start and end inside batches.
// test/unit/segment/cursor-writer.test.ts fuzzes the same comparison on synthetic batches.
import {describe, it, before, after} from 'node:test'
import assert from 'node:assert/strict'
import kafkajs from 'kafkajs'
import {openKafka} from '../../src/kafka/kafkajs-adapter.js'
import type {KafkaPort, ReadRange, RecordHeader} from '../../src/kafka/port.js'
import {SegmentWriter} from '../../src/segment/index.js'
import {testEnv} from '../helpers/env.js'
import {createTestTopic, deleteTestTopic, produceTestRecords, testKafka, waitForStableEnds, type TestCompression, type TestRecord} from '../helpers/kafka.js'

const silent = {warn: () => undefined, error: () => undefined}
const h = (key: string, value: string | null): RecordHeader => ({key, value: value === null ? null : Buffer.from(value)})
const SEGMENT_ID = Buffer.alloc(16, 3)
const CODECS: TestCompression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

function records(partition: number, n: number): TestRecord[] {
  return Array.from({length: n}, (_, i) => ({
    partition,
    key: i % 5 === 0 ? null : i % 7 === 0 ? Buffer.alloc(0) : `key-${i}`,
    value: i % 11 === 0 ? null : i % 13 === 0 ? Buffer.alloc(0) : `value-${i}-${'x'.repeat((i * 37) % 900)}`,
    headers: i % 3 === 0 ? [h('trace', `t${i}`), h('ключ-ü', null), h('trace', '')] : [],
    timestamp: 1_700_000_000_000 + i * 17,
  }))
}

describe('readRecordRanges (the backup fast path) on a real broker', () => {
  const env = testEnv()
  let kafka: KafkaPort
  let topic: string
  before(async () => {
    kafka = openKafka({brokers: [env.kafka.bootstrap]}, {name: 'source', logger: silent})
    topic = await createTestTopic(env.kafka.bootstrap, {partitions: CODECS.length + 1, prefix: 'cursor'})
    // One partition per codec, three produce calls each (so several batches).
    for (const [p, compression] of CODECS.entries()) {
      const all = records(p, 240)
      for (let i = 0; i < 3; i++) await produceTestRecords(env.kafka.bootstrap, topic, all.slice(i * 80, (i + 1) * 80), {compression})
    }
    // The last partition: transactions, committed and aborted, interleaved with their markers.
    const tp = CODECS.length
    const producer = testKafka(env.kafka.bootstrap).producer({transactionalId: `kbk-test-${topic}`, idempotent: true, maxInFlightRequests: 1, createPartitioner: kafkajs.Partitioners.DefaultPartitioner})
    await producer.connect()
    try {
      for (const [i, commit] of [true, false, true, true, false, true].entries()) {
        const tx = await producer.transaction()
        await tx.send({topic, messages: Array.from({length: 4 + i}, (_, j) => ({partition: tp, key: `t${i}-${j}`, value: `tx ${i} record ${j}`, headers: {h: `${i}`}}))})
        if (commit) await tx.commit()
        else await tx.abort()
      }
    } finally {
      await producer.disconnect()
    }
    // The last transaction's marker lands after commit() returns; wait for it so ranges end where this says.
    await waitForStableEnds(env.kafka.bootstrap, topic, [...CODECS.map(() => 240), [4, 5, 6, 7, 8, 9].reduce((a, b) => a + b + 1, 0)])
  })
  after(async () => {
    await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
    await kafka.close()
  })

  /** One segment per partition, through either path; also each delivery's nextOffset. */
  async function segments(ranges: ReadRange[], cursor: boolean): Promise<{bytes: Map<number, Buffer>; deliveries: string[]}> {
    const writers = new Map<number, SegmentWriter>()
    const writer = (p: number): SegmentWriter => {
      let w = writers.get(p)
      if (!w) writers.set(p, (w = new SegmentWriter({codec: 'zstd', level: 3, blockBytes: 16 * 1024}, undefined, SEGMENT_ID)))
      return w
    }
    const deliveries: string[] = []
    if (cursor) {
      await kafka.readRecordRanges!(topic, ranges, async (p, c, next) => {
        let n = 0
        while (c.next()) {
          writer(p).addFromCursor(c)
          n++
        }
        deliveries.push(`${p}:${n}->${next}`)
      })
    } else {
      await kafka.readRanges(topic, ranges, async (p, rs, next) => {
        for (const r of rs) writer(p).add(r)
        deliveries.push(`${p}:${rs.length}->${next}`)
      })
    }
    const bytes = new Map<number, Buffer>()
    for (const [p, w] of writers) {
      const out = w.takeOutput()
      bytes.set(p, Buffer.concat([...out, ...w.finish().tail]))
    }
    deliveries.sort()
    return {bytes, deliveries}
  }

  it('writes byte-identical segments to the object path, whole partitions and ranges inside batches', async () => {
    const marks = await kafka.watermarks(topic)
    assert.ok(marks.every((m) => m.high > 20), JSON.stringify(marks))
    const whole = marks.map((m) => ({partition: m.partition, from: m.low, to: m.high}))
    // Starting and ending inside batches (and the transactional partition inside a transaction).
    const inside = marks.map((m) => ({partition: m.partition, from: m.low + 3 + m.partition, to: m.high - 5 - m.partition}))
    for (const ranges of [whole, inside]) {
      const objects = await segments(ranges, false)
      const cursor = await segments(ranges, true)
      assert.deepEqual(cursor.deliveries, objects.deliveries)
      assert.deepEqual([...cursor.bytes.keys()].sort(), [...objects.bytes.keys()].sort())
      assert.equal(cursor.bytes.size, marks.length)
      for (const [p, b] of objects.bytes) assert.ok(cursor.bytes.get(p)!.equals(b), `partition ${p}: segments differ`)
    }
  })
})
