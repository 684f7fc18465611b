// The examples/kafka-streams workspace as a real test: a Kafka Streams application's input,
// changelog and output topics and its committed group offsets, made with kafkajs on the source
// cluster, backed up, and restored to one instant on the target. The application's group must
// resume exactly after the last restored input record of each partition; repartition topics are
// recreated empty and its offsets there start at 0.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import kafkajs from 'kafkajs'
import {randomName, testEnv} from '../helpers/env.js'
import {consumeAll} from '../helpers/kafka.js'
import {repoRoot, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'

const {Kafka, logLevel} = kafkajs
// Recent timestamps: the test brokers apply time retention.
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000
const N = 60

describe('Kafka Streams restore by application.id (examples/kafka-streams)', () => {
  const env = testEnv()
  const prefix = randomName('ks')
  const app = `${prefix}-enricher`
  const input = `${prefix}.orders`
  const output = `${prefix}.enriched`
  const changelog = `${app}-totals-changelog`
  const repartition = `${app}-by-customer-repartition`
  const source = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.bootstrap], logLevel: logLevel.NOTHING})
  const target = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.targetBootstrap], logLevel: logLevel.NOTHING})
  const sourceAdmin = source.admin()
  const targetAdmin = target.admin()
  const dir = tempDir()
  // Records with timestamp <= the point are restored: inputs i = 0..PIT_I, split over two partitions.
  const PIT_I = 37
  const pointInTime = new Date(T0 + PIT_I * 1000).toISOString()

  before(async () => {
    await Promise.all([sourceAdmin.connect(), targetAdmin.connect()])
    await sourceAdmin.createTopics({waitForLeaders: true, topics: [input, output, changelog, repartition].map((topic) => ({topic, numPartitions: 2, configEntries: [{name: 'retention.ms', value: '604800000'}]}))})
    const producer = source.producer({allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    const at = (i: number): string => String(T0 + i * 1000)
    // What a Streams app leaves behind: inputs, the state store's changelog, outputs, a repartition topic.
    await producer.send({topic: input, messages: Array.from({length: N}, (_, i) => ({partition: i % 2, key: `c${i % 5}`, value: JSON.stringify({order: i}), timestamp: at(i)}))})
    await producer.send({topic: changelog, messages: Array.from({length: N}, (_, i) => ({partition: i % 2, key: `c${i % 5}`, value: JSON.stringify({total: i}), timestamp: at(i)}))})
    await producer.send({topic: output, messages: Array.from({length: N}, (_, i) => ({partition: i % 2, key: `c${i % 5}`, value: JSON.stringify({enriched: i}), timestamp: at(i)}))})
    await producer.send({topic: repartition, messages: Array.from({length: 10}, (_, i) => ({partition: i % 2, key: `c${i}`, value: 'x', timestamp: at(i)}))})
    await producer.disconnect()
    // The application's committed offsets at backup time: behind on the input (a plain translation
    // of them would resume there, at 5), at the end of its repartition topic.
    await sourceAdmin.setOffsets({groupId: app, topic: input, partitions: [0, 1].map((partition) => ({partition, offset: '5'}))})
    const ends = await sourceAdmin.fetchTopicOffsets(repartition)
    await sourceAdmin.setOffsets({groupId: app, topic: repartition, partitions: ends.map((e) => ({partition: e.partition, offset: e.high}))})
  })

  after(async () => {
    await sourceAdmin.deleteTopics({topics: [input, output, changelog, repartition]}).catch(() => undefined)
    await targetAdmin.deleteTopics({topics: [input, output, changelog, repartition]}).catch(() => undefined)
    await Promise.all([sourceAdmin.disconnect(), targetAdmin.disconnect()])
  })

  it('restores inputs, changelogs and outputs to one instant and resumes the app exactly after the restored input', async () => {
    // The example workspace, with this test's names and clusters.
    let yaml = readFileSync(join(repoRoot, 'examples/kafka-streams/kbk.yaml'), 'utf8')
    yaml = yaml
      .replaceAll('${KAFKA_BOOTSTRAP:-127.0.0.1:39092}', env.kafka.bootstrap)
      .replaceAll('${STAGING_BOOTSTRAP:-127.0.0.1:39192}', env.kafka.targetBootstrap)
      .replaceAll('./.kbk-backups', './backups')
      .replaceAll('"orders\\\\..*" # input', `"${prefix}\\\\.orders" # input`)
      .replaceAll('"payments\\\\..*" # input', `"${prefix}\\\\.payments" # input`)
      .replaceAll('"enriched-orders" # output', `"${prefix}\\\\.enriched" # output`)
      .replaceAll('order-enricher', app)
      .replaceAll('2026-03-22T14:30:00Z', pointInTime)
    assert.ok(yaml.includes(`applicationId: ${app}`), 'the example declares the Streams application')
    writeWorkspace(dir, yaml)

    const backup = await runKbk(['apply', '--auto-approve', '--target', `policy.${app}`], {cwd: dir})
    assert.equal(backup.code, 0, backup.stderr)
    const plan = await runKbk(['plan'], {cwd: dir})
    assert.equal(plan.code, 0, plan.stdout + plan.stderr)
    assert.match(plan.stdout, /repartition topics recreated empty: .*by-customer-repartition \(create, 2 partitions\)/)
    const restore = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(restore.code, 0, restore.stderr)

    // Every restored topic stops at the same instant.
    const expectedPerPartition: Record<number, number> = {0: Math.floor(PIT_I / 2) + 1, 1: Math.floor((PIT_I + 1) / 2)}
    for (const topic of [input, changelog, output]) {
      const ends = Object.fromEntries((await targetAdmin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]))
      assert.deepEqual(ends, expectedPerPartition, topic)
    }
    // The last restored input record of each partition is the last one at or before the instant.
    const lastRestored = await lastRecords(env.kafka.targetBootstrap, input)
    for (const p of [0, 1]) {
      const last = lastRestored[p]!
      assert.ok(last.timestamp <= Date.parse(pointInTime))
      assert.equal(JSON.parse(last.value).order, PIT_I - ((PIT_I - p) % 2), `partition ${p}`)
    }

    // The group resumes exactly after it: its committed offset is the restored log end.
    const committed = await targetAdmin.fetchOffsets({groupId: app, topics: [input, repartition]})
    const byTopic = Object.fromEntries(committed.map((t) => [t.topic, Object.fromEntries(t.partitions.map((p) => [p.partition, Number(p.offset)]))]))
    assert.deepEqual(byTopic[input], expectedPerPartition)
    for (const p of [0, 1]) assert.equal(byTopic[input]![p], lastRestored[p]!.offset + 1)
    // Repartition topics: recreated empty, the group starts them at 0.
    assert.deepEqual((await targetAdmin.fetchTopicOffsets(repartition)).map((o) => Number(o.high)), [0, 0])
    assert.deepEqual(byTopic[repartition], {0: 0, 1: 0})
  })
})

/** The last record of each partition, read with kbk's own reader (plain Fetch, no consumer group). */
async function lastRecords(bootstrap: string, topic: string): Promise<Record<number, {offset: number; timestamp: number; value: string}>> {
  const out: Record<number, {offset: number; timestamp: number; value: string}> = {}
  for (const r of await consumeAll(bootstrap, topic)) out[r.partition] = {offset: r.offset, timestamp: r.timestamp, value: r.value!.toString()}
  return out
}
