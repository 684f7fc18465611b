// Sharded apply, end to end on the real servers: 4 worker processes apply one saved plan of a
// 48-partition topic into an S3 store (versitygw, so the run lock and the state head are really
// compare-and-swapped); one worker is SIGKILLed mid-way, a foreign apply is refused naming the
// run, the killed shard is rerun, and the result is exactly the source, and exactly what a
// single-process apply of the same topic produces.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import kafkajs from 'kafkajs'
import {openWorkspaceStore} from '../../src/cli/context.js'
import {decodeSegment} from '../../src/segment/index.js'
import {decodePlanFile} from '../../src/plan/plan-file.js'
import {shardPlan} from '../../src/apply/shard.js'
import type {SegmentRef} from '../../src/state/types.js'
import {randomName, testEnv} from '../helpers/env.js'
import {createTestStore, kafkaWorkspace, repoRoot, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'

const {Kafka, logLevel} = kafkajs

const PARTITIONS = 48
const TOTAL = 24_000
const SEGMENT_RECORDS = 50

/** Runs a worker with --json; resolves its exit, and can kill it once it has written `killAfter` segments. */
function worker(dir: string, args: string[], killAfter?: number): Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; killed: boolean}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/run.js'), ...args, '--json'], {cwd: dir, env: {...process.env, KBK_IN_AUTOMATION: '1', NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    let segments = 0
    let killed = false
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString()
      stdout += text
      segments += text.split('"type":"segment.written"').length - 1
      if (killAfter !== undefined && !killed && segments >= killAfter) {
        killed = true
        child.kill('SIGKILL')
      }
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({code, signal, stdout, stderr, killed}))
  })
}

async function backedUp(config: string): Promise<{segments: SegmentRef[]; records: Map<string, string>}> {
  const s = await openWorkspaceStore({config})
  try {
    const {snapshot} = await s.state.read()
    const segments: SegmentRef[] = []
    const records = new Map<string, string>()
    for (const index of Object.values(snapshot.topics)) {
      for (const seg of await s.state.loadSegments(snapshot, index.policy, index.topic)) {
        segments.push(seg)
        const {records: rs} = await decodeSegment(await s.store.get(seg.key), {keyring: new Map(), objectName: seg.key})
        for (const r of rs) {
          const id = `${seg.partition}/${r.offset}`
          assert.ok(!records.has(id), `offset ${id} backed up twice`)
          records.set(id, `${r.key?.toString()}=${r.value?.toString()}`)
        }
      }
    }
    return {segments, records}
  } finally {
    await s.close()
  }
}

describe('apply --shard i/4: four workers, one plan, an exact result', () => {
  const env = testEnv()
  const topic = randomName('shard')
  const kafka = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.bootstrap], logLevel: logLevel.NOTHING})
  const admin = kafka.admin()
  const dir = tempDir()
  const single = tempDir()
  let config = ''
  let singleConfig = ''
  /** What the topic holds, read back from Kafka: partition/offset → key=value. */
  const source = new Map<string, string>()

  before(async () => {
    await admin.connect()
    await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: PARTITIONS}]})
    const producer = kafka.producer({allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    // Uneven partitions: the assignment must balance bytes, not partition counts.
    for (let batch = 0; batch < TOTAL / 2000; batch++) {
      const messages = Array.from({length: 2000}, (_, j) => {
        const i = batch * 2000 + j
        return {partition: i % 7 === 0 ? i % 3 : i % PARTITIONS, key: `k${i}`, value: JSON.stringify({i, pad: 'p'.repeat(100 + (i % 50))})}
      })
      await producer.send({topic, messages})
    }
    await producer.disconnect()
    // The source as it really is (the producer is idempotent, but read it back anyway).
    const consumer = kafka.consumer({groupId: randomName('shard-check')})
    await consumer.connect()
    await consumer.subscribe({topics: [topic], fromBeginning: true})
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({partition, message}) => {
            source.set(`${partition}/${message.offset}`, `${message.key?.toString()}=${message.value?.toString()}`)
            if (source.size >= TOTAL) resolve()
          },
        })
        .catch(reject)
    })
    await consumer.disconnect()
    const policyExtra = `    segment: { maxRecords: ${SEGMENT_RECORDS} }\n`
    const store = await createTestStore('s3', dir)
    const singleStore = await createTestStore('s3', single)
    // The stores' credentials come from the environment, as in production: every kbk here inherits it.
    Object.assign(process.env, store.env, singleStore.env)
    config = writeWorkspace(dir, kafkaWorkspace({bootstrap: env.kafka.bootstrap, store, include: topic, policyExtra}))
    singleConfig = writeWorkspace(single, kafkaWorkspace({bootstrap: env.kafka.bootstrap, store: singleStore, include: topic, policyExtra}))
  })

  after(async () => {
    await admin.deleteTopics({topics: [topic]}).catch(() => undefined)
    await admin.disconnect()
  })

  it('backs up every record once, survives a SIGKILLed worker, and refuses a foreign apply meanwhile', async () => {
    const plan = await runKbk(['plan', '--out', 'plan.kbk'], {cwd: dir})
    assert.equal(plan.code, 0, plan.stderr)
    const [w1, w2, w3, w4] = await Promise.all([
      worker(dir, ['apply', 'plan.kbk', '--shard', '1/4']),
      worker(dir, ['apply', 'plan.kbk', '--shard', '2/4'], 6),
      worker(dir, ['apply', 'plan.kbk', '--shard', '3/4']),
      worker(dir, ['apply', 'plan.kbk', '--shard', '4/4']),
    ])
    for (const w of [w1, w3, w4]) assert.equal(w!.code, 0, w!.stderr + w!.stdout.slice(-2000))
    assert.ok(w2!.killed, `worker 2 finished before it could be killed:\n${w2!.stdout.slice(-1000)}`)

    // Worker 2 is dead, but its heartbeat has not run out: the run still holds the store.
    const foreign = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(foreign.code, 1, foreign.stderr)
    assert.match(foreign.stderr, /KBK_LOCKED/)
    assert.match(foreign.stderr, /shard 2\/4/, 'the refusal names the run holding the lock')

    // Before the rerun, the plan shows exactly worker 2's unfinished partitions.
    const left = await runKbk(['plan', '--json'], {cwd: dir})
    const leftPlan = JSON.parse(left.stdout) as {resource_changes: Array<{type: string; backup?: {ranges: Array<{partition: number}>}}>}
    const leftPartitions = leftPlan.resource_changes.filter((c) => c.type === 'backup').flatMap((c) => c.backup!.ranges.map((r) => r.partition))
    const saved = decodePlanFile(readFileSync(join(dir, 'plan.kbk')), 'plan.kbk')
    const share2 = shardPlan(saved, {index: 2, count: 4}).resource_changes.flatMap((c) => (c.type === 'backup' && c.backup ? c.backup.ranges.map((r) => r.partition) : []))
    assert.ok(leftPartitions.length > 0, 'something of worker 2 was left')
    for (const p of leftPartitions) assert.ok(share2.includes(p), `partition ${p} is left, but it was not worker 2's (${share2.join(',')})`)

    // Kubernetes reruns the failed index (backoffLimitPerIndex): the rerun continues its share.
    const rerun = await worker(dir, ['apply', 'plan.kbk', '--shard', '2/4'])
    assert.equal(rerun.code, 0, rerun.stderr + rerun.stdout.slice(-2000))
    const result = JSON.parse(rerun.stdout.trim().split('\n').at(-1)!) as {shard: {index: number; count: number}}
    assert.deepEqual({index: result.shard.index, count: result.shard.count}, {index: 2, count: 4})

    const done = await runKbk(['plan', '--detailed-exitcode'], {cwd: dir})
    assert.equal(done.code, 0, done.stdout + done.stderr)
    assert.match(done.stdout + done.stderr, /No changes/)

    const sharded = await backedUp(config)
    assert.equal(sharded.records.size, TOTAL)
    assert.deepEqual(new Map([...sharded.records].sort()), new Map([...source].sort()), 'the store holds exactly the source')

    // A single-process apply of the same topic: the same segments, record for record.
    const one = await runKbk(['apply', '--auto-approve'], {cwd: single})
    assert.equal(one.code, 0, one.stderr)
    const reference = await backedUp(singleConfig)
    const shape = (segs: SegmentRef[]): string[] => segs.map((s) => `${s.partition}:${s.first_offset}-${s.last_offset}:${s.records}`).sort()
    assert.deepEqual(shape(sharded.segments), shape(reference.segments))
    assert.deepEqual(new Map([...sharded.records].sort()), new Map([...reference.records].sort()))
  })
})
