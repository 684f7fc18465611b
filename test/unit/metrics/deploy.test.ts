// The dashboard and the alert rules shipped in deploy/ use only metrics kbk's registry has, and
// docs/metrics.md is what the registry generates. promtool (pinned, built by scripts/env/tools.mjs)
// checks the rules file.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import {parse} from 'yaml'
import {renderMetricsDoc} from '../../../src/metrics/metrics-doc.js'
import {METRIC_DEFS, type MetricDef} from '../../../src/metrics/registry.js'
import {promtool} from '../../helpers/promtool.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))

/** Every kbk metric name a PromQL expression mentions, with histogram suffixes folded onto the histogram. */
function metricNamesIn(expr: string, defs: readonly MetricDef[] = METRIC_DEFS): string[] {
  const histograms = new Set(defs.filter((d) => d.type === 'histogram').map((d) => d.name))
  const names = new Set<string>()
  for (const m of expr.matchAll(/\b(?:kbk|kafka_backup)_[a-z0-9_]+/g)) {
    const base = m[0].replace(/_(bucket|sum|count)$/, '')
    names.add(histograms.has(base) ? base : m[0])
  }
  return [...names]
}

function dashboardExprs(): string[] {
  const dash = JSON.parse(readFileSync(join(root, 'deploy/grafana/kbk.json'), 'utf8')) as {panels: Array<{targets?: Array<{expr: string}>}>; templating: {list: Array<{definition?: string}>}}
  return [...dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dash.templating.list.flatMap((v) => (v.definition ? [v.definition] : []))]
}

function ruleExprs(): string[] {
  const rules = parse(readFileSync(join(root, 'deploy/prometheus/kbk-rules.yaml'), 'utf8')) as {groups: Array<{rules: Array<{expr: string}>}>}
  return rules.groups.flatMap((g) => g.rules.map((r) => String(r.expr)))
}

describe('deploy/: dashboard and alert rules', () => {
  const known = new Set<string>(METRIC_DEFS.map((d) => d.name))

  it('every metric the dashboard and the rules use exists in the registry', () => {
    const exprs = [...dashboardExprs(), ...ruleExprs()]
    assert.ok(exprs.length > 20, `${exprs.length} expressions`)
    const unknown = exprs.flatMap((e) => metricNamesIn(e).filter((n) => !known.has(n)).map((n) => `${n} in ${e}`))
    assert.deepEqual(unknown, [])
  })

  it('the name check catches a name the registry does not have', () => {
    assert.deepEqual(metricNamesIn('rate(kafka_backup_storage_write_latency_seconds_bucket[5m]) + kbk_no_such_metric').filter((n) => !known.has(n)), ['kbk_no_such_metric'])
  })

  it('the dashboard covers health, lag and RPO, storage and cost, restores', () => {
    const used = new Set(dashboardExprs().flatMap((e) => metricNamesIn(e)))
    for (const name of ['kbk_backup_last_success_timestamp_seconds', 'kafka_backup_lag_records', 'kbk_rpo_seconds', 'kbk_store_bytes', 'kbk_store_monthly_cost', 'kbk_restore_duration_seconds', 'kbk_restore_bytes_total']) assert.ok(used.has(name), name)
  })

  it('the rules alert on missed applies, RPO, store write errors and latency, stale locks and checkpoints, verify failures', () => {
    const rules = parse(readFileSync(join(root, 'deploy/prometheus/kbk-rules.yaml'), 'utf8')) as {groups: Array<{rules: Array<{alert: string}>}>}
    const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert))
    for (const a of ['KbkNoSuccessfulApply', 'KbkRpoBreached', 'KbkStorageWriteErrors', 'KbkStorageWriteLatencyHigh', 'KbkStaleLock', 'KbkStaleCheckpoint', 'KbkVerifyFailures']) assert.ok(alerts.includes(a), a)
  })

  it('promtool check rules accepts deploy/prometheus/kbk-rules.yaml', () => {
    const r = spawnSync(promtool(), ['check', 'rules', join(root, 'deploy/prometheus/kbk-rules.yaml')], {encoding: 'utf8'})
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`)
    assert.match(r.stdout, /SUCCESS: \d+ rules found/)
  })

  it('promtool check rules rejects a broken rule (the check can fail)', () => {
    const r = spawnSync(promtool(), ['check', 'rules', '/dev/stdin'], {encoding: 'utf8', input: 'groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: max by (policy (kbk_rpo_breached)\n'})
    assert.notEqual(r.status, 0)
  })
})

describe('docs/metrics.md', () => {
  it('is generated from the registry (run node scripts/gen-metrics-doc.mjs after npm run build)', () => {
    assert.equal(readFileSync(join(root, 'docs/metrics.md'), 'utf8'), renderMetricsDoc())
  })

  it('lists every metric with its type and labels', () => {
    const doc = renderMetricsDoc()
    for (const d of METRIC_DEFS) assert.match(doc, new RegExp(`\\| \`${d.name}\` \\| ${d.type} \\|`))
  })
})
