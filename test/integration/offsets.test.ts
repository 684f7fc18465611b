// Consumer offset resets end to end on the real test Kafka, through the built CLI: the plan shows
// exact per-partition moves, apply snapshots before it commits, a group with a live member is
// refused with the member named, a rollback puts back exactly the offsets it replaced, and a run
// killed (-9) between the snapshot and the commits reruns to the offsets it had pinned.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import kafkajs from 'kafkajs'
import type {Plan} from '../../src/plan/types.js'
import {randomName, testEnv} from '../helpers/env.js'
import {runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'

const {Kafka, logLevel} = kafkajs

type Committed = Record<number, number>

describe('offset resets, snapshots and rollback (real Kafka)', () => {
  const env = testEnv()
  const prefix = randomName('off')
  const topic = `${prefix}.events`
  const kafka = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.bootstrap], logLevel: logLevel.NOTHING})
  const admin = kafka.admin()
  const dir = tempDir()
  const PER_PARTITION = 100

  const workspace = (resets: string): string =>
    writeWorkspace(
      dir,
      `version: 1
clusters:
  src:
    brokers: ["${env.kafka.bootstrap}"]
stores:
  local:
    type: fs
    path: ./backups
offsetResets:
${resets}`,
    )

  async function committed(group: string): Promise<Committed> {
    const got = await admin.fetchOffsets({groupId: group, topics: [topic]})
    return Object.fromEntries((got[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
  }

  async function commit(group: string, offsets: Committed): Promise<void> {
    await admin.setOffsets({groupId: group, topic, partitions: Object.entries(offsets).map(([p, o]) => ({partition: Number(p), offset: String(o)}))})
  }

  async function produce(perPartition: number): Promise<void> {
    const producer = kafka.producer({allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    for (let p = 0; p < 3; p++) await producer.send({topic, messages: Array.from({length: perPartition}, (_, i) => ({partition: p, key: `k${i}`, value: `v${i}`}))})
    await producer.disconnect()
  }

  async function ends(): Promise<Committed> {
    return Object.fromEntries((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]))
  }

  async function releaseLocks(): Promise<void> {
    const l = JSON.parse((await runKbk(['lock', 'list', '--json'], {cwd: dir})).stdout) as {locks: Array<{id: string}>}
    for (const lock of l.locks) await runKbk(['lock', 'release', lock.id, '--force'], {cwd: dir})
  }

  before(async () => {
    await admin.connect()
    await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: 3}]})
    await produce(PER_PARTITION)
    // Read back what was produced rather than assume it (a retried send must not skew the test).
    assert.deepEqual(await ends(), {0: PER_PARTITION, 1: PER_PARTITION, 2: PER_PARTITION})
  })

  after(async () => {
    await admin.deleteTopics({topics: [topic]}).catch(() => undefined)
    await admin.disconnect()
  })

  it('plans exact per-partition moves, snapshots before committing, and rolls back to exactly the offsets before', async () => {
    const group = `${prefix}-billing`
    const beforeReset = {0: 1, 1: 57, 2: 100}
    await commit(group, beforeReset)
    workspace(`  rewind:\n    cluster: src\n    groups: ["${prefix}-bill.*"]\n    topics: ["${prefix}\\\\.events"]\n    to: earliest\n`)

    const plan = await runKbk(['plan'], {cwd: dir})
    assert.equal(plan.code, 0, plan.stderr + plan.stdout)
    for (const [p, o] of Object.entries(beforeReset)) assert.match(plan.stdout, new RegExp(`~ offsets\\.rewind\\["${group}"\\] ${topic.replace('.', '\\.')}/${p}: ${o} -> 0\\n`))
    const json = JSON.parse((await runKbk(['plan', '--json'], {cwd: dir})).stdout) as Plan
    const change = json.resource_changes.find((c) => c.address === 'offsets.rewind')
    assert.ok(change?.offsets)
    assert.deepEqual(change.offsets.groups.map((g) => [g.group, g.topics[topic]]), [[group, [0, 1, 2].map((p) => ({partition: p, before: beforeReset[p as 0 | 1 | 2], after: 0}))]])
    // The plan is read-only: nothing moved.
    assert.deepEqual(await committed(group), beforeReset)

    const applied = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(applied.code, 0, applied.stderr)
    assert.deepEqual(await committed(group), {0: 0, 1: 0, 2: 0})

    const listed = JSON.parse((await runKbk(['offsets', 'snapshots', '--group', group, '--json'], {cwd: dir})).stdout) as {snapshots: Array<{id: string; reason: {kind: string; address: string}}>}
    assert.equal(listed.snapshots.length, 1)
    assert.deepEqual(listed.snapshots[0]!.reason, {kind: 'reset', address: 'offsets.rewind'})
    const snapshotId = listed.snapshots[0]!.id

    // Applied once: the next plan has nothing to do for it.
    const again = await runKbk(['plan', '--detailed-exitcode'], {cwd: dir})
    assert.equal(again.code, 0, again.stdout)

    const rollback = await runKbk(['offsets', 'rollback', snapshotId, '--auto-approve'], {cwd: dir})
    assert.equal(rollback.code, 0, rollback.stderr)
    assert.match(rollback.stderr, new RegExp(`~ offsets\\.rollback-${snapshotId}\\["${group}"\\] ${topic.replace('.', '\\.')}/1: 0 -> 57`))
    assert.deepEqual(await committed(group), beforeReset)

    // The rollback was snapshotted first: rolling it back returns to the reset offsets.
    const after = JSON.parse((await runKbk(['offsets', 'snapshots', '--json'], {cwd: dir})).stdout) as {snapshots: Array<{id: string; reason: {kind: string}}>}
    const rollbackSnapshot = after.snapshots.find((s) => s.reason.kind === 'rollback')
    assert.ok(rollbackSnapshot)
    assert.equal((await runKbk(['offsets', 'rollback', rollbackSnapshot.id, '--auto-approve'], {cwd: dir})).code, 0)
    assert.deepEqual(await committed(group), {0: 0, 1: 0, 2: 0})
  })

  it('refuses a group with an active member and names it; plan and apply never join the group', async () => {
    const group = `${prefix}-live`
    await commit(group, {0: 5, 1: 5, 2: 5})
    const clientId = `${prefix}-worker`
    const consumer = new Kafka({clientId, brokers: [env.kafka.bootstrap], logLevel: logLevel.NOTHING}).consumer({groupId: group, allowAutoTopicCreation: false})
    await consumer.connect()
    await consumer.subscribe({topic})
    await consumer.run({eachMessage: async () => {}})
    try {
      // Wait for the condition, not for a time: the member is in the group once it is Stable.
      for (let i = 0; ; i++) {
        const d = (await admin.describeGroups([group])).groups[0]
        if (d?.state === 'Stable' && d.members.length === 1) break
        assert.ok(i < 600, `group never became Stable: ${JSON.stringify(d)}`)
        await new Promise((r) => setTimeout(r, 100))
      }
      const memberId = (await admin.describeGroups([group])).groups[0]!.members[0]!.memberId
      // The member consumes and commits as it goes; earliest is behind wherever it is.
      workspace(`  live:\n    cluster: src\n    groups: ["${group}"]\n    to: earliest\n`)
      const plan = await runKbk(['plan'], {cwd: dir})
      assert.equal(plan.code, 1, plan.stdout)
      const out = plan.stdout + plan.stderr
      assert.match(out, /KBK_KAFKA_GROUP_ACTIVE/)
      assert.ok(out.includes(memberId), out)
      assert.ok(out.includes(clientId), out)
      const apply = await runKbk(['apply', '--auto-approve'], {cwd: dir})
      assert.equal(apply.code, 1)
      assert.ok((apply.stdout + apply.stderr).includes(memberId))
      // Still one member (kbk never joined), and nothing was committed.
      const d = (await admin.describeGroups([group])).groups[0]!
      assert.deepEqual(d.members.map((m) => m.memberId), [memberId])
    } finally {
      await consumer.disconnect()
    }
  })

  it('reruns to the pinned offsets after a kill -9 between the snapshot and the commits', async () => {
    const group = `${prefix}-crash`
    const beforeReset = {0: 10, 1: 20, 2: 30}
    await commit(group, beforeReset)
    workspace(`  skip:\n    cluster: src\n    groups: ["${group}"]\n    to: latest\n`)
    const pinned = await ends()
    const killed = await runKbk(['apply', '--auto-approve'], {cwd: dir, env: {KBK_TEST_KILL_AFTER_OFFSET_SNAPSHOT: '1'}})
    assert.equal(killed.signal, 'SIGKILL', killed.stderr)
    assert.deepEqual(await committed(group), beforeReset, 'nothing was committed before the kill')
    const head = JSON.parse(readFileSync(join(dir, 'backups/_kbk/state/head.json'), 'utf8')) as {offset_resets?: Record<string, {status: string}>}
    assert.equal(head.offset_resets?.skip?.status, 'in-progress')

    // The log end moves on; the rerun still commits the offsets the first run pinned.
    await produce(5)
    await releaseLocks()
    const plan = await runKbk(['plan'], {cwd: dir})
    assert.match(plan.stdout, /an earlier apply took snapshot/)
    for (const p of [0, 1, 2]) assert.match(plan.stdout, new RegExp(`\\["${group}"\\] ${topic.replace('.', '\\.')}/${p}: ${beforeReset[p as 0 | 1 | 2]} -> ${pinned[p]}\\n`))
    const rerun = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(rerun.code, 0, rerun.stderr)
    assert.deepEqual(await committed(group), pinned)
    // One snapshot for the reset, and it holds the offsets before it, for a rollback.
    const listed = JSON.parse((await runKbk(['offsets', 'snapshots', '--group', group, '--json'], {cwd: dir})).stdout) as {snapshots: Array<{id: string}>}
    assert.equal(listed.snapshots.length, 1)
    assert.equal((await runKbk(['offsets', 'rollback', listed.snapshots[0]!.id, '--auto-approve'], {cwd: dir})).code, 0)
    assert.deepEqual(await committed(group), beforeReset)
    const done = await runKbk(['plan', '--detailed-exitcode'], {cwd: dir})
    assert.equal(done.code, 0, done.stdout)
  })
})
