// The fetch loop's bookkeeping, against a scripted stand-in for kafkajs' cluster object: which
// offsets each request asks for, and what happens after a leader move, a dropped connection, a
// failing handler or retention. Real brokers cover the wire (test/integration/kafka-read.test.ts);
// these failures cannot be provoked on demand there.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {KbkError} from '../../../src/errors.js'
import {fetchRanges, type FetchHooks, type KafkajsCluster} from '../../../src/kafka/kafkajs-fetch.js'
import type {KafkaRecord} from '../../../src/kafka/port.js'
import {RangeProgress} from '../../../src/kafka/range-progress.js'
import {crc32c} from '../../../src/kafka/crc32c.js'
import {batch, fetchResponse, parseFetchRequest, type FetchRequestView, type PartitionAnswer} from '../../helpers/kafka-wire.js'

const TOPIC = 'orders'
const BATCH = 5

/** The log of every partition: offsets 0.., in batches of 5 records; the value names the offset. */
function logFrom(offset: number): Buffer {
  const base = offset - (offset % BATCH)
  const batches = [0, 1].map((k) => batch({baseOffset: base + k * BATCH, records: Array.from({length: BATCH}, (_, i) => ({offsetDelta: i, key: null, value: `v${base + k * BATCH + i}`}))}))
  // Two whole batches and the first bytes of a third, the way a size limit cuts a fetch.
  const third = batch({baseOffset: base + 2 * BATCH, records: [{offsetDelta: 0, key: null, value: 'cut'}]})
  return Buffer.concat([...batches, third.subarray(0, 20)])
}

type Answer = (req: FetchRequestView, n: number) => PartitionAnswer[] | Error

class ScriptedCluster implements KafkajsCluster {
  refreshes = 0
  readonly requests: FetchRequestView[] = []
  constructor(
    private readonly partitions: number[],
    private readonly answer: Answer,
  ) {}
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async addTargetTopic(): Promise<void> {}
  async refreshMetadata(): Promise<void> {
    this.refreshes++
  }
  findTopicPartitionMetadata(): {partitionId: number; leader: number}[] {
    return this.partitions.map((p) => ({partitionId: p, leader: 1}))
  }
  async findBroker(): ReturnType<KafkajsCluster['findBroker']> {
    return {
      versions: {1: {minVersion: 4, maxVersion: 11}},
      connectionPool: {
        send: async ({request, response}) => {
          const encoded = (await request.encode()) as {buffer: Buffer}
          const req = parseFetchRequest(encoded.buffer)
          this.requests.push(req)
          const a = this.answer(req, this.requests.length)
          if (a instanceof Error) throw a
          return response.parse(await response.decode(fetchResponse(TOPIC, a)))
        },
      },
    }
  }
}

const fromLog: Answer = (req) => req.partitions.map((p) => ({partition: p.partition, records: logFrom(p.fetchOffset)}))

const hooks: FetchHooks = {
  decompressors: {},
  offsetGone: (partition, from, to, low) => new Error(`gone: partition ${partition} [${from}, ${to}) log start ${low}`),
  noTopic: () => new Error('no topic'),
  topicExists: async () => true,
}
const limits = {partitionBytes: 1 << 20, responseBytes: 4 << 20, maxWaitMs: 10}

async function read(cluster: KafkajsCluster, ranges: {partition: number; from: number; to: number}[], handler?: (p: number, r: KafkaRecord[]) => void): Promise<Map<number, number[]>> {
  const got = new Map<number, number[]>()
  await fetchRanges(cluster, TOPIC, new RangeProgress(ranges), async (p, records) => {
    handler?.(p, records)
    for (const r of records) assert.equal(r.value?.toString(), `v${r.offset}`)
    got.set(p, [...(got.get(p) ?? []), ...records.map((r) => r.offset)])
  }, limits, hooks)
  return got
}

const span = (from: number, to: number): number[] => Array.from({length: to - from}, (_, i) => from + i)

/** Each delivery (partition, offsets, nextOffset), reading with a cursor (readRecordRanges) or with objects. */
async function deliveries(cluster: KafkajsCluster, ranges: {partition: number; from: number; to: number}[], cursor: boolean): Promise<string[]> {
  const out: string[] = []
  const progress = new RangeProgress(ranges)
  if (cursor) {
    await fetchRanges(cluster, TOPIC, progress, async (p, c, next) => {
      const offsets: number[] = []
      while (c.next()) {
        assert.equal(c.buf.toString('utf8', c.valueStart, c.valueStart + c.valueLength), `v${c.offset}`)
        offsets.push(c.offset)
      }
      out.push(`${p}:${offsets.join(',')}->${next}`)
    }, limits, {...hooks, cursor: true})
  } else {
    await fetchRanges(cluster, TOPIC, progress, async (p, records, next) => {
      out.push(`${p}:${records.map((r) => r.offset).join(',')}->${next}`)
    }, limits, hooks)
  }
  return out
}

describe('fetchRanges', () => {
  it('with a cursor delivers what it delivers with objects, call for call, across a leader move', async () => {
    const ranges = [{partition: 0, from: 3, to: 23}, {partition: 1, from: 7, to: 12}]
    const answer: Answer = (req, n) => (n === 3 ? req.partitions.map((p) => ({partition: p.partition, errorCode: 6})) : fromLog(req, n))
    const objects = await deliveries(new ScriptedCluster([0, 1], answer), ranges, false)
    const cursor = await deliveries(new ScriptedCluster([0, 1], answer), ranges, true)
    assert.deepEqual(cursor, objects)
    assert.ok(objects.length >= 4, objects.join(' '))
  })

  it('with a cursor, damaged record data ends the read with KBK_KAFKA_BAD_RECORDS, as with objects', async () => {
    const damaged: Answer = () => {
      const set = batch({baseOffset: 0, records: [{offsetDelta: 0, key: null, value: 'v0'}, {offsetDelta: 1, key: null, value: 'v1'}]})
      set[70] = 0x7e // the second record's length (after the header and the first record's 9 bytes): far more than its fields take
      set.writeUInt32BE(crc32c(set, 21, set.length), 17)
      return [{partition: 0, records: set}]
    }
    for (const cursor of [false, true]) {
      await assert.rejects(deliveries(new ScriptedCluster([0], damaged), [{partition: 0, from: 0, to: 2}], cursor), (e: unknown) => e instanceof KbkError && e.code === 'KBK_KAFKA_BAD_RECORDS')
    }
  })

  it('reads exactly [from, to) of each partition in order, resuming after a cut batch at its offset', async () => {
    const cluster = new ScriptedCluster([0, 1], fromLog)
    const got = await read(cluster, [{partition: 0, from: 3, to: 23}, {partition: 1, from: 0, to: 10}])
    assert.deepEqual(got.get(0), span(3, 23))
    assert.deepEqual(got.get(1), span(0, 10))
    // Partition 0 asks for 3, then 10 (after two whole batches; the cut third is fetched again), then 20.
    assert.deepEqual(cluster.requests.map((r) => r.partitions.find((p) => p.partition === 0)?.fetchOffset).filter((x) => x !== undefined), [3, 10, 20])
  })

  it('after a leader move it looks the leader up again and resumes where it was: nothing lost or doubled', async () => {
    const cluster = new ScriptedCluster([0], (req, n) => (n === 2 ? [{partition: 0, errorCode: 6}] : fromLog(req, n)))
    const got = await read(cluster, [{partition: 0, from: 0, to: 30}])
    assert.deepEqual(got.get(0), span(0, 30))
    assert.ok(cluster.refreshes >= 1, 'metadata was refreshed')
  })

  it('retries a dropped connection', async () => {
    const dropped = Object.assign(new Error('Connection closed'), {name: 'KafkaJSConnectionClosedError'})
    const cluster = new ScriptedCluster([0], (req, n) => (n === 1 ? dropped : fromLog(req, n)))
    assert.deepEqual((await read(cluster, [{partition: 0, from: 0, to: 12}])).get(0), span(0, 12))
  })

  it('a failing handler ends the read with its own error and nothing is fetched again', async () => {
    const cluster = new ScriptedCluster([0], fromLog)
    const boom = new Error('store is full')
    await assert.rejects(read(cluster, [{partition: 0, from: 0, to: 30}], () => {
      throw boom
    }), (e) => e === boom)
    // The first response was being handled while one more fetch was already in flight; no retry followed.
    assert.ok(cluster.requests.length <= 2, `${cluster.requests.length} requests`)
  })

  it('a cancel during the backoff after a failure ends the read with KBK_ABORTED and sends no further fetch', async () => {
    const controller = new AbortController()
    const cluster = new ScriptedCluster([0], () => {
      setImmediate(() => controller.abort())
      return [{partition: 0, errorCode: 6}]
    })
    await assert.rejects(
      fetchRanges(cluster, TOPIC, new RangeProgress([{partition: 0, from: 0, to: 10}]), async () => undefined, limits, {...hooks, signal: controller.signal}),
      (e: unknown) => (e as {code?: string}).code === 'KBK_ABORTED',
    )
    assert.equal(cluster.requests.length, 1, 'no fetch after the cancel')
  })

  it('a batch whose CRC does not match is fetched again from its offset; records before it and the intact copy are delivered once', async () => {
    // The second batch of the first response (offsets 5..9) has one value byte flipped on the way.
    const cluster = new ScriptedCluster([0], (req, n) => {
      const answer = fromLog(req, n) as PartitionAnswer[]
      if (n === 1) {
        const records = Buffer.from(answer[0]!.records!)
        const second = records.readInt32BE(8) + 12
        records[second + 70]! ^= 0x01
        answer[0] = {...answer[0]!, records}
      }
      return answer
    })
    const got = await read(cluster, [{partition: 0, from: 0, to: 20}])
    assert.deepEqual(got.get(0), span(0, 20))
    assert.deepEqual(cluster.requests.map((r) => r.partitions[0]!.fetchOffset), [0, 5, 15])
  })

  it('a batch that fails its CRC twice at the same offset ends the read naming topic, partition and offset; nothing of it is delivered', async () => {
    const corruptFrom = (offset: number): Buffer => {
      const records = Buffer.from(logFrom(offset))
      records.writeUInt32BE((records.readUInt32BE(17) ^ 0xdeadbeef) >>> 0, 17) // the first batch's CRC
      return records
    }
    const cluster = new ScriptedCluster([0, 1], (req) =>
      req.partitions.map((p) => ({partition: p.partition, records: p.partition === 1 && p.fetchOffset >= 10 ? corruptFrom(p.fetchOffset) : logFrom(p.fetchOffset)})),
    )
    const delivered = new Map<number, number[]>()
    const error = await fetchRanges(cluster, TOPIC, new RangeProgress([{partition: 0, from: 0, to: 10}, {partition: 1, from: 0, to: 30}]), async (p, records) => {
      delivered.set(p, [...(delivered.get(p) ?? []), ...records.map((r) => r.offset)])
    }, limits, hooks).then(() => undefined, (e: unknown) => e)
    assert.ok(error instanceof KbkError, String(error))
    assert.equal(error.code, 'KBK_KAFKA_CORRUPT_BATCH')
    assert.match(error.message, /offset 10 of "orders" partition 1 failed its CRC check twice/)
    assert.deepEqual(error.details, {topic: TOPIC, partition: 1, offset: 10})
    assert.deepEqual(delivered.get(1), span(0, 10), 'everything before the damaged batch, nothing of it')
    assert.equal(cluster.requests.filter((r) => r.partitions.some((p) => p.partition === 1 && p.fetchOffset === 10)).length, 2, 'fetched once more, then given up')
  })

  it('offsets below the log start are reported as gone, not skipped', async () => {
    const cluster = new ScriptedCluster([0], () => [{partition: 0, errorCode: 1, logStartOffset: 40}])
    await assert.rejects(read(cluster, [{partition: 0, from: 10, to: 50}]), /gone: partition 0 \[10, 50\) log start 40/)
  })

  it('a batch after a jump past the position is a compaction gap, unless retention moved the log start past it', async () => {
    const compacted = new ScriptedCluster([0], (req) => [{partition: 0, records: logFrom(Math.max(req.partitions[0]!.fetchOffset, 10))}])
    assert.deepEqual((await read(compacted, [{partition: 0, from: 2, to: 20}])).get(0), span(10, 20))
    const retained = new ScriptedCluster([0], (req) => [{partition: 0, logStartOffset: 10, records: logFrom(Math.max(req.partitions[0]!.fetchOffset, 10))}])
    await assert.rejects(read(retained, [{partition: 0, from: 2, to: 20}]), /gone: partition 0 \[2, 20\) log start 10/)
  })
})
