// An in-memory KafkaPort: a TEST DOUBLE for fast unit tests of the executors (apply, restore,
// refresh) only. It models what the port promises — partitions with offsets, log start and a
// last stable offset, read ranges with gaps, idempotent appends, group offsets — not Kafka itself.
// Integration tests use the real kafkajs adapter against real brokers; nothing that crosses a
// wire is tested with this.
import {KbkError} from '../../src/errors.js'
import type {
  GroupOffsets,
  KafkaPort,
  KafkaRecord,
  PartitionEncoded,
  PartitionRecords,
  PartitionWatermarks,
  ProduceRecord,
  ReadRange,
  RecordBatchHandler,
  RecordHeader,
  TopicInfo,
} from '../../src/kafka/port.js'
import {finishBatch} from '../../src/kafka/produce-batch.js'
import {decodePartition} from '../../src/kafka/record-batch.js'

interface Partition {
  /** Records still on the "broker", in offset order; offsets may have gaps (control records, compaction). */
  records: KafkaRecord[]
  /** Next offset to be written (log end). */
  end: number
  /** Log start: offsets below it were deleted by retention. */
  logStart: number
  /** Set while a transaction is open: reads and watermarks stop here (read_committed). */
  lastStable?: number
}

interface Topic {
  info: TopicInfo
  partitions: Partition[]
}

/** A record to seed a topic with; omitted fields get defaults. */
export interface SeedRecord {
  key?: Buffer | string | null
  value?: Buffer | string | null
  timestamp?: number
  headers?: RecordHeader[]
  /** Skip this many offsets before the record (a control record or an aborted transaction's data). */
  gapBefore?: number
}

export interface MemoryKafkaOptions {
  /** Records handed to one onBatch call at most (default 100): small values exercise batching. */
  batchRecords?: number
  /** The clock for log-append timestamps and default seed timestamps. */
  now?: () => number
}

export class MemoryKafka implements KafkaPort {
  readonly topics = new Map<string, Topic>()
  /** groupId -> topic -> partition -> committed offset. */
  readonly groups = new Map<string, Record<string, Record<number, number>>>()
  /** Groups with members: their offsets cannot be committed. */
  readonly activeGroups = new Set<string>()
  defaults: Record<string, string> = {'retention.ms': '604800000', 'cleanup.policy': 'delete', 'message.timestamp.type': 'CreateTime'}
  /** Counts of calls, so a test can assert that a read-only step wrote nothing. */
  readonly calls = {createTopic: 0, produce: 0, commitGroupOffsets: 0, readRanges: 0}
  /** Test hook run before each produce request is appended; throw from it to fail that request (nothing is appended). */
  beforeProduce?: (topic: string, batches: PartitionRecords[]) => void
  /** Test hook run before each batch handed to readRanges' handler. */
  beforeBatch?: (topic: string, partition: number, records: KafkaRecord[]) => void
  closed = false
  private readonly batchRecords: number
  private readonly now: () => number

  constructor(options: MemoryKafkaOptions = {}) {
    this.batchRecords = options.batchRecords ?? 100
    this.now = options.now ?? (() => Date.now())
  }

  // ---- test set-up ----

  /** Create a topic directly (not counted as a createTopic call). */
  addTopic(name: string, partitions: number, configs: Record<string, string> = {}): this {
    this.topics.set(name, {info: {name, partitions, configs: {...configs}}, partitions: Array.from({length: partitions}, () => ({records: [], end: 0, logStart: 0}))})
    return this
  }

  /** Append records to one partition as a producer would (not counted as a produce call); returns their offsets. */
  seed(topic: string, partition: number, records: SeedRecord[]): number[] {
    const p = this.partition(topic, partition)
    return records.map((r) => {
      p.end += r.gapBefore ?? 0
      const rec: KafkaRecord = {
        offset: p.end++,
        timestamp: r.timestamp ?? this.now(),
        timestampType: 'create',
        key: toBuf(r.key ?? null),
        value: r.value === undefined ? Buffer.from('') : toBuf(r.value),
        headers: (r.headers ?? []).map((h) => ({key: h.key, value: h.value === null ? null : Buffer.from(h.value)})),
      }
      p.records.push(rec)
      return rec.offset
    })
  }

  /** Retention deleted everything below `offset`. */
  deleteBefore(topic: string, partition: number, offset: number): void {
    const p = this.partition(topic, partition)
    p.logStart = Math.max(p.logStart, Math.min(offset, p.end))
    p.records = p.records.filter((r) => r.offset >= p.logStart)
  }

  /** An open transaction from the current log end: watermarks and reads stop at it until `commitTransaction`. */
  openTransaction(topic: string, partition: number): void {
    const p = this.partition(topic, partition)
    p.lastStable = p.end
  }

  commitTransaction(topic: string, partition: number): void {
    delete this.partition(topic, partition).lastStable
  }

  /** Every record of a topic, partition by partition (what a consumer from the log start would see). */
  records(topic: string): KafkaRecord[][] {
    const t = this.requireTopic(topic, 'reading')
    return t.partitions.map((p) => p.records.map(cloneRecord))
  }

  deleteTopic(name: string): void {
    this.topics.delete(name)
  }

  // ---- the port ----

  async listTopics(): Promise<string[]> {
    return [...this.topics.keys()].sort()
  }

  async describeTopics(topics: string[]): Promise<TopicInfo[]> {
    return topics.map((name) => {
      const t = this.requireTopic(name, 'describing topics')
      return {name, partitions: t.info.partitions, configs: Object.fromEntries(Object.entries(t.info.configs).sort(([a], [b]) => a.localeCompare(b)))}
    })
  }

  async watermarks(topic: string): Promise<PartitionWatermarks[]> {
    const t = this.requireTopic(topic, 'reading offsets')
    return t.partitions.map((p, partition) => ({partition, low: p.logStart, high: p.lastStable ?? p.end}))
  }

  async logSizes(topics: string[]): Promise<Record<string, Record<number, number>>> {
    const out: Record<string, Record<number, number>> = {}
    for (const name of topics) {
      const t = this.topics.get(name)
      if (!t) continue // the real adapter leaves out what it cannot describe
      out[name] = Object.fromEntries(t.partitions.map((p, i) => [i, p.records.reduce((n, r) => n + recordBytes(r), 0)]))
    }
    return out
  }

  async topicDefaults(): Promise<Record<string, string>> {
    return {...this.defaults}
  }

  async groupOffsets(groupIds: string[]): Promise<GroupOffsets[]> {
    return groupIds.map((groupId) => ({groupId, state: this.activeGroups.has(groupId) ? 'Stable' : this.groups.has(groupId) ? 'Empty' : 'Dead', offsets: structuredClone(this.groups.get(groupId) ?? {})}))
  }

  /** Members of active groups, as tests set them (default: one member named after the group). */
  readonly groupMembers = new Map<string, Array<{memberId: string; clientId: string; host: string}>>()

  async describeGroups(groupIds: string[]): Promise<Array<{groupId: string; state: string; members: Array<{memberId: string; clientId: string; host: string}>}>> {
    return groupIds.map((groupId) => {
      const active = this.activeGroups.has(groupId)
      const members = active ? structuredClone(this.groupMembers.get(groupId) ?? [{memberId: `${groupId}-member-1`, clientId: groupId, host: '/127.0.0.1'}]) : []
      return {groupId, state: active ? 'Stable' : this.groups.has(groupId) ? 'Empty' : 'Dead', members}
    })
  }

  async listGroups(): Promise<string[]> {
    return [...new Set([...this.groups.keys(), ...this.activeGroups])].sort()
  }

  async readRanges(topic: string, ranges: ReadRange[], onBatch: RecordBatchHandler, options: {signal?: AbortSignal} = {}): Promise<void> {
    this.calls.readRanges++
    const todo = ranges.filter((r) => r.to > r.from)
    if (todo.length === 0) return
    if (options.signal?.aborted) throw aborted(topic)
    const t = this.requireTopic(topic, 'reading')
    for (const r of todo) {
      const p = t.partitions[r.partition]
      if (!p) throw new KbkError('KBK_KAFKA_NO_PARTITION', `Topic "${topic}" has no partition ${r.partition}.`, {kind: 'environment'})
      if (r.from < p.logStart) throw offsetGone(topic, r.partition, r.from, r.to, p.logStart)
      if (r.to > (p.lastStable ?? p.end)) throw new KbkError('KBK_KAFKA_RANGE_PAST_END', `Partition ${r.partition} of "${topic}" ends at offset ${p.lastStable ?? p.end}, before the planned ${r.to}.`, {kind: 'environment'})
    }
    // Partition by partition, in the order given; the handler's backpressure is awaited.
    for (const r of todo) {
      let position = r.from
      while (position < r.to) {
        if (options.signal?.aborted) throw aborted(topic)
        const current = this.topics.get(topic)
        if (current !== t) throw new KbkError('KBK_KAFKA_NO_TOPIC', `Topic "${topic}" was deleted during the read.`, {kind: 'environment'})
        const p = t.partitions[r.partition]!
        if (position < p.logStart) throw offsetGone(topic, r.partition, position, r.to, p.logStart)
        const batch = p.records.filter((rec) => rec.offset >= position && rec.offset < r.to).slice(0, this.batchRecords).map(cloneRecord)
        // The batch's last record, or the end of the range when only gaps remain.
        const next = batch.length === this.batchRecords ? batch[batch.length - 1]!.offset + 1 : r.to
        this.beforeBatch?.(topic, r.partition, batch)
        await onBatch(r.partition, batch, next)
        position = next
      }
    }
  }

  async createTopic(topic: TopicInfo): Promise<void> {
    this.calls.createTopic++
    if (this.topics.has(topic.name)) {
      throw new KbkError('KBK_KAFKA_TOPIC_EXISTS', `Topic "${topic.name}" already exists on cluster "memory".`, {kind: 'conflict', details: {topic: topic.name}})
    }
    this.addTopic(topic.name, topic.partitions, topic.configs)
  }

  async produce(topic: string, records: ProduceRecord[]): Promise<number[]> {
    if (records.length === 0) return []
    // Order is kept per partition; consecutive runs of one partition become one entry.
    const offsets: number[] = []
    for (const r of records) {
      const [first] = await this.producePartitions(topic, [{partition: r.partition, records: [r]}])
      offsets.push(first!)
    }
    return offsets
  }

  async producePartitions(topic: string, batches: PartitionRecords[]): Promise<number[]> {
    if (batches.length === 0) return []
    this.calls.produce++
    const t = this.requireTopic(topic, 'producing')
    const seen = new Set<number>()
    for (const b of batches) {
      if (seen.has(b.partition)) throw new Error(`producePartitions: partition ${b.partition} listed twice`)
      seen.add(b.partition)
      if (!t.partitions[b.partition]) throw new KbkError('KBK_KAFKA_NO_PARTITION', `Topic "${topic}" has no partition ${b.partition}.`, {kind: 'environment'})
    }
    // A failure injected here appends nothing: the idempotent producer's "retry never duplicates".
    this.beforeProduce?.(topic, batches)
    const logAppend = (t.info.configs['message.timestamp.type'] ?? this.defaults['message.timestamp.type']) === 'LogAppendTime'
    return batches.map((b) => {
      const p = t.partitions[b.partition]!
      const first = p.end
      for (const r of b.records) {
        p.records.push({
          offset: p.end++,
          timestamp: logAppend ? this.now() : r.timestamp,
          timestampType: logAppend ? 'log-append' : 'create',
          key: r.key === null ? null : Buffer.from(r.key),
          value: r.value === null ? null : Buffer.from(r.value),
          headers: r.headers.map((h) => ({key: h.key, value: h.value === null ? null : Buffer.from(h.value)})),
        })
      }
      return first
    })
  }

  /**
   * The restore's fast path: each batch is finished as kbk's producer finishes it (header, CRC) and
   * decoded back with kbk's own fetch decoder, so what lands here is what a broker would store.
   */
  async produceEncoded(topic: string, batches: PartitionEncoded[]): Promise<number[]> {
    const decoded: PartitionRecords[] = []
    for (const b of batches) {
      // finishBatch writes the header in place: the caller's buffer stays as it was.
      const batch = await finishBatch({...b.records, buf: Buffer.from(b.records.buf)}, {producerId: 1n, producerEpoch: 0}, 0)
      const {records} = await decodePartition(batch, 0, [], {})
      if (records.length !== b.records.count) throw new Error(`produceEncoded: a batch of ${b.records.count} record(s) decoded to ${records.length}`)
      decoded.push({partition: b.partition, records: records.map((r) => ({timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers}))})
    }
    return this.producePartitions(topic, decoded)
  }

  async commitGroupOffsets(groupId: string, topic: string, offsets: {partition: number; offset: number}[]): Promise<void> {
    if (offsets.length === 0) return
    this.calls.commitGroupOffsets++
    if (this.activeGroups.has(groupId)) {
      throw new KbkError('KBK_KAFKA_GROUP_ACTIVE', `Consumer group "${groupId}" on cluster "memory" has active members, so its offsets cannot be set.`, {kind: 'conflict', retriable: true})
    }
    this.requireTopic(topic, 'committing offsets')
    const g = this.groups.get(groupId) ?? {}
    const perTopic = (g[topic] ??= {})
    for (const o of offsets) perTopic[o.partition] = o.offset
    this.groups.set(groupId, g)
  }

  async close(): Promise<void> {
    this.closed = true
  }

  // ---- internals ----

  private requireTopic(name: string, operation: string): Topic {
    const t = this.topics.get(name)
    if (!t) {
      throw new KbkError('KBK_KAFKA_NO_TOPIC', `Topic "${name}" does not exist on cluster "memory" (${operation}).`, {kind: 'environment', details: {topic: name}})
    }
    return t
  }

  private partition(topic: string, partition: number): Partition {
    const p = this.requireTopic(topic, 'seeding').partitions[partition]
    if (!p) throw new Error(`no partition ${partition} of ${topic}`)
    return p
  }
}

function toBuf(v: Buffer | string | null): Buffer | null {
  return v === null ? null : Buffer.isBuffer(v) ? Buffer.from(v) : Buffer.from(v)
}

function cloneRecord(r: KafkaRecord): KafkaRecord {
  return {...r, key: r.key && Buffer.from(r.key), value: r.value && Buffer.from(r.value), headers: r.headers.map((h) => ({key: h.key, value: h.value && Buffer.from(h.value)}))}
}

function recordBytes(r: KafkaRecord): number {
  return (r.key?.length ?? 0) + (r.value?.length ?? 0) + 70
}

function aborted(topic: string): KbkError {
  return new KbkError('KBK_ABORTED', `Reading "${topic}" was cancelled.`, {kind: 'user'})
}

function offsetGone(topic: string, partition: number, from: number, to: number, low: number): KbkError {
  return new KbkError('KBK_KAFKA_OFFSET_GONE', `Offsets ${from}..${Math.min(low, to) - 1} of "${topic}" partition ${partition} (wanted [${from}, ${to})) are gone: the log now starts at ${low}.`, {
    kind: 'environment',
    details: {topic, partition, from, to, logStart: low},
  })
}
