// Restores end to end across two real clusters: back up from "source", restore into "target",
// consume the target and compare record by record; point-in-time stops exactly at the point;
// a translated consumer group resumes at the right record; a killed restore reruns exactly.
import assert from 'node:assert/strict'
import {readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import kafkajs from 'kafkajs'
import {registerKafkaCodecs} from '../../src/kafka/kafkajs-codecs.js'
import type {Plan} from '../../src/plan/types.js'
import {randomName, testEnv} from '../helpers/env.js'
import {createTestStore, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'
import {waitForFirstRecords} from '../helpers/kafka.js'

const {Kafka, CompressionTypes, logLevel} = kafkajs
registerKafkaCodecs()
// Recent timestamps: the test brokers apply time retention, and old ones would be deleted at once.
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000

interface Rec {
  partition: number
  offset: number
  key: string | null
  value: string | null
  timestamp: number
  headers: string
}

async function consumeAll(kafka: kafkajs.Kafka, topic: string): Promise<Rec[]> {
  const admin = kafka.admin()
  await admin.connect()
  const offsets = await admin.fetchTopicOffsets(topic)
  const total = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
  const out: Rec[] = []
  if (total > 0) {
    const groupId = randomName('check')
    const consumer = kafka.consumer({groupId, allowAutoTopicCreation: false})
    await consumer.connect()
    await consumer.subscribe({topic, fromBeginning: true})
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({partition, message}) => {
          out.push({
            partition,
            offset: Number(message.offset),
            key: message.key === null ? null : message.key.toString(),
            value: message.value === null ? null : message.value.toString(),
            timestamp: Number(message.timestamp),
            headers: JSON.stringify(Object.entries(message.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)])),
          })
          if (out.length >= total) resolve()
        },
      })
    })
    await consumer.disconnect()
    await admin.deleteGroups([groupId]).catch(() => undefined)
  }
  await admin.disconnect()
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
}

function strip(r: Rec): Omit<Rec, 'offset'> {
  const {offset: _o, ...rest} = r
  return rest
}

describe('restore intents across clusters', () => {
  const env = testEnv()
  const prefix = randomName('rs')
  const topic = `${prefix}.orders`
  const group = `${prefix}-app`
  const source = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.bootstrap], logLevel: logLevel.NOTHING})
  const target = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.targetBootstrap], logLevel: logLevel.NOTHING})
  const dir = tempDir()
  const N = 600
  let yaml = ''

  before(async () => {
    const admin = source.admin()
    await admin.connect()
    await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: 3, configEntries: [{name: 'retention.ms', value: '604800000'}]}]})
    const producer = source.producer({allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    const messages = Array.from({length: N}, (_, i) => ({
      partition: i % 3,
      key: i % 17 === 0 ? null : `k${i % 40}`,
      value: i % 23 === 0 ? null : JSON.stringify({i}),
      timestamp: String(T0 + i * 1000),
      headers: i % 2 === 0 ? {trace: [`a${i}`, `b${i}`], z: 'last'} : undefined,
    }))
    await producer.send({topic, compression: CompressionTypes.ZSTD, messages})
    await producer.disconnect()
    // A consumer group that has read partition 0 up to offset 50 and partition 1 up to 10.
    await admin.setOffsets({groupId: group, topic, partitions: [{partition: 0, offset: '50'}, {partition: 1, offset: '10'}]})
    await admin.disconnect()
    const store = await createTestStore('fs', dir)
    yaml = `version: 1
clusters:
  source: { brokers: ["${env.kafka.bootstrap}"] }
  target: { brokers: ["${env.kafka.targetBootstrap}"] }
stores:
  main:
    ${store.yaml}
retention:
  production: { maxAge: 90d, minKeep: 2 }
policies:
  orders:
    cluster: source
    store: main
    topics: { include: ["${prefix}\\\\..*"] }
    retention: production
    consumerGroups: { include: ["${prefix}-.*"] }
    segment: { maxRecords: 50 }
restores:
  full:
    from: { policy: orders, pointInTime: latest }
    to: { cluster: target, topicSuffix: "-full" }
    topics: { include: ["${prefix}\\\\..*"] }
    createTopics: true
    consumerGroups: { translate: ["${group}"] }
  pitr:
    from: { policy: orders, pointInTime: "${new Date(T0 + 299_000).toISOString()}" }
    to: { cluster: target, rename: { "${topic}": "${prefix}.pitr" } }
    topics: { include: ["${prefix}\\\\..*"] }
    createTopics: true
`
    writeWorkspace(dir, yaml)
  })

  after(async () => {
    for (const [k, topics] of [
      [source, [topic]],
      [target, [`${topic}-full`, `${prefix}.pitr`]],
    ] as const) {
      const a = k.admin()
      await a.connect()
      await a.deleteTopics({topics: [...topics]}).catch(() => undefined)
      await a.disconnect()
    }
  })

  it('restores every record identically, stops a PITR restore exactly at the point, and translates group offsets', async () => {
    const backup = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(backup.code, 0, backup.stderr)

    const planned = await runKbk(['plan', '--json'], {cwd: dir})
    const plan = JSON.parse(planned.stdout) as Plan
    const full = plan.resource_changes.find((c) => c.address === 'restore.full')!
    assert.deepEqual(full.actions, ['run'])
    assert.equal(full.restore!.point_in_time, new Date(T0 + (N - 1) * 1000).toISOString(), '`latest` is pinned to the newest backed-up record')
    assert.equal(full.restore!.topics[0]!.create, true)

    const apply = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(apply.code, 0, apply.stderr + apply.stdout)

    const src = await consumeAll(source, topic)
    const restored = await consumeAll(target, `${topic}-full`)
    assert.equal(restored.length, N)
    assert.deepEqual(restored.map(strip), src.map(strip))

    const pitr = await consumeAll(target, `${prefix}.pitr`)
    assert.deepEqual(pitr.map(strip), src.filter((r) => r.timestamp <= T0 + 299_000).map(strip))
    assert.equal(pitr.length, 300)

    // The translated group resumes at the record it would have read next.
    const consumer = target.consumer({groupId: group, allowAutoTopicCreation: false})
    await consumer.connect()
    await consumer.subscribe({topic: `${topic}-full`, fromBeginning: false})
    const firsts = new Map<number, string | null>()
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({partition, message}) => {
          if (!firsts.has(partition)) firsts.set(partition, message.value?.toString() ?? null)
          if (firsts.has(0) && firsts.has(1)) resolve()
        },
      })
    })
    await consumer.disconnect()
    assert.equal(firsts.get(0), src.find((r) => r.partition === 0 && r.offset === 50)!.value)
    assert.equal(firsts.get(1), src.find((r) => r.partition === 1 && r.offset === 10)!.value)

    const again = await runKbk(['plan', '--detailed-exitcode'], {cwd: dir})
    assert.equal(again.code, 0, again.stdout)
  })

  it('a restore killed mid-way and rerun ends with exact counts', async () => {
    writeWorkspace(dir, yaml + `  resume:
    from: { policy: orders, pointInTime: latest }
    to: { cluster: target, topicSuffix: "-resume" }
    topics: { include: ["${prefix}\\\\..*"] }
    createTopics: true
`)
    let pid = 0
    const run = runKbk(['apply', '--auto-approve', '--json'], {cwd: dir, onSpawn: (p) => (pid = p)})
    const admin = target.admin()
    await admin.connect()
    // Kill once some, but not all, records reached the target.
    assert.ok(await waitForFirstRecords(admin, `${topic}-resume`), 'the restore produced nothing within 60 s')
    try {
      process.kill(pid, 'SIGKILL')
    } catch (error) {
      // On a loaded machine the restore may finish before the kill lands: the rerun must then
      // find nothing left to do, which the assertions below check just the same.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
    }
    await run
    const partial = (await admin.fetchTopicOffsets(`${topic}-resume`)).reduce((s, p) => s + Number(p.high), 0)
    const locks = JSON.parse((await runKbk(['lock', 'list', '--json'], {cwd: dir})).stdout) as {locks: Array<{id: string}>}
    for (const l of locks.locks) await runKbk(['lock', 'release', l.id, '--force'], {cwd: dir})
    const rerun = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(rerun.code, 0, rerun.stderr + rerun.stdout)
    const restored = await consumeAll(target, `${topic}-resume`)
    assert.equal(restored.length, N, `partial run had produced ${partial}`)
    assert.deepEqual(restored.map(strip), (await consumeAll(source, topic)).map(strip))
    await admin.deleteTopics({topics: [`${topic}-resume`]}).catch(() => undefined)
    await admin.disconnect()
  })
  it('maps partitions when asked, and stops at a corrupt segment before producing any of its records', async () => {
    // All source partitions into one target partition: each source partition's order is kept.
    writeWorkspace(dir, yaml + `  merged:
    from: { policy: orders, pointInTime: latest }
    to: { cluster: target, topicSuffix: "-merged" }
    topics: { include: ["${prefix}\\\\..*"] }
    createTopics: true
    partitions: 1
    partitionMapping: { 0: 0, 1: 0, 2: 0 }
`)
    const merged = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(merged.code, 0, merged.stderr + merged.stdout)
    const out = await consumeAll(target, `${topic}-merged`)
    assert.equal(out.length, N)
    assert.ok(out.every((r) => r.partition === 0))
    const src = await consumeAll(source, topic)
    for (const p of [0, 1, 2]) {
      const order = (rs: Rec[]) => rs.filter((r) => src.find((x) => x.value === r.value && x.timestamp === r.timestamp)?.partition === p).map((r) => r.timestamp)
      assert.deepEqual(order(out), order(src.filter((r) => r.partition === p)))
    }

    // Damage one byte in the middle of a segment of partition 1, then restore again elsewhere.
    const segDir = join(dir, 'backups', 'data', 'orders', topic, '1')
    const victim = readdirSync(segDir).filter((f) => f.endsWith('.kbs')).sort()[1]!
    const path = join(segDir, victim)
    const bytes = readFileSync(path)
    const middle = Math.floor(bytes.length / 2)
    bytes[middle] = bytes[middle]! ^ 0x01
    writeFileSync(path, bytes)
    const [first, last] = victim.replace('.kbs', '').split('-').map(Number) as [number, number]
    writeWorkspace(dir, yaml + `  damaged:
    from: { policy: orders, pointInTime: latest }
    to: { cluster: target, topicSuffix: "-damaged" }
    topics: { include: ["${prefix}\\\\..*"] }
    createTopics: true
`)
    const damaged = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(damaged.code, 1)
    assert.match(damaged.stdout + damaged.stderr, /KBK_SEGMENT_CORRUPT/)
    assert.ok((damaged.stdout + damaged.stderr).includes(victim), 'the error names the damaged object')
    const produced = await consumeAll(target, `${topic}-damaged`)
    const fromVictim = produced.filter((r) => {
      const s = src.find((x) => x.value === r.value && x.timestamp === r.timestamp)
      return s !== undefined && s.partition === 1 && s.offset >= first && s.offset <= last
    })
    assert.deepEqual(fromVictim, [], 'no record of the corrupt segment reached the target')
    for (const t of [`${topic}-merged`, `${topic}-damaged`]) {
      const a = target.admin()
      await a.connect()
      await a.deleteTopics({topics: [t]}).catch(() => undefined)
      await a.disconnect()
    }
  })
})
