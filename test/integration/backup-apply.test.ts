// kbk's main job end to end, on the real Kafka and each real store: plan pins exact ranges,
// apply copies exactly them, decoding the segments gives back exactly what was produced (keys,
// null keys, headers, tombstones, all four producer codecs), the next plan is empty, and new
// records produce a plan with only the new ranges. Plan must leave cluster and store untouched.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import kafkajs from 'kafkajs'
import {openWorkspaceStore} from '../../src/cli/context.js'
import {registerKafkaCodecs} from '../../src/kafka/kafkajs-codecs.js'
import type {Plan} from '../../src/plan/types.js'
import {decodeSegment} from '../../src/segment/index.js'
import {randomName, testEnv} from '../helpers/env.js'
import {STORE_KINDS, createTestStore, kafkaWorkspace, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'

const {Kafka, CompressionTypes, logLevel} = kafkajs
registerKafkaCodecs()

// Recent timestamps: the test brokers apply time retention, and old ones would be deleted at once.
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000

const CODECS = [
  ['gzip', CompressionTypes.GZIP],
  ['snappy', CompressionTypes.Snappy],
  ['lz4', CompressionTypes.LZ4],
  ['zstd', CompressionTypes.ZSTD],
] as const

interface Expected {
  partition: number
  key: string | null
  value: string | null
  timestamp: number
  headers: Array<[string, string]>
}

function makeMessages(n: number, start: number): Array<Expected & {kafkajs: kafkajs.Message & {partition: number}}> {
  const out = []
  for (let i = start; i < start + n; i++) {
    const key = i % 7 === 0 ? null : i % 11 === 0 ? '' : `k-${i % 13}`
    const value = i % 9 === 0 ? null : i % 10 === 0 ? '' : JSON.stringify({i, text: 'x'.repeat(i % 50)})
    const timestamp = T0 + i * 1000
    const partition = i % 2
    // kafkajs encodes an object of headers key by key, array values in order: dup-a, dup-a, b.
    const headers: Array<[string, string]> = i % 3 === 0 ? [] : [['dup', `first-${i}`], ['dup', `second-${i}`], ['b', 'x']]
    const kafkajsHeaders = headers.length === 0 ? undefined : {dup: [`first-${i}`, `second-${i}`], b: 'x'}
    out.push({
      partition,
      key,
      value,
      timestamp,
      headers,
      kafkajs: {partition, key: key === null ? null : Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp: String(timestamp), ...(kafkajsHeaders ? {headers: kafkajsHeaders} : {})},
    })
  }
  return out
}

async function decodeAll(configFile: string): Promise<Map<string, Expected[]>> {
  const s = await openWorkspaceStore({config: configFile})
  try {
    const {snapshot} = await s.state.read()
    const out = new Map<string, Expected[]>()
    for (const index of Object.values(snapshot.topics)) {
      const records: Expected[] = []
      for (const seg of await s.state.loadSegments(snapshot, index.policy, index.topic)) {
        const {records: rs} = await decodeSegment(await s.store.get(seg.key), {keyring: new Map(), objectName: seg.key})
        for (const r of rs) {
          records.push({
            partition: seg.partition,
            key: r.key === null ? null : r.key.toString(),
            value: r.value === null ? null : r.value.toString(),
            timestamp: r.timestamp,
            headers: r.headers.map((h) => [h.key, h.value === null ? '<null>' : h.value.toString()]),
          })
        }
      }
      out.set(index.topic, records)
    }
    return out
  } finally {
    await s.close()
  }
}

async function listStore(configFile: string): Promise<string[]> {
  const s = await openWorkspaceStore({config: configFile})
  try {
    const keys: string[] = []
    for await (const o of s.store.list('')) keys.push(o.key)
    return keys
  } finally {
    await s.close()
  }
}

function sortRecords(list: Expected[]): Expected[] {
  return [...list].sort((a, b) => a.partition - b.partition || a.timestamp - b.timestamp)
}

for (const kind of STORE_KINDS) {
  describe(`backup plan/apply on Kafka → ${kind} store`, () => {
    const env = testEnv()
    const prefix = randomName('bk')
    const kafka = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.bootstrap], logLevel: logLevel.NOTHING})
    const admin = kafka.admin()
    const producer = kafka.producer({allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1})
    const dir = tempDir()
    let configFile = ''
    let storeEnv: Record<string, string> = {}
    const produced = new Map<string, Expected[]>()

    before(async () => {
      await admin.connect()
      await producer.connect()
      await admin.createTopics({waitForLeaders: true, topics: CODECS.map(([name]) => ({topic: `${prefix}.${name}`, numPartitions: 2}))})
      for (const [name, codec] of CODECS) {
        const msgs = makeMessages(120, 0)
        await producer.send({topic: `${prefix}.${name}`, compression: codec, messages: msgs.map((m) => m.kafkajs)})
        produced.set(`${prefix}.${name}`, msgs.map(({kafkajs: _k, ...e}) => e))
      }
      const store = await createTestStore(kind, dir)
      storeEnv = store.env
      Object.assign(process.env, storeEnv)
      configFile = writeWorkspace(dir, kafkaWorkspace({bootstrap: env.kafka.bootstrap, store, include: `${prefix}\\\\..*`}))
    })

    after(async () => {
      await producer.disconnect()
      await admin.deleteTopics({topics: CODECS.map(([name]) => `${prefix}.${name}`)}).catch(() => undefined)
      await admin.disconnect()
    })

    it('plans exact ranges, applies them, and the segments decode to exactly what was produced', async () => {
      const topicsBefore = (await admin.listTopics()).sort()
      const groupsBefore = (await admin.listGroups()).groups.map((g) => g.groupId).sort()

      const plan = await runKbk(['plan', '--detailed-exitcode', '--json'], {cwd: dir, env: storeEnv})
      assert.equal(plan.code, 2, plan.stderr)
      const p = JSON.parse(plan.stdout) as Plan
      assert.equal(p.format_version, '1.0')
      const backups = p.resource_changes.filter((c) => c.type === 'backup')
      assert.equal(backups.length, 4)
      for (const b of backups) {
        assert.deepEqual(b.actions, ['run'])
        assert.deepEqual(b.backup!.ranges, [
          {partition: 0, from: 0, to: 60},
          {partition: 1, from: 0, to: 60},
        ])
      }
      assert.ok(p.resource_changes.some((c) => c.address === 'policy.events' && c.actions[0] === 'create'))
      // Plan is read-only: no topic, no group, no state.
      assert.deepEqual((await admin.listTopics()).sort(), topicsBefore)
      assert.deepEqual((await admin.listGroups()).groups.map((g) => g.groupId).sort(), groupsBefore)
      assert.deepEqual(await listStore(configFile), [], 'plan wrote nothing to the store')

      const apply = await runKbk(['apply', '--auto-approve'], {cwd: dir, env: storeEnv})
      assert.equal(apply.code, 0, apply.stderr + apply.stdout)
      assert.match(apply.stderr, /Apply complete!/)
      // No consumer group is left behind on the source cluster.
      assert.deepEqual((await admin.listGroups()).groups.map((g) => g.groupId).sort(), groupsBefore)

      const decoded = await decodeAll(configFile)
      for (const [topic, expected] of produced) assert.deepEqual(sortRecords(decoded.get(topic) ?? []), sortRecords(expected), `records of ${topic}`)

      const empty = await runKbk(['plan', '--detailed-exitcode'], {cwd: dir, env: storeEnv})
      assert.equal(empty.code, 0, empty.stdout + empty.stderr)
      assert.match(empty.stdout, /No changes\. Your backups match the configuration\./)
    })

    it('plans only the new ranges after more records arrive', async () => {
      const topic = `${prefix}.zstd`
      const more = makeMessages(10, 120)
      await producer.send({topic, compression: CompressionTypes.ZSTD, messages: more.map((m) => m.kafkajs)})
      const plan = await runKbk(['plan', '--detailed-exitcode', '--json'], {cwd: dir, env: storeEnv})
      assert.equal(plan.code, 2, plan.stderr)
      const p = JSON.parse(plan.stdout) as Plan
      assert.deepEqual(p.resource_changes.map((c) => c.address), [`backup.events["${topic}"]`])
      assert.deepEqual(p.resource_changes[0]!.backup!.ranges, [
        {partition: 0, from: 60, to: 65},
        {partition: 1, from: 60, to: 65},
      ])
      const apply = await runKbk(['apply', '--auto-approve'], {cwd: dir, env: storeEnv})
      assert.equal(apply.code, 0, apply.stderr)
      const decoded = await decodeAll(configFile)
      assert.deepEqual(sortRecords(decoded.get(topic)!), sortRecords([...produced.get(topic)!, ...more.map(({kafkajs: _k, ...e}) => e)]))
    })
  })
}
