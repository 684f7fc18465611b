// SIGTERM (a cancelled CI job, a stopped Kubernetes Job) and SIGINT stop an apply gracefully: a
// real backup apply and a real restore apply are signalled mid-way; each exits 143 with a one-line
// summary, releases the lock, commits exactly what is durable (no partial segment, no stray
// object), `kbk plan` shows exactly what remains, and the rerun converges with nothing lost or
// duplicated.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {openWorkspaceStore} from '../../src/cli/context.js'
import {acquireLock} from '../../src/state/lock.js'
import {readAuditEntries} from '../../src/audit/audit-log.js'
import type {Plan} from '../../src/plan/types.js'
import {decodeSegment} from '../../src/segment/index.js'
import {testEnv} from '../helpers/env.js'
import {consumeAll, createTestTopic, deleteTestTopic, produceTestRecords, testKafka, recordsOnTopic} from '../helpers/kafka.js'
import {isSegmentPut, startFaultProxy} from '../helpers/fault-proxy.js'
import {countSegmentFiles, createTestStore, kafkaWorkspace, repoRoot, runKbk, tempDir, writeWorkspace, type CliResult} from '../helpers/workspace.js'

const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000
const PARTITIONS = 4
// ~2 KiB records, ~32 MiB in all: a backup writes 64 segments and a restore sends many produce
// requests, so "mid-way" is reachable however loaded the machine is.
const PER_PARTITION = 4000
const TOTAL = PARTITIONS * PER_PARTITION

/** Runs `kbk apply --auto-approve` and sends `sig` once `ready()` holds (polled, never a fixed sleep). */
async function signalWhen(dir: string, sig: NodeJS.Signals, ready: () => boolean | Promise<boolean>): Promise<{result: CliResult; signalled: boolean}> {
  let pid = 0
  let finished = false
  const run = runKbk(['apply', '--auto-approve'], {cwd: dir, onSpawn: (p) => (pid = p)}).finally(() => (finished = true))
  for (;;) {
    if (finished) return {result: await run, signalled: false}
    if (await ready()) {
      process.kill(pid, sig)
      return {result: await run, signalled: true}
    }
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** `kbk apply --auto-approve ARGS` whose stderr can be watched while it runs. */
function startApply(dir: string, args: string[], env: Record<string, string> = {}): {pid: number; stderr: () => string; waitFor: (re: RegExp) => Promise<void>; done: Promise<CliResult>} {
  const child = spawn(process.execPath, [join(repoRoot, 'bin/run.js'), 'apply', '--auto-approve', ...args], {cwd: dir, env: {...process.env, KBK_IN_AUTOMATION: '1', NO_COLOR: '1', ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  let finished = false
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({code, signal, stdout, stderr}))).finally(() => (finished = true))
  return {
    pid: child.pid!,
    stderr: () => stderr,
    done,
    waitFor: async (re) => {
      while (!re.test(stderr)) {
        assert.ok(!finished, `the apply ended before its output matched ${re}:\n${stderr}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
  }
}

describe('apply stopped by SIGTERM', () => {
  const env = testEnv()
  const dir = tempDir()
  const backups = join(dir, 'backups')
  let topic = ''
  let yaml = ''
  let configFile = ''
  const restored: string[] = []

  before(async () => {
    topic = await createTestTopic(env.kafka.bootstrap, {partitions: PARTITIONS, prefix: 'sig'})
    for (let p = 0; p < PARTITIONS; p++) {
      for (let from = 0; from < PER_PARTITION; from += 400) {
        await produceTestRecords(
          env.kafka.bootstrap,
          topic,
          Array.from({length: 400}, (_, j) => {
            const i = from + j
            return {partition: p, key: `p${p}-${i}`, value: JSON.stringify({p, i, pad: 'x'.repeat(2000 + ((i * 37) % 100))}), timestamp: T0 + i * 10 + p}
          }),
        )
      }
    }
    const store = await createTestStore('fs', dir)
    yaml = kafkaWorkspace({bootstrap: env.kafka.bootstrap, targetBootstrap: env.kafka.targetBootstrap, store, include: topic, policyExtra: '    segment: { maxRecords: 250 }\n'})
    configFile = writeWorkspace(dir, yaml)
  })

  after(async () => {
    await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
    for (const t of restored) await deleteTestTopic(env.kafka.targetBootstrap, t).catch(() => undefined)
  })

  async function assertUnlocked(): Promise<void> {
    const locks = JSON.parse((await runKbk(['lock', 'list', '--json'], {cwd: dir})).stdout) as {locks: unknown[]}
    assert.deepEqual(locks.locks, [], 'the interrupted apply released its lock')
  }

  it('a backup: exits 143, commits whole segments only, and the plan shows exactly the rest', async () => {
    const {result, signalled} = await signalWhen(dir, 'SIGTERM', () => countSegmentFiles(backups) >= 4)
    assert.ok(signalled, `the apply finished before it could be signalled: make the topic bigger\n${result.stderr}`)
    assert.equal(result.code, 143, result.stderr)
    assert.equal(result.signal, null, 'kbk exited by itself, it was not killed')
    const line = /Apply interrupted by SIGTERM: committed ([\d,]+) record\(s\) in (\d+) segment\(s\)[^\n]*stopped part-way[^\n]*/.exec(result.stderr)
    assert.ok(line, result.stderr)
    const summaryRecords = Number(line[1]!.replace(/,/g, ''))
    const summarySegments = Number(line[2])
    await assertUnlocked()

    // What the summary says is what the state holds, and every object in the store is recorded:
    // no partial segment was written, and nothing durable was left uncommitted.
    const s = await openWorkspaceStore({config: configFile})
    const next = new Map<number, number>()
    try {
      const {snapshot} = await s.state.read()
      const index = Object.values(snapshot.topics)[0]!
      const segments = await s.state.loadSegments(snapshot, index.policy, index.topic)
      assert.ok(segments.length > 0 && segments.length < TOTAL / 250, `stopped mid-way (${segments.length} segments)`)
      assert.equal(summarySegments, segments.length)
      assert.equal(summaryRecords, segments.reduce((n, x) => n + x.records, 0))
      assert.equal(countSegmentFiles(backups), segments.length, 'every segment object is recorded in the state')
      for (const p of index.partitions) next.set(p.partition, p.next_offset)
      const audit = (await readAuditEntries(s.store)).flatMap((e) => (e.entry ? [e.entry] : []))
      const last = audit[audit.length - 1]!
      assert.equal(last.outcome, 'interrupted')
      assert.equal(last.counts.records, summaryRecords)
      assert.equal(last.counts.segments, summarySegments)
    } finally {
      await s.close()
    }

    const plan = await runKbk(['plan', '--json'], {cwd: dir})
    const p = JSON.parse(plan.stdout) as Plan
    const b = p.resource_changes.find((c) => c.type === 'backup')!
    assert.deepEqual(
      b.backup!.ranges.filter((r) => r.from < r.to),
      [...Array(PARTITIONS).keys()].map((partition) => ({partition, from: next.get(partition) ?? 0, to: PER_PARTITION})).filter((r) => r.from < r.to),
    )

    const rerun = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(rerun.code, 0, rerun.stderr)
    assert.equal((await runKbk(['plan', '--detailed-exitcode'], {cwd: dir})).code, 0)
    const s2 = await openWorkspaceStore({config: configFile})
    try {
      const {snapshot} = await s2.state.read()
      const index = Object.values(snapshot.topics)[0]!
      const seen = new Set<string>()
      for (const seg of await s2.state.loadSegments(snapshot, index.policy, index.topic)) {
        const {records} = await decodeSegment(await s2.store.get(seg.key), {keyring: new Map(), objectName: seg.key})
        for (const r of records) {
          const id = `${seg.partition}/${r.offset}`
          assert.ok(!seen.has(id), `offset ${id} backed up twice`)
          seen.add(id)
          assert.equal(r.key?.toString(), `p${seg.partition}-${r.offset}`)
        }
      }
      assert.equal(seen.size, TOTAL)
    } finally {
      await s2.close()
    }
  })

  it('a restore: exits 143, the state says how far it got, and the rerun restores every record once', async () => {
    const target = `${topic}-sig`
    restored.push(target)
    writeWorkspace(dir, `${yaml}restores:
  sig:
    from: { policy: events, pointInTime: latest }
    to: { cluster: target, topicSuffix: "-sig" }
    topics: { include: ["${topic}"] }
    createTopics: true
`)
    const admin = testKafka(env.kafka.targetBootstrap).admin()
    await admin.connect()
    let partial = 0
    try {
      const produced = (): Promise<number> => recordsOnTopic(admin, target)
      const {result, signalled} = await signalWhen(dir, 'SIGTERM', async () => (await produced()) > 0)
      assert.ok(signalled, `the restore finished before it could be signalled\n${result.stderr}`)
      assert.equal(result.code, 143, result.stderr)
      assert.match(result.stderr, /Apply interrupted by SIGTERM: [^\n]*record\(s\) restored[^\n]*restore\.sig stopped part-way/)
      partial = await produced()
      assert.ok(partial > 0 && partial < TOTAL, `stopped mid-way (${partial} records in the target)`)
      const restoredNow = Number(/Apply interrupted by SIGTERM: [^\n]*, ([\d,]+) record\(s\) restored/.exec(result.stderr)![1]!.replace(/,/g, ''))
      assert.equal(restoredNow, partial, 'the summary counts exactly what reached the target')
    } finally {
      await admin.disconnect()
    }
    await assertUnlocked()
    const shown = JSON.parse((await runKbk(['state', 'show', 'restore.sig', '--json'], {cwd: dir})).stdout) as {restore?: {status: string; records: number}; status?: string; records?: number}
    const rec = shown.restore ?? (shown as {status: string; records: number})
    assert.equal(rec.status, 'in-progress')
    assert.equal(rec.records, partial)

    const plan = JSON.parse((await runKbk(['plan', '--json'], {cwd: dir})).stdout) as Plan
    const r = plan.resource_changes.find((c) => c.address === 'restore.sig')
    assert.ok(r, 'the plan still runs the restore')
    assert.ok(plan.resource_changes.every((c) => c.type !== 'backup' || !c.backup), 'nothing else to do')

    const rerun = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(rerun.code, 0, rerun.stderr)
    const n = (x: number): string => x.toLocaleString('en-US')
    assert.match(rerun.stderr, new RegExp(`${n(TOTAL - partial)} record\\(s\\) restored \\(${n(TOTAL)} in all, ${n(partial)} by an interrupted run\\)`))
    const out = await consumeAll(env.kafka.targetBootstrap, target)
    assert.equal(out.length, TOTAL)
    for (const o of out) assert.equal(o.key?.toString(), `p${o.partition}-${o.offset}`, 'each target partition holds its sequence once, in order')
    const done = JSON.parse((await runKbk(['state', 'show', 'restore.sig', '--json'], {cwd: dir})).stdout) as {restore?: {status: string; records: number}}
    const rec2 = done.restore ?? (done as unknown as {status: string; records: number})
    assert.equal(rec2.status, 'complete')
    assert.equal(rec2.records, TOTAL)
    assert.equal((await runKbk(['plan', '--detailed-exitcode'], {cwd: dir})).code, 0)
  })

  it('SIGINT while waiting for the lock stops the wait at once: exit 130, nothing changed', async () => {
    // Something to do: a few new records.
    await produceTestRecords(env.kafka.bootstrap, topic, Array.from({length: 10}, (_, j) => ({partition: 0, key: `p0-${PER_PARTITION + j}`, value: 'new'})))
    const s = await openWorkspaceStore({config: configFile})
    const held = await acquireLock(s.store, {operation: 'test'})
    try {
      const run = startApply(dir, ['--lock-timeout', '10m'])
      await run.waitFor(/is locked by .*waiting for it/)
      process.kill(run.pid, 'SIGINT')
      const result = await run.done
      assert.equal(result.code, 130, result.stderr)
      assert.match(result.stderr, /Apply stopped by SIGINT before it took the lock of store "main": nothing was changed/)
      held.assertHeld()
    } finally {
      await held.release()
      await s.close()
    }
  })
})

describe('a second signal exits at once', () => {
  const env = testEnv()
  const dir = tempDir()
  let topic = ''

  before(async () => {
    topic = await createTestTopic(env.kafka.bootstrap, {partitions: 2, prefix: 'sig2'})
    for (let p = 0; p < 2; p++) {
      for (let from = 0; from < 2000; from += 400) {
        await produceTestRecords(env.kafka.bootstrap, topic, Array.from({length: 400}, (_, j) => ({partition: p, key: `p${p}-${from + j}`, value: 'v'.repeat(2000)})))
      }
    }
  })

  after(async () => {
    await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
  })

  it('while the first one waits on a store that stopped answering: exit 130 at once, the lock is left to expire', async () => {
    const proxy = await startFaultProxy(env.s3.endpoint)
    try {
      const store = await createTestStore('s3', dir)
      writeWorkspace(dir, kafkaWorkspace({bootstrap: env.kafka.bootstrap, store, include: topic, policyExtra: '    segment: { maxRecords: 100 }\n'}))
      let segments = 0
      proxy.onPassed = (req, status) => {
        if (isSegmentPut(req) && status === 200) segments++
      }
      const run = startApply(dir, [], {...store.env, S3_ENDPOINT: proxy.url})
      while (segments === 0) {
        assert.equal(run.stderr().includes('Apply complete'), false, 'the apply finished before it could be signalled')
        await new Promise((r) => setTimeout(r, 20))
      }
      // The store stops answering: the graceful stop cannot finish (its commit hangs).
      proxy.fault = () => 'hang'
      process.kill(run.pid, 'SIGINT')
      await run.waitFor(/SIGINT received: stopping/)
      process.kill(run.pid, 'SIGINT')
      const result = await run.done
      assert.equal(result.code, 130, result.stderr)
      assert.match(result.stderr, /SIGINT again: exiting at once/)
      // The lock was not released: it stays until its TTL ends (or `kbk lock release`).
      proxy.fault = () => false
      const locks = JSON.parse((await runKbk(['lock', 'list', '--json'], {cwd: dir, env: {...store.env, S3_ENDPOINT: env.s3.endpoint}})).stdout) as {locks: Array<{id: string}>}
      assert.equal(locks.locks.length, 1)
    } finally {
      await proxy.close()
    }
  })
})
