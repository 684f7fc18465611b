// The registry and what feeds it: apply events → counters and lag, the partition-label fallback,
// the atomic textfile and the /metrics endpoint, and the pure status verdict (RPO, cost by label).
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {costByLabel, policyStatus} from '../../../src/app/status.js'
import {RecordingReporter} from '../../../src/apply/events.js'
import type {PolicyConfig} from '../../../src/config/types.js'
import {ApplyMetricsReporter} from '../../../src/metrics/apply-metrics.js'
import {setLag} from '../../../src/metrics/lag.js'
import {MetricsSession, serveMetrics, writeTextfile} from '../../../src/metrics/outputs.js'
import {KbkMetrics, promLabelName} from '../../../src/metrics/registry.js'
import type {Plan} from '../../../src/plan/types.js'
import {NOW, emptyState, partitionSummary, policy, topicIndex} from '../plan/fixtures.js'

async function sample(m: KbkMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name)
  const v = (metric?.values as Array<{value: number; labels: Record<string, string | number>}> | undefined)?.find((s) => Object.entries(labels).every(([k, x]) => String(s.labels[k]) === x))
  return v?.value
}

function backupPlan(): Plan {
  return {
    format_version: '1',
    kbk_version: '0.0.0',
    created_at: NOW.toISOString(),
    refresh_only: false,
    config_digest: 'sha256:x',
    states: {primary: {lineage: 'l', serial: 1}},
    resource_changes: [
      {
        type: 'backup',
        address: 'backup.orders["orders.created"]',
        name: 'orders',
        store: 'primary',
        topic: 'orders.created',
        actions: ['run'],
        before: null,
        after: {next_offsets: {0: 10, 1: 5}},
        backup: {policy: 'orders', topic: 'orders.created', cluster: 'prod', store: 'primary', partition_count: 2, configs: {}, ranges: [{partition: 0, from: 0, to: 10}, {partition: 1, from: 0, to: 5}], estimated_records: 15},
      } as unknown as Plan["resource_changes"][number],
    ],
    drift: [],
    diagnostics: [],
    summary: {} as Plan['summary'],
    applyable: true,
  }
}

describe('apply metrics (from the typed apply events)', () => {
  it('counts durable records and bytes, brings lag to 0, records success per policy and passes every event on', async () => {
    const m = new KbkMetrics({command: 'apply'})
    const inner = new RecordingReporter()
    let t = 1_000_000
    const r = new ApplyMetricsReporter(m, inner, backupPlan(), {policies: {orders: {labels: {team: 'payments'}}, quiet: {labels: {}}}, now: () => t})
    assert.equal(await sample(m, 'kafka_backup_lag_records', {partition: '0'}), 10)
    r.emit({type: 'apply.start', changes: 1, run_id: 'r'})
    t += 2000
    r.emit({type: 'lock.acquired', store: 'primary', lock_id: 'l'})
    r.emit({type: 'segment.written', address: 'backup.orders["orders.created"]', key: 'k', partition: 0, first_offset: 0, last_offset: 9, records: 10, bytes: 100})
    assert.equal(await sample(m, 'kafka_backup_lag_records', {partition: '0'}), 0)
    assert.equal(await sample(m, 'kafka_backup_lag_records', {partition: '1'}), 5)
    r.emit({type: 'segment.written', address: 'backup.orders["orders.created"]', key: 'k2', partition: 1, first_offset: 0, last_offset: 3, records: 4, bytes: 50})
    // Offset 4 of partition 1 held a transaction marker: the run is done and accounts for it.
    r.emit({type: 'change.done', address: 'backup.orders["orders.created"]', summary: 'ok', records: 14, bytes: 1500, duration_ms: 5})
    r.emit({type: 'apply.done', ok: true, summary: {changes: 1, done: 1, failed: 0, skipped: 0, records: 14, bytes: 1500, stored_bytes: 150, segments: 2, deleted_segments: 0, restored_records: 0}, duration_ms: 3000})
    assert.equal(await sample(m, 'kafka_backup_lag_records', {partition: '1'}), 0)
    assert.equal(await sample(m, 'kafka_backup_records_total', {policy: 'orders'}), 14)
    assert.equal(await sample(m, 'kafka_backup_bytes_total', {policy: 'orders'}), 1500)
    assert.equal(await sample(m, 'kbk_backup_stored_bytes_total', {policy: 'orders'}), 150)
    assert.equal(await sample(m, 'kafka_backup_compression_ratio', {policy: 'orders'}), 10)
    assert.equal(await sample(m, 'kbk_lock_wait_seconds', {store: 'primary'}), 2)
    assert.equal(await sample(m, 'kbk_apply_success'), 1)
    assert.equal(await sample(m, 'kbk_backup_last_success_timestamp_seconds', {policy: 'quiet'}), t / 1000)
    assert.equal(await sample(m, 'kbk_policy_labels', {policy: 'orders', label_team: 'payments'}), 1)
    assert.equal(inner.events.length, 6)
  })

  it('a failed change: no success timestamp for its policy, a failure counted by code', async () => {
    const m = new KbkMetrics({command: 'apply'})
    const r = new ApplyMetricsReporter(m, new RecordingReporter(), backupPlan(), {policies: {orders: {labels: {}}}})
    r.emit({type: 'change.failed', address: 'backup.orders["orders.created"]', code: 'KBK_STORE_IO', message: 'x'})
    r.emit({type: 'apply.done', ok: false, summary: {changes: 1, done: 0, failed: 1, skipped: 0, records: 0, bytes: 0, stored_bytes: 0, segments: 0, deleted_segments: 0, restored_records: 0}, duration_ms: 1})
    assert.equal(await sample(m, 'kbk_backup_last_success_timestamp_seconds', {policy: 'orders'}), undefined)
    assert.equal(await sample(m, 'kbk_apply_change_failures_total', {policy: 'orders', code: 'KBK_STORE_IO'}), 1)
    assert.equal(await sample(m, 'kbk_apply_success'), 0)
    assert.equal(await sample(m, 'kafka_backup_lag_records', {partition: '0'}), 10)
  })
})

describe('lag cardinality', () => {
  it('per partition up to the limit, per topic (partition="all") above it', async () => {
    const entries = [0, 1, 2].map((partition) => ({policy: 'p', topic: 't', partition, lag: partition + 1}))
    const m = new KbkMetrics({command: 'status', partitionLabelLimit: 3})
    setLag(m, entries)
    assert.equal(await sample(m, 'kafka_backup_lag_records', {partition: '2'}), 3)
    const small = new KbkMetrics({command: 'status', partitionLabelLimit: 2})
    setLag(small, entries)
    assert.equal(await sample(small, 'kafka_backup_lag_records', {partition: 'all'}), 6)
    assert.equal(await sample(small, 'kafka_backup_lag_records', {partition: '0'}), undefined)
  })

  it('label keys become Prometheus label names', () => {
    assert.equal(promLabelName('app.kubernetes.io/team'), 'label_app_kubernetes_io_team')
  })
})

describe('outputs', () => {
  it('the textfile is written by rename (no temp file left) and carries the command label', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbk-metrics-'))
    const m = new KbkMetrics({command: 'verify'})
    m.gauge('kbk_verify_failures').set({store: 's'}, 2)
    await writeTextfile(join(dir, 'kbk.prom'), m)
    assert.deepEqual(readdirSync(dir), ['kbk.prom'])
    assert.match(readFileSync(join(dir, 'kbk.prom'), 'utf8'), /kbk_verify_failures\{store="s",command="verify"\} 2/)
  })

  it('a textfile in a missing directory is KBK_METRICS_OUTPUT', async () => {
    await assert.rejects(writeTextfile('/nonexistent-dir/kbk.prom', new KbkMetrics({command: 'plan'})), /KBK_METRICS_OUTPUT|Could not write/)
  })

  it('the session rewrites the file periodically while the command runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbk-metrics-'))
    const file = join(dir, 'kbk.prom')
    const m = new KbkMetrics({command: 'apply'})
    const s = await MetricsSession.start(m, {file, intervalMs: 20})
    m.gauge('kbk_apply_duration_seconds').set(7)
    for (let i = 0; i < 500; i++) {
      try {
        if (/kbk_apply_duration_seconds\{command="apply"\} 7/.test(readFileSync(file, 'utf8'))) break
      } catch {
        // not written yet
      }
      await new Promise((r) => setTimeout(r, 20))
    }
    assert.match(readFileSync(file, 'utf8'), /kbk_apply_duration_seconds\{command="apply"\} 7/)
    await s.finish()
  })

  it('/metrics is served; other paths are 404', async () => {
    const m = new KbkMetrics({command: 'status'})
    const server = await serveMetrics(m, '127.0.0.1', 0)
    try {
      const ok = await fetch(`http://${server.address}/metrics`)
      assert.equal(ok.status, 200)
      assert.match(await ok.text(), /# TYPE kafka_backup_lag_records gauge/)
      assert.equal((await fetch(`http://${server.address}/other`)).status, 404)
    } finally {
      await server.close()
    }
  })
})

describe('status verdict (pure)', () => {
  const cfg = (over: Partial<PolicyConfig> = {}): PolicyConfig => ({name: 'orders', cluster: 'prod', store: 'primary', labels: {team: 'payments'}, rpo: '1h', rpoMs: 3_600_000, ...over}) as PolicyConfig
  const state = () => {
    const s = emptyState()
    s.topics['orders/orders.created'] = topicIndex('orders', 'orders.created', [partitionSummary(0, 10, {records: 10, bytes: 2 * 1024 ** 3, uncompressed_bytes: 4 * 1024 ** 3, segment_count: 1, oldest_written_at: '2026-05-30T12:00:00Z', newest_written_at: '2026-06-01T11:00:00Z'})], {last_backup_at: '2026-06-01T10:00:00Z'})
    return s
  }

  it('records waiting and a last backup older than the rpo: breached, RPO now is that age', () => {
    const s = policyStatus(cfg(), policy('orders'), state(), new Map([['orders.created', [{partition: 0, low: 0, high: 12}]]]), NOW, 0.5)
    assert.equal(s.rpo_breached, true)
    assert.equal(s.rpo_now_ms, 2 * 3_600_000)
    assert.equal(s.lag_records, 2)
    assert.equal(s.monthly_cost, 1)
    assert.equal(s.growth_bytes_per_day, Math.round((2 * 1024 ** 3) / (47 / 24)))
  })

  it('everything backed up: RPO now 0, not breached, however old the last backup', () => {
    const s = policyStatus(cfg(), policy('orders'), state(), new Map([['orders.created', [{partition: 0, low: 0, high: 10}]]]), NOW, undefined)
    assert.equal(s.rpo_breached, false)
    assert.equal(s.rpo_now_ms, 0)
    assert.equal(s.monthly_cost, null)
  })

  it('a selected topic with records that was never backed up breaches', () => {
    const s = policyStatus(cfg(), policy('orders'), emptyState(), new Map([['orders.new', [{partition: 0, low: 0, high: 3}]]]), NOW, undefined)
    assert.equal(s.rpo_breached, true)
    assert.equal(s.rpo_now_ms, null)
  })

  it('cost by label sums stored bytes and priced cost per label value', () => {
    const a = policyStatus(cfg(), policy('orders'), state(), undefined, NOW, 0.5)
    const b = {...a, policy: 'other', labels: {}, monthly_cost: null}
    const groups = costByLabel([a, b], 'team')
    assert.deepEqual(
      groups.map((g) => [g.value, g.stored_bytes, g.monthly_cost, g.unpriced]),
      [
        ['(none)', 2 * 1024 ** 3, null, ['other']],
        ['payments', 2 * 1024 ** 3, 1, []],
      ],
    )
  })
})
