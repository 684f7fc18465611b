// Crash safety: kill -9 an apply in the middle of writing segments, twice; after releasing the
// dead run's lock, reruns converge and the store holds every record exactly once.
import assert from 'node:assert/strict'
import {rmSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import kafkajs from 'kafkajs'
import {openWorkspaceStore} from '../../src/cli/context.js'
import {registerKafkaCodecs} from '../../src/kafka/kafkajs-codecs.js'
import {decodeSegment} from '../../src/segment/index.js'
import {randomName, testEnv} from '../helpers/env.js'
import {countSegmentFiles, createTestStore, kafkaWorkspace, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'

// The test's own producer compresses with lz4: kafkajs needs kbk's codecs.
registerKafkaCodecs()

const {Kafka, CompressionTypes, logLevel} = kafkajs

async function killAfterSegments(dir: string, backups: string, atLeast: number): Promise<{killed: boolean}> {
  let pid = 0
  const run = runKbk(['apply', '--auto-approve'], {cwd: dir, onSpawn: (p) => (pid = p)})
  let killed = false
  try {
    for (;;) {
      const done = await Promise.race([run.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 20))])
      if (done) break
      if (countSegmentFiles(backups) >= atLeast) {
        process.kill(pid, 'SIGKILL')
        killed = true
        await run
        break
      }
    }
  } catch (error) {
    // Never leave the apply running into the next test.
    if (!killed && pid) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // It had exited already.
      }
    }
    await run
    throw error
  }
  return {killed}
}

describe('apply killed mid-run (kill -9) converges with nothing lost or duplicated', () => {
  const env = testEnv()
  const topic = randomName('crash')
  const kafka = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.bootstrap], logLevel: logLevel.NOTHING})
  const admin = kafka.admin()
  const dir = tempDir()
  let configFile = ''
  const total = 40_000

  before(async () => {
    await admin.connect()
    await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: 4}]})
    const producer = kafka.producer({allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    for (let batch = 0; batch < total / 2000; batch++) {
      const messages = Array.from({length: 2000}, (_, j) => {
        const i = batch * 2000 + j
        return {partition: i % 4, key: `k${i}`, value: JSON.stringify({i, pad: 'p'.repeat(200)})}
      })
      await producer.send({topic, compression: CompressionTypes.LZ4, messages})
    }
    await producer.disconnect()
    const store = await createTestStore('fs', dir)
    configFile = writeWorkspace(dir, kafkaWorkspace({bootstrap: env.kafka.bootstrap, store, include: topic, policyExtra: '    segment: { maxRecords: 500 }\n'}))
  })

  after(async () => {
    await admin.deleteTopics({topics: [topic]}).catch(() => undefined)
    await admin.disconnect()
  })

  it('loses and duplicates nothing', async () => {
    const backups = join(dir, 'backups')
    const first = await killAfterSegments(dir, backups, 8)
    assert.ok(first.killed, 'the first apply finished before it could be killed: make the topic bigger')

    // The dead run's lock is still there: a second apply refuses at once, naming the holder.
    const refused = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /KBK_LOCKED/)
    const locks = JSON.parse((await runKbk(['lock', 'list', '--json'], {cwd: dir})).stdout) as {locks: Array<{id: string}>}
    assert.equal(locks.locks.length, 1)
    assert.equal((await runKbk(['lock', 'release', locks.locks[0]!.id, '--force'], {cwd: dir})).code, 0)

    const second = await killAfterSegments(dir, backups, countSegmentFiles(backups) + 10)
    if (second.killed) {
      const l = JSON.parse((await runKbk(['lock', 'list', '--json'], {cwd: dir})).stdout) as {locks: Array<{id: string}>}
      for (const lock of l.locks) await runKbk(['lock', 'release', lock.id, '--force'], {cwd: dir})
    }
    const final = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(final.code, 0, final.stderr)
    const empty = await runKbk(['plan', '--detailed-exitcode'], {cwd: dir})
    assert.equal(empty.code, 0, empty.stdout + empty.stderr)

    const s = await openWorkspaceStore({config: configFile})
    try {
      const {snapshot} = await s.state.read()
      const seen = new Set<string>()
      let records = 0
      const index = Object.values(snapshot.topics)[0]!
      for (const seg of await s.state.loadSegments(snapshot, index.policy, index.topic)) {
        const {records: rs} = await decodeSegment(await s.store.get(seg.key), {keyring: new Map(), objectName: seg.key})
        for (const r of rs) {
          const id = `${seg.partition}/${r.offset}`
          assert.ok(!seen.has(id), `offset ${id} backed up twice`)
          seen.add(id)
          records++
        }
      }
      assert.equal(records, total)
      // Every object in the store is recorded: the dead runs' leftovers were removed.
      assert.equal(countSegmentFiles(backups), index.partitions.reduce((n, p) => n + p.segment_count, 0))
    } finally {
      await s.close()
    }
  })

  it('refuses to write into a store whose state is gone, instead of taking its backups for leftovers', async () => {
    const backups = join(dir, 'backups')
    const before = countSegmentFiles(backups)
    rmSync(join(backups, '_kbk', 'state', 'head.json'))
    const apply = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(apply.code, 1)
    assert.match(apply.stderr, /KBK_STATE_MISSING/)
    assert.match(apply.stderr, /holds backup data/)
    assert.equal(countSegmentFiles(backups), before, 'no backup was removed')
  })
})
