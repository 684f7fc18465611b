// Restores run target partitions side by side and share produce requests. Killed mid-way and
// rerun, a restore that merges source partitions still gives each target partition exactly its
// sequence (source partitions ascending, offsets ascending), every record once.
import {describe, it, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {testEnv} from '../helpers/env.js'
import {consumeAll, createTestTopic, deleteTestTopic, produceTestRecords, testKafka, waitForFirstRecords, type ConsumedRecord} from '../helpers/kafka.js'
import {createTestStore, kafkaWorkspace, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'

const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000
const PARTITIONS = 4
const PER_PARTITION = 3000

describe('restore lanes', () => {
  const env = testEnv()
  const dir = tempDir()
  let topic = ''
  let yaml = ''
  const restored: string[] = []

  before(async () => {
    topic = await createTestTopic(env.kafka.bootstrap, {partitions: PARTITIONS, prefix: 'lanes'})
    for (let p = 0; p < PARTITIONS; p++) {
      // ~2 KiB records, several requests' worth per partition.
      await produceTestRecords(
        env.kafka.bootstrap,
        topic,
        Array.from({length: PER_PARTITION}, (_, i) => ({
          partition: p,
          key: `p${p}-${i}`,
          value: JSON.stringify({p, i, pad: 'y'.repeat(2000 + ((i * 31) % 200))}),
          timestamp: T0 + i * 10 + p,
          headers: i % 5 === 0 ? [{key: 'h', value: Buffer.from(`${p}.${i}`)}, {key: 'h', value: null}] : [],
        })),
      )
    }
    const store = await createTestStore('fs', dir)
    yaml = kafkaWorkspace({bootstrap: env.kafka.bootstrap, targetBootstrap: env.kafka.targetBootstrap, store, include: topic, policyExtra: '    segment: { maxRecords: 700 }\n'})
    writeWorkspace(dir, yaml)
    const backup = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(backup.code, 0, backup.stderr + backup.stdout)
  })

  after(async () => {
    await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
    for (const t of restored) await deleteTestTopic(env.kafka.targetBootstrap, t).catch(() => undefined)
  })

  it('a merging restore killed mid-way and rerun gives each target partition its exact sequence once', async () => {
    const target = `${topic}-merged`
    restored.push(target)
    writeWorkspace(dir, `${yaml}restores:
  merged:
    from: { policy: events, pointInTime: latest }
    to: { cluster: target, topicSuffix: "-merged" }
    topics: { include: ["${topic}"] }
    createTopics: true
    partitions: 2
    partitionMapping: { 0: 0, 1: 0, 2: 1, 3: 1 }
`)
    let pid = 0
    const run = runKbk(['apply', '--auto-approve', '--json'], {cwd: dir, onSpawn: (p) => (pid = p)})
    const admin = testKafka(env.kafka.targetBootstrap).admin()
    await admin.connect()
    try {
      assert.ok(await waitForFirstRecords(admin, target), 'the restore produced nothing within 60 s')
      process.kill(pid, 'SIGKILL')
      await run
      const partial = (await admin.fetchTopicOffsets(target)).reduce((s, p) => s + Number(p.high), 0)
      assert.ok(partial > 0 && partial < PARTITIONS * PER_PARTITION, `the kill came mid-way (${partial} records were there)`)
    } finally {
      await admin.disconnect()
    }
    const locks = JSON.parse((await runKbk(['lock', 'list', '--json'], {cwd: dir})).stdout) as {locks: Array<{id: string}>}
    for (const l of locks.locks) await runKbk(['lock', 'release', l.id, '--force'], {cwd: dir})
    const rerun = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(rerun.code, 0, rerun.stderr + rerun.stdout)

    const source = await consumeAll(env.kafka.bootstrap, topic)
    const out = await consumeAll(env.kafka.targetBootstrap, target)
    const view = (r: ConsumedRecord): string => JSON.stringify([r.key?.toString(), r.value?.toString(), r.timestamp, r.headers.map((x) => [x.key, x.value?.toString() ?? null])])
    for (const [t, sources] of [[0, [0, 1]], [1, [2, 3]]] as const) {
      const want = sources.flatMap((p) => source.filter((r) => r.partition === p)).map(view)
      const got = out.filter((r) => r.partition === t)
      assert.deepEqual(got.map((r) => r.offset), want.map((_, i) => i), `target partition ${t} holds no gaps`)
      assert.equal(got.length, want.length, `target partition ${t}: every record once`)
      assert.ok(got.map(view).every((v, i) => v === want[i]), `target partition ${t}: source ${sources.join(' then ')}, offsets ascending`)
    }
  })
})
