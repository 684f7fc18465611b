// The Kafka port: everything kbk needs from a cluster, in kbk's own terms. Only the adapter
// (kafkajs-adapter.ts) knows kafkajs and its quirks (no manual assignment, string offsets, ...).
// Offsets are JS numbers: Kafka offsets stay far below 2^53; the adapter checks that.

export interface PartitionWatermarks {
  partition: number
  /** Earliest offset still on the broker (log start). */
  low: number
  /**
   * High watermark: the next offset to be written. Read with read_committed isolation, so while a
   * transaction is open this is the last stable offset (readRanges can read up to it without waiting).
   */
  high: number
}

export interface TopicInfo {
  name: string
  partitions: number
  /** Non-default topic configs (e.g. cleanup.policy, retention.ms). */
  configs: Record<string, string>
}

export interface RecordHeader {
  key: string
  /** null is kept distinct from an empty value. */
  value: Buffer | null
}

export type TimestampType = 'create' | 'log-append'

export interface KafkaRecord {
  offset: number
  timestamp: number
  timestampType: TimestampType
  /** null key is distinct from an empty key. */
  key: Buffer | null
  /** null is a tombstone, distinct from an empty value. */
  value: Buffer | null
  /** Order and duplicates kept. */
  headers: RecordHeader[]
}

export interface ReadRange {
  partition: number
  /** First offset to read, inclusive. */
  from: number
  /** Stop before this offset (the high watermark pinned by the plan). */
  to: number
}

export interface RecordBatchHandler {
  /**
   * Partition-by-partition: calls for one partition come in offset order; calls for different
   * partitions may interleave but never run concurrently (the handler may apply backpressure by
   * awaiting).
   * Called with consecutive records of one partition, in offset order. `nextOffset` is the offset
   * after the last record consumed so far (control records and aborted data make gaps), so the
   * caller knows how far the partition has been read even when a batch holds no data records.
   */
  (partition: number, records: KafkaRecord[], nextOffset: number): Promise<void>
}

/**
 * The records of one delivery, one at a time, without an object per record: the fields describe
 * the current record and are overwritten by next(). Keys, values and headers are byte ranges of
 * `buf` (the fetched or decompressed bytes), valid until the handler's promise resolves. What a
 * KafkaRecord holds, field for field: a length of -1 is null; a header key is UTF-8 bytes (a
 * KafkaRecord holds it decoded as a string).
 */
export interface RecordCursor {
  /** Moves to the next record; false once there are none left. */
  next(): boolean
  readonly offset: number
  readonly timestamp: number
  /** timestampType 'log-append' (else 'create'). */
  readonly logAppend: boolean
  readonly buf: Buffer
  readonly keyStart: number
  /** -1: null key. */
  readonly keyLength: number
  readonly valueStart: number
  /** -1: null value (a tombstone). */
  readonly valueLength: number
  readonly headerCount: number
  /** Per header, 4 numbers: key start, key length (-1: null), value start, value length (-1: null). */
  readonly headers: Int32Array
}

/** Like RecordBatchHandler, with a cursor over the records instead of an array of objects. */
export type RecordCursorHandler = (partition: number, records: RecordCursor, nextOffset: number) => Promise<void>

export interface GroupOffsets {
  groupId: string
  state: string
  /** topic -> partition -> committed offset (the next record the group will read). */
  offsets: Record<string, Record<number, number>>
}

/** A member of a consumer group, as the group coordinator describes it. */
export interface GroupMember {
  memberId: string
  clientId: string
  /** The member's host as the coordinator saw it, e.g. /10.0.0.7. */
  host: string
}

export interface GroupDescription {
  groupId: string
  /** Empty, Stable, PreparingRebalance, CompletingRebalance or Dead (no such group). */
  state: string
  members: GroupMember[]
}

export interface ProduceRecord {
  partition: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

/**
 * How produced record batches are compressed: `auto` (the default) leaves them uncompressed for a
 * broker on the loopback interface and uses lz4 for any other; `none`, `lz4` and `zstd` say so
 * outright (zstd needs Produce v7, Kafka 2.1).
 */
export type ProduceCompression = 'auto' | 'none' | 'lz4' | 'zstd'

export interface ProduceOptions {
  compression?: ProduceCompression
}

/** One partition's share of a producePartitions call. */
export interface PartitionRecords {
  partition: number
  /** Their own `partition` field, if any, is ignored. */
  records: Array<Omit<ProduceRecord, 'partition'>>
}

/**
 * The records of one Kafka record batch already written in Kafka's v2 record format (offset
 * deltas 0..count-1, timestamp deltas from baseTimestamp), uncompressed, after BATCH_HEADER_BYTES
 * (61) of room for the batch header: what the producer adds (header, producer id, sequence, CRC,
 * compression) does not depend on the records. Built ahead by a restore (src/restore/transcode.ts)
 * while the previous request is in flight.
 */
export interface EncodedRecords {
  /** 61 bytes of room, then the records; nothing after them. */
  buf: Buffer
  count: number
  /** The first record's timestamp (the batch's base timestamp), and the largest. */
  baseTimestamp: number
  maxTimestamp: number
  /**
   * Called by the producer once it no longer needs `buf` and never will (its bytes compressed into
   * another buffer, or sent and acknowledged without a resend): the caller may reuse the memory.
   */
  release?: () => void
}

/** One partition's share of a produceEncoded call. */
export interface PartitionEncoded {
  partition: number
  records: EncodedRecords
}

export interface KafkaPort {
  listTopics(): Promise<string[]>
  describeTopics(topics: string[]): Promise<TopicInfo[]>
  watermarks(topic: string): Promise<PartitionWatermarks[]>
  /**
   * Bytes each partition's log takes on its leader (DescribeLogDirs), topic -> partition -> bytes:
   * what a first backup will read, before kbk has its own numbers. Read-only. An estimate only:
   * partitions the brokers would not describe (no DESCRIBE on the cluster) are missing, never an error.
   */
  logSizes(topics: string[]): Promise<Record<string, Record<number, number>>>
  /**
   * What a topic gets for each setting it does not set itself, in topic-config names
   * (retention.ms, cleanup.policy, message.timestamp.*): the broker's effective defaults, so a
   * topic's effective config is `{...topicDefaults(), ...describeTopics().configs}`. Read-only.
   */
  topicDefaults(): Promise<Record<string, string>>
  /** Committed offsets of groups (read-only: never joins the group). */
  groupOffsets(groupIds: string[]): Promise<GroupOffsets[]>
  listGroups(): Promise<string[]>
  /** State and members of groups (DescribeGroups; read-only: never joins the group). */
  describeGroups(groupIds: string[]): Promise<GroupDescription[]>
  /**
   * Read exactly [from, to) of each listed partition of one topic, then resolve. Commits nothing
   * to any group and joins none (plain Fetch requests).
   * read_committed: aborted transactional records and control records are not delivered, but
   * `nextOffset` moves past them. Throws KBK_KAFKA_OFFSET_GONE when `from` is below the log start
   * (retention deleted it), KBK_KAFKA_NO_TOPIC when the topic disappears mid-read.
   */
  readRanges(topic: string, ranges: ReadRange[], onBatch: RecordBatchHandler, options?: {signal?: AbortSignal}): Promise<void>
  /**
   * readRanges without an object per record (a backup's hot path): the same contract, each call
   * hands a cursor over the records of [from, to) not yet delivered, in offset order. Optional:
   * test doubles may lack it, and callers then use readRanges.
   */
  readRecordRanges?(topic: string, ranges: ReadRange[], onRecords: RecordCursorHandler, options?: {signal?: AbortSignal}): Promise<void>
  /** Throws KBK_KAFKA_TOPIC_EXISTS (kind conflict) when the topic already exists. */
  createTopic(topic: TopicInfo): Promise<void>
  /** Produce records to one topic, preserving order per partition; returns the offsets assigned. */
  produce(topic: string, records: ProduceRecord[]): Promise<number[]>
  /**
   * Produce to several partitions of one topic in one round trip per leader broker. Each partition
   * appears at most once; its records are appended in
   * the order given, at consecutive offsets, after everything earlier calls appended. Returns, in
   * the order given, the offset of each entry's first record. Idempotent: a retry inside the call
   * never duplicates. Calls must not overlap.
   */
  producePartitions(topic: string, batches: PartitionRecords[], options?: ProduceOptions): Promise<number[]>
  /**
   * producePartitions for records already encoded (EncodedRecords): the same contract, without a
   * JS object per record. Optional: a port without it gets records (restores fall back).
   */
  produceEncoded?(topic: string, batches: PartitionEncoded[], options?: ProduceOptions): Promise<number[]>
  /** Commit offsets for a group that has no active members (else KBK_KAFKA_GROUP_ACTIVE). */
  commitGroupOffsets(groupId: string, topic: string, offsets: {partition: number; offset: number}[]): Promise<void>
  /** Delete topics (a drill's scratch topics); a topic already gone is not an error. Optional: test doubles may lack it. */
  deleteTopics?(topics: string[]): Promise<void>
  close(): Promise<void>
}
