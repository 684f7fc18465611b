// The idempotent producer's bookkeeping (kafkajs-produce.ts), against scripted brokers that keep
// a replicated log per partition with Kafka's duplicate detection: a batch whose producer id and
// sequence match the last one appended is acknowledged with the original offset and not appended
// again; a sequence other than the next expected one is OUT_OF_ORDER_SEQUENCE_NUMBER. Faults
// (a partition's error, an answer lost after the append, a leader move) are injected per
// request. The real broker's deduplication of a byte-identical resend is checked in
// test/integration/kafka-produce.test.ts.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {DirectProducer, isLoopback, type ProduceBroker, type ProduceCluster} from '../../../src/kafka/kafkajs-produce.js'
import {KbkError} from '../../../src/errors.js'
import {batchesOf, decodePartition} from '../../../src/kafka/record-batch.js'
import {kafkaDecompressors} from '../../../src/kafka/kafkajs-codecs.js'
import {parseProduceRequest, produceResponse, type ProduceRequestView} from '../../helpers/kafka-wire.js'

const TOPIC = 'restored'
const PRODUCER_ID = 9001n
const EPOCH = 2

interface PartitionLog {
  batches: Buffer[]
  nextOffset: number
  nextSequence: number
  last?: {sequence: number; count: number; offset: number}
}

interface Sent {
  broker: number
  request: ProduceRequestView
}

/** What a broker does with request n (1-based, over all brokers): a per-partition error, or lose the answer after appending. */
type Fault = (broker: number, n: number, req: ProduceRequestView) => {errors?: Record<number, number>; dropAnswer?: boolean; moveLeaders?: Record<number, number>} | undefined

class ScriptedBrokers implements ProduceCluster {
  refreshes = 0
  duplicates = 0
  readonly sent: Sent[] = []
  readonly logs = new Map<number, PartitionLog>()
  /** partition -> leader; moves wait for a metadata refresh, as a client only learns of them then. */
  readonly leaders = new Map<number, number>()
  #moved = new Map<number, number>()

  constructor(
    partitions: number[],
    private readonly fault: Fault = () => undefined,
  ) {
    for (const p of partitions) {
      this.leaders.set(p, 1)
      this.logs.set(p, {batches: [], nextOffset: 0, nextSequence: 0})
    }
  }

  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async addTargetTopic(): Promise<void> {}
  async refreshMetadata(): Promise<void> {
    this.refreshes++
    for (const [p, l] of this.#moved) this.leaders.set(p, l)
    this.#moved.clear()
  }
  findTopicPartitionMetadata(): {partitionId: number; leader: number}[] {
    return [...this.leaders].map(([partitionId, leader]) => ({partitionId, leader}))
  }
  async findControllerBroker(): Promise<ProduceBroker> {
    return this.#broker(1)
  }
  async findBroker({nodeId}: {nodeId: number}): Promise<ProduceBroker> {
    return this.#broker(nodeId)
  }

  /** The brokers' address as their connections say (the producer picks its codec by it). */
  host: string | undefined
  /** The newest Produce version the brokers speak. */
  maxProduceVersion = 9

  #broker(id: number): ProduceBroker {
    return {
      versions: {0: {minVersion: 0, maxVersion: this.maxProduceVersion}},
      initProducerId: async () => ({producerId: String(PRODUCER_ID), producerEpoch: EPOCH}),
      connectionPool: {
        // Only the host: the producer then sends through `send` below.
        getConnectionByRequest: async () => (this.host === undefined ? undefined : {host: this.host}),
        send: async ({request, response}) => {
          const body = ((await (request as {encode(): Promise<{buffer: Buffer}>}).encode()).buffer)
          const req = parseProduceRequest(body)
          this.sent.push({broker: id, request: req})
          const f = this.fault(id, this.sent.length, req)
          for (const [p, l] of Object.entries(f?.moveLeaders ?? {})) this.#moved.set(Number(p), l)
          const answers = req.partitions.map((p) => {
            const forced = f?.errors?.[p.partition]
            if (forced !== undefined) return {partition: p.partition, errorCode: forced}
            if (this.leaders.get(p.partition) !== id) return {partition: p.partition, errorCode: 6} // NOT_LEADER_OR_FOLLOWER
            return {partition: p.partition, ...this.#append(p.partition, p)}
          })
          if (f?.dropAnswer) throw Object.assign(new Error('Connection closed'), {name: 'KafkaJSConnectionClosedError', retriable: true})
          return response.parse(await response.decode(produceResponse(TOPIC, answers)))
        },
      },
    }
  }

  /** Kafka's idempotence check (ProducerStateManager), for one producer and the last batch. */
  #append(partition: number, p: ProduceRequestView['partitions'][number]): {errorCode: number; baseOffset?: number} {
    const log = this.logs.get(partition)!
    if (log.last && p.baseSequence === log.last.sequence && p.records === log.last.count) {
      this.duplicates++
      return {errorCode: 0, baseOffset: log.last.offset}
    }
    if (p.baseSequence !== log.nextSequence) return {errorCode: 45} // OUT_OF_ORDER_SEQUENCE_NUMBER
    const offset = log.nextOffset
    const stored = Buffer.from(p.batch)
    stored.writeBigInt64BE(BigInt(offset), 0)
    log.batches.push(stored)
    log.last = {sequence: p.baseSequence, count: p.records, offset}
    log.nextOffset += p.records
    log.nextSequence += p.records
    return {errorCode: 0, baseOffset: offset}
  }

  /** The values in partition `p`'s log, in offset order. */
  async values(p: number): Promise<string[]> {
    const set = Buffer.concat(this.logs.get(p)!.batches)
    if (set.length === 0) return []
    assert.ok(batchesOf(set).length > 0)
    return (await decodePartition(set, 0, [], kafkaDecompressors)).records.map((r) => r.value!.toString())
  }

  /** Every batch sent for partition `p`, in order. */
  batchesSent(p: number): Buffer[] {
    return this.sent.flatMap((s) => s.request.partitions.filter((x) => x.partition === p).map((x) => x.batch))
  }
}

const recs = (prefix: string, n: number): {timestamp: number; key: Buffer; value: Buffer; headers: []}[] =>
  Array.from({length: n}, (_, i) => ({timestamp: 1_700_000_000_000 + i, key: Buffer.from(`k${i}`), value: Buffer.from(`${prefix}${i}`), headers: []}))
const names = (prefix: string, n: number): string[] => Array.from({length: n}, (_, i) => `${prefix}${i}`)

describe('DirectProducer: idempotent resends against scripted brokers', () => {
  it('keeps one sequence per partition across calls, under one producer id and epoch, acks=all', async () => {
    const brokers = new ScriptedBrokers([0, 1])
    const producer = new DirectProducer(brokers)
    assert.deepEqual(await producer.producePartitions(TOPIC, [{partition: 0, records: recs('a', 3)}, {partition: 1, records: recs('b', 2)}]), [0, 0])
    assert.deepEqual(await producer.producePartitions(TOPIC, [{partition: 1, records: recs('c', 4)}, {partition: 0, records: recs('d', 2)}]), [2, 3])
    assert.deepEqual(await producer.producePartitions(TOPIC, [{partition: 1, records: recs('e', 1)}, {partition: 0, records: []}]), [6, -1])
    assert.deepEqual(brokers.batchesSent(0).map((b) => b.readInt32BE(53)), [0, 3])
    assert.deepEqual(brokers.batchesSent(1).map((b) => b.readInt32BE(53)), [0, 2, 6])
    for (const s of brokers.sent) {
      assert.equal(s.request.acks, -1)
      for (const p of s.request.partitions) assert.deepEqual([p.producerId, p.producerEpoch], [PRODUCER_ID, EPOCH])
    }
    assert.deepEqual(await brokers.values(1), [...names('b', 2), ...names('c', 4), ...names('e', 1)])
    assert.equal(brokers.duplicates, 0)
  })

  it('partial success: only the failed partition is resent, byte for byte; the one that succeeded is not sent again', async () => {
    const brokers = new ScriptedBrokers([0, 1], (_b, n) => (n === 1 ? {errors: {1: 7}} : undefined)) // REQUEST_TIMED_OUT for partition 1
    const producer = new DirectProducer(brokers)
    assert.deepEqual(await producer.producePartitions(TOPIC, [{partition: 0, records: recs('a', 3)}, {partition: 1, records: recs('b', 2)}]), [0, 0])
    assert.equal(brokers.sent.length, 2)
    assert.deepEqual(brokers.sent[1]!.request.partitions.map((p) => p.partition), [1])
    assert.deepEqual(brokers.batchesSent(1)[1], brokers.batchesSent(1)[0], 'the resend is the same bytes')
    assert.deepEqual(await brokers.values(0), names('a', 3))
    assert.deepEqual(await brokers.values(1), names('b', 2))
    // Both sequences moved on by what was appended.
    await producer.producePartitions(TOPIC, [{partition: 0, records: recs('c', 1)}, {partition: 1, records: recs('d', 1)}])
    assert.deepEqual([brokers.batchesSent(0).at(-1)!.readInt32BE(53), brokers.batchesSent(1).at(-1)!.readInt32BE(53)], [3, 2])
  })

  it('an answer lost after the broker appended: the byte-identical resend is recognised as a duplicate; one copy, the original offsets', async () => {
    const brokers = new ScriptedBrokers([0, 1], (_b, n) => (n === 2 ? {dropAnswer: true} : undefined))
    const producer = new DirectProducer(brokers)
    await producer.producePartitions(TOPIC, [{partition: 0, records: recs('a', 2)}])
    assert.deepEqual(await producer.producePartitions(TOPIC, [{partition: 0, records: recs('b', 3)}, {partition: 1, records: recs('c', 2)}]), [2, 0])
    assert.equal(brokers.duplicates, 2, 'both partitions were resent and deduplicated')
    assert.deepEqual(brokers.batchesSent(0).slice(1, 3)[0], brokers.batchesSent(0)[2])
    assert.deepEqual(await brokers.values(0), [...names('a', 2), ...names('b', 3)])
    assert.deepEqual(await brokers.values(1), names('c', 2))
    assert.deepEqual(await producer.producePartitions(TOPIC, [{partition: 0, records: recs('d', 1)}]), [5])
  })

  it('a leader change mid-restore: the batch the old leader appended but never acknowledged reaches the new leader byte for byte and is not appended twice', async () => {
    // Request 2 goes to broker 1, which appends (the log is replicated), loses leadership of
    // partition 0 to broker 2 and the connection before answering.
    const brokers = new ScriptedBrokers([0, 1], (b, n) => (n === 2 ? {dropAnswer: true, moveLeaders: {0: 2}} : undefined))
    const producer = new DirectProducer(brokers)
    await producer.producePartitions(TOPIC, [{partition: 0, records: recs('a', 2)}, {partition: 1, records: recs('x', 1)}])
    assert.deepEqual(await producer.producePartitions(TOPIC, [{partition: 0, records: recs('b', 2)}, {partition: 1, records: recs('y', 1)}]), [2, 1])
    assert.ok(brokers.refreshes >= 1, 'metadata was refreshed')
    const toNew = brokers.sent.filter((s) => s.broker === 2)
    assert.deepEqual(toNew.map((s) => s.request.partitions.map((p) => p.partition)), [[0]])
    assert.deepEqual(toNew[0]!.request.partitions[0]!.batch, brokers.sent[1]!.request.partitions.find((p) => p.partition === 0)!.batch)
    assert.deepEqual(await brokers.values(0), [...names('a', 2), ...names('b', 2)])
    assert.deepEqual(await brokers.values(1), ['x0', 'y0'])
    // Later batches go to the new leader and continue the sequence.
    await producer.producePartitions(TOPIC, [{partition: 0, records: recs('c', 1)}])
    assert.deepEqual([brokers.sent.at(-1)!.broker, brokers.batchesSent(0).at(-1)!.readInt32BE(53)], [2, 4])
  })

  it('OUT_OF_ORDER_SEQUENCE_NUMBER fails the call naming topic and partition, and is never resent (a resend could duplicate)', async () => {
    const brokers = new ScriptedBrokers([0], (_b, n) => (n === 2 ? {errors: {0: 45}} : undefined))
    const producer = new DirectProducer(brokers)
    await producer.producePartitions(TOPIC, [{partition: 0, records: recs('a', 2)}])
    const error = await producer.producePartitions(TOPIC, [{partition: 0, records: recs('b', 2)}]).then(() => undefined, (e: unknown) => e)
    assert.ok(error instanceof KbkError, String(error))
    assert.equal(error.code, 'KBK_KAFKA_ERROR')
    assert.match(error.message, /partition 0 of "restored".*out of order sequence/i)
    assert.equal(brokers.sent.length, 2, 'no resend')
    assert.deepEqual(await brokers.values(0), names('a', 2))
  })

  it('a fatal error on one partition still records what the others appended: their next batch continues the sequence, never reuses it', async () => {
    // Reusing an appended batch's sequence for other records would make the broker acknowledge
    // them as a "duplicate" without writing them: records silently lost.
    const brokers = new ScriptedBrokers([0, 1], (_b, n) => (n === 1 ? {errors: {0: 45}} : undefined))
    const producer = new DirectProducer(brokers)
    await assert.rejects(producer.producePartitions(TOPIC, [{partition: 0, records: recs('a', 2)}, {partition: 1, records: recs('b', 2)}]), /partition 0/)
    assert.deepEqual(await brokers.values(1), names('b', 2))
    assert.deepEqual(await producer.producePartitions(TOPIC, [{partition: 1, records: recs('c', 2)}]), [2])
    assert.deepEqual(await brokers.values(1), [...names('b', 2), ...names('c', 2)])
    assert.equal(brokers.duplicates, 0)
  })
})

describe('DirectProducer: the codec of produced batches', () => {
  it('auto: uncompressed to a broker on the loopback interface, lz4 to any other; the records the same', async () => {
    for (const [host, codec] of [['127.0.0.1', 0], ['localhost', 0], ['kafka-1.prod.internal', 3], ['10.0.0.7', 3]] as const) {
      const brokers = new ScriptedBrokers([0])
      brokers.host = host
      const producer = new DirectProducer(brokers)
      // Repetitive values: lz4 makes them smaller, so an lz4 batch says so.
      await producer.producePartitions(TOPIC, [{partition: 0, records: recs('same-value-same-value', 50)}])
      assert.deepEqual(brokers.batchesSent(0).map((b) => b.readInt16BE(21) & 7), [codec], host)
      assert.deepEqual(await brokers.values(0), names('same-value-same-value', 50))
    }
    const forced = new ScriptedBrokers([0])
    forced.host = '127.0.0.1'
    await new DirectProducer(forced, 'lz4').producePartitions(TOPIC, [{partition: 0, records: recs('same-value-same-value', 50)}])
    assert.deepEqual(forced.batchesSent(0).map((b) => b.readInt16BE(21) & 7), [3], 'an explicit codec wins')
  })

  it("a call's compression (a restore's `compression`) wins over the producer's default, both ways", async () => {
    for (const [host, compression, codec] of [['127.0.0.1', 'lz4', 3], ['kafka-1.prod.internal', 'none', 0], ['10.0.0.7', 'auto', 3]] as const) {
      const brokers = new ScriptedBrokers([0])
      brokers.host = host
      const producer = new DirectProducer(brokers)
      await producer.producePartitions(TOPIC, [{partition: 0, records: recs('same-value-same-value', 50)}], {compression})
      assert.deepEqual(brokers.batchesSent(0).map((b) => b.readInt16BE(21) & 7), [codec], `${host} ${compression}`)
      assert.deepEqual(await brokers.values(0), names('same-value-same-value', 50))
    }
  })

  it('zstd: batches compressed on the worker pool, the records the same; a broker older than Kafka 2.1 gets nothing', async () => {
    const brokers = new ScriptedBrokers([0])
    brokers.host = '127.0.0.1'
    await new DirectProducer(brokers).producePartitions(TOPIC, [{partition: 0, records: recs('same-value-same-value', 50)}], {compression: 'zstd'})
    assert.deepEqual(brokers.batchesSent(0).map((b) => b.readInt16BE(21) & 7), [4])
    assert.deepEqual(await brokers.values(0), names('same-value-same-value', 50))

    const old = new ScriptedBrokers([0])
    old.maxProduceVersion = 6
    await assert.rejects(new DirectProducer(old).producePartitions(TOPIC, [{partition: 0, records: recs('a', 3)}], {compression: 'zstd'}), (e: unknown) => {
      assert.ok(e instanceof KbkError)
      assert.equal(e.code, 'KBK_KAFKA_UNSUPPORTED')
      assert.match(e.message, /zstd-compressed batches need v7 \(Kafka 2\.1 or newer\)/)
      assert.match(e.suggestion ?? '', /compression` to lz4/)
      return true
    })
    assert.deepEqual(old.batchesSent(0), [], 'nothing was sent')
  })

  it('knows loopback addresses', () => {
    for (const h of ['localhost', 'LOCALHOST', 'kafka.localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1']) assert.equal(isLoopback(h), true, h)
    for (const h of ['10.0.0.1', '128.0.0.1', 'kafka', 'localhost.example.com', '::2', '1127.0.0.1', '']) assert.equal(isLoopback(h), false, h)
  })
})
