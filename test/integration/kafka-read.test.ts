// The Kafka adapter against a real KRaft broker: every codec decodes, keys/values/headers/
// timestamps come back exactly, readRanges reads exactly [from, to) and leaves no group behind.
import {describe, it, before, after} from 'node:test'
import assert from 'node:assert/strict'
import kafkajs from 'kafkajs'
import {createRequire} from 'node:module'
import {openKafka} from '../../src/kafka/kafkajs-adapter.js'
import {createReadCluster} from '../../src/kafka/kafkajs-fetch.js'
import {batchesOf, batchCrcMatches, parseFetchResponse, type FetchResponse} from '../../src/kafka/record-batch.js'
import type {KafkaPort, KafkaRecord, RecordHeader} from '../../src/kafka/port.js'
import {KbkError} from '../../src/errors.js'
import {testEnv} from '../helpers/env.js'
import {createTestTopic, produceTestRecords, consumeAll, deleteTestTopic, testKafka, waitForStableEnds, type TestCompression, type TestRecord} from '../helpers/kafka.js'

const require = createRequire(import.meta.url)
const silent = {warn: () => undefined, error: () => undefined}
const h = (key: string, value: string | null): RecordHeader => ({key, value: value === null ? null : Buffer.from(value)})

/** Records exercising every distinction kbk must keep. */
function sampleRecords(base: number): TestRecord[] {
  return [
    {key: 'k1', value: 'v1', headers: [h('a', '1'), h('b', '2'), h('a', '3')], timestamp: base},
    {key: null, value: 'null-key', headers: [], timestamp: base + 1},
    {key: Buffer.alloc(0), value: 'empty-key', headers: [h('n', null), h('n', ''), h('7', 'x'), h('2', 'y')], timestamp: base + 2},
    {key: 'tomb', value: null, timestamp: base + 3},
    {key: 'empty-value', value: Buffer.alloc(0), timestamp: base + 4},
    {key: Buffer.from([0, 255, 1]), value: Buffer.from([9, 0, 9]), headers: [h('bin', '\u0000')], timestamp: 1_000},
  ]
}

function assertSame(got: KafkaRecord[], want: TestRecord[]): void {
  assert.equal(got.length, want.length)
  got.forEach((g, i) => {
    const w = want[i] as TestRecord
    const b = (v: Buffer | string | null): Buffer | null => (v === null ? null : Buffer.from(v))
    assert.deepEqual(g.key, b(w.key), `key of record ${i}`)
    assert.deepEqual(g.value, b(w.value), `value of record ${i}`)
    assert.deepEqual(g.headers, w.headers ?? [], `headers of record ${i}`)
    assert.equal(g.timestamp, w.timestamp, `timestamp of record ${i}`)
    assert.equal(g.timestampType, 'create')
  })
}

describe('kafka adapter: reading', () => {
  const env = testEnv()
  let kafka: KafkaPort
  before(() => {
    kafka = openKafka({brokers: [env.kafka.bootstrap]}, {name: 'source', logger: silent})
  })
  after(async () => kafka.close())

  /** Values per partition (partitions 0..n-1 of `ranges`) and where each read ended. */
  async function readAll(topic: string, ranges: {partition: number; from: number; to: number}[]): Promise<{values: string[][]; next: number[]}> {
    const values = ranges.map(() => [] as string[])
    const next = ranges.map((r) => r.from)
    await kafka.readRanges(topic, ranges, async (p, records, nextOffset) => {
      values[p]!.push(...records.map((r) => r.value?.toString() ?? 'null'))
      next[p] = nextOffset
    })
    return {values, next}
  }

  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as TestCompression[]) {
    it(`decodes ${compression} batches exactly: null/empty keys, tombstones, ordered duplicate and null headers, timestamps`, async () => {
      const topic = await createTestTopic(env.kafka.bootstrap, {prefix: `codec-${compression}`})
      const want = sampleRecords(1_700_000_000_000)
      await produceTestRecords(env.kafka.bootstrap, topic, want, {compression})
      const got = await consumeAll(env.kafka.bootstrap, topic)
      assertSame(got, want)
      assert.deepEqual(got.map((r) => r.offset), [0, 1, 2, 3, 4, 5])
    })
  }

  it('reads exactly [from, to) of several partitions, in order, and leaves no consumer group behind', async () => {
    const topic = await createTestTopic(env.kafka.bootstrap, {partitions: 3})
    for (let p = 0; p < 3; p++) {
      const recs: TestRecord[] = Array.from({length: 50}, (_, i) => ({partition: p, key: `p${p}-${i}`, value: `v${i}`, timestamp: 1_700_000_000_000 + i}))
      // Several produce calls: several record batches per partition.
      for (let i = 0; i < 50; i += 10) await produceTestRecords(env.kafka.bootstrap, topic, recs.slice(i, i + 10), {compression: 'zstd'})
    }
    const groupsBefore = await kafka.listGroups()
    const seen = new Map<number, number[]>()
    const nexts = new Map<number, number>()
    await kafka.readRanges(topic, [{partition: 0, from: 5, to: 17}, {partition: 2, from: 0, to: 50}, {partition: 1, from: 30, to: 30}], async (partition, records, nextOffset) => {
      const list = seen.get(partition) ?? []
      list.push(...records.map((r) => r.offset))
      seen.set(partition, list)
      assert.ok(nextOffset >= (nexts.get(partition) ?? 0), 'nextOffset never goes back')
      nexts.set(partition, nextOffset)
      for (const r of records) assert.equal(r.key?.toString(), `p${partition}-${r.offset}`)
    })
    assert.deepEqual(seen.get(0), Array.from({length: 12}, (_, i) => 5 + i))
    assert.deepEqual(seen.get(2), Array.from({length: 50}, (_, i) => i))
    assert.equal(seen.has(1), false, 'an empty range delivers nothing')
    assert.equal(nexts.get(0), 17)
    assert.equal(nexts.get(2), 50)
    const groupsAfter = await kafka.listGroups()
    assert.deepEqual(groupsAfter.filter((g) => g.startsWith('kbk-tmp-')), groupsBefore.filter((g) => g.startsWith('kbk-tmp-')))
  })

  it('an empty range resolves without touching the cluster', async () => {
    const unreachable = openKafka({brokers: ['127.0.0.1:1'], connectionTimeout: 200}, {name: 'nowhere', logger: silent})
    let calls = 0
    await unreachable.readRanges('no-such-topic', [{partition: 0, from: 7, to: 7}], async () => {
      calls++
    })
    assert.equal(calls, 0)
    await unreachable.close()
  })

  it('reads only committed transactional data and passes the control records', async () => {
    const topic = await createTestTopic(env.kafka.bootstrap, {partitions: 1})
    const k = testKafka(env.kafka.bootstrap)
    const producer = k.producer({transactionalId: `kbk-test-${topic}`, idempotent: true, maxInFlightRequests: 1, createPartitioner: kafkajs.Partitioners.DefaultPartitioner})
    await producer.connect()
    const send = async (values: string[], commit: boolean): Promise<void> => {
      const tx = await producer.transaction()
      await tx.send({topic, messages: values.map((v) => ({partition: 0, key: v, value: v}))})
      if (commit) await tx.commit()
      else await tx.abort()
    }
    await send(['c1', 'c2'], true) // offsets 0,1 + marker 2
    await send(['a1', 'a2', 'a3'], false) // offsets 3,4,5 + marker 6
    await send(['c3'], true) // offset 7 + marker 8
    await send(['a4'], false) // offset 9 + marker 10: the range ends in control records
    await producer.disconnect()
    await waitForStableEnds(env.kafka.bootstrap, topic, [11]) // the last abort's marker lands after abort() returns
    const [marks] = await kafka.watermarks(topic)
    assert.equal(marks?.high, 11)
    const values: string[] = []
    let last = -1
    await kafka.readRanges(topic, [{partition: 0, from: 0, to: 11}], async (_p, records, nextOffset) => {
      values.push(...records.map((r) => r.value?.toString() ?? 'null'))
      last = nextOffset
    })
    assert.deepEqual(values, ['c1', 'c2', 'c3'])
    assert.equal(last, 11, 'progress passes the trailing abort marker')
  })

  for (const outcome of ['commits', 'aborts'] as const) {
    it(`a transaction open while planning and applying: the plan stops at the last stable offset, the apply does not wait, and the next run takes what the transaction ${outcome === 'commits' ? 'committed' : 'left (nothing of it)'}`, async () => {
      const topic = await createTestTopic(env.kafka.bootstrap, {partitions: 2})
      await produceTestRecords(env.kafka.bootstrap, topic, [...['b0', 'b1', 'b2'].map((v) => ({partition: 0, key: v, value: v})), ...['b3', 'b4'].map((v) => ({partition: 1, key: v, value: v}))])
      const k = testKafka(env.kafka.bootstrap)
      const txProducer = k.producer({transactionalId: `kbk-test-open-${topic}`, idempotent: true, maxInFlightRequests: 1, createPartitioner: kafkajs.Partitioners.DefaultPartitioner})
      await txProducer.connect()
      try {
        const tx = await txProducer.transaction()
        await tx.send({topic, messages: [...['t0', 't1', 't2', 't3'].map((v) => ({partition: 0, key: v, value: v})), {partition: 1, key: 't4', value: 't4'}]})
        // A committed record written after the transaction began: behind the open transaction, not yet stable.
        await produceTestRecords(env.kafka.bootstrap, topic, [{partition: 0, key: 'after', value: 'after'}])

        // Plan: the upper bound is the last stable offset (where the open transaction starts).
        const planned = await kafka.watermarks(topic)
        assert.deepEqual(planned.map((m) => m.high), [3, 2], 'the plan pins the last stable offset, not the high watermark')
        // Apply, the transaction still open: the read completes at once with the committed records only.
        const first = await readAll(topic, planned.map((m) => ({partition: m.partition, from: m.low, to: m.high})))
        assert.deepEqual(first.values, [['b0', 'b1', 'b2'], ['b3', 'b4']])
        assert.deepEqual(first.next, [3, 2])

        if (outcome === 'commits') await tx.commit()
        else await tx.abort()
        // The markers reach the partitions after commit() or abort() returns.
        await waitForStableEnds(env.kafka.bootstrap, topic, [9, 4])

        // The next plan and apply: from where the last stopped to the new stable end, past the marker.
        const next = await kafka.watermarks(topic)
        assert.deepEqual(next.map((m) => m.high), [9, 4], 'four transactional records, one more, a marker | one transactional record, a marker')
        const second = await readAll(topic, next.map((m, i) => ({partition: m.partition, from: planned[i]!.high, to: m.high})))
        assert.deepEqual(second.values, outcome === 'commits' ? [['t0', 't1', 't2', 't3', 'after'], ['t4']] : [['after'], []])
        assert.deepEqual(second.next, [9, 4])
      } finally {
        await txProducer.disconnect()
      }
    })
  }

  it('the test helper\'s producer is idempotent: its batches carry a producer id and sequence, and the broker\'s CRCs check', async () => {
    // A retried request of an idempotent producer is deduplicated by the broker; a plain
    // producer's (producer id -1) is appended again, which made counts wrong on a loaded machine.
    const topic = await createTestTopic(env.kafka.bootstrap, {partitions: 1})
    await produceTestRecords(env.kafka.bootstrap, topic, [{key: 'a', value: '1'}, {key: 'b', value: '2'}])
    await produceTestRecords(env.kafka.bootstrap, topic, [{key: 'c', value: '3'}], {compression: 'gzip'})
    const cluster = createReadCluster(testKafka(env.kafka.bootstrap))
    await cluster.connect()
    try {
      await cluster.addTargetTopic(topic)
      const leader = cluster.findTopicPartitionMetadata(topic)[0]!.leader!
      const broker = (await cluster.findBroker({nodeId: leader})) as unknown as {connectionPool: {send(r: object): Promise<FetchResponse>}}
      const fetchV11 = require('kafkajs/src/protocol/requests/fetch/v11/request.js') as (a: object) => object
      const request = fetchV11({replicaId: -1, isolationLevel: 1, maxWaitTime: 100, minBytes: 1, maxBytes: 1 << 20, topics: [{topic, partitions: [{partition: 0, fetchOffset: '0', maxBytes: 1 << 20}]}], rackId: ''})
      const response = await broker.connectionPool.send({request, response: {decode: async (raw: Buffer) => raw, parse: async (raw: Buffer) => parseFetchResponse(raw)}})
      const records = response.topics[0]!.partitions[0]!.records!
      const batches = batchesOf(records)
      assert.equal(batches.length, 2)
      for (const b of batches) {
        assert.ok(b.producerId >= 0n, `batch at ${b.baseOffset} has producer id ${b.producerId}: not idempotent`)
        assert.ok(batchCrcMatches(records, b), 'a broker-written batch passes kbk\'s CRC check')
      }
    } finally {
      await cluster.disconnect()
    }
  })

  it('reads a 10 MiB record', async () => {
    const topic = await createTestTopic(env.kafka.bootstrap, {configs: {'max.message.bytes': String(16 * 1024 * 1024)}})
    const big = Buffer.alloc(10 * 1024 * 1024)
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251
    await produceTestRecords(env.kafka.bootstrap, topic, [{key: 'small', value: 'x', timestamp: 1}, {key: 'big', value: big, timestamp: 2}, {key: 'after', value: 'y', timestamp: 3}])
    const got = await consumeAll(env.kafka.bootstrap, topic)
    assert.equal(got.length, 3)
    assert.equal(got[1]?.value?.length, big.length)
    assert.ok(got[1]?.value?.equals(big))
    assert.equal(got[2]?.value?.toString(), 'y')
  })

  it('refuses a range whose start Kafka already deleted, naming topic, partition and range', async () => {
    const topic = await createTestTopic(env.kafka.bootstrap)
    await produceTestRecords(env.kafka.bootstrap, topic, Array.from({length: 10}, (_, i) => ({key: `${i}`, value: `${i}`})))
    const admin = testKafka(env.kafka.bootstrap).admin()
    await admin.connect()
    await admin.fetchTopicMetadata({topics: [topic]})
    await admin.deleteTopicRecords({topic, partitions: [{partition: 0, offset: '4'}]})
    await admin.disconnect()
    await assert.rejects(
      kafka.readRanges(topic, [{partition: 0, from: 2, to: 10}], async () => undefined),
      (e: unknown) => e instanceof KbkError && e.code === 'KBK_KAFKA_OFFSET_GONE' && e.message.includes(topic) && e.message.includes('partition 0') && e.message.includes('[2, 10)'),
    )
  })

  it('fails clearly when the topic is deleted mid-read', async () => {
    const topic = await createTestTopic(env.kafka.bootstrap)
    // 12 MiB in 256 KiB records: more than one fetch (4 MiB per partition), so the read must go back.
    const value = Buffer.alloc(256 * 1024, 1)
    for (let i = 0; i < 6; i++) await produceTestRecords(env.kafka.bootstrap, topic, Array.from({length: 8}, (_, j) => ({key: `${i}-${j}`, value})))
    let deleted = false
    await assert.rejects(
      kafka.readRanges(topic, [{partition: 0, from: 0, to: 48}], async () => {
        if (!deleted) {
          deleted = true
          await deleteTestTopic(env.kafka.bootstrap, topic)
        }
      }),
      (e: unknown) => e instanceof KbkError && e.code === 'KBK_KAFKA_NO_TOPIC' && e.message.includes(topic),
    )
  })
})
