// The Kafka adapter's admin side, produce path and error mapping against real KRaft brokers.
import {describe, it, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {setTimeout as sleep} from 'node:timers/promises'
import {openKafka} from '../../src/kafka/kafkajs-adapter.js'
import type {KafkaPort, RecordHeader} from '../../src/kafka/port.js'
import {KbkError} from '../../src/errors.js'
import {testEnv, randomName} from '../helpers/env.js'
import {assertConsumedAsSent, createTestTopic, produceTestRecords, consumeAll, testKafka} from '../helpers/kafka.js'

const silent = {warn: () => undefined, error: () => undefined}
const h = (key: string, value: string | null): RecordHeader => ({key, value: value === null ? null : Buffer.from(value)})

describe('kafka adapter: admin, produce, errors', () => {
  const env = testEnv()
  let source: KafkaPort
  let target: KafkaPort
  before(() => {
    source = openKafka({brokers: [env.kafka.bootstrap]}, {name: 'source', logger: silent})
    target = openKafka({brokers: [env.kafka.targetBootstrap]}, {name: 'target', logger: silent})
  })
  after(async () => {
    await source.close()
    await target.close()
  })

  it('read-only methods create no topic and join no group', async () => {
    const topic = await createTestTopic(env.kafka.bootstrap, {partitions: 2, configs: {'cleanup.policy': 'compact'}})
    await produceTestRecords(env.kafka.bootstrap, topic, [{key: 'a', value: '1'}])
    const topicsBefore = await source.listTopics()
    const groupsBefore = await source.listGroups()
    const ghost = randomName('ghost')
    const ghostGroup = randomName('ghost-group')

    assert.deepEqual(await source.watermarks(topic), [{partition: 0, low: 0, high: 1}, {partition: 1, low: 0, high: 0}])
    const [info] = await source.describeTopics([topic])
    assert.equal(info?.partitions, 2)
    assert.equal(info?.configs['cleanup.policy'], 'compact')
    assert.equal(info?.configs['retention.ms'], '-1')
    assert.equal(info?.configs['segment.bytes'], undefined, 'defaults are not topic configs')
    const [g] = await source.groupOffsets([ghostGroup])
    assert.deepEqual(g?.offsets, {})
    await assert.rejects(source.watermarks(ghost), (e: unknown) => e instanceof KbkError && e.code === 'KBK_KAFKA_NO_TOPIC' && e.message.includes(ghost))
    await assert.rejects(source.describeTopics([ghost]), (e: unknown) => e instanceof KbkError && e.code === 'KBK_KAFKA_NO_TOPIC')
    // After a failed lookup the client still works.
    assert.equal((await source.watermarks(topic)).length, 2)

    const topicsAfter = await source.listTopics()
    assert.deepEqual(topicsAfter, topicsBefore)
    assert.equal(topicsAfter.includes(ghost), false)
    assert.ok(topicsAfter.includes(topic))
    assert.ok(!topicsAfter.some((t) => t.startsWith('__')), 'internal topics are not listed')
    assert.deepEqual(await source.listGroups(), groupsBefore)
  })

  it('createTopic uses the given partitions and configs; a second create is a conflict', async () => {
    const name = randomName('created')
    await target.createTopic({name, partitions: 3, configs: {'cleanup.policy': 'compact', 'max.message.bytes': '2000000'}})
    const [info] = await target.describeTopics([name])
    assert.deepEqual(info, {name, partitions: 3, configs: {'cleanup.policy': 'compact', 'max.message.bytes': '2000000'}})
    await assert.rejects(target.createTopic({name, partitions: 1, configs: {}}), (e: unknown) => e instanceof KbkError && e.code === 'KBK_KAFKA_TOPIC_EXISTS')
  })

  it('produce keeps order per partition, duplicate/null headers in order, keys, tombstones and timestamps, and returns offsets', async () => {
    const name = randomName('restored')
    await target.createTopic({name, partitions: 2, configs: {'retention.ms': '-1'}})
    const records = Array.from({length: 3000}, (_, i) => ({
      partition: i % 2,
      timestamp: 1_600_000_000_000 + i,
      key: i % 7 === 0 ? null : i % 11 === 0 ? Buffer.alloc(0) : Buffer.from(`k${i}`),
      value: i % 13 === 0 ? null : Buffer.from(`value-${i}`.repeat(i % 5 === 0 ? 100 : 1)),
      headers: i % 3 === 0 ? [h('x', '1'), h('y', null), h('x', '2'), h('1', 'first?')] : [],
    }))
    const offsets = await target.produce(name, records)
    const perPartition = [0, 0]
    assert.deepEqual(offsets, records.map((r) => perPartition[r.partition]!++))
    const got = await consumeAll(env.kafka.targetBootstrap, name)
    assert.equal(got.length, records.length)
    const byPartition = [0, 1].map((p) => records.filter((r) => r.partition === p))
    assertConsumedAsSent(got, byPartition)
    for (const g of got) assert.equal(g.timestampType, 'create')
  })

  it('commits offsets for an idle group, reads them back, and refuses while the group has members', async () => {
    const topic = await createTestTopic(env.kafka.bootstrap, {partitions: 2})
    await produceTestRecords(env.kafka.bootstrap, topic, Array.from({length: 10}, (_, i) => ({partition: i % 2, key: `${i}`, value: 'v'})))
    const groupId = randomName('restored-group')
    await source.commitGroupOffsets(groupId, topic, [{partition: 0, offset: 3}, {partition: 1, offset: 5}])
    const [g] = await source.groupOffsets([groupId])
    assert.deepEqual(g?.offsets, {[topic]: {0: 3, 1: 5}})
    assert.equal(g?.state, 'Empty')

    const consumer = testKafka(env.kafka.bootstrap).consumer({groupId})
    await consumer.connect()
    await consumer.subscribe({topics: [topic]})
    let joined!: () => void
    const isJoined = new Promise<void>((r) => (joined = r))
    consumer.on(consumer.events.GROUP_JOIN, () => joined())
    await consumer.run({eachMessage: async () => undefined})
    await isJoined
    try {
      await assert.rejects(
        source.commitGroupOffsets(groupId, topic, [{partition: 0, offset: 1}]),
        (e: unknown) => e instanceof KbkError && e.code === 'KBK_KAFKA_GROUP_ACTIVE' && e.message.includes(groupId) && /stop/i.test(e.suggestion ?? ''),
      )
    } finally {
      await consumer.disconnect()
    }
  })

  it('keeps offset gaps of a compacted topic and still completes the range', async () => {
    const topic = await createTestTopic(env.kafka.bootstrap, {configs: {'cleanup.policy': 'compact', 'segment.ms': '100', 'min.cleanable.dirty.ratio': '0.01', 'delete.retention.ms': '100', 'min.compaction.lag.ms': '0'}})
    for (let round = 0; round < 4; round++) {
      await produceTestRecords(env.kafka.bootstrap, topic, ['a', 'b', 'c', 'd'].map((k) => ({key: k, value: `${k}${round}`, timestamp: Date.now()})))
      await sleep(150) // let the segment roll, so the cleaner may compact it
    }
    await produceTestRecords(env.kafka.bootstrap, topic, [{key: 'e', value: 'e0', timestamp: Date.now()}])
    // Poll (not a timing assertion): wait until the cleaner has removed overwritten records.
    let got = await consumeAll(env.kafka.bootstrap, topic)
    for (let i = 0; i < 60 && got.length === 17; i++) {
      await sleep(1000)
      await produceTestRecords(env.kafka.bootstrap, topic, [{key: 'e', value: `e${i + 1}`, timestamp: Date.now()}])
      got = await consumeAll(env.kafka.bootstrap, topic)
    }
    const [marks] = await source.watermarks(topic)
    assert.ok(marks && got.length < marks.high - marks.low, 'the cleaner made gaps')
    const offsets = got.map((r) => r.offset)
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b))
    const latest = new Map(got.map((r) => [r.key?.toString(), r.value?.toString()]))
    for (const k of ['a', 'b', 'c', 'd']) assert.equal(latest.get(k), `${k}3`)
    // A range that starts inside a compacted-away stretch completes and reports its end.
    let next = -1
    await source.readRanges(topic, [{partition: 0, from: marks!.low, to: marks!.high}], async (_p, _r, n) => {
      next = n
    })
    assert.equal(next, marks!.high)
  })

  it('an unreachable cluster fails with KBK_KAFKA_UNREACHABLE naming the cluster and its position', async () => {
    const k = openKafka({brokers: ['127.0.0.1:1'], connectionTimeout: 500}, {name: 'prod', position: 'kbk.yaml:4:3', logger: silent})
    await assert.rejects(k.listTopics(), (e: unknown) => e instanceof KbkError && e.code === 'KBK_KAFKA_UNREACHABLE' && e.message.includes('"prod"') && e.message.includes('kbk.yaml:4:3') && (e.suggestion ?? '').includes('clusters.prod.brokers'))
    await k.close()
  })

  it('SASL against a plaintext listener is not reported as success, and no secret reaches the error', async () => {
    const secret = 'p4ssw0rd-never-printed'
    const k = openKafka({brokers: [env.kafka.bootstrap], connectionTimeout: 1000, sasl: {mechanism: 'scram-sha-512', username: 'kbk', password: {reveal: () => secret}}}, {name: 'prod', logger: silent})
    await assert.rejects(k.listTopics(), (e: unknown) => {
      assert.ok(e instanceof KbkError)
      assert.ok(['KBK_KAFKA_AUTH', 'KBK_KAFKA_UNREACHABLE', 'KBK_KAFKA_ERROR'].includes(e.code), e.code)
      assert.ok(!JSON.stringify(e.toJSON()).includes(secret))
      assert.ok(!e.message.includes(secret))
      return true
    })
    await k.close()
  })
})
