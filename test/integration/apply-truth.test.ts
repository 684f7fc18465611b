// Records that must tell the truth (issue 21). An apply that fails part-way reports, in its
// summary, its --json result and its audit record, exactly what it committed (the state is the
// judge); a restore killed mid-way and resumed records the whole restore in the state, not only
// the resumed run's share. The store faults are real: a proxy in front of the real S3 server
// answers 500 to every segment write once a few went through.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import type {ApplyOutcome} from '../../src/apply/apply-plan.js'
import {readAuditEntries} from '../../src/audit/audit-log.js'
import {openWorkspaceStore} from '../../src/cli/context.js'
import type {SegmentRef} from '../../src/state/types.js'
import {decodeSegment} from '../../src/segment/index.js'
import {testEnv} from '../helpers/env.js'
import {isSegmentPut, startFaultProxy, type FaultProxy} from '../helpers/fault-proxy.js'
import {consumeAll, createTestTopic, deleteTestTopic, produceTestRecords, testKafka, recordsOnTopic} from '../helpers/kafka.js'
import {createTestStore, kafkaWorkspace, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'

const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000
const PARTITIONS = 4
// ~2 KiB records, ~24 MiB: a restore of it takes many produce requests, so a kill lands mid-way.
const PER_PARTITION = 3000
const TOTAL = PARTITIONS * PER_PARTITION
const SEGMENT_RECORDS = 250

describe('records that tell the truth', () => {
  const env = testEnv()
  const dir = tempDir()
  let topic = ''
  let yaml = ''
  let configFile = ''
  let proxy: FaultProxy
  let storeEnv: Record<string, string> = {}
  const restored: string[] = []

  before(async () => {
    topic = await createTestTopic(env.kafka.bootstrap, {partitions: PARTITIONS, prefix: 'truth'})
    for (let p = 0; p < PARTITIONS; p++) {
      for (let from = 0; from < PER_PARTITION; from += 400) {
        await produceTestRecords(
          env.kafka.bootstrap,
          topic,
          Array.from({length: Math.min(400, PER_PARTITION - from)}, (_, j) => {
            const i = from + j
            return {partition: p, key: `p${p}-${i}`, value: JSON.stringify({p, i, pad: 'z'.repeat(2000 + ((i * 41) % 100))}), timestamp: T0 + i * 10 + p}
          }),
        )
      }
    }
    proxy = await startFaultProxy(env.s3.endpoint)
    const store = await createTestStore('s3', dir)
    storeEnv = {...store.env, S3_ENDPOINT: proxy.url}
    // The test's own reads (openWorkspaceStore, in this process) go straight to the server.
    Object.assign(process.env, store.env)
    yaml = kafkaWorkspace({bootstrap: env.kafka.bootstrap, targetBootstrap: env.kafka.targetBootstrap, store, include: topic, policyExtra: `    segment: { maxRecords: ${SEGMENT_RECORDS} }\n`})
    configFile = writeWorkspace(dir, yaml)
  })

  after(async () => {
    await proxy.close()
    await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
    for (const t of restored) await deleteTestTopic(env.kafka.targetBootstrap, t).catch(() => undefined)
  })

  /** From now on, every segment write fails once `allowed` more have been stored. */
  function failSegmentsAfter(allowed: number): void {
    let stored = 0
    proxy.onPassed = (req, status) => {
      if (isSegmentPut(req) && status === 200) stored++
    }
    proxy.fault = (req) => isSegmentPut(req) && stored >= allowed
  }

  async function readState(): Promise<{segments: SegmentRef[]; auditLast: {outcome: string; run_id: string; counts: Record<string, number>} | undefined}> {
    const s = await openWorkspaceStore({config: configFile})
    try {
      const {snapshot} = await s.state.read()
      const segments: SegmentRef[] = []
      for (const index of Object.values(snapshot.topics)) segments.push(...(await s.state.loadSegments(snapshot, index.policy, index.topic)))
      const audit = (await readAuditEntries(s.store)).flatMap((e) => (e.entry ? [e.entry] : []))
      return {segments, auditLast: audit[audit.length - 1]}
    } finally {
      await s.close()
    }
  }

  it('a backup that fails part-way reports exactly what it committed: summary, --json result and audit', async () => {
    failSegmentsAfter(6)
    const first = await runKbk(['apply', '--auto-approve'], {cwd: dir, env: storeEnv})
    assert.equal(first.code, 1, first.stderr)
    assert.ok(proxy.injected > 0, 'the proxy failed segment writes')
    const afterFirst = await readState()
    const committed = afterFirst.segments
    const records = committed.reduce((n, s) => n + s.records, 0)
    assert.ok(committed.length >= 6 && records < TOTAL, `the run committed some segments, not all (${committed.length})`)
    const line = /Apply failed: [^\n]*Committed before it stopped: ([\d,]+) record\(s\) backed up \([^)]*stored in (\d+) segment\(s\)\)/.exec(first.stderr)
    assert.ok(line, first.stderr)
    assert.equal(Number(line[1]!.replace(/,/g, '')), records, 'the summary counts the records the state holds')
    assert.equal(Number(line[2]), committed.length, 'the summary counts the segments the state holds')
    assert.equal(afterFirst.auditLast?.outcome, 'failed')
    assert.equal(afterFirst.auditLast?.counts.records, records)
    assert.equal(afterFirst.auditLast?.counts.segments, committed.length)
    assert.equal(afterFirst.auditLast?.counts.stored_bytes, committed.reduce((n, s) => n + s.bytes, 0))

    // Again, with --json: the result line is the same truth, for this run's segments only.
    failSegmentsAfter(5)
    const second = await runKbk(['apply', '--auto-approve', '--json'], {cwd: dir, env: storeEnv})
    assert.equal(second.code, 1, second.stderr)
    const result = second.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as {type?: string} & ApplyOutcome)
      .find((e) => e.type === 'apply.result')!
    assert.equal(result.ok, false)
    const afterSecond = await readState()
    const mine = afterSecond.segments.filter((s) => s.run_id === result.run_id)
    assert.ok(mine.length >= 5, `the second run committed segments (${mine.length})`)
    assert.equal(result.summary.segments, mine.length)
    assert.equal(result.summary.records, mine.reduce((n, s) => n + s.records, 0))
    assert.equal(result.summary.stored_bytes, mine.reduce((n, s) => n + s.bytes, 0))
    const change = result.changes.find((c) => c.address.startsWith('backup.'))!
    assert.equal(change.status, 'failed')
    assert.equal(change.records, result.summary.records)
    assert.equal(afterSecond.auditLast?.run_id, result.run_id)
    assert.equal(afterSecond.auditLast?.counts.records, result.summary.records)

    // Without faults the rerun converges: every record exactly once.
    proxy.fault = () => false
    const rerun = await runKbk(['apply', '--auto-approve'], {cwd: dir, env: storeEnv})
    assert.equal(rerun.code, 0, rerun.stderr)
    const final = await readState()
    const s = await openWorkspaceStore({config: configFile})
    try {
      const seen = new Set<string>()
      for (const seg of final.segments) {
        const {records: rs} = await decodeSegment(await s.store.get(seg.key), {keyring: new Map(), objectName: seg.key})
        for (const r of rs) {
          const id = `${seg.partition}/${r.offset}`
          assert.ok(!seen.has(id), `offset ${id} backed up twice`)
          seen.add(id)
        }
      }
      assert.equal(seen.size, TOTAL)
    } finally {
      await s.close()
    }
  })

  it('a restore killed mid-way and resumed records the whole restore in the state', async () => {
    // Everything backed up first (whatever the test before left), with no faults.
    proxy.fault = () => false
    const backup = await runKbk(['apply', '--auto-approve'], {cwd: dir, env: storeEnv})
    assert.equal(backup.code, 0, backup.stderr)
    const target = `${topic}-truth`
    restored.push(target)
    writeWorkspace(dir, `${yaml}restores:
  truth:
    from: { policy: events, pointInTime: latest }
    to: { cluster: target, topicSuffix: "-truth" }
    topics: { include: ["${topic}"] }
    createTopics: true
`)
    const admin = testKafka(env.kafka.targetBootstrap).admin()
    await admin.connect()
    let partial = 0
    try {
      const produced = (): Promise<number> => recordsOnTopic(admin, target)
      let pid = 0
      let finished = false
      const run = runKbk(['apply', '--auto-approve'], {cwd: dir, env: storeEnv, onSpawn: (p) => (pid = p)}).finally(() => (finished = true))
      while (!finished && (await produced()) === 0) await new Promise((r) => setTimeout(r, 20))
      assert.ok(!finished, 'the restore finished before it could be killed: make the topic bigger')
      process.kill(pid, 'SIGKILL')
      await run
      partial = await produced()
      assert.ok(partial > 0 && partial < TOTAL, `killed mid-way (${partial} records in the target)`)
    } finally {
      await admin.disconnect()
    }
    const locks = JSON.parse((await runKbk(['lock', 'list', '--json'], {cwd: dir, env: storeEnv})).stdout) as {locks: Array<{id: string}>}
    for (const l of locks.locks) await runKbk(['lock', 'release', l.id, '--force'], {cwd: dir, env: storeEnv})

    const rerun = await runKbk(['apply', '--auto-approve'], {cwd: dir, env: storeEnv})
    assert.equal(rerun.code, 0, rerun.stderr)
    assert.equal((await consumeAll(env.kafka.targetBootstrap, target)).length, TOTAL)
    const shown = JSON.parse((await runKbk(['state', 'show', 'restore.truth', '--json'], {cwd: dir, env: storeEnv})).stdout) as {restore: {status: string; records: number}}
    assert.equal(shown.restore.status, 'complete')
    assert.equal(shown.restore.records, TOTAL, 'the state describes the whole restore, not only the resumed run')
    // The killed run's last Produce request may still be appended after `partial` was read (the
    // broker had received it; only the reply was lost): the rerun counts from the target as it finds it.
    const n = (x: number): string => x.toLocaleString('en-US')
    const said = /([\d,]+) record\(s\) restored \(([\d,]+) in all, ([\d,]+) by an interrupted run\)/.exec(rerun.stderr)
    assert.ok(said, rerun.stderr)
    const [restoredNow, inAll, byInterrupted] = said.slice(1).map((x) => Number(x.replaceAll(',', '')))
    assert.equal(inAll, TOTAL, said[0])
    assert.ok(byInterrupted! >= partial && byInterrupted! < TOTAL, `${said[0]}: at least the ${n(partial)} seen after the kill`)
    assert.equal(restoredNow, TOTAL - byInterrupted!, said[0])
  })
})
