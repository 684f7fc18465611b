// The in-memory Kafka port is a test double; these tests pin the port semantics the executor
// tests rely on (the same the kafkajs adapter's integration tests check on real brokers): reads
// deliver exactly [from, to) with nextOffset past gaps, a deleted range is KBK_KAFKA_OFFSET_GONE,
// an open transaction holds the high watermark at the last stable offset, appends get
// consecutive offsets, and a failed request appends nothing.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {KafkaRecord} from '../../../src/kafka/port.js'
import {MemoryKafka} from '../../helpers/memory-kafka.js'

async function readAll(k: MemoryKafka, topic: string, partition: number, from: number, to: number): Promise<{offsets: number[]; nexts: number[]}> {
  const offsets: number[] = []
  const nexts: number[] = []
  await k.readRanges(topic, [{partition, from, to}], async (p, records: KafkaRecord[], next) => {
    assert.equal(p, partition)
    offsets.push(...records.map((r) => r.offset))
    nexts.push(next)
  })
  return {offsets, nexts}
}

describe('MemoryKafka (test double)', () => {
  it('reads exactly [from, to) in batches, and nextOffset moves past gaps', async () => {
    const k = new MemoryKafka({batchRecords: 2})
    k.addTopic('t', 1)
    k.seed('t', 0, [{value: 'a'}, {value: 'b'}, {value: 'c', gapBefore: 2}, {value: 'd'}])
    assert.deepEqual(await k.watermarks('t'), [{partition: 0, low: 0, high: 6}])
    const all = await readAll(k, 't', 0, 0, 6)
    assert.deepEqual(all.offsets, [0, 1, 4, 5])
    assert.equal(all.nexts.at(-1), 6)
    const part = await readAll(k, 't', 0, 1, 5)
    assert.deepEqual(part.offsets, [1, 4])
    assert.equal(part.nexts.at(-1), 5)
  })

  it('refuses a range retention deleted, and one past the end', async () => {
    const k = new MemoryKafka()
    k.addTopic('t', 1).seed('t', 0, [{}, {}, {}, {}])
    k.deleteBefore('t', 0, 2)
    assert.deepEqual(await k.watermarks('t'), [{partition: 0, low: 2, high: 4}])
    await assert.rejects(readAll(k, 't', 0, 1, 4), {code: 'KBK_KAFKA_OFFSET_GONE'})
    await assert.rejects(readAll(k, 't', 0, 2, 5), {code: 'KBK_KAFKA_RANGE_PAST_END'})
    await assert.rejects(k.watermarks('nope'), {code: 'KBK_KAFKA_NO_TOPIC'})
  })

  it('holds the high watermark at the last stable offset while a transaction is open', async () => {
    const k = new MemoryKafka()
    k.addTopic('t', 1).seed('t', 0, [{}, {}])
    k.openTransaction('t', 0)
    k.seed('t', 0, [{}, {}])
    assert.equal((await k.watermarks('t'))[0]?.high, 2)
    k.commitTransaction('t', 0)
    assert.equal((await k.watermarks('t'))[0]?.high, 4)
  })

  it('appends at consecutive offsets, keeps null distinct from empty, and a failed request appends nothing', async () => {
    const k = new MemoryKafka()
    await k.createTopic({name: 't', partitions: 2, configs: {}})
    await assert.rejects(k.createTopic({name: 't', partitions: 2, configs: {}}), {code: 'KBK_KAFKA_TOPIC_EXISTS'})
    const rec = {timestamp: 5, key: null, value: Buffer.alloc(0), headers: [{key: 'h', value: null}]}
    assert.deepEqual(await k.producePartitions('t', [{partition: 1, records: [rec, rec]}, {partition: 0, records: [rec]}]), [0, 0])
    assert.deepEqual(await k.producePartitions('t', [{partition: 1, records: [rec]}]), [2])
    k.beforeProduce = () => {
      throw new Error('injected')
    }
    await assert.rejects(k.producePartitions('t', [{partition: 1, records: [rec]}]))
    assert.equal((await k.watermarks('t'))[1]?.high, 3)
    const [r] = k.records('t')[0]!
    assert.equal(r?.key, null)
    assert.deepEqual(r?.value, Buffer.alloc(0))
    assert.deepEqual(r?.headers, [{key: 'h', value: null}])
  })

  it('commits group offsets only for groups without members', async () => {
    const k = new MemoryKafka()
    k.addTopic('t', 1)
    await k.commitGroupOffsets('g', 't', [{partition: 0, offset: 7}])
    assert.deepEqual(await k.groupOffsets(['g']), [{groupId: 'g', state: 'Empty', offsets: {t: {0: 7}}}])
    k.activeGroups.add('busy')
    await assert.rejects(k.commitGroupOffsets('busy', 't', [{partition: 0, offset: 1}]), {code: 'KBK_KAFKA_GROUP_ACTIVE'})
  })
})
