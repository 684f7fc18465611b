// Observability end to end on the real Kafka and a real store: `kbk apply --metrics-file` writes a
// textfile promtool accepts, with lag 0 and the records and bytes that were produced; a /metrics
// scrape taken while an apply runs passes promtool too; `kbk status --detailed-exitcode` exits 2
// when records wait longer than the rpo and 0 after an apply; labels go from the YAML to the state,
// `kbk backups list --label` and the metrics; `--by label:team` projects cost from the store price.
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {openWorkspaceStore} from '../../src/cli/context.js'
import {acquireLock} from '../../src/state/lock.js'
import {testEnv} from '../helpers/env.js'
import {createTestTopic, deleteTestTopic, produceTestRecords, type TestRecord} from '../helpers/kafka.js'
import {createTestStore, kafkaWorkspace, repoRoot, runKbk, tempDir, writeWorkspace, type TestStore} from '../helpers/workspace.js'
import {promtool} from '../helpers/promtool.js'

const PARTITIONS = 3

function records(n: number, start: number): TestRecord[] {
  return Array.from({length: n}, (_, i) => ({partition: (start + i) % PARTITIONS, key: `key-${start + i}`, value: `value-${start + i}-${'x'.repeat((start + i) % 40)}`}))
}

const kvBytes = (rs: TestRecord[]): number => rs.reduce((n, r) => n + String(r.key).length + String(r.value).length, 0)

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** The samples of an exposition text (enough for the assertions here; promtool checks the format). */
function samples(text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!
    out.push({name: m[1]!, labels, value: Number(m[3])})
  }
  return out
}

const sum = (ss: Sample[], name: string): number => ss.filter((s) => s.name === name).reduce((n, s) => n + s.value, 0)

function checkMetrics(text: string): void {
  const r = spawnSync(promtool(), ['check', 'metrics'], {input: text, encoding: 'utf8'})
  assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}\n--- input ---\n${text}`)
}

describe('metrics, kbk status and labels against the real test servers', {timeout: 600_000}, () => {
  const env = testEnv()
  const bootstrap = env.kafka.bootstrap
  let dir: string
  let store: TestStore
  let topic: string
  let config: string
  const produced: TestRecord[] = []

  const kbk = (args: string[], extraEnv: Record<string, string> = {}) => runKbk(args, {cwd: dir, env: {...store.env, ...extraEnv}})

  before(async () => {
    promtool() // provisioned before the clock of the first test starts
    dir = tempDir()
    store = await createTestStore('fs', dir)
    store = {...store, yaml: `${store.yaml}\n    pricePerGiBMonth: 1000`}
    topic = await createTestTopic(bootstrap, {partitions: PARTITIONS, prefix: 'kbk-obs'})
    const first = records(60, 0)
    await produceTestRecords(bootstrap, topic, first)
    produced.push(...first)
    config = writeWorkspace(
      dir,
      kafkaWorkspace({bootstrap, store, include: topic, policyExtra: '    rpo: 1h\n    labels:\n      team: payments\n      app.kubernetes.io/tier: gold\n', extra: 'labels:\n  env: test\n  team: core\n'}),
    )
  })

  after(async () => {
    await deleteTestTopic(bootstrap, topic).catch(() => {})
  })

  it('apply --metrics-file: promtool accepts the file; lag 0, records and bytes as produced, labels carried', async () => {
    const file = join(dir, 'kbk-apply.prom')
    const r = await kbk(['apply', '--auto-approve', '--metrics-file', file])
    assert.equal(r.code, 0, r.stderr)
    const text = readFileSync(file, 'utf8')
    checkMetrics(text)
    const ss = samples(text)
    const lag = ss.filter((s) => s.name === 'kafka_backup_lag_records')
    assert.deepEqual(lag.map((s) => [s.labels.topic, s.labels.partition, s.value]).sort(), [0, 1, 2].map((p) => [topic, String(p), 0]))
    assert.equal(sum(ss, 'kafka_backup_records_total'), produced.length)
    assert.equal(sum(ss, 'kafka_backup_bytes_total'), kvBytes(produced))
    assert.ok(sum(ss, 'kbk_backup_stored_bytes_total') > 0)
    assert.ok(ss.some((s) => s.name === 'kafka_backup_storage_write_latency_seconds_count' && s.labels.operation === 'put' && s.value > 0), 'store writes are timed')
    assert.equal(ss.find((s) => s.name === 'kbk_apply_success')?.value, 1)
    assert.ok((ss.find((s) => s.name === 'kbk_backup_last_success_timestamp_seconds' && s.labels.policy === 'events')?.value ?? 0) > Date.now() / 1000 - 600)
    const labels = ss.find((s) => s.name === 'kbk_policy_labels' && s.labels.policy === 'events')
    assert.deepEqual(labels?.labels, {policy: 'events', label_team: 'payments', label_env: 'test', label_app_kubernetes_io_tier: 'gold', command: 'apply'})
  })

  it('labels are recorded in the state and filter kbk backups list', async () => {
    const s = await openWorkspaceStore({config})
    try {
      const {snapshot} = await s.state.read()
      assert.deepEqual((snapshot.policies.events!.settings as {labels: unknown}).labels, {'app.kubernetes.io/tier': 'gold', env: 'test', team: 'payments'})
    } finally {
      await s.close()
    }
    const listed = await kbk(['backups', 'list', '--label', 'team=payments', '--label', 'env=test', '--json'])
    assert.equal(listed.code, 0, listed.stderr)
    const rows = (JSON.parse(listed.stdout) as {partitions: Array<{partition: number; labels: Record<string, string>}>}).partitions
    assert.equal(rows.length, PARTITIONS)
    assert.ok(rows.every((row) => row.labels.team === 'payments'))
    const table = await kbk(['backups', 'list', '--label', 'team=payments'])
    assert.match(table.stdout, /LABELS/)
    assert.match(table.stdout, /team=payments/)
    const none = await kbk(['backups', 'list', '--label', 'team=core'])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /KBK_FILTER_NO_MATCH/)
  })

  it('status --detailed-exitcode: 0 right after an apply, 2 when records wait longer than the rpo', async () => {
    const fresh = await kbk(['status', '--detailed-exitcode', '--json'])
    assert.equal(fresh.code, 0, fresh.stderr + fresh.stdout)
    const report = JSON.parse(fresh.stdout) as {policies: Array<{policy: string; lag_records: number; rpo_breached: boolean; records: number; labels: Record<string, string>}>}
    assert.equal(report.policies[0]!.lag_records, 0)
    assert.equal(report.policies[0]!.records, produced.length)
    assert.equal(report.policies[0]!.labels.team, 'payments')

    const more = records(9, 60)
    await produceTestRecords(bootstrap, topic, more)
    produced.push(...more)
    // Two hours later by the clock (KBK_NOW): the last backup is older than the 1h rpo.
    const later = new Date(Date.now() + 2 * 3_600_000).toISOString()
    const file = join(dir, 'kbk-status.prom')
    const breached = await kbk(['status', '--detailed-exitcode', '--json', '--metrics-file', file], {KBK_NOW: later})
    assert.equal(breached.code, 2, breached.stderr + breached.stdout)
    assert.deepEqual((JSON.parse(breached.stdout) as {breached: string[]}).breached, ['events'])
    const text = readFileSync(file, 'utf8')
    checkMetrics(text)
    const ss = samples(text)
    assert.equal(ss.find((s) => s.name === 'kbk_rpo_breached' && s.labels.policy === 'events')?.value, 1)
    assert.equal(sum(ss, 'kafka_backup_lag_records'), more.length)
    assert.equal(ss.find((s) => s.name === 'kbk_rpo_target_seconds')?.value, 3600)

    const human = await kbk(['status', '--detailed-exitcode'], {KBK_NOW: later})
    assert.equal(human.code, 2)
    assert.match(human.stdout, /events .*BREACHED/)
    assert.match(human.stdout, /RPO breached: events/)
  })

  it('a /metrics scrape taken while an apply runs passes promtool; after the apply, status exits 0', async () => {
    // Hold the store's lock so the apply is certainly running (waiting for it) when we scrape.
    const s = await openWorkspaceStore({config})
    const lock = await acquireLock(s.store, {operation: 'test', who: 'observability-test'})
    const child = spawn(process.execPath, [join(repoRoot, 'bin/run.js'), 'apply', '--auto-approve', '--lock-timeout', '5m', '--metrics-port', '0'], {
      cwd: dir,
      env: {...process.env, ...store.env, KBK_IN_AUTOMATION: '1', NO_COLOR: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString()
          const m = /metrics: serving (\S+)/.exec(stderr)
          if (m) resolve(m[1]!)
        })
        child.on('close', () => reject(new Error(`apply exited before serving metrics:\n${stderr}`)))
      })
      // The scrape while the apply waits for the lock: lock-waiting shows as a running apply.
      let body = ''
      for (let i = 0; i < 600 && !/waiting for it/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100))
      const res = await fetch(url)
      assert.equal(res.status, 200)
      body = await res.text()
      checkMetrics(body)
      assert.match(body, /kbk_apply_duration_seconds\{command="apply"\}/)
      assert.match(body, /kafka_backup_lag_records\{policy="events",topic="[^"]+",partition="0",command="apply"\}/)
    } finally {
      await lock.release()
      await s.close()
    }
    assert.equal(await exited, 0, stderr)
    const status = await kbk(['status', '--detailed-exitcode'])
    assert.equal(status.code, 0, status.stderr + status.stdout)
  })

  it('status --by label:team sums stored bytes and projects the monthly cost from the store price', async () => {
    const r = await kbk(['status', '--by', 'label:team', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout) as {by: {key: string; groups: Array<{value: string; stored_bytes: number; monthly_cost: number | null}>}; policies: Array<{stored_bytes: number}>}
    assert.equal(out.by.key, 'team')
    assert.deepEqual(out.by.groups.map((g) => g.value), ['payments'])
    assert.equal(out.by.groups[0]!.stored_bytes, out.policies[0]!.stored_bytes)
    assert.equal(out.by.groups[0]!.monthly_cost, Math.round((out.policies[0]!.stored_bytes / 1024 ** 3) * 1000 * 100) / 100)
    const bad = await kbk(['status', '--by', 'team'])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /label:KEY/)
  })
})
