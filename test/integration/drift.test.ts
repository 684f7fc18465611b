// Drift end to end, as a scheduled drift job sees it: the real CLI (`kbk plan --refresh-only
// --detailed-exitcode`, and a normal `kbk plan`) against a real Kafka and a real store, with the
// store or the cluster changed behind kbk's back: segments deleted, objects nobody recorded,
// records Kafka's retention deleted before they were copied, topics deleted or grown, a policy
// past its RPO, a dora policy never drilled.
import assert from 'node:assert/strict'
import {utimes} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import kafkajs from 'kafkajs'
import {openWorkspaceStore} from '../../src/cli/context.js'
import type {Drift, Plan} from '../../src/plan/types.js'
import {listUnreferencedStateObjects} from '../../src/state/state-store.js'
import type {SegmentRef} from '../../src/state/types.js'
import {testEnv} from '../helpers/env.js'
import {createTestTopic, deleteTestTopic, produceTestRecords, testKafka} from '../helpers/kafka.js'
import type {TestRecord} from '../helpers/kafka.js'
import {createTestStore, kafkaWorkspace, recordedSegments, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'
import type {CliResult, StoreKind} from '../helpers/workspace.js'

const env = testEnv()

function records(n: number, from = 0, partition = 0): TestRecord[] {
  return Array.from({length: n}, (_, i) => ({partition, key: `k-${from + i}`, value: `v-${from + i}`}))
}

interface Ws {
  dir: string
  config: string
  env: Record<string, string>
  kbk(args: string[]): Promise<CliResult>
  segments(): Promise<SegmentRef[]>
}

async function workspace(kind: StoreKind, include: string, policyExtra = '', extra = ''): Promise<Ws> {
  const dir = tempDir()
  const store = await createTestStore(kind, dir)
  // openWorkspaceStore (used in-process below) interpolates from process.env.
  Object.assign(process.env, store.env)
  const config = writeWorkspace(dir, kafkaWorkspace({bootstrap: env.kafka.bootstrap, targetBootstrap: env.kafka.targetBootstrap, store, include, policyExtra, extra}))
  return {
    dir,
    config,
    env: store.env,
    kbk: (args) => runKbk(args, {cwd: dir, env: store.env}),
    segments: () => recordedSegments(config),
  }
}

async function withStore<T>(ws: Ws, fn: (s: Awaited<ReturnType<typeof openWorkspaceStore>>) => Promise<T>): Promise<T> {
  const s = await openWorkspaceStore({config: ws.config})
  try {
    return await fn(s)
  } finally {
    await s.close()
  }
}

async function applied(ws: Ws): Promise<void> {
  const r = await ws.kbk(['apply', '--auto-approve'])
  assert.equal(r.code, 0, r.stderr + r.stdout)
}

async function driftJob(ws: Ws, extra: string[] = []): Promise<{code: number | null; plan: Plan; stderr: string}> {
  const r = await ws.kbk(['plan', '--refresh-only', '--detailed-exitcode', '--format', 'json', ...extra])
  assert.notEqual(r.code, 1, r.stderr + r.stdout)
  return {code: r.code, plan: JSON.parse(r.stdout) as Plan, stderr: r.stderr}
}

function kinds(plan: Plan): string[] {
  return plan.drift.map((d) => d.kind)
}

function one(plan: Plan, kind: Drift['kind']): Drift {
  const found = plan.drift.filter((d) => d.kind === kind)
  assert.equal(found.length, 1, `one ${kind} in ${JSON.stringify(plan.drift, null, 2)}`)
  return found[0]!
}

for (const kind of ['fs', 's3'] as const) {
  describe(`drift: segments deleted out of band (${kind} store)`, () => {
    let topic = ''
    let ws: Ws
    before(async () => {
      topic = await createTestTopic(env.kafka.bootstrap, {prefix: 'drift-missing'})
      await produceTestRecords(env.kafka.bootstrap, topic, records(30))
      ws = await workspace(kind, topic, '    segment: { maxRecords: 10 }\n')
      await applied(ws)
    })
    after(async () => {
      await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
    })

    it('a drift job exits 0 on a clean store, 2 naming the deleted segment; a normal plan catches a deleted oldest segment', async () => {
      const segments = (await ws.segments()).sort((a, b) => a.first_offset - b.first_offset)
      assert.deepEqual(segments.map((s) => [s.first_offset, s.last_offset]), [[0, 9], [10, 19], [20, 29]])

      const clean = await driftJob(ws)
      assert.equal(clean.code, 0, JSON.stringify(clean.plan.drift))
      assert.deepEqual(clean.plan.drift, [])
      const cleanText = await ws.kbk(['plan', '--refresh-only', '--detailed-exitcode'])
      assert.equal(cleanText.code, 0)
      assert.match(cleanText.stdout, /No drift\./)
      assert.equal((await ws.kbk(['plan', '--detailed-exitcode'])).code, 0)

      // Someone deletes the middle segment.
      const middle = segments[1]!
      await withStore(ws, (s) => s.store.delete([middle.key]))

      const job = await driftJob(ws)
      assert.equal(job.code, 2)
      assert.equal(job.plan.refresh_only, true)
      assert.deepEqual(job.plan.resource_changes, [], 'a refresh-only plan proposes no actions')
      assert.deepEqual(kinds(job.plan), ['segment-missing'])
      const d = one(job.plan, 'segment-missing')
      assert.equal(d.address, `backup.events["${topic}"]`)
      assert.equal(d.severity, 'critical')
      assert.deepEqual(d.expected, {key: middle.key, bytes: middle.bytes, sha256: middle.sha256})
      assert.equal(d.found, null)
      assert.match(d.message, /offsets 10\.\.19, 10 record\(s\)/)
      assert.ok(d.fix.length > 0)

      const text = await ws.kbk(['plan', '--refresh-only', '--detailed-exitcode'])
      assert.equal(text.code, 2)
      assert.ok(text.stdout.includes(middle.key), text.stdout)
      assert.match(text.stdout, /Drift: 1 finding\(s\)\./)
      const md = await ws.kbk(['plan', '--refresh-only', '--format', 'markdown'])
      assert.equal(md.code, 0, md.stderr)
      assert.match(md.stdout, /#### Drift\n\n\| severity \| address \| kind \| finding \| expected \| found \| fix \|/)
      assert.ok(md.stdout.includes(middle.key))

      // A normal plan does not list the store; it probes each partition's oldest segment.
      await withStore(ws, (s) => s.store.delete([segments[0]!.key]))
      const plan = await ws.kbk(['plan', '--detailed-exitcode', '--json'])
      assert.equal(plan.code, 2, plan.stderr)
      const p = JSON.parse(plan.stdout) as Plan
      assert.equal(p.refresh_only, false)
      const oldest = one(p, 'segment-missing')
      assert.deepEqual(oldest.expected, {partition: 0, first_offset: 0})
      assert.deepEqual(oldest.found, {partition: 0, first_offset: 20, first_key: segments[2]!.key})
      assert.match(oldest.message, /offsets 0\.\.19 cannot be restored/)

      const both = await driftJob(ws)
      assert.deepEqual(
        both.plan.drift.map((x) => (x.expected as {key: string}).key),
        [segments[0]!.key, middle.key],
      )
    })
  })
}

describe('drift: objects in the store that no state knows (fs store)', () => {
  let topic = ''
  let ws: Ws
  before(async () => {
    topic = await createTestTopic(env.kafka.bootstrap, {prefix: 'drift-unknown'})
    await produceTestRecords(env.kafka.bootstrap, topic, records(5))
    ws = await workspace('fs', topic)
    await applied(ws)
    await produceTestRecords(env.kafka.bootstrap, topic, records(5, 5))
    await applied(ws)
  })
  after(async () => {
    await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
  })

  it('reports foreign objects and crash leftovers under data/ and _kbk/, not superseded state objects or objects still being written', async () => {
    // Two applies superseded topic indexes: normal, and not drift.
    const superseded = await withStore(ws, (s) => listUnreferencedStateObjects(s.store))
    assert.ok(superseded.length > 0, 'the test needs superseded state objects')
    assert.deepEqual((await driftJob(ws)).plan.drift, [])

    const old = [
      `data/events/${topic}/0/notes.txt`,
      `data/events/${topic}/0/00000000000000000010-00000000000000000019.kbs`,
      `_kbk/state/chunks/events/${topic}/999999999999-0123456789ab.json`,
      '_kbk/backup-of-head.json',
    ]
    const fresh = `data/events/${topic}/0/00000000000000000020-00000000000000000029.kbs`
    await withStore(ws, async (s) => {
      for (const key of [...old, fresh]) await s.store.put(key, Buffer.from('{}'), {ifNoneMatch: '*'})
    })
    // Backdate all but one past the grace period (a running apply may be writing new objects).
    const hourAgo = new Date(Date.now() - 3_600_000)
    for (const key of old) await utimes(join(ws.dir, 'backups', ...key.split('/')), hourAgo, hourAgo)

    const job = await driftJob(ws)
    assert.equal(job.code, 2)
    assert.deepEqual(kinds(job.plan), ['unknown-object', 'unknown-object', 'unknown-object', 'unknown-object'])
    const byKey = new Map(job.plan.drift.map((d) => [(d.found as {key: string}).key, d]))
    assert.deepEqual([...byKey.keys()].sort(), [...old].sort())
    for (const d of job.plan.drift) {
      assert.equal(d.address, 'store.main')
      assert.equal(d.severity, 'warning')
    }
    assert.match(byKey.get(old[0]!)!.message, /not a kbk segment name/)
    assert.match(byKey.get(old[1]!)!.message, /past the checkpoint: left by an interrupted backup run/)
    assert.match(byKey.get(old[2]!)!.message, /serial 999999999999, but the state is at serial \d+: left by a commit that never completed/)
    assert.match(byKey.get(old[3]!)!.message, /kbk never writes this key/)
  })
})

describe('drift: data loss, when Kafka deletes records kbk never copied (fs store)', () => {
  let topic = ''
  let ws: Ws
  const admin = testKafka(env.kafka.bootstrap).admin()
  before(async () => {
    await admin.connect()
    topic = await createTestTopic(env.kafka.bootstrap, {prefix: 'drift-loss'})
    await produceTestRecords(env.kafka.bootstrap, topic, records(10))
    ws = await workspace('fs', topic)
    await applied(ws)
  })
  after(async () => {
    await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
    await admin.disconnect()
  })

  it('shows the lost offset range as the loudest drift, and apply records it as a gap', async () => {
    await produceTestRecords(env.kafka.bootstrap, topic, records(20, 10))
    // Retention so short that the broker deletes every closed log segment at its next check
    // (every 5 s on the test brokers); a tiny segment.ms closes the one holding offsets 10..29.
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configEntries: [{name: 'retention.ms', value: '100'}, {name: 'segment.ms', value: '100'}]}],
    })
    await new Promise((r) => setTimeout(r, 300))
    // The next append rolls a new log segment: offsets 0..29 become deletable.
    await produceTestRecords(env.kafka.bootstrap, topic, [{key: 'k-30', value: 'v-30'}])
    let low = 0
    for (let i = 0; i < 120 && low < 30; i++) {
      const offsets = await admin.fetchTopicOffsets(topic)
      low = Number(offsets[0]!.low)
      if (low < 30) await new Promise((r) => setTimeout(r, 500))
    }
    assert.ok(low >= 30, `the broker deleted the closed log segments (low watermark ${low} after up to 60 s)`)
    // Keep the one record left from being deleted too while the test runs.
    await admin.alterConfigs({validateOnly: false, resources: [{type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configEntries: [{name: 'retention.ms', value: '-1'}]}]})
    // The broker may also have rolled and deleted the segment holding offset 30 before that.
    const marks = (await admin.fetchTopicOffsets(topic))[0]!
    low = Number(marks.low)
    const high = Number(marks.high)
    assert.equal(high, 31)

    const job = await driftJob(ws)
    assert.equal(job.code, 2)
    const d = one(job.plan, 'data-loss')
    assert.equal(job.plan.drift[0], d, 'data loss comes first')
    assert.equal(d.severity, 'critical')
    assert.equal(d.address, `backup.events["${topic}"]`)
    assert.deepEqual(d.expected, {next_offset: 10})
    assert.deepEqual(d.found, {earliest_offset: low})
    assert.ok(d.message.includes(`DATA LOSS: partition 0 of "${topic}": offsets 10..${low - 1} (${low - 10} record(s)) were deleted by Kafka's retention before kbk backed them up.`), d.message)

    const text = await ws.kbk(['plan'])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout.split('\n')[0]!, /^DATA LOSS: Kafka deleted records that were never backed up, in 1 partition range\(s\)/)
    assert.ok(text.stdout.includes(`partition   0: offsets ${low}..${high - 1}  (${high - low} record(s))  DATA LOSS: 10..${low - 1} gone`), text.stdout)
    const md = await ws.kbk(['plan', '--format', 'markdown'])
    assert.match(md.stdout, /> \*\*Data loss detected\*\* on 1 partition range\(s\)/)

    await applied(ws)
    const list = await ws.kbk(['backups', 'list', '--json'])
    assert.equal(list.code, 0, list.stderr)
    const rows = (JSON.parse(list.stdout) as {partitions: Array<{first_offset: number; next_offset: number; records: number; gaps: unknown[]}>}).partitions
    assert.equal(rows.length, 1)
    assert.equal(rows[0]!.first_offset, 0)
    assert.equal(rows[0]!.next_offset, 31)
    assert.equal(rows[0]!.records, 10 + high - low)
    assert.deepEqual(rows[0]!.gaps, [{from: 10, to: low, reason: 'retention-loss'}])
    const describeText = await ws.kbk(['backups', 'describe', `backup.events["${topic}"]`])
    assert.equal(describeText.code, 0, describeText.stderr)
    assert.ok(describeText.stdout.includes(`p0 10..${low - 1}  DATA LOSS (recorded)`), describeText.stdout)

    // Recorded: the loss is history now, not drift.
    const after = await driftJob(ws)
    assert.deepEqual(after.plan.drift, [])
    assert.equal(after.code, 0)
  })
})

describe('drift: RPO and restore drills (fs store)', () => {
  let topic = ''
  let ws: Ws
  before(async () => {
    topic = await createTestTopic(env.kafka.bootstrap, {prefix: 'drift-rpo'})
    await produceTestRecords(env.kafka.bootstrap, topic, records(5))
    // dora needs a passing drill; it is left unrun at first (--target policy.events).
    const drill = `restores:\n  drill:\n    from: { policy: events, pointInTime: latest }\n    to: { cluster: target, topicSuffix: "-drill" }\n    topics: { include: ["${topic}"] }\n    createTopics: true\n    drill: { every: 30d }\n`
    ws = await workspace('fs', topic, '    rpo: 1s\n    tags: [dora]\n', drill)
    const r = await ws.kbk(['apply', '--auto-approve', '--target', 'policy.events'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
  })
  after(async () => {
    await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
    await deleteTestTopic(env.kafka.targetBootstrap, `${topic}-drill`).catch(() => undefined)
  })

  it('a policy past its rpo with records not backed up is drift; a quiet, fully backed-up one is not; a dora policy needs a drill', async () => {
    // Wall clock, not speed: the last backup must be older than the 1 s rpo.
    await new Promise((r) => setTimeout(r, 2000))
    const quiet = await driftJob(ws)
    assert.deepEqual(kinds(quiet.plan), ['drill-overdue'], 'nothing to copy: within the rpo however old the backup is')
    assert.equal(quiet.code, 2)
    const drill = one(quiet.plan, 'drill-overdue')
    assert.equal(drill.address, 'policy.events')
    assert.deepEqual(drill.found, {last_drill: null})
    assert.match(drill.message, /never drilled/)

    await produceTestRecords(env.kafka.bootstrap, topic, records(3, 5))
    const job = await driftJob(ws)
    assert.equal(job.code, 2)
    const d = one(job.plan, 'rpo-exceeded')
    assert.equal(job.plan.drift[0], d, 'critical first')
    assert.equal(d.address, 'policy.events')
    assert.equal(d.severity, 'critical')
    assert.deepEqual(d.expected, {rpo_ms: 1000})
    const found = d.found as {topics: Array<{topic: string; pending_records: number; last_backup_at: string}>}
    assert.deepEqual(found.topics.map((t) => [t.topic, t.pending_records]), [[topic, 3]])
    assert.match(d.message, /over its rpo of 1s, with 3 record\(s\) on the cluster not backed up/)

    // The whole apply: the pending records are copied and the due drill runs, and passes.
    await applied(ws)
    const drilled = await driftJob(ws)
    assert.deepEqual(drilled.plan.drift, [], 'the drill was applied, and the apply backed up the pending records')
    assert.equal(drilled.code, 0)
  })
})

describe('drift: topics deleted, grown, and new (fs store)', () => {
  const topics: string[] = []
  let ws: Ws
  const admin = testKafka(env.kafka.bootstrap).admin()
  before(async () => {
    await admin.connect()
    const base = await createTestTopic(env.kafka.bootstrap, {prefix: 'drift-topo'})
    topics.push(base, `${base}.grows`, `${base}.goes`)
    for (const t of topics.slice(1)) await admin.createTopics({waitForLeaders: true, topics: [{topic: t, numPartitions: 1, configEntries: [{name: 'retention.ms', value: '-1'}]}]})
    for (const t of topics) await produceTestRecords(env.kafka.bootstrap, t, records(2))
    ws = await workspace('fs', `${base}.*`)
    await applied(ws)
  })
  after(async () => {
    await admin.deleteTopics({topics: topics.slice(0, 2).concat(topics.slice(3))}).catch(() => undefined)
    await admin.disconnect()
  })

  it('names each change with what was expected and what was found', async () => {
    const [base, grows, goes] = topics as [string, string, string]
    await admin.createPartitions({topicPartitions: [{topic: grows, count: 3}]})
    await admin.deleteTopics({topics: [goes]})
    const fresh = `${base}.new`
    await admin.createTopics({waitForLeaders: true, topics: [{topic: fresh, numPartitions: 1, configEntries: [{name: 'retention.ms', value: '-1'}]}]})
    topics.push(fresh)
    await produceTestRecords(env.kafka.bootstrap, fresh, records(4))

    // Topic deletion reaches the metadata of every broker eventually: poll (bounded).
    let job = await driftJob(ws)
    for (let i = 0; i < 20 && !kinds(job.plan).includes('topic-deleted'); i++) {
      await new Promise((r) => setTimeout(r, 500))
      job = await driftJob(ws)
    }
    assert.equal(job.code, 2)
    assert.deepEqual([...kinds(job.plan)].sort(), ['new-topic', 'partitions-added', 'topic-deleted'])
    const deleted = one(job.plan, 'topic-deleted')
    assert.equal(deleted.address, `backup.events["${goes}"]`)
    assert.deepEqual(deleted.expected, {topic: goes, partitions: 1})
    assert.equal(deleted.found, null)
    const grown = one(job.plan, 'partitions-added')
    assert.equal(grown.address, `backup.events["${grows}"]`)
    assert.equal(grown.expected, 1)
    assert.equal(grown.found, 3)
    const added = one(job.plan, 'new-topic')
    assert.equal(added.address, `backup.events["${fresh}"]`)
    assert.match(added.message, /never been backed up \(4 record\(s\) on the broker\)/)
  })
})
