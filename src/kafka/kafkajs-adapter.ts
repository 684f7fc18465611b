// The Kafka port on kafkajs. Everything kafkajs-specific stays here: its missing manual partition
// assignment (readRanges sends plain Fetch requests on kafkajs' connections: kafkajs-fetch.ts, no
// consumer group), its producer (kbk encodes and sends its own batches: kafkajs-produce.ts), its
// logs and its errors. Record batches are kbk's own code both ways (record-batch.ts,
// produce-batch.ts), so kafkajs' record codecs and header object are never in the data path. `kbk plan` uses only the read-only methods, which send metadata/admin requests
// only: no client may create a topic, and nothing here joins a group.
import {readFileSync} from 'node:fs'
import type {ConnectionOptions} from 'node:tls'
import kafkajs from 'kafkajs'
import type {Admin, ISocketFactory, KafkaConfig, SASLOptions} from 'kafkajs'
import {KbkError} from '../errors.js'
import {kafkaDecompressors} from './kafkajs-codecs.js'
import {createReadCluster, fetchRanges, type FetchHooks, type FetchLimits, type KafkajsCluster} from './kafkajs-fetch.js'
import {describeLogSizes} from './kafkajs-log-dirs.js'
import {mapKafkaError, noTopic, type ErrorContext} from './kafkajs-errors.js'
import {kafkajsLogCreator, stderrLogger, type KafkaLogger} from './kafkajs-logger.js'
import {pooledSocketFactory, recycleResponse} from './kafkajs-socket.js'
import type {GroupDescription, GroupOffsets, KafkaPort, PartitionEncoded, PartitionWatermarks, ProduceOptions, ProduceRecord, ReadRange, RecordBatchHandler, RecordCursorHandler, TopicInfo} from './port.js'
import {RangeProgress} from './range-progress.js'
import {DirectProducer, produceRecords, type PartitionRecords} from './kafkajs-produce.js'

const {Kafka, ConfigResourceTypes, ConfigSource, logLevel} = kafkajs


/** A config value that may be a Secret (src/config/secret.ts): revealed only when connecting. */
export type SecretValue = string | {reveal(): string}

export interface KafkaClusterConfig {
  brokers: string[]
  /** true: TLS with the system CAs; an object: PEM file paths (read here) and verification. */
  tls?: boolean | {ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean}
  sasl?: {mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: SecretValue; password: SecretValue}
  clientId?: string
  /** Milliseconds to wait for a TCP/TLS connection (either spelling; the config layer uses connectionTimeoutMs). */
  connectionTimeout?: number
  connectionTimeoutMs?: number
}

export interface KafkaContext {
  /** The cluster's name in the workspace (for messages). */
  name: string
  /** Where it is declared, e.g. "kbk.yaml:4:3". */
  position?: string
  /** Where kafkajs warnings go; stderr by default. Never stdout. */
  logger?: KafkaLogger
}

const MiB = 1024 * 1024
/**
 * Fetch sizes: 1 MiB per partition (a larger first batch still comes whole, KIP-74), 4 MiB per
 * response. With one fetch always in flight that keeps up with the broker, and it is what bounds
 * memory: 16 MiB responses cost ~60 MiB of peak RSS and no speed (docs/performance.md).
 */
const FETCH_LIMITS: FetchLimits = {partitionBytes: MiB, responseBytes: 4 * MiB, maxWaitMs: 500}

function reveal(v: SecretValue): string {
  return typeof v === 'string' ? v : v.reveal()
}

function readPem(path: string | undefined, what: string, ctx: KafkaContext): string | undefined {
  if (path === undefined) return undefined
  try {
    return readFileSync(path, 'utf8')
  } catch (e) {
    throw new KbkError('KBK_KAFKA_TLS_FILE', `Cannot read the TLS ${what} file ${path} for cluster "${ctx.name}": ${(e as Error).message}`, {
      suggestion: `Fix clusters.${ctx.name}.tls.${what} in the workspace, or the file's permissions.`,
      cause: e,
    })
  }
}

export function kafkajsConfig(cluster: KafkaClusterConfig, ctx: KafkaContext): KafkaConfig {
  let ssl: boolean | ConnectionOptions | undefined
  if (cluster.tls === true) ssl = true
  else if (cluster.tls && typeof cluster.tls === 'object') {
    const t = cluster.tls
    ssl = {
      rejectUnauthorized: t.rejectUnauthorized ?? true,
      ...(t.ca ? {ca: [readPem(t.ca, 'ca', ctx) as string]} : {}),
      ...(t.cert ? {cert: readPem(t.cert, 'cert', ctx)} : {}),
      ...(t.key ? {key: readPem(t.key, 'key', ctx)} : {}),
    }
  }
  let sasl: SASLOptions | undefined
  if (cluster.sasl) {
    // Revealed into kafkajs' config only; kafkajs never logs its sasl options.
    sasl = {mechanism: cluster.sasl.mechanism, username: reveal(cluster.sasl.username), password: reveal(cluster.sasl.password)} as SASLOptions
  }
  const logger = ctx.logger ?? stderrLogger('kbk kafka')
  return {
    brokers: cluster.brokers,
    clientId: cluster.clientId ?? 'kbk',
    ...(ssl !== undefined ? {ssl} : {}),
    ...(sasl ? {sasl} : {}),
    connectionTimeout: cluster.connectionTimeoutMs ?? cluster.connectionTimeout ?? 5000,
    authenticationTimeout: 10_000,
    requestTimeout: 30_000,
    // Bounded: an unreachable cluster fails after a few quick attempts, not minutes of backoff.
    retry: {retries: 3, initialRetryTime: 250, maxRetryTime: 5000},
    logLevel: logLevel.WARN,
    logCreator: kafkajsLogCreator(logger),
  }
}

export function openKafka(cluster: KafkaClusterConfig, ctx: KafkaContext): KafkaPort {
  return new KafkajsAdapter(cluster, ctx)
}

class KafkajsAdapter implements KafkaPort {
  readonly #kafka: InstanceType<typeof Kafka>
  /** Fetch connections: each response read into a buffer of its own where plaintext, without SASL (kafkajs-socket.ts). */
  readonly #readKafka: InstanceType<typeof Kafka>
  readonly #ctx: KafkaContext
  readonly #brokers: string[]
  #admin?: Promise<Admin>
  #producer?: Promise<DirectProducer>
  readonly #readers = new Set<KafkajsCluster>()

  constructor(cluster: KafkaClusterConfig, ctx: KafkaContext) {
    if (!Array.isArray(cluster.brokers) || cluster.brokers.length === 0) {
      throw new KbkError('KBK_KAFKA_NO_BROKERS', `Cluster "${ctx.name}" lists no brokers.`, {suggestion: `Set clusters.${ctx.name}.brokers to at least one host:port.`})
    }
    this.#ctx = ctx
    this.#brokers = cluster.brokers
    this.#kafka = new Kafka(kafkajsConfig(cluster, ctx))
    this.#readKafka = cluster.tls || cluster.sasl || process.env.KBK_KAFKA_POOLED_READS === '0' ? this.#kafka : new Kafka({...kafkajsConfig(cluster, ctx), socketFactory: pooledSocketFactory() as unknown as ISocketFactory})
  }

  #errCtx(operation: string, topic?: string): ErrorContext {
    return {cluster: this.#ctx.name, ...(this.#ctx.position ? {position: this.#ctx.position} : {}), brokers: this.#brokers, operation, ...(topic !== undefined ? {topic} : {})}
  }

  async #guard<T>(operation: string, topic: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (e) {
      const mapped = mapKafkaError(e, this.#errCtx(operation, topic))
      // kafkajs' admin keeps every topic it was asked about in its metadata requests; once one is
      // gone, each later admin call fails on it. Start over with a fresh admin client.
      if (mapped.code === 'KBK_KAFKA_NO_TOPIC') await this.#resetAdmin()
      throw mapped
    }
  }

  async #resetAdmin(): Promise<void> {
    const admin = this.#admin
    this.#admin = undefined
    if (admin) await (await admin.catch(() => undefined))?.disconnect().catch(() => undefined)
  }

  #adminClient(): Promise<Admin> {
    if (!this.#admin) {
      const admin = this.#kafka.admin()
      this.#admin = admin.connect().then(
        () => admin,
        (e: unknown) => {
          this.#admin = undefined
          throw e
        },
      )
    }
    return this.#admin
  }

  async listTopics(): Promise<string[]> {
    return this.#guard('listing topics', undefined, async () => {
      const admin = await this.#adminClient()
      // Kafka's own topics (__consumer_offsets, __transaction_state, ...) are not user data.
      return (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort()
    })
  }

  async describeTopics(topics: string[]): Promise<TopicInfo[]> {
    if (topics.length === 0) return []
    return this.#guard(`describing topics ${topics.map((t) => `"${t}"`).join(', ')}`, topics.length === 1 ? topics[0] : undefined, async () => {
      const admin = await this.#adminClient()
      const existing = new Set(await admin.listTopics())
      const missing = topics.find((t) => !existing.has(t))
      if (missing !== undefined) throw noTopic(this.#errCtx('describing topics', missing))
      const meta = await admin.fetchTopicMetadata({topics})
      const configs = await admin.describeConfigs({includeSynonyms: false, resources: topics.map((name) => ({type: ConfigResourceTypes.TOPIC, name}))})
      return topics.map((name) => {
        const m = meta.topics.find((t) => t.name === name)
        const res = configs.resources.find((r) => r.resourceName === name)
        const out: Record<string, string> = {}
        for (const c of res?.configEntries ?? []) {
          // Only what was set on the topic itself: broker-wide and default values are not the topic's.
          const source = (c as {configSource?: number}).configSource
          const own = source === undefined ? !c.isDefault : source === ConfigSource.TOPIC_CONFIG
          if (own && !c.isSensitive && c.configValue !== null) out[c.configName] = c.configValue
        }
        return {name, partitions: m?.partitions.length ?? 0, configs: Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)))}
      })
    })
  }

  async watermarks(topic: string): Promise<PartitionWatermarks[]> {
    return this.#guard(`reading offsets of "${topic}"`, topic, async () => {
      const admin = await this.#adminClient()
      if (!(await admin.listTopics()).includes(topic)) throw noTopic(this.#errCtx('reading offsets', topic))
      const offsets = await admin.fetchTopicOffsets(topic)
      return offsets
        .map((o) => ({partition: o.partition, low: toOffset(o.low), high: toOffset(o.high)}))
        .sort((a, b) => a.partition - b.partition)
    })
  }

  async groupOffsets(groupIds: string[]): Promise<GroupOffsets[]> {
    if (groupIds.length === 0) return []
    return this.#guard('reading consumer group offsets', undefined, async () => {
      const admin = await this.#adminClient()
      const {groups} = await admin.describeGroups(groupIds)
      const out: GroupOffsets[] = []
      for (const groupId of groupIds) {
        const state = groups.find((g) => g.groupId === groupId)?.state ?? 'Unknown'
        const fetched = await admin.fetchOffsets({groupId})
        const offsets: Record<string, Record<number, number>> = {}
        for (const t of fetched) {
          for (const p of t.partitions) {
            const o = Number(p.offset)
            if (o < 0) continue // -1: nothing committed for this partition
            ;(offsets[t.topic] ??= {})[p.partition] = o
          }
        }
        out.push({groupId, state, offsets})
      }
      return out
    })
  }

  async listGroups(): Promise<string[]> {
    return this.#guard('listing consumer groups', undefined, async () => {
      const admin = await this.#adminClient()
      return (await admin.listGroups()).groups.map((g) => g.groupId).sort()
    })
  }

  async describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    if (groupIds.length === 0) return []
    return this.#guard('describing consumer groups', undefined, async () => {
      const admin = await this.#adminClient()
      const {groups} = await admin.describeGroups(groupIds)
      return groupIds.map((groupId) => {
        const g = groups.find((x) => x.groupId === groupId)
        const members = (g?.members ?? []).map((m) => ({memberId: m.memberId, clientId: m.clientId, host: m.clientHost})).sort((a, b) => a.memberId.localeCompare(b.memberId))
        return {groupId, state: g?.state ?? 'Dead', members}
      })
    })
  }

  async createTopic(topic: TopicInfo): Promise<void> {
    await this.#guard(`creating topic "${topic.name}"`, undefined, async () => {
      const admin = await this.#adminClient()
      const replicationFactor = await this.#defaultReplicationFactor(admin)
      const created = await admin.createTopics({
        waitForLeaders: true,
        topics: [{
          topic: topic.name,
          numPartitions: topic.partitions,
          replicationFactor,
          configEntries: Object.entries(topic.configs).map(([name, value]) => ({name, value})),
        }],
      })
      if (!created) {
        throw new KbkError('KBK_KAFKA_TOPIC_EXISTS', `Topic "${topic.name}" already exists on cluster "${this.#ctx.name}".`, {
          suggestion: 'Restore into a new topic: change the restore\'s rename or topicSuffix, or delete the existing topic first.',
          kind: 'conflict',
          details: {cluster: this.#ctx.name, topic: topic.name},
        })
      }
    })
  }

  async topicDefaults(): Promise<Record<string, string>> {
    return this.#guard('reading the brokers\' topic defaults', undefined, async () => {
      const admin = await this.#adminClient()
      const broker = (await admin.describeCluster()).brokers.map((b) => b.nodeId).sort((a, b) => a - b)[0]
      if (broker === undefined) return {}
      const names = Object.values(BROKER_TOPIC_DEFAULTS).flat()
      const res = await admin.describeConfigs({includeSynonyms: false, resources: [{type: ConfigResourceTypes.BROKER, name: String(broker), configNames: names}]})
      const got = new Map<string, string>()
      for (const c of res.resources[0]?.configEntries ?? []) if (c.configValue !== null && c.configValue !== undefined && c.configValue !== '') got.set(c.configName, c.configValue)
      return brokerToTopicDefaults(got)
    })
  }

  /**
   * kafkajs speaks CreateTopics v3 at most, where -1 ("the broker's default") is not accepted, so
   * we ask a broker for default.replication.factor and cap it at the number of live brokers.
   */
  async #defaultReplicationFactor(admin: Admin): Promise<number> {
    const cluster = await admin.describeCluster()
    const broker = cluster.brokers[0]
    if (!broker) return 1
    try {
      const res = await admin.describeConfigs({includeSynonyms: false, resources: [{type: ConfigResourceTypes.BROKER, name: String(broker.nodeId), configNames: ['default.replication.factor']}]})
      const v = Number(res.resources[0]?.configEntries.find((c) => c.configName === 'default.replication.factor')?.configValue)
      if (Number.isInteger(v) && v > 0) return Math.min(v, cluster.brokers.length)
    } catch {
      // Not allowed to describe broker configs: fall back below.
    }
    return Math.min(3, cluster.brokers.length)
  }

  async produce(topic: string, records: ProduceRecord[]): Promise<number[]> {
    if (records.length === 0) return []
    return this.#guard(`producing to "${topic}"`, topic, async () => produceRecords(await this.#producerClient(), topic, records))
  }

  async producePartitions(topic: string, batches: PartitionRecords[], options?: ProduceOptions): Promise<number[]> {
    if (batches.length === 0) return []
    return this.#guard(`producing to "${topic}"`, topic, async () => (await this.#producerClient()).producePartitions(topic, batches, options))
  }

  async produceEncoded(topic: string, batches: PartitionEncoded[], options?: ProduceOptions): Promise<number[]> {
    if (batches.length === 0) return []
    return this.#guard(`producing to "${topic}"`, topic, async () => (await this.#producerClient()).produceEncoded(topic, batches, options))
  }

  /** Idempotent, on its own kafkajs cluster (kafkajs-produce.ts). */
  #producerClient(): Promise<DirectProducer> {
    this.#producer ??= Promise.resolve(new DirectProducer(this.#kafka))
    return this.#producer
  }

  async deleteTopics(topics: string[]): Promise<void> {
    if (topics.length === 0) return
    await this.#guard(`deleting topics ${topics.map((t) => `"${t}"`).join(', ')}`, undefined, async () => {
      const admin = await this.#adminClient()
      const existing = new Set(await admin.listTopics())
      const gone = topics.filter((t) => existing.has(t))
      if (gone.length > 0) await admin.deleteTopics({topics: gone})
    })
    // The producer's metadata still lists the deleted topics, and kafkajs fails every later
    // metadata refresh on a topic that is gone: start a fresh producer on the next produce.
    const producer = this.#producer
    this.#producer = undefined
    if (producer) await (await producer.catch(() => undefined))?.disconnect().catch(() => undefined)
  }

  async commitGroupOffsets(groupId: string, topic: string, offsets: {partition: number; offset: number}[]): Promise<void> {
    if (offsets.length === 0) return
    await this.#guard(`committing offsets of group "${groupId}"`, topic, async () => {
      const admin = await this.#adminClient()
      try {
        await admin.setOffsets({groupId, topic, partitions: offsets.map((o) => ({partition: o.partition, offset: String(o.offset)}))})
      } catch (e) {
        // kafkajs refuses with a bare KafkaJSNonRetriableError when the group has members; ask the
        // broker for the group's state rather than reading kafkajs' message.
        if ((e as {name?: string} | null)?.name === 'KafkaJSNonRetriableError' && (await groupHasMembers(admin, groupId))) {
          throw new KbkError('KBK_KAFKA_GROUP_ACTIVE', `Consumer group "${groupId}" on cluster "${this.#ctx.name}" has active members, so its offsets cannot be set.`, {
            suggestion: `Stop the group's consumers first (every member of "${groupId}"), then run \`kbk apply\` again.`,
            kind: 'conflict',
            retriable: true,
            cause: e,
            details: {cluster: this.#ctx.name, groupId, topic},
          })
        }
        throw e
      }
    })
  }

  readRanges(topic: string, ranges: ReadRange[], onBatch: RecordBatchHandler, options: {signal?: AbortSignal} = {}): Promise<void> {
    return this.#readRanges(topic, ranges, {onBatch}, options)
  }

  readRecordRanges(topic: string, ranges: ReadRange[], onRecords: RecordCursorHandler, options: {signal?: AbortSignal} = {}): Promise<void> {
    return this.#readRanges(topic, ranges, {onRecords}, options)
  }

  async #readRanges(topic: string, ranges: ReadRange[], handler: {onBatch: RecordBatchHandler} | {onRecords: RecordCursorHandler}, options: {signal?: AbortSignal}): Promise<void> {
    const progress = new RangeProgress(ranges)
    if (progress.allDone()) return // empty ranges: nothing to read, no consumer
    if (options.signal?.aborted) throw new KbkError('KBK_ABORTED', `Reading "${topic}" was cancelled.`, {kind: 'user'})
    const what = `reading "${topic}"`
    const marks = await this.watermarks(topic)
    for (const p of progress.partitions) {
      if (p.position >= p.to) continue
      const m = marks.find((w) => w.partition === p.partition)
      if (!m) {
        throw new KbkError('KBK_KAFKA_NO_PARTITION', `Topic "${topic}" on cluster "${this.#ctx.name}" has no partition ${p.partition}.`, {
          suggestion: 'Run `kbk plan` again: the topic changed since the plan was made.',
          kind: 'environment',
        })
      }
      if (p.from < m.low) throw this.#offsetGone(topic, p.partition, p.from, p.to, m.low)
      if (p.to > m.high) {
        throw new KbkError('KBK_KAFKA_RANGE_PAST_END', `Partition ${p.partition} of "${topic}" ends at offset ${m.high}, before the planned ${p.to} (the log was truncated, or the plan came from another cluster).`, {
          suggestion: 'Run `kbk plan` again to pin ranges the cluster really has.',
          kind: 'environment',
          details: {topic, partition: p.partition, from: p.from, to: p.to, high: m.high},
        })
      }
    }
    const cluster = createReadCluster(this.#readKafka)
    this.#readers.add(cluster)
    try {
      const hooks: FetchHooks = {
        decompressors: kafkaDecompressors,
        ...(options.signal ? {signal: options.signal} : {}),
        offsetGone: (partition, from, to, low) => this.#offsetGone(topic, partition, from, to, low),
        noTopic: (cause) => noTopic(this.#errCtx('reading (the topic was deleted during the read)', topic), cause),
        topicExists: async () => (await (await this.#adminClient()).listTopics()).includes(topic),
      }
      await this.#guard(what, topic, () =>
        'onRecords' in handler
          ? fetchRanges(cluster, topic, progress, handler.onRecords, FETCH_LIMITS, {...hooks, cursor: true, recycle: recycleResponse})
          : fetchRanges(cluster, topic, progress, handler.onBatch, FETCH_LIMITS, {...hooks, cursor: false}),
      )
    } finally {
      this.#readers.delete(cluster)
      await cluster.disconnect().catch(() => undefined)
    }
  }

  async logSizes(topics: string[]): Promise<Record<string, Record<number, number>>> {
    if (topics.length === 0) return {}
    const cluster = createReadCluster(this.#kafka)
    this.#readers.add(cluster)
    try {
      return await describeLogSizes(cluster, topics)
    } catch {
      // Only an estimate rides on this: a broker that will not say (ACLs, a dropped connection)
      // must not fail the plan. The plan shows the size as unknown instead.
      return {}
    } finally {
      this.#readers.delete(cluster)
      await cluster.disconnect().catch(() => undefined)
    }
  }

  #offsetGone(topic: string, partition: number, from: number, to: number, low: number): KbkError {
    return new KbkError('KBK_KAFKA_OFFSET_GONE', `Offsets ${from}..${Math.min(low, to) - 1} of "${topic}" partition ${partition} (wanted [${from}, ${to})) are gone: Kafka's retention deleted them (the log now starts at ${low}).`, {
      suggestion: 'Run `kbk plan` again: it records the lost range as data loss and backs up from the log start. Raise the topic\'s retention.ms or run backups more often (policy rpo).',
      kind: 'environment',
      details: {topic, partition, from, to, logStart: low},
    })
  }

  async close(): Promise<void> {
    for (const c of this.#readers) await c.disconnect().catch(() => undefined)
    const producer = this.#producer
    const admin = this.#admin
    this.#producer = undefined
    this.#admin = undefined
    if (producer) await (await producer.catch(() => undefined))?.disconnect().catch(() => undefined)
    if (admin) await (await admin.catch(() => undefined))?.disconnect().catch(() => undefined)
  }
}

function toOffset(s: string): number {
  const n = Number(s)
  if (!Number.isSafeInteger(n)) throw new KbkError('KBK_INTERNAL', `Kafka offset ${s} is beyond what kbk can represent exactly.`, {kind: 'internal'})
  return n
}

/** Topic config -> the broker settings that give its default, most specific first. */
const BROKER_TOPIC_DEFAULTS: Record<string, string[]> = {
  'cleanup.policy': ['log.cleanup.policy'],
  'retention.ms': ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
  'retention.bytes': ['log.retention.bytes'],
  'message.timestamp.type': ['log.message.timestamp.type'],
  'message.timestamp.before.max.ms': ['log.message.timestamp.before.max.ms'],
  'message.timestamp.after.max.ms': ['log.message.timestamp.after.max.ms'],
  'message.timestamp.difference.max.ms': ['log.message.timestamp.difference.max.ms'],
}

/** Kafka takes log.retention.ms, else .minutes, else .hours (the broker reports all three). */
export function brokerToTopicDefaults(broker: Map<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [topicName, brokerNames] of Object.entries(BROKER_TOPIC_DEFAULTS)) {
    for (const name of brokerNames) {
      const v = broker.get(name)
      if (v === undefined) continue
      const factor = name.endsWith('.minutes') ? 60_000 : name.endsWith('.hours') ? 3_600_000 : 1
      // Broker lists print as "[delete]" in some versions; topic configs as "delete".
      out[topicName] = factor === 1 || Number(v) < 0 ? v.replace(/^\[(.*)\]$/, '$1') : String(Number(v) * factor)
      break
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)))
}

/** Whether a consumer group has members now (kafkajs' setOffsets needs it Empty or Dead). */
async function groupHasMembers(admin: Pick<Admin, 'describeGroups'>, groupId: string): Promise<boolean> {
  try {
    const state = (await admin.describeGroups([groupId])).groups[0]?.state
    return state !== undefined && state !== 'Empty' && state !== 'Dead'
  } catch {
    return false // the original error then stands
  }
}
