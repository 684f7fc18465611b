// Restored records and the target topic's retention, on the real clusters through the real CLI.
// Kafka deletes by record timestamp and a restore keeps the original CreateTime, so restoring
// 10-day-old records into a topic with 7-day retention "succeeds" and the broker deletes them at
// its next retention check (every 5 s on the test brokers). The plan must refuse with the fix, or
// (extendRetention) create the topic with a retention that keeps them — and they must survive a
// retention check that provably ran after the restore. Brokers also reject records outside
// message.timestamp.before.max.ms (INVALID_TIMESTAMP): refused at plan time, and at apply time
// when the topic's setting changed after the plan, with a named error instead of a generic one.
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {openKafka} from '../../src/kafka/kafkajs-adapter.js'
import type {Plan} from '../../src/plan/types.js'
import {testEnv} from '../helpers/env.js'
import {createTestTopic, deleteTestTopic, produceTestRecords, testKafka} from '../helpers/kafka.js'
import {pollUntil} from '../helpers/poll.js'
import {createTestStore, kafkaWorkspace, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'
import type {TestStore} from '../helpers/workspace.js'

const DAY = 86_400_000
const N = 1000
// The user's records: 10 days old (less an hour, so the whole-day numbers below hold however long the run takes).
const OLD = Date.now() - 10 * DAY + 3_600_000

async function offsets(bootstrap: string, topic: string): Promise<{low: number; high: number}> {
  const admin = testKafka(bootstrap).admin()
  await admin.connect()
  try {
    const o = await admin.fetchTopicOffsets(topic)
    return {low: o.reduce((n, p) => n + Number(p.low), 0), high: o.reduce((n, p) => n + Number(p.high), 0)}
  } finally {
    await admin.disconnect()
  }
}

async function topicConfig(bootstrap: string, topic: string, name: string): Promise<string | undefined> {
  const admin = testKafka(bootstrap).admin()
  await admin.connect()
  try {
    const res = await admin.describeConfigs({includeSynonyms: false, resources: [{type: 2, name: topic, configNames: [name]}]})
    return res.resources[0]?.configEntries.find((c) => c.configName === name)?.configValue ?? undefined
  } finally {
    await admin.disconnect()
  }
}

async function alterTopic(bootstrap: string, topic: string, configs: Record<string, string>): Promise<void> {
  const admin = testKafka(bootstrap).admin()
  await admin.connect()
  try {
    await admin.alterConfigs({validateOnly: false, resources: [{type: 2, name: topic, configEntries: Object.entries(configs).map(([name, value]) => ({name, value}))}]})
  } finally {
    await admin.disconnect()
  }
}

async function topicExists(bootstrap: string, topic: string): Promise<boolean> {
  const admin = testKafka(bootstrap).admin()
  await admin.connect()
  try {
    return (await admin.listTopics()).includes(topic)
  } finally {
    await admin.disconnect()
  }
}

describe('restored records survive the target topic\'s retention, or the plan refuses', () => {
  const env = testEnv()
  const dir = tempDir()
  let store: TestStore
  let source = ''
  const targets: string[] = []
  const target = (suffix: string): string => {
    targets.push(`${source}${suffix}`)
    return `${source}${suffix}`
  }
  const workspace = (restore: string): string =>
    writeWorkspace(dir, kafkaWorkspace({bootstrap: env.kafka.bootstrap, targetBootstrap: env.kafka.targetBootstrap, store, include: source, extra: restore ? `restores:\n${restore}` : ''}))
  const restoreIntent = (o: {suffix: string; body?: string}) => `  again:
    from: { policy: events }
    to: { cluster: target, topicSuffix: "${o.suffix}" }
${o.body ?? ''}`
  const kbk = (args: string[]) => runKbk(args, {cwd: dir})

  before(async () => {
    store = await createTestStore('fs', dir)
    // The source keeps everything (retention.ms -1): the backup sees all 1,000 old records.
    source = await createTestTopic(env.kafka.bootstrap, {prefix: 'rr'})
    await produceTestRecords(env.kafka.bootstrap, source, Array.from({length: N}, (_, i) => ({key: `k${i}`, value: `v${i}`, timestamp: OLD + i})))
    workspace('')
    const r = await kbk(['apply', '--auto-approve'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
  })

  after(async () => {
    await deleteTestTopic(env.kafka.bootstrap, source).catch(() => undefined)
    for (const t of targets) await deleteTestTopic(env.kafka.targetBootstrap, t).catch(() => undefined)
  })

  it('refuses the docs example (configs retention.ms 7d, createTopics) for 10-day-old records, with the fix, and creates nothing', async () => {
    const topic = target('-docs')
    workspace(restoreIntent({suffix: '-docs', body: '    createTopics: true\n    configs: { retention.ms: 604800000 }\n'}))
    const plan = await kbk(['plan'])
    assert.equal(plan.code, 1, plan.stdout + plan.stderr)
    assert.match(plan.stdout, /KBK_RESTORE_RETENTION: restore\.again: target topic ".*-docs" on cluster "target" would delete restored records right after the restore: the oldest is from .* \(10\.0d old\), but its retention\.ms is 604800000 \(7d, from restores\.again\.configs\)/)
    assert.match(plan.stdout, /fix: Set restores\.again\.extendRetention: true \(kbk creates the topic with retention\.ms 1468800000, 17d/)
    const apply = await kbk(['apply', '--auto-approve'])
    assert.notEqual(apply.code, 0, apply.stdout)
    assert.doesNotMatch(apply.stdout, /restored/)
    assert.equal(await topicExists(env.kafka.targetBootstrap, topic), false)
  })

  it('with extendRetention, creates the topic with a retention that keeps them, shows it, and they survive a retention check', async () => {
    const topic = target('-kept')
    workspace(restoreIntent({suffix: '-kept', body: '    createTopics: true\n    extendRetention: true\n    configs: { retention.ms: 604800000 }\n'}))
    const json = await kbk(['plan', '--json'])
    assert.equal(json.code, 0, json.stderr + json.stdout)
    const change = (JSON.parse(json.stdout) as Plan).resource_changes.find((c) => c.type === 'restore')!
    assert.deepEqual(change.restore!.topics[0]!.retention_extended, {from_ms: 7 * DAY, to_ms: 17 * DAY})
    const text = await kbk(['plan'])
    assert.match(text.stdout, /-kept: created with retention\.ms 1468800000 \(17d\) instead of 604800000 \(7d\)/)
    const apply = await kbk(['apply', '--auto-approve'])
    assert.equal(apply.code, 0, apply.stderr + apply.stdout)
    assert.equal(await topicConfig(env.kafka.targetBootstrap, topic, 'retention.ms'), String(17 * DAY))
    assert.deepEqual(await offsets(env.kafka.targetBootstrap, topic), {low: 0, high: N})

    // Proof that a retention check ran after the restore: a control topic on the same broker,
    // written after it with the same old records and the docs' 7-day retention, gets emptied.
    const control = target('-control')
    const admin = testKafka(env.kafka.targetBootstrap).admin()
    await admin.connect()
    await admin.createTopics({waitForLeaders: true, topics: [{topic: control, numPartitions: 1, replicationFactor: 1, configEntries: [{name: 'retention.ms', value: String(7 * DAY)}]}]})
    await admin.disconnect()
    await produceTestRecords(env.kafka.targetBootstrap, control, Array.from({length: 10}, (_, i) => ({key: `c${i}`, value: 'x', timestamp: OLD + i})))
    const control10 = await pollUntil(() => offsets(env.kafka.targetBootstrap, control), (o) => o.high === 10 && o.low === 10, {ms: 120_000, every: 250})
    assert.deepEqual(control10, {low: 10, high: 10}, 'the broker never ran a retention check on the control topic')
    assert.deepEqual(await offsets(env.kafka.targetBootstrap, topic), {low: 0, high: N}, 'the restored records were deleted by retention')
  })

  it('a saved plan applied after its records have aged past the retention is refused before anything is created', async () => {
    const topic = target('-late')
    // 11 days keeps 10-day-old records at plan time; two days later it does not.
    workspace(restoreIntent({suffix: '-late', body: `    createTopics: true\n    configs: { retention.ms: ${11 * DAY} }\n`}))
    const out = join(dir, 'late.kbk')
    const saved = await kbk(['plan', '--out', out])
    assert.equal(saved.code, 0, saved.stderr + saved.stdout)
    const apply = await runKbk(['apply', out], {cwd: dir, env: {KBK_NOW: new Date(Date.now() + 2 * DAY).toISOString()}})
    assert.notEqual(apply.code, 0, apply.stdout)
    assert.match(apply.stdout + apply.stderr, /KBK_RESTORE_RETENTION: The oldest record to restore into ".*-late" .* is now older than its retention\.ms 950400000/)
    assert.equal(await topicExists(env.kafka.targetBootstrap, topic), false)
  })

  it('refuses an existing target topic whose own retention is too short, naming the kafka-configs fix', async () => {
    const topic = target('-existing')
    const admin = testKafka(env.kafka.targetBootstrap).admin()
    await admin.connect()
    await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: 1, replicationFactor: 1, configEntries: [{name: 'retention.ms', value: String(7 * DAY)}]}]})
    await admin.disconnect()
    workspace(restoreIntent({suffix: '-existing'}))
    const plan = await kbk(['plan'])
    assert.equal(plan.code, 1, plan.stdout + plan.stderr)
    assert.match(plan.stdout, /KBK_RESTORE_RETENTION: .*-existing" on cluster "target".*from the topic's own config on cluster "target"/)
    assert.match(plan.stdout, /kafka-configs\.sh --alter --entity-type topics --entity-name .*-existing --add-config retention\.ms=1468800000/)
  })

  it('reads the brokers\' defaults for settings a topic does not set, and checks an existing topic against them', async () => {
    const port = openKafka({brokers: [env.kafka.targetBootstrap]}, {name: 'target', logger: {warn: () => undefined, error: () => undefined}})
    try {
      const d = await port.topicDefaults()
      // The test brokers keep Kafka's log.retention.hours=168: reported as retention.ms.
      assert.equal(d['retention.ms'], String(7 * DAY))
      assert.equal(d['cleanup.policy'], 'delete')
      assert.equal(d['message.timestamp.type'], 'CreateTime')
    } finally {
      await port.close()
    }
    const topic = target('-bare')
    const admin = testKafka(env.kafka.targetBootstrap).admin()
    await admin.connect()
    await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: 1, replicationFactor: 1}]})
    await admin.disconnect()
    workspace(restoreIntent({suffix: '-bare'}))
    const plan = await kbk(['plan'])
    assert.equal(plan.code, 1, plan.stdout + plan.stderr)
    assert.match(plan.stdout, /KBK_RESTORE_RETENTION: .*-bare" on cluster "target".*retention\.ms is 604800000 \(7d, from the broker default of cluster "target"\)/)
  })

  it('refuses records the target would reject (message.timestamp.before.max.ms), and names INVALID_TIMESTAMP when the setting changed after the plan', async () => {
    const topic = target('-stamps')
    const admin = testKafka(env.kafka.targetBootstrap).admin()
    await admin.connect()
    await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: 1, replicationFactor: 1, configEntries: [{name: 'retention.ms', value: '-1'}]}]})
    await admin.disconnect()
    workspace(restoreIntent({suffix: '-stamps'}))
    // Planned while the topic accepts them; the setting changes before the apply.
    const out = join(dir, 'stamps.kbk')
    const saved = await kbk(['plan', '--out', out])
    assert.equal(saved.code, 0, saved.stderr + saved.stdout)
    await alterTopic(env.kafka.targetBootstrap, topic, {'retention.ms': '-1', 'message.timestamp.before.max.ms': String(DAY)})
    const plan = await kbk(['plan'])
    assert.equal(plan.code, 1, plan.stdout + plan.stderr)
    assert.match(plan.stdout, /KBK_RESTORE_TIMESTAMP_REJECTED: .*-stamps" on cluster "target" would reject restored records \(INVALID_TIMESTAMP\).*message\.timestamp\.before\.max\.ms is 86400000 \(1d, from the topic's own config/)
    const apply = await kbk(['apply', out])
    assert.notEqual(apply.code, 0, apply.stdout)
    assert.match(apply.stdout + apply.stderr, /KBK_RESTORE_TIMESTAMP_REJECTED/)
    assert.match(apply.stdout + apply.stderr, /message\.timestamp\.before\.max\.ms/)
    assert.equal((await offsets(env.kafka.targetBootstrap, topic)).high, 0)
  })
})
