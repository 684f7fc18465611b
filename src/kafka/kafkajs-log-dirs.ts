// Log sizes from the brokers (DescribeLogDirs, API key 35), which kafkajs 2.2.4 does not offer:
// kbk encodes the v1 request with kafkajs' own Encoder and decodes the response itself, on the
// connections of a kafkajs cluster (as kafkajs-fetch.ts does for Fetch). Read-only: it needs the
// DESCRIBE permission on the cluster resource, and a broker that refuses (ACLs, or an old broker)
// simply yields no size — the plan then says the size is unknown rather than failing.
import {pushTo} from '../collections.js'
import {createRequire} from 'node:module'
import type {KafkajsCluster} from './kafkajs-fetch.js'
import {WireReader} from './wire-reader.js'

const require = createRequire(import.meta.url)
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => KafkajsEncoder

interface KafkajsEncoder {
  writeInt32(n: number): KafkajsEncoder
  writeString(s: string): KafkajsEncoder
  writeArray(a: unknown[], type?: 'int32' | 'object'): KafkajsEncoder
}

const DESCRIBE_LOG_DIRS = 35
// v1 is the oldest version Kafka 4 still serves and the newest one without tagged fields; the
// sizes it returns are the same in every version.
const VERSION = 1

interface LogDirsBroker {
  versions?: Record<number, {minVersion: number; maxVersion: number}>
  connectionPool: {send(r: {request: unknown; response: {decode(b: Buffer): Promise<unknown>; parse(d: unknown): Promise<unknown>}}): Promise<unknown>}
}

/** topic -> partition -> bytes of the log on its leader (the replica kbk reads from). */
export type LogSizes = Record<string, Record<number, number>>

/**
 * Asks every leader broker for the size of its partitions of `topics`. Partitions a broker would
 * not describe are left out; the caller treats them as unknown.
 */
export async function describeLogSizes(cluster: KafkajsCluster, topics: string[]): Promise<LogSizes> {
  const byLeader = new Map<number, Map<string, number[]>>()
  await cluster.connect()
  for (const topic of topics) await cluster.addTargetTopic(topic)
  await cluster.refreshMetadata()
  for (const topic of topics) {
    for (const p of cluster.findTopicPartitionMetadata(topic)) {
      if (p.leader === null || p.leader === undefined || p.leader < 0) continue
      const forLeader = byLeader.get(p.leader) ?? new Map<string, number[]>()
      byLeader.set(p.leader, forLeader)
      pushTo(forLeader, topic, p.partitionId)
    }
  }
  const out: LogSizes = {}
  await Promise.all(
    [...byLeader].map(async ([leader, wanted]) => {
      const broker = (await cluster.findBroker({nodeId: leader})) as unknown as LogDirsBroker
      const range = broker.versions?.[DESCRIBE_LOG_DIRS]
      if (range && (range.minVersion > VERSION || range.maxVersion < VERSION)) return
      const dirs = await sendDescribeLogDirs(broker, wanted)
      for (const dir of dirs) {
        if (dir.errorCode !== 0) continue
        for (const t of dir.topics) {
          if (!wanted.has(t.name)) continue
          for (const p of t.partitions) {
            // A "future" replica is a copy being moved between log dirs: the current one counts.
            if (p.isFuture || !wanted.get(t.name)!.includes(p.partition)) continue
            ;(out[t.name] ??= {})[p.partition] = p.size
          }
        }
      }
    }),
  )
  return out
}

interface LogDir {
  errorCode: number
  topics: {name: string; partitions: {partition: number; size: number; isFuture: boolean}[]}[]
}

async function sendDescribeLogDirs(broker: LogDirsBroker, wanted: Map<string, number[]>): Promise<LogDir[]> {
  const request = {
    apiKey: DESCRIBE_LOG_DIRS,
    apiVersion: VERSION,
    apiName: 'DescribeLogDirs',
    encode: async () => new Encoder().writeArray([...wanted].map(([topic, partitions]) => new Encoder().writeString(topic).writeArray(partitions, 'int32')), 'object'),
  }
  const result = await broker.connectionPool.send({request, response: {decode: async (raw: Buffer) => raw, parse: async (raw: unknown) => parseDescribeLogDirsV1(raw as Buffer)}})
  return result as LogDir[]
}

/**
 * DescribeLogDirs Response (Version: 1) => throttle_time_ms [results]
 *   results => error_code log_dir [topics]
 *     topics => name [partitions]
 *       partitions => partition_index partition_size offset_lag is_future_key
 */
export function parseDescribeLogDirsV1(buf: Buffer): LogDir[] {
  const r = new WireReader(buf, 4) // after throttle_time_ms
  const array = <T>(item: () => T): T[] => {
    const out: T[] = []
    for (let n = r.int32(); n > 0; n--) out.push(item())
    return out
  }
  return array(() => {
    const errorCode = r.int16()
    r.string() // log_dir: a broker's local path, of no use to a plan
    const topics = array(() => ({
      name: r.string(),
      partitions: array(() => {
        const partition = r.int32()
        const size = r.int64Loose()
        r.int64Loose() // offset_lag
        const isFuture = r.int8() !== 0
        return {partition, size, isFuture}
      }),
    }))
    return {errorCode, topics}
  })
}
