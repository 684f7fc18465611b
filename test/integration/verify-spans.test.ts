// Deep verify on a transactional topic: runs that end on transaction markers and skip aborted
// records leave offset holes between segments' records; the covered spans explain every one, so
// verify --deep passes — and a segment dropped from the middle is named as a hole.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import kafkajs from 'kafkajs'
import {openWorkspaceStore} from '../../src/cli/context.js'
import {randomName, testEnv} from '../helpers/env.js'
import {waitForStableEnds} from '../helpers/kafka.js'
import {createTestStore, kafkaWorkspace, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'

const {Kafka, logLevel} = kafkajs

describe('verify --deep: covered spans on a transactional topic (fs store)', () => {
  const env = testEnv()
  const topic = randomName('txn')
  const kafka = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.bootstrap], logLevel: logLevel.NOTHING})
  const admin = kafka.admin()
  const producer = kafka.producer({allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1, transactionalId: randomName('tx')})
  const dir = tempDir()
  let configFile = ''

  let end = 0
  const txn = async (n: number, commit: boolean): Promise<void> => {
    const t = await producer.transaction()
    await t.send({topic, messages: Array.from({length: n}, (_, i) => ({partition: 0, key: `k${i}`, value: `v${i}`}))})
    if (commit) await t.commit()
    else await t.abort()
    // The marker reaches the partition after commit() or abort() returns: the next run's plan must see it.
    end += n + 1
    await waitForStableEnds(env.kafka.bootstrap, topic, [end])
  }

  before(async () => {
    await admin.connect()
    await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: 1}]})
    await producer.connect()
    configFile = writeWorkspace(dir, kafkaWorkspace({bootstrap: env.kafka.bootstrap, store: await createTestStore('fs', dir), include: topic, policyExtra: '    segment: { maxRecords: 4 }\n'}))
  })

  after(async () => {
    await producer.disconnect()
    await admin.deleteTopics({topics: [topic]}).catch(() => undefined)
    await admin.disconnect()
  })

  it('explains every hole, and names one that nothing explains', async () => {
    await txn(4, true) // offsets 0..3, marker at 4: the run's segment fills at 4 records, then only the marker is left
    assert.equal((await runKbk(['apply', '--auto-approve'], {cwd: dir})).code, 0)
    await txn(3, false) // aborted: 5..7, marker 8
    await txn(6, true) // 9..14, marker 15
    const second = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(second.code, 0, second.stderr)
    const ok = await runKbk(['verify', '--deep', '--json'], {cwd: dir})
    assert.equal(ok.code, 0, ok.stdout)
    assert.equal((JSON.parse(ok.stdout) as {records: number}).records, 10)

    // Drop a segment from the middle of what the state records: its span is now unexplained.
    const s = await openWorkspaceStore({config: configFile})
    try {
      const read = await s.state.read()
      const segments = await s.state.loadSegments(read.snapshot, 'events', topic)
      assert.ok(segments.length >= 3, `expected several segments, got ${segments.length}`)
      assert.equal(segments[1]!.covers_from, segments[0]!.covers_to, 'the second run covers from where the first left off, marker included')
      await s.state.commit(read, {topics: [{policy: 'events', topic, removeSegments: [segments[1]!]}]})
    } finally {
      await s.close()
    }
    const bad = await runKbk(['verify', '--deep', '--json'], {cwd: dir})
    assert.equal(bad.code, 1)
    const problems = (JSON.parse(bad.stdout) as {problems: Array<{kind: string; message: string}>}).problems
    assert.deepEqual(problems.map((p) => p.kind), ['hole'])
  })
})
