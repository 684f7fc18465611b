// Recovery drills end to end on the real clusters: apply runs a due drill into scratch topics on
// the target cluster, validates every record against the backup, measures the RTO, deletes the
// scratch topics and stores evidence linked into the audit trail; `kbk drill NAME` runs one now;
// a restored record that differs fails the drill naming its partition and offset; an edited
// evidence object is caught by `kbk audit verify`; `kbk drill report` renders the evidence.
import assert from 'node:assert/strict'
import {readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import kafkajs from 'kafkajs'
import {runDrill} from '../../src/app/drill.js'
import {RecordingReporter} from '../../src/apply/events.js'
import {openWorkspace} from '../../src/cli/context.js'
import {registerKafkaCodecs} from '../../src/kafka/kafkajs-codecs.js'
import type {KafkaPort} from '../../src/kafka/port.js'
import {randomName, testEnv} from '../helpers/env.js'
import {createTestStore, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'
import {pollUntil} from '../helpers/poll.js'

const {Kafka, logLevel} = kafkajs
registerKafkaCodecs()
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000

function findFiles(dir: string, pattern: RegExp): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const e of readdirSync(d, {withFileTypes: true})) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (pattern.test(p)) out.push(p)
    }
  }
  walk(dir)
  return out.sort()
}

describe('recovery drills (fs store, two clusters)', () => {
  const env = testEnv()
  const prefix = randomName('dr')
  const topic = `${prefix}.orders`
  const group = `${prefix}-app`
  const source = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.bootstrap], logLevel: logLevel.NOTHING})
  const target = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.targetBootstrap], logLevel: logLevel.NOTHING})
  const dir = tempDir()
  const N = 300
  let config = ''

  before(async () => {
    const admin = source.admin()
    await admin.connect()
    await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: 2, configEntries: [{name: 'retention.ms', value: '604800000'}]}]})
    const producer = source.producer({allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    await producer.send({
      topic,
      messages: Array.from({length: N}, (_, i) => ({
        partition: i % 2,
        key: i % 11 === 0 ? null : `k${i % 30}`,
        value: i % 13 === 0 ? null : JSON.stringify({i}),
        timestamp: String(T0 + i * 1000),
        headers: i % 3 === 0 ? {trace: [`a${i}`, `b${i}`]} : undefined,
      })),
    })
    await producer.disconnect()
    await admin.setOffsets({groupId: group, topic, partitions: [{partition: 0, offset: '40'}, {partition: 1, offset: '7'}]})
    await admin.disconnect()
    const store = await createTestStore('fs', dir)
    config = writeWorkspace(
      dir,
      `version: 1
clusters:
  source: { brokers: ["${env.kafka.bootstrap}"] }
  target: { brokers: ["${env.kafka.targetBootstrap}"] }
stores:
  main:
    ${store.yaml}
retention:
  production: { maxAge: 90d, minKeep: 2 }
policies:
  orders:
    cluster: source
    store: main
    topics: { include: ["${prefix}\\\\..*"] }
    retention: production
    tags: [dora]
    consumerGroups: { include: ["${prefix}-.*"] }
    segment: { maxRecords: 60 }
restores:
  orders-drill:
    from: { policy: orders, pointInTime: latest }
    to: { cluster: target, topicSuffix: "-restored" }
    createTopics: true
    consumerGroups: { translate: ["${group}"] }
    drill: { every: 30d, rto: 10m }
  into-production:
    from: { policy: orders }
    to: { cluster: source, topicSuffix: "-copy" }
    createTopics: true
    extendRetention: true
`,
    )
  })

  after(async () => {
    for (const k of [source, target]) {
      const a = k.admin()
      await a.connect()
      const mine = (await a.listTopics()).filter((t) => t.startsWith(prefix))
      if (mine.length > 0) await a.deleteTopics({topics: mine}).catch(() => undefined)
      await a.disconnect()
    }
  })

  it('the first plan shows the drill as due; apply runs it, it passes with the RTO measured, and the scratch topics are gone', async () => {
    const plan = await runKbk(['plan', '--target', 'policy.orders', '--target', 'restore.orders-drill', '--json'], {cwd: dir})
    assert.equal(plan.code, 0, plan.stderr)
    const p = JSON.parse(plan.stdout) as {resource_changes: Array<{address: string; notes?: string[]; restore?: {drill?: {reason: string}; topics: Array<{target_topic: string}>}}>}
    // No backup yet: the drill has nothing to restore, and says so rather than planning nothing silently.
    assert.equal(p.resource_changes.find((c) => c.address === 'restore.orders-drill'), undefined)

    const applied = await runKbk(['apply', '--auto-approve', '--target', 'policy.orders', '--target', 'restore.orders-drill'], {cwd: dir})
    assert.equal(applied.code, 0, applied.stderr)
    const again = await runKbk(['plan', '--target', 'restore.orders-drill', '--json'], {cwd: dir})
    const due = JSON.parse(again.stdout) as typeof p
    const change = due.resource_changes.find((c) => c.address === 'restore.orders-drill')
    assert.ok(change?.restore?.drill, `the drill is due after the first backup: ${again.stdout.slice(0, 400)}`)
    assert.equal(change.restore.drill.reason, 'due')
    assert.match(change.notes?.join('\n') ?? '', /never passed/)
    assert.match(change.restore.topics[0]!.target_topic, new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.orders-restored-drill-\\d{14}$`))

    const drilled = await runKbk(['apply', '--auto-approve', '--target', 'restore.orders-drill'], {cwd: dir})
    assert.equal(drilled.code, 0, drilled.stderr)
    // kbk apply keeps the runbooks in the store, readable when everything else is down.
    const runbooks = findFiles(dir, /_kbk\/runbooks\/.*\.md$/).map((f) => f.split('/').pop())
    assert.deepEqual(runbooks, ['backup-failure-investigation.md', 'configuration-change-rollout.md', 'consumer-offset-recovery.md', 'full-cluster-restore.md', 'single-topic-pitr-restore.md', 'storage-failover.md'])
    assert.match(readFileSync(findFiles(dir, /_kbk\/runbooks\/storage-failover\.md$/)[0]!, 'utf8'), /# Runbook: Storage failover \(store "main"\)/)
    const evidence = findFiles(dir, /_kbk\/drills\/orders-drill\/.*-pass-.*\.json$/)
    assert.equal(evidence.length, 1, 'one passing evidence object')
    const ev = JSON.parse(readFileSync(evidence[0]!, 'utf8')) as {result: string; records: number; rto: {measured_ms: number; target_ms: number; ok: boolean}; topics: Array<{partitions: Array<{expected: {records: number; sha256: string}; restored: {records: number; sha256: string}}>}>; consumer_groups: Array<{ok: boolean; found: Record<string, number>}>; cleanup: string; who: string; kbk_version: string; workspace_digest: string}
    assert.equal(ev.result, 'pass')
    assert.equal(ev.records, N)
    assert.equal(ev.rto.target_ms, 600_000)
    assert.ok(ev.rto.measured_ms > 0 && ev.rto.ok)
    assert.equal(ev.topics[0]!.partitions.length, 2)
    for (const part of ev.topics[0]!.partitions) assert.deepEqual(part.expected, part.restored)
    assert.equal(ev.consumer_groups.length, 1)
    assert.ok(ev.consumer_groups[0]!.ok)
    assert.deepEqual(ev.consumer_groups[0]!.found, {0: 40, 1: 7})
    assert.equal(ev.cleanup, 'deleted')
    const ta = target.admin()
    await ta.connect()
    // Deletion reaches the broker's metadata after it is acknowledged: poll (bounded).
    const scratch = async (): Promise<string[]> => (await ta.listTopics()).filter((t) => t.startsWith(prefix) && t.includes('-drill-'))
    const left = await pollUntil(scratch, (l) => l.length === 0, {ms: 30_000, every: 100})
    await ta.disconnect()
    assert.deepEqual(left, [], 'the scratch topics were deleted')

    // Passed within every and within dora's year: no drift, nothing due.
    const drift = await runKbk(['plan', '--refresh-only', '--detailed-exitcode', '--json'], {cwd: dir})
    assert.equal(drift.code, 0, drift.stdout.slice(0, 800))
    const after = await runKbk(['plan', '--target', 'restore.orders-drill', '--json'], {cwd: dir})
    assert.equal((JSON.parse(after.stdout) as typeof p).resource_changes.length, 0)
  })

  it('a drill 31 days later is overdue: drift in --refresh-only, and due in the plan', async () => {
    const later = new Date(Date.now() + 31 * 86_400_000).toISOString()
    const drift = await runKbk(['plan', '--refresh-only', '--detailed-exitcode', '--json'], {cwd: dir, env: {KBK_NOW: later}})
    assert.equal(drift.code, 2)
    const d = JSON.parse(drift.stdout) as {drift: Array<{address: string; kind: string; message: string}>}
    const overdue = d.drift.find((x) => x.address === 'restore.orders-drill')
    assert.equal(overdue?.kind, 'drill-overdue')
    assert.match(overdue.message, /overdue/)
  })

  it('kbk drill NAME runs a drill now, and refuses a target holding the policy\'s production topics', async () => {
    const r = await runKbk(['drill', 'orders-drill', '--json'], {cwd: dir})
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout) as {evidence: {result: string; records: number; rto: {measured_ms: number}}; evidence_key: string}
    assert.equal(out.evidence.result, 'pass')
    assert.equal(out.evidence.records, N)
    assert.match(out.evidence_key, /^_kbk\/drills\/orders-drill\/.*-pass-/)

    const refused = await runKbk(['drill', 'into-production'], {cwd: dir})
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /KBK_DRILL_TARGET_PRODUCTION/)
    assert.match(refused.stderr, /must not restore into topics policy "orders" backs up/)

    const unknown = await runKbk(['drill', 'orders-dril'], {cwd: dir})
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /kbk drill orders-drill/)
  })

  it('a restored record that differs from the backup fails the drill naming the partition and offset', async () => {
    const ctx = await openWorkspace({config})
    // The test hook: the restore produces one record (the 6th of partition 1) with another value.
    const corrupting = (k: KafkaPort): KafkaPort =>
      new Proxy(k, {
        get(obj, prop) {
          // Records as objects (the restore falls back to producePartitions), so one can be changed.
          if (prop === 'produceEncoded') return undefined
          if (prop === 'producePartitions') {
            return async (t: string, batches: Parameters<KafkaPort['producePartitions']>[1]) => {
              const changed = batches.map((b) => (b.partition === 1 && b.records.length > 5 ? {...b, records: b.records.map((r, i) => (i === 5 ? {...r, value: Buffer.from('tampered')} : r))} : b))
              return obj.producePartitions(t, changed)
            }
          }
          const v = Reflect.get(obj, prop, obj) as unknown
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(obj) : v
        },
      })
    try {
      const result = await runDrill({...ctx, kafka: (c) => (c === 'target' ? corrupting(ctx.kafka(c)) : ctx.kafka(c))}, 'orders-drill', {reporter: new RecordingReporter(), lockTimeoutMs: 0})
      assert.equal(result.outcome.ok, false)
      assert.equal(result.evidence?.result, 'fail')
      const reasons = result.evidence!.reasons.join('\n')
      assert.match(reasons, /partition 1 offset 5: record differs from the backup's record at source offset 5/, reasons)
      const bad = result.evidence!.topics[0]!.partitions.filter((x) => !x.ok).map((x) => x.partition)
      assert.deepEqual(bad, [1])
      assert.match(result.evidence_key ?? '', /-fail-/)
    } finally {
      await ctx.close()
    }
    // A failed drill does not satisfy the schedule: the last pass still counts, and the report says it failed.
    const report = await runKbk(['drill', 'report', '--format', 'json'], {cwd: dir})
    assert.equal(report.code, 0, report.stderr)
    const rep = JSON.parse(report.stdout) as {summary: {runs: number; passed: number; failed: number; rto_compliance_pct: number}}
    assert.deepEqual([rep.summary.runs, rep.summary.passed, rep.summary.failed], [3, 2, 1])
    assert.equal(rep.summary.rto_compliance_pct, 100)
  })

  it('kbk drill report renders markdown and html; kbk audit verify catches an edited evidence object', async () => {
    const md = await runKbk(['drill', 'report', '--format', 'markdown'], {cwd: dir})
    assert.equal(md.code, 0, md.stderr)
    assert.match(md.stdout, /## PASS — drill orders-drill/)
    assert.match(md.stdout, /## FAIL — drill orders-drill/)
    assert.match(md.stdout, /RTO compliance/)
    const html = await runKbk(['drill', 'report', '--format', 'html', '--since', '1y'], {cwd: dir})
    assert.equal(html.code, 0, html.stderr)
    assert.match(html.stdout, /^<!doctype html>/)
    assert.match(html.stdout, /class="badge fail"/)
    if (process.env.KBK_DRILL_REPORT_OUT) writeFileSync(process.env.KBK_DRILL_REPORT_OUT, html.stdout)

    const ok = await runKbk(['audit', 'verify'], {cwd: dir})
    assert.equal(ok.code, 0, ok.stdout + ok.stderr)
    assert.match(ok.stdout, /3 drill evidence object\(s\), hash chain intact/)

    const file = findFiles(dir, /_kbk\/drills\/orders-drill\/.*-pass-.*\.json$/)[0]!
    const ev = JSON.parse(readFileSync(file, 'utf8')) as {rto: {measured_ms: number}}
    ev.rto.measured_ms = 1 // a nicer RTO for the auditor
    writeFileSync(file, JSON.stringify(ev, null, 1))
    const caught = await runKbk(['audit', 'verify'], {cwd: dir})
    assert.equal(caught.code, 1)
    assert.match(caught.stdout, /_kbk\/drills\/orders-drill\/.*: altered: drill evidence was altered after it was written/)
  })
})
