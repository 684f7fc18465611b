// kbk's own produce path (record batches and Produce requests on kafkajs' connections) against a
// real KRaft broker: several partitions per request keep each partition's order, offsets come
// back right, a topic just created is waited for, and a broker refusal is named.
import {describe, it, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import kafkajs from 'kafkajs'
import {kafkajsConfig, openKafka} from '../../src/kafka/kafkajs-adapter.js'
import {createReadCluster} from '../../src/kafka/kafkajs-fetch.js'
import {DirectProducer, type ProduceBroker, type ProduceCluster} from '../../src/kafka/kafkajs-produce.js'
import type {KafkaPort, ProduceRecord, RecordHeader} from '../../src/kafka/port.js'
import {KbkError} from '../../src/errors.js'
import {testEnv, randomName} from '../helpers/env.js'
import {assertConsumedAsSent, consumeAll, deleteTestTopic} from '../helpers/kafka.js'

const silent = {warn: () => undefined, error: () => undefined}
const h = (key: string, value: string | null): RecordHeader => ({key, value: value === null ? null : Buffer.from(value)})

function record(partition: number, i: number, size = 40): ProduceRecord {
  return {
    partition,
    timestamp: 1_650_000_000_000 + i * 7 - (i % 3) * 1000,
    key: i % 9 === 0 ? null : Buffer.from(`p${partition}-k${i}`),
    value: i % 17 === 0 ? null : Buffer.from(`p${partition}-v${i}-`.padEnd(size, 'x')),
    headers: i % 4 === 0 ? [h('trace', `${i}`), h('n', null), h('trace', 'again')] : [],
  }
}

describe('kbk produce path', () => {
  const env = testEnv()
  let target: KafkaPort
  const topics: string[] = []
  before(() => {
    target = openKafka({brokers: [env.kafka.targetBootstrap]}, {name: 'target', logger: silent})
  })
  after(async () => {
    await target.close()
    for (const t of topics) await deleteTestTopic(env.kafka.targetBootstrap, t).catch(() => undefined)
  })

  it('producePartitions keeps each partition\'s order across many multi-partition calls and returns each entry\'s first offset', async () => {
    const name = randomName('multi')
    topics.push(name)
    // Produced at once after creation: the first call waits for the new topic's leaders.
    await target.createTopic({name, partitions: 4, configs: {'retention.ms': '-1'}})
    const sent: ProduceRecord[][] = [[], [], [], []]
    const next = [0, 0, 0, 0]
    for (let call = 0; call < 25; call++) {
      // Uneven shares, a partition left out now and then, an empty entry, and entries out of partition order.
      const parts = [3, 1, 0, 2].filter((p) => (call + p) % 5 !== 0)
      const batches = parts.map((p) => {
        const n = p === 2 && call % 3 === 0 ? 0 : 1 + ((call * 7 + p * 13) % 60)
        return {partition: p, records: Array.from({length: n}, () => record(p, next[p]!, p === 1 ? 3000 : 40))}
      })
      const bases = await target.producePartitions(name, batches)
      batches.forEach((b, i) => {
        if (b.records.length === 0) return assert.equal(bases[i], -1)
        assert.equal(bases[i], next[b.partition], `call ${call}, partition ${b.partition}`)
        next[b.partition]! += b.records.length
        sent[b.partition]!.push(...b.records)
      })
    }
    const marks = await target.watermarks(name)
    assert.deepEqual(marks.map((m) => m.high), next)
    const got = await consumeAll(env.kafka.targetBootstrap, name)
    assert.equal(got.length, next.reduce((a, b) => a + b, 0))
    assertConsumedAsSent(got, sent)
  })

  it('produce sends records of mixed partitions in rounds the broker accepts, a record larger than a round alone', async () => {
    const name = randomName('rounds')
    topics.push(name)
    await target.createTopic({name, partitions: 2, configs: {'retention.ms': '-1', 'max.message.bytes': '3000000'}})
    // ~3 MiB for partition 0 in 2 KiB records: several rounds under the 1 MiB batch limit; one 2 MB record.
    const records = Array.from({length: 1600}, (_, i) => record(i % 5 === 0 ? 1 : 0, i, 2048))
    records.splice(800, 0, {partition: 1, timestamp: 1_650_000_000_000, key: Buffer.from('huge'), value: randomBytes(2_000_000), headers: []})
    const offsets = await target.produce(name, records)
    const per = [0, 0]
    assert.deepEqual(offsets, records.map((r) => per[r.partition]!++))
    const got = await consumeAll(env.kafka.targetBootstrap, name)
    const byPartition = [0, 1].map((p) => records.filter((r) => r.partition === p))
    assert.equal(got.length, records.length)
    for (const g of got) assert.deepEqual(g.value, byPartition[g.partition]![g.offset]!.value)
  })

  it('a byte-identical resend after a lost answer is deduplicated by the real broker: one copy, the original offsets', async () => {
    const name = randomName('resend')
    topics.push(name)
    await target.createTopic({name, partitions: 2, configs: {'retention.ms': '-1'}})
    // kbk's producer on a real cluster whose connection "drops" every first answer to a Produce
    // request after the broker received (and appended) it: the producer must resend the same
    // bytes (same producer id, epoch and sequence), and the broker must keep one copy.
    const kafka = new kafkajs.Kafka(kafkajsConfig({brokers: [env.kafka.targetBootstrap]}, {name: 'target', logger: silent}))
    const real = createReadCluster(kafka) as unknown as ProduceCluster
    const wire: Buffer[] = []
    let lost = 0
    const lossy: ProduceCluster = {
      connect: () => real.connect(),
      disconnect: () => real.disconnect(),
      addTargetTopic: (t) => real.addTargetTopic(t),
      refreshMetadata: () => real.refreshMetadata(),
      findTopicPartitionMetadata: (t) => real.findTopicPartitionMetadata(t),
      findControllerBroker: () => real.findControllerBroker(),
      findBroker: async (args: {nodeId: number}): Promise<ProduceBroker> => {
        const broker = await real.findBroker(args)
        return {
          versions: broker.versions,
          initProducerId: (a) => broker.initProducerId(a),
          connectionPool: {
            send: async (r) => {
              const body = ((await (r.request as {encode(): Promise<{buffer: Buffer}>}).encode()).buffer)
              wire.push(Buffer.from(body))
              const answer = await broker.connectionPool.send(r)
              if (wire.length % 2 === 1) {
                lost++
                throw Object.assign(new Error('Connection closed (test: answer dropped)'), {name: 'KafkaJSConnectionClosedError', retriable: true})
              }
              return answer
            },
          },
        }
      },
    }
    const producer = new DirectProducer(lossy)
    try {
      const sent: ProduceRecord[][] = [[], []]
      for (let call = 0; call < 3; call++) {
        const batches = [0, 1].map((p) => ({partition: p, records: Array.from({length: 5 + call + p}, (_, i) => record(p, sent[p]!.length + i))}))
        const bases = await producer.producePartitions(name, batches)
        assert.deepEqual(bases, [sent[0]!.length, sent[1]!.length], `call ${call}`)
        batches.forEach((b) => sent[b.partition]!.push(...b.records))
      }
      assert.equal(lost, 3, 'every call lost one answer')
      for (let i = 0; i < wire.length; i += 2) assert.deepEqual(wire[i + 1], wire[i], `request ${i + 1} was resent byte for byte`)
      const got = await consumeAll(env.kafka.targetBootstrap, name)
      assert.equal(got.length, sent[0]!.length + sent[1]!.length, 'one copy of each record')
      assertConsumedAsSent(got, sent)
    } finally {
      await producer.disconnect()
    }
  })

  it('a restore\'s compression none, lz4 and zstd: the real broker takes each codec, keeps the records as sent, and stores lz4 and zstd smaller', async () => {
    const sizes: Record<string, number> = {}
    for (const compression of ['none', 'lz4', 'zstd'] as const) {
      const name = randomName(`codec-${compression}`)
      topics.push(name)
      await target.createTopic({name, partitions: 1, configs: {'retention.ms': '-1'}})
      const sent: ProduceRecord[] = Array.from({length: 3000}, (_, i) => record(0, i, 300))
      for (let i = 0; i < sent.length; i += 500) await target.producePartitions(name, [{partition: 0, records: sent.slice(i, i + 500)}], {compression})
      const got = await consumeAll(env.kafka.targetBootstrap, name)
      assert.equal(got.length, sent.length, compression)
      assertConsumedAsSent(got, [sent])
      sizes[compression] = (await target.logSizes([name]))[name]![0]!
    }
    // Values of repeated bytes: either codec stores a fraction of the uncompressed batches.
    assert.ok(sizes.lz4! < sizes.none! / 3, `lz4 ${sizes.lz4} against none ${sizes.none}`)
    assert.ok(sizes.zstd! < sizes.none! / 3, `zstd ${sizes.zstd} against none ${sizes.none}`)
  })

  it('a batch the topic refuses as too large fails with KBK_KAFKA_TOO_LARGE and a suggestion', async () => {
    const name = randomName('small')
    topics.push(name)
    await target.createTopic({name, partitions: 1, configs: {'max.message.bytes': '10000'}})
    await assert.rejects(
      target.producePartitions(name, [{partition: 0, records: [{timestamp: 1, key: null, value: randomBytes(50_000), headers: []}]}]),
      (e: unknown) => e instanceof KbkError && e.code === 'KBK_KAFKA_TOO_LARGE' && /max\.message\.bytes/.test(e.suggestion ?? ''),
    )
  })
})
