// Retention end to end through the real CLI, on the real Kafka and real stores: expiry honours
// maxAge, minKeep and allowDestroy and is loud about destroying data; a restore intent keeps
// what it needs; immutable backups are never deleted early — by kbk's planner, by its applier
// (even handed a plan made with a clock ahead), by the fs adapter, and on the S3 server by the
// server itself (Object Lock); compliance rules fail plan and validate with rule, policy and fix.
//
// Time: `written_at` comes from the apply's clock. Instead of sleeping for days, each CLI run gets
// KBK_NOW (test-only, read by the composition root) = the real now plus some days.
import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {CreateBucketCommand, DeleteObjectCommand, GetObjectRetentionCommand, HeadObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {openWorkspaceStore} from '../../src/cli/context.js'
import type {Plan} from '../../src/plan/types.js'
import type {SegmentRef} from '../../src/state/types.js'
import {randomName, testEnv} from '../helpers/env.js'
import {createTestTopic, deleteTestTopic, produceTestRecords} from '../helpers/kafka.js'
import {createTestStore, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'
import type {TestStore} from '../helpers/workspace.js'

const DAY = 86_400_000
// Whole seconds, so ISO strings and recorded dates compare exactly.
const T = Math.floor(Date.now() / 1000) * 1000
const at = (days: number): Record<string, string> => ({KBK_NOW: new Date(T + days * DAY).toISOString()})

function workspace(o: {bootstrap: string; store: TestStore; topic: string; tier: string; extra?: string; policyExtra?: string}): string {
  return `version: 1
clusters:
  source:
    brokers: ["${o.bootstrap}"]
stores:
  main:
    ${o.store.yaml}
retention:
  tier: ${o.tier}
${o.extra ?? ''}policies:
  events:
    cluster: source
    store: main
    topics: { include: ["${o.topic}"] }
    retention: tier
${o.policyExtra ?? ''}`
}

async function segmentsOf(configFile: string, topic: string): Promise<SegmentRef[]> {
  const s = await openWorkspaceStore({config: configFile})
  try {
    const {snapshot} = await s.state.read()
    return (await s.state.loadSegments(snapshot, 'events', topic)).sort((a, b) => a.first_offset - b.first_offset)
  } finally {
    await s.close()
  }
}

async function storeKeys(configFile: string): Promise<string[]> {
  const s = await openWorkspaceStore({config: configFile})
  try {
    const keys: string[] = []
    for await (const o of s.store.list('data/')) keys.push(o.key)
    return keys
  } finally {
    await s.close()
  }
}

function planJson(r: {code: number | null; stdout: string; stderr: string}): Plan {
  assert.ok(r.code === 0 || r.code === 2, `plan failed (${r.code}): ${r.stderr}${r.stdout}`)
  return JSON.parse(r.stdout) as Plan
}

const expiries = (p: Plan) => p.resource_changes.filter((c) => c.type === 'expire')

async function produce(bootstrap: string, topic: string, from: number, n: number): Promise<void> {
  await produceTestRecords(bootstrap, topic, Array.from({length: n}, (_, i) => ({key: `k${from + i}`, value: `v${from + i}`})))
}

describe('expiry: maxAge, minKeep, allowDestroy, restore intents (fs store)', () => {
  const env = testEnv()
  const dir = tempDir()
  let topic = ''
  let store: TestStore
  let configFile = ''
  const write = (tier: string, extra = '') => (configFile = writeWorkspace(dir, workspace({bootstrap: env.kafka.bootstrap, store, topic, tier, extra})))
  const kbk = (args: string[], days: number) => runKbk(args, {cwd: dir, env: at(days)})

  before(async () => {
    topic = await createTestTopic(env.kafka.bootstrap, {prefix: 'ret'})
    store = await createTestStore('fs', dir)
    write('{ maxAge: 15d, minKeep: 1 }')
    // Three backup runs, written on day 0, 10 and 11: segments A (0..2), B (3..5), C (6..8).
    for (const [i, day] of [0, 10, 11].entries()) {
      await produce(env.kafka.bootstrap, topic, i * 3, 3)
      const r = await kbk(['apply', '--auto-approve'], day)
      assert.equal(r.code, 0, r.stderr + r.stdout)
    }
    const segs = await segmentsOf(configFile, topic)
    assert.deepEqual(segs.map((s) => [s.first_offset, s.last_offset, s.written_at.slice(0, 10)]), [
      [0, 2, new Date(T).toISOString().slice(0, 10)],
      [3, 5, new Date(T + 10 * DAY).toISOString().slice(0, 10)],
      [6, 8, new Date(T + 11 * DAY).toISOString().slice(0, 10)],
    ])
  })

  after(async () => {
    await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
  })

  it('expires only what is older than maxAge, and without allowDestroy only shows it as blocked', async () => {
    // Day 20: A is 20 days old, B 10 days: only A is past maxAge 15d.
    const p = planJson(await kbk(['plan', '--json'], 20))
    const [exp, ...others] = expiries(p)
    assert.equal(others.length, 0)
    assert.equal(exp!.address, `expire.events["${topic}"]`)
    assert.deepEqual(exp!.actions, ['delete'])
    assert.deepEqual(exp!.expire!.segments.map((s) => s.first_offset), [0])
    assert.equal(exp!.expire!.records, 3)
    const [a] = await segmentsOf(configFile, topic)
    assert.equal(exp!.expire!.written_from, a!.written_at)
    assert.equal(exp!.expire!.written_to, a!.written_at)
    assert.equal(exp!.expire!.bytes, a!.bytes)
    assert.match(exp!.blocked ?? '', /allowDestroy is not set on retention tier "tier" or policy "events"/)
    assert.equal(p.summary.blocked, 1)
    assert.equal(p.summary.delete, 0)

    const text = await kbk(['plan', '--detailed-exitcode'], 20)
    assert.equal(text.code, 0, 'a blocked expiry is nothing to do: --detailed-exitcode says "no changes"')
    assert.match(text.stdout, new RegExp(`- expire\\.events\\["${topic}"\\] will expire \\(DESTROYS BACKUP DATA\\) \\[BLOCKED: not performed\\]`))
    assert.match(text.stdout, /1 segment\(s\), 3 record\(s\), \d+ B written /)
    assert.match(text.stdout, /Plan: 0 to create, 0 to update, 0 to destroy, 0 to run\. 1 blocked\./)
    assert.doesNotMatch(text.stdout, /will destroy backup data/, 'no destroy banner when nothing will be destroyed')

    const apply = await kbk(['apply', '--auto-approve'], 20)
    assert.equal(apply.code, 0, apply.stderr)
    assert.match(apply.stderr, /Nothing to do/)
    assert.equal((await segmentsOf(configFile, topic)).length, 3)
    assert.equal((await storeKeys(configFile)).length, 3, 'every segment object is still there')
  })

  it('keeps the newest minKeep backup runs however old they are', async () => {
    // Day 40: all three are past maxAge. minKeep 1 keeps C; minKeep 2 keeps B and C.
    const one = expiries(planJson(await kbk(['plan', '--json'], 40)))
    assert.deepEqual(one[0]!.expire!.segments.map((s) => s.first_offset), [0, 3])
    assert.deepEqual(one[0]!.expire!.kept, [{reason: 'written by one of the newest 1 backup run(s) (minKeep)', segments: 1}])

    write('{ maxAge: 15d, minKeep: 2 }')
    const two = expiries(planJson(await kbk(['plan', '--json'], 40)))
    assert.deepEqual(two[0]!.expire!.segments.map((s) => s.first_offset), [0])
    assert.deepEqual(two[0]!.expire!.kept, [{reason: 'written by one of the newest 2 backup run(s) (minKeep)', segments: 1}])
  })

  it('keeps everything a restore intent that has not run yet needs', async () => {
    write('{ maxAge: 15d, minKeep: 1, allowDestroy: true }', `restores:\n  drill:\n    from: { policy: events, pointInTime: latest }\n    to: { cluster: source, topicSuffix: "-drill" }\n    createTopics: true\n`)
    const p = planJson(await kbk(['plan', '--json'], 40))
    assert.deepEqual(expiries(p), [], 'the drill restores up to the latest point: every segment stays')
    assert.ok(p.resource_changes.some((c) => c.address === 'restore.drill'))
  })

  it('with allowDestroy, destroys loudly in text and markdown, deletes exactly the plan, and the next plan is quiet', async () => {
    write('{ maxAge: 15d, minKeep: 2, allowDestroy: true }')
    const text = await kbk(['plan', '--detailed-exitcode'], 40)
    assert.equal(text.code, 2, text.stderr)
    assert.match(text.stdout, /WARNING: this plan will destroy backup data \(1 expiry action\(s\), \d+ B\)\./)
    assert.match(text.stdout, new RegExp(`- expire\\.events\\["${topic}"\\] will expire \\(DESTROYS BACKUP DATA\\)\\n`))
    assert.match(text.stdout, /1 to destroy/)
    const md = await kbk(['plan', '--format', 'markdown'], 40)
    assert.match(md.stdout, /> \[!CAUTION\]\n> \*\*This plan destroys backup data\*\*: `expire\.events\[/)
    assert.match(md.stdout, /\| `-` delete \| `expire\.events\[/)

    const before = await segmentsOf(configFile, topic)
    const apply = await kbk(['apply', '--auto-approve'], 40)
    assert.equal(apply.code, 0, apply.stderr)
    assert.match(apply.stderr, /1 segment\(s\) deleted/)
    const segs = await segmentsOf(configFile, topic)
    assert.deepEqual(segs.map((s) => s.first_offset), [3, 6])
    const keys = await storeKeys(configFile)
    assert.ok(!keys.includes(before[0]!.key), 'the expired object is gone from the store')
    assert.deepEqual(keys.sort(), segs.map((s) => s.key).sort())

    const list = await runKbk(['backups', 'list', '--json'], {cwd: dir})
    assert.equal(list.code, 0, list.stderr)
    const rows = (JSON.parse(list.stdout) as {partitions: Array<{topic: string; first_offset: number; records: number}>}).partitions.filter((r) => r.topic === topic)
    assert.deepEqual(rows.map((r) => [r.first_offset, r.records]), [[3, 6]], 'what is restorable starts after the expired segment')

    const again = await kbk(['plan', '--detailed-exitcode'], 40)
    assert.equal(again.code, 0, again.stdout)
  })
})

describe('a compacted topic is state: expiry keeps its old segments and the plan says which and why', () => {
  const env = testEnv()
  const dir = tempDir()
  let topic = ''
  let store: TestStore
  const kbk = (args: string[], days: number) => runKbk(args, {cwd: dir, env: at(days)})

  before(async () => {
    topic = await createTestTopic(env.kafka.bootstrap, {prefix: 'cmp', configs: {'cleanup.policy': 'compact'}})
    store = await createTestStore('fs', dir)
    writeWorkspace(dir, workspace({bootstrap: env.kafka.bootstrap, store, topic, tier: '{ maxAge: 90d, minKeep: 1, allowDestroy: true }'}))
    // Two runs, on day 0 and day 10; planned on day 200 both are past maxAge 90d.
    for (const [i, day] of [0, 10].entries()) {
      await produce(env.kafka.bootstrap, topic, i * 3, 3)
      const r = await kbk(['apply', '--auto-approve'], day)
      assert.equal(r.code, 0, r.stderr + r.stdout)
    }
  })

  after(async () => {
    await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
  })

  it('plans no expiry for 200-day-old segments under maxAge 90d, and warns naming the kept segments', async () => {
    const p = planJson(await kbk(['plan', '--json'], 200))
    assert.equal(expiries(p).length, 0)
    const d = p.diagnostics.find((x) => x.code === 'KBK_EXPIRY_COMPACTED_KEPT')
    assert.ok(d, `no KBK_EXPIRY_COMPACTED_KEPT in ${JSON.stringify(p.diagnostics)}`)
    assert.equal(d.severity, 'warning')
    assert.match(d.message, new RegExp(`^expire\\.events\\["${topic}"\\]: 2 segment\\(s\\) older than maxAge 90d of tier "tier" are kept, not expired — partition 0 offsets 0\\.\\.5 \\(2\\)`))
    assert.match(d.message, /cleanup\.policy=compact\): those segments hold the only copy of keys not updated since/)
    assert.equal(p.applyable, true)
    const text = await kbk(['plan'], 200)
    assert.match(text.stdout, /Warning: KBK_EXPIRY_COMPACTED_KEPT: expire\.events/)
    // Apply deletes nothing: both segments are still there.
    const apply = await kbk(['apply', '--auto-approve'], 200)
    assert.equal(apply.code, 0, apply.stderr + apply.stdout)
    assert.deepEqual((await segmentsOf(join(dir, 'kbk.yaml'), topic)).map((s) => s.first_offset), [0, 3])
  })
})

describe('immutable backups are never deleted early (fs store: kbk refuses)', () => {
  const env = testEnv()
  const dir = tempDir()
  let topic = ''
  let store: TestStore
  let configFile = ''
  const write = (maxAge: string) =>
    (configFile = writeWorkspace(dir, workspace({bootstrap: env.kafka.bootstrap, store, topic, tier: `{ maxAge: ${maxAge}, minKeep: 1, immutable: true, allowDestroy: true }`})))
  const kbk = (args: string[], days: number) => runKbk(args, {cwd: dir, env: at(days)})

  before(async () => {
    topic = await createTestTopic(env.kafka.bootstrap, {prefix: 'imm'})
    store = await createTestStore('fs', dir)
    write('30d')
    for (const [i, day] of [0, 1].entries()) {
      await produce(env.kafka.bootstrap, topic, i * 3, 3)
      const r = await kbk(['apply', '--auto-approve'], day)
      assert.equal(r.code, 0, r.stderr + r.stdout)
    }
  })

  after(async () => {
    await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
  })

  it('records a lock of maxAge on every segment, and the plan says the fs store does not enforce it', async () => {
    const segs = await segmentsOf(configFile, topic)
    assert.equal(segs.length, 2)
    for (const s of segs) {
      assert.ok(s.retain_until, `${s.key} has a retention date`)
      const lockedFor = Date.parse(s.retain_until) - Date.parse(s.written_at)
      assert.ok(Math.abs(lockedFor - 30 * DAY) < 60_000, `${s.key} is locked for maxAge (30d), got ${lockedFor} ms`)
    }
    const plan = await kbk(['plan'], 1)
    assert.equal(plan.code, 0, plan.stderr)
    assert.match(plan.stdout, /Warning: kbk\.yaml:\d+:\d+: KBK_RETENTION_NOT_ENFORCED_BY_STORE: store "main" \(fs\) does not enforce write-once itself/)
    assert.match(plan.stdout, /policy "events"/)
  })

  it('shortening the tier does not shorten a lock: the planner keeps the segment until its lock ends', async () => {
    write('1d')
    // Day 5: A is older than the new maxAge and not protected by minKeep, but locked until day 30.
    assert.deepEqual(expiries(planJson(await kbk(['plan', '--json'], 5))), [])
    // Day 40: the lock has ended; now it may go.
    const late = expiries(planJson(await kbk(['plan', '--json'], 40)))
    assert.deepEqual(late[0]?.expire?.segments.map((s) => s.first_offset), [0])
  })

  it('apply refuses a plan that would delete a locked segment (made with a clock ahead), and deletes nothing', async () => {
    const planFile = join(dir, 'ahead.kbkplan')
    const made = await kbk(['plan', '--out', planFile], 40)
    assert.equal(made.code, 0, made.stderr)
    // Applied with the real clock, the lock of segment A still runs for 30 days.
    const apply = await runKbk(['apply', planFile], {cwd: dir})
    assert.equal(apply.code, 1, apply.stderr)
    assert.match(apply.stderr + apply.stdout, /KBK_RETENTION_IMMUTABLE/)
    assert.match(apply.stderr + apply.stdout, /is immutable until \d{4}-\d{2}-\d{2}T/)
    assert.equal((await segmentsOf(configFile, topic)).length, 2, 'the state still holds both segments')
    assert.equal((await storeKeys(configFile)).length, 2, 'both objects are still there')
    // The refused apply is in the audit trail as failed, with the expiry that failed.
    const audit = JSON.parse((await runKbk(['audit', 'list', '--json'], {cwd: dir})).stdout) as {entries: Array<{outcome: string; actions: Array<{address: string; status: string}>}>}
    const last = audit.entries[audit.entries.length - 1]!
    assert.equal(last.outcome, 'failed')
    assert.deepEqual(last.actions.filter((x) => x.address.startsWith('expire.')), [{address: `expire.events["${topic}"]`, action: 'delete', status: 'failed'}])
  })

  it('the fs adapter itself refuses to delete a locked object (KBK_STORE_RETAINED)', async () => {
    const [a] = await segmentsOf(configFile, topic)
    const s = await openWorkspaceStore({config: configFile})
    try {
      await assert.rejects(s.store.delete([a!.key]), (e: {code?: string; message?: string}) => e.code === 'KBK_STORE_RETAINED' && (e.message ?? '').includes(a!.key))
      assert.ok(await s.store.head(a!.key), 'still there')
    } finally {
      await s.close()
    }
    // Nor overwrite it in place: the bytes are what kbk wrote.
    const bytes = await readFile(join(dir, 'backups', a!.key))
    assert.equal(bytes.length, a!.bytes)
  })
})

describe('immutable backups on S3 with Object Lock: the server refuses too', {skip: !testEnv().s3.objectLock && 'the S3 test server has no Object Lock'}, () => {
  const env = testEnv()
  const dir = tempDir()
  const bucket = randomName('kbk-lock')
  const s3 = new S3Client({endpoint: env.s3.endpoint, region: env.s3.region, forcePathStyle: true, credentials: {accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey}})
  const storeEnv = {S3_ENDPOINT: env.s3.endpoint, S3_KEY: env.s3.accessKeyId, S3_SECRET: env.s3.secretAccessKey}
  let topic = ''
  let configFile = ''

  before(async () => {
    await s3.send(new CreateBucketCommand({Bucket: bucket, ObjectLockEnabledForBucket: true}))
    Object.assign(process.env, storeEnv)
    topic = await createTestTopic(env.kafka.bootstrap, {prefix: 'lock'})
    const store: TestStore = {
      kind: 's3',
      yaml: `type: s3\n    bucket: ${bucket}\n    region: ${env.s3.region}\n    prefix: team-a/\n    endpoint: "\${S3_ENDPOINT}"\n    forcePathStyle: true\n    accessKeyId: "\${S3_KEY}"\n    secretAccessKey: "\${S3_SECRET}"`,
      env: storeEnv,
    }
    // A workspace tag that requires write-once: validate cannot see the bucket and warns that
    // objectLock is unset; plan asks the bucket, finds the lock, and drops that warning.
    configFile = writeWorkspace(
      dir,
      workspace({bootstrap: env.kafka.bootstrap, store, topic, tier: '{ maxAge: 2d, minKeep: 1, immutable: true, allowDestroy: true }', extra: 'compliance:\n  worm: { requireImmutable: true }\n', policyExtra: '    tags: [worm]\n'}),
    )
    await produce(env.kafka.bootstrap, topic, 0, 3)
    const r = await runKbk(['apply', '--auto-approve'], {cwd: dir, env: storeEnv})
    assert.equal(r.code, 0, r.stderr + r.stdout)
  })

  after(async () => {
    s3.destroy()
    await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
  })

  it('validate warns from the config alone; plan checks the bucket and sees it enforces the lock', async () => {
    const v = await runKbk(['validate'], {cwd: dir, env: storeEnv})
    assert.equal(v.code, 0, v.stdout + v.stderr)
    assert.match(v.stdout + v.stderr, /KBK_COMPLIANCE_WORM_OBJECT_LOCK/)
    const p = await runKbk(['plan'], {cwd: dir, env: storeEnv})
    assert.equal(p.code, 0, p.stderr)
    assert.doesNotMatch(p.stdout, /KBK_COMPLIANCE_WORM_OBJECT_LOCK|KBK_RETENTION_NOT_ENFORCED_BY_STORE/)
  })

  it('writes every segment with COMPLIANCE retention; the server refuses to delete the locked version, and so does kbk', async () => {
    const [seg] = await segmentsOf(configFile, topic)
    const Key = `team-a/${seg!.key}`
    const retention = await s3.send(new GetObjectRetentionCommand({Bucket: bucket, Key}))
    assert.equal(retention.Retention?.Mode, 'COMPLIANCE')
    assert.equal(retention.Retention?.RetainUntilDate?.toISOString(), new Date(seg!.retain_until!).toISOString())
    const {VersionId} = await s3.send(new HeadObjectCommand({Bucket: bucket, Key}))
    assert.ok(VersionId)
    await assert.rejects(s3.send(new DeleteObjectCommand({Bucket: bucket, Key, VersionId})), (e: {name?: string; $metadata?: {httpStatusCode?: number}}) => {
      assert.ok([400, 403].includes(e.$metadata?.httpStatusCode ?? 0), `refused with ${e.name} ${e.$metadata?.httpStatusCode}`)
      return true
    })
    const s = await openWorkspaceStore({config: configFile})
    try {
      await assert.rejects(s.store.delete([seg!.key]), (e: {code?: string}) => e.code === 'KBK_STORE_RETAINED')
      assert.ok(await s.store.head(seg!.key))
    } finally {
      await s.close()
    }
  })
})

describe('compliance in plan: sox on a 90-day tier', () => {
  it('fails validate and plan with the rule, the policy and the fix', async () => {
    const env = testEnv()
    const dir = tempDir()
    writeWorkspace(
      dir,
      `version: 1
clusters:
  source:
    brokers: ["${env.kafka.bootstrap}"]
stores:
  main: { type: fs, path: ./backups }
retention:
  production: { maxAge: 90d, minKeep: 3, allowDestroy: true }
  compliance: { maxAge: 7y, minKeep: 1, immutable: true }
policies:
  ledger:
    cluster: source
    store: main
    topics: { include: ["ledger\\\\..*"] }
    retention: production
    tags: [sox]
`,
    )
    const v = await runKbk(['validate'], {cwd: dir})
    const p = await runKbk(['plan'], {cwd: dir})
    for (const [what, r] of [['validate', v], ['plan', p]] as const) {
      const out = r.stdout + r.stderr
      assert.equal(r.code, 1, `${what} must fail: ${out}`)
      assert.match(out, /kbk\.yaml:15:16: error KBK_COMPLIANCE_SOX_MIN_RETENTION: policy "ledger" is tagged sox, which requires backups kept at least 7y; its retention tier "production" keeps them 90d/, what)
      assert.match(out, /KBK_COMPLIANCE_SOX_IMMUTABLE: policy "ledger" is tagged sox, which requires write-once backups/, what)
      assert.match(out, /fix: Point policies\.ledger\.retention at a tier that keeps backups 7y or longer \(e\.g\. "compliance"\), or remove the tag\./, what)
      assert.doesNotMatch(out, /\n\s+at .*\.js:\d+/, `${what}: no stack trace`)
    }
  })
})
