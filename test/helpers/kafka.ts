// Kafka helpers for integration tests (any engineer's): create a uniquely named topic, produce
// records with exact keys/headers/timestamps in any codec, and read a whole topic back for
// comparison. Reading goes through kbk's own adapter, which keeps header order, duplicates and
// nulls (kafkajs' consumer object does not).
import assert from 'node:assert/strict'
import kafkajs from 'kafkajs'
import type {RecordHeader, KafkaRecord} from '../../src/kafka/port.js'
import {openKafka} from '../../src/kafka/kafkajs-adapter.js'
import {registerKafkaCodecs} from '../../src/kafka/kafkajs-codecs.js'
import {installRecordPatches, toKafkajsHeaders} from './kafkajs-records.js'
import {randomName} from './env.js'
import {pollUntil} from './poll.js'

// Tests produce with kafkajs, independently of kbk's own produce path: give it snappy, lz4 and
// zstd, and the ordered-header record encoder (duplicates, nulls, order).
registerKafkaCodecs()
installRecordPatches()

const {Kafka, CompressionTypes, logLevel, Partitioners} = kafkajs

export type TestCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

export interface TestRecord {
  partition?: number
  key: Buffer | string | null
  /** null: a tombstone. */
  value: Buffer | string | null
  headers?: RecordHeader[]
  timestamp?: number
}

export interface ConsumedRecord extends KafkaRecord {
  partition: number
}

const quiet = {logLevel: logLevel.NOTHING}

export function testKafka(bootstrap: string): InstanceType<typeof Kafka> {
  return new Kafka({brokers: [bootstrap], clientId: 'kbk-test', connectionTimeout: 3000, retry: {retries: 3}, ...quiet})
}

/**
 * Creates a topic named `<prefix>-<random>` and returns its name. `retention.ms` defaults to -1:
 * Kafka deletes by record timestamp, so records with old timestamps (PITR tests) would otherwise
 * vanish at the broker's next retention check.
 */
export async function createTestTopic(bootstrap: string, options: {partitions?: number; configs?: Record<string, string>; prefix?: string} = {}): Promise<string> {
  const name = randomName(options.prefix ?? 'kbk-test')
  const admin = testKafka(bootstrap).admin()
  await admin.connect()
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{topic: name, numPartitions: options.partitions ?? 1, replicationFactor: 1, configEntries: Object.entries({'retention.ms': '-1', ...options.configs}).map(([n, value]) => ({name: n, value}))}],
    })
  } finally {
    await admin.disconnect()
  }
  return name
}

/**
 * Deletes a topic and waits (up to 60 s) until the broker's metadata no longer lists it: the
 * deletion is acknowledged once the controller has committed it, and reaches the broker after.
 */
export async function deleteTestTopic(bootstrap: string, topic: string): Promise<void> {
  const admin = testKafka(bootstrap).admin()
  await admin.connect()
  try {
    await admin.deleteTopics({topics: [topic]})
    await pollUntil(() => admin.listTopics(), (topics) => !topics.includes(topic))
  } finally {
    await admin.disconnect()
  }
}

const codecs: Record<TestCompression, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
}

const buf = (v: Buffer | string | null): Buffer | null => (v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(v))

/**
 * Options for every kafkajs producer in the tests: idempotent (one in-flight request, acks=all),
 * so a retry after a timeout never appends a record twice and counts stay exact however loaded
 * the machine is. Tests build producers with `kafka.producer(testProducerOptions())`.
 */
export function testProducerOptions<T extends object>(extra?: T): {allowAutoTopicCreation: false; idempotent: true; maxInFlightRequests: 1} & T {
  return {allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1, ...(extra ?? ({} as T))}
}

/**
 * Produces records in order with plain kafkajs (not kbk's produce path), in one batch per
 * partition, compressed with `compression`. Records without a partition go to partition 0.
 */
export async function produceTestRecords(bootstrap: string, topic: string, records: TestRecord[], options: {compression?: TestCompression} = {}): Promise<void> {
  // Importing the adapter (above) registered snappy/lz4/zstd and the ordered-header encoder.
  // Idempotent: a request that times out on a loaded machine is retried with its sequence
  // numbers, and the broker keeps one copy (a plain producer appended the retry again).
  const producer = testKafka(bootstrap).producer(testProducerOptions({createPartitioner: Partitioners.DefaultPartitioner}))
  await producer.connect()
  try {
    await producer.send({
      topic,
      acks: -1,
      compression: codecs[options.compression ?? 'none'],
      messages: records.map((r) => ({
        partition: r.partition ?? 0,
        key: buf(r.key),
        value: buf(r.value),
        headers: toKafkajsHeaders(r.headers ?? []),
        ...(r.timestamp !== undefined ? {timestamp: String(r.timestamp)} : {}),
      })),
    })
  } finally {
    await producer.disconnect()
  }
}

/** Every committed record of the topic, ordered by partition then offset. */
export async function consumeAll(bootstrap: string, topic: string): Promise<ConsumedRecord[]> {
  const kafka = openKafka({brokers: [bootstrap], clientId: 'kbk-test'}, {name: 'test', logger: {warn: () => undefined, error: () => undefined}})
  try {
    const marks = await kafka.watermarks(topic)
    const out: ConsumedRecord[] = []
    await kafka.readRanges(topic, marks.map((m) => ({partition: m.partition, from: m.low, to: m.high})), async (partition, records) => {
      for (const r of records) out.push({...r, partition})
    })
    return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
  } finally {
    await kafka.close()
  }
}

/** Records a topic holds now (sum of high watermarks); 0 while it does not exist yet. */
export async function recordsOnTopic(admin: ReturnType<InstanceType<typeof Kafka>['admin']>, topic: string): Promise<number> {
  if (!(await admin.listTopics()).includes(topic)) return 0
  return (await admin.fetchTopicOffsets(topic).catch(() => [])).reduce((n, o) => n + Number(o.high), 0)
}

/**
 * Waits until `topic` exists and holds at least one record, polling every 10 ms for at most `ms`
 * of wall time (a bound by time, not by attempts: a loaded machine makes each poll slower, not the
 * process under test faster). A just-created topic may have no leader yet: that is "not yet".
 * Returns whether records appeared.
 */
export async function waitForFirstRecords(admin: ReturnType<InstanceType<typeof Kafka>['admin']>, topic: string, ms = 60_000): Promise<boolean> {
  return (await pollUntil(() => recordsOnTopic(admin, topic), (n) => n > 0, {ms, every: 10})) > 0
}

/**
 * Waits (up to 60 s) until the topic's last stable offsets are `ends` (index = partition), and fails
 * naming what it last saw if they never are. A transaction's commit or abort returns once the
 * coordinator has logged it; the markers reach the partitions after that, and until then the
 * stable end stays where the transaction began.
 */
export async function waitForStableEnds(bootstrap: string, topic: string, ends: readonly number[]): Promise<void> {
  const admin = testKafka(bootstrap).admin()
  await admin.connect()
  try {
    // The admin client lists offsets read_committed: `high` is the last stable offset.
    const read = async (): Promise<number[]> => {
      const offsets = await admin.fetchTopicOffsets(topic).catch(() => [])
      return ends.map((_, p) => Number(offsets.find((o) => o.partition === p)?.high ?? -1))
    }
    const seen = await pollUntil(read, (highs) => highs.every((h, p) => h === ends[p]))
    assert.deepEqual(seen, [...ends], `the stable ends of ${topic} after its transactions' markers`)
  } finally {
    await admin.disconnect()
  }
}

/**
 * Asserts that every consumed record is the one produced at its partition and offset: key, value,
 * headers (order, duplicates, nulls) and timestamp. `sent[p][o]` is what went to partition p at offset o.
 */
export function assertConsumedAsSent(got: readonly ConsumedRecord[], sent: ReadonlyArray<ReadonlyArray<{key: Buffer | null; value: Buffer | null; headers: RecordHeader[]; timestamp: number}>>): void {
  for (const g of got) {
    const want = sent[g.partition]?.[g.offset]
    assert.ok(want, `partition ${g.partition} offset ${g.offset} was never produced`)
    assert.deepEqual(g.key, want.key)
    assert.deepEqual(g.value, want.value)
    assert.deepEqual(g.headers, want.headers)
    assert.equal(g.timestamp, want.timestamp)
  }
}
