// The drill report for an auditor: a summary (drills run, passed, RTO compliance, drills overdue)
// and one page per drill run with its evidence (who, when, kbk version, workspace digest, the
// applied plan, per-topic and per-partition counts and digests, RTO measured vs target, pass or
// fail and why). Markdown, self-contained HTML (printable: one page per drill), or JSON. Pure.
import type {DrillEvidence} from '../audit/evidence.js'

export interface DrillReportInput {
  generated_at: string
  since: string | null
  workspace_digest: string
  kbk_version: string
  evidence: Array<{key: string; evidence: DrillEvidence}>
  /** Declared drills and whether each is overdue now. */
  declared: Array<{drill: string; policy: string; every: string | null; rto: string | null; last_pass: string | null; overdue: boolean}>
  /** Evidence objects that could not be read. */
  unreadable: string[]
}

export interface DrillReportSummary {
  runs: number
  passed: number
  failed: number
  /** Runs with an RTO target, and how many met it. */
  rto_measured: number
  rto_met: number
  /** Percentage of runs with a target that met it (null: none had one). */
  rto_compliance_pct: number | null
  overdue: string[]
}

export function summarizeDrills(input: DrillReportInput): DrillReportSummary {
  const runs = input.evidence.map((e) => e.evidence)
  const withTarget = runs.filter((r) => r.rto.target_ms !== null)
  const met = withTarget.filter((r) => r.rto.ok).length
  return {
    runs: runs.length,
    passed: runs.filter((r) => r.result === 'pass').length,
    failed: runs.filter((r) => r.result === 'fail').length,
    rto_measured: withTarget.length,
    rto_met: met,
    rto_compliance_pct: withTarget.length > 0 ? Math.round((met / withTarget.length) * 1000) / 10 : null,
    overdue: input.declared.filter((d) => d.overdue).map((d) => d.drill),
  }
}

function ms(n: number | null): string {
  if (n === null) return '—'
  if (n < 1000) return `${n} ms`
  if (n < 120_000) return `${(n / 1000).toFixed(1)} s`
  const sec = Math.round((n % 60_000) / 1000)
  return sec === 0 ? `${Math.floor(n / 60_000)} min` : `${Math.floor(n / 60_000)} min ${sec} s`
}

function short(sha: string): string {
  return sha.length > 16 ? `${sha.slice(0, 16)}…` : sha
}

export function formatDrillReportMarkdown(input: DrillReportInput): string {
  const s = summarizeDrills(input)
  const lines: string[] = []
  lines.push('# kbk drill report', '')
  lines.push(`Generated ${input.generated_at}${input.since ? `, covering drills since ${input.since}` : ''}. kbk ${input.kbk_version}, workspace digest \`${short(input.workspace_digest)}\`.`, '')
  lines.push('## Summary', '')
  lines.push('| drills run | passed | failed | RTO compliance | overdue |', '|---|---|---|---|---|')
  lines.push(`| ${s.runs} | ${s.passed} | ${s.failed} | ${s.rto_compliance_pct === null ? '—' : `${s.rto_compliance_pct}% (${s.rto_met} of ${s.rto_measured})`} | ${s.overdue.length === 0 ? 'none' : s.overdue.join(', ')} |`, '')
  if (input.declared.length > 0) {
    lines.push('| drill | policy | every | rto | last pass | status |', '|---|---|---|---|---|---|')
    for (const d of input.declared) lines.push(`| ${d.drill} | ${d.policy} | ${d.every ?? '—'} | ${d.rto ?? '—'} | ${d.last_pass ?? 'never'} | ${d.overdue ? '**overdue**' : 'ok'} |`)
    lines.push('')
  }
  for (const u of input.unreadable) lines.push(`> Unreadable evidence object: \`${u}\``, '')
  for (const {key, evidence: e} of input.evidence) {
    lines.push(`## ${e.result === 'pass' ? 'PASS' : 'FAIL'} — drill ${e.drill}, ${e.started_at}`, '')
    lines.push(`- Evidence: \`${key}\``)
    lines.push(`- Run by ${e.who} with kbk ${e.kbk_version}; workspace digest \`${short(e.workspace_digest)}\`; plan digest \`${short(e.plan_digest)}\``)
    lines.push(`- Restored policy **${e.policy}** (store ${e.store}) to cluster **${e.cluster}**, point in time ${e.point_in_time}`)
    lines.push(`- RTO: measured **${ms(e.rto.measured_ms)}**, target ${ms(e.rto.target_ms)} — ${e.rto.ok ? 'met' : '**missed**'}`)
    lines.push(`- Records validated: ${e.records}; scratch topics ${e.cleanup}`)
    if (e.reasons.length > 0) {
      lines.push('- Why it failed:')
      for (const r of e.reasons) lines.push(`  - ${r}`)
    }
    lines.push('', '| source topic | scratch topic | partition | backup records | restored records | backup digest | restored digest | ok |', '|---|---|---|---|---|---|---|---|')
    for (const t of e.topics) for (const p of t.partitions) lines.push(`| ${t.source_topic} | ${t.scratch_topic} | ${p.partition} | ${p.expected.records} | ${p.restored.records} | \`${short(p.expected.sha256)}\` | \`${short(p.restored.sha256)}\` | ${p.ok ? '✓' : '✗'} |`)
    if (e.consumer_groups.length > 0) {
      lines.push('', '| consumer group | scratch topic | translated offsets | found | ok |', '|---|---|---|---|---|')
      for (const g of e.consumer_groups) lines.push(`| ${g.group} | ${g.topic} | ${JSON.stringify(g.expected)} | ${JSON.stringify(g.found)} | ${g.ok ? '✓' : '✗'} |`)
    }
    lines.push('')
  }
  if (input.evidence.length === 0) lines.push('No drill evidence in this period.', '')
  return lines.join('\n')
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

export function formatDrillReportHtml(input: DrillReportInput): string {
  const s = summarizeDrills(input)
  const pages = input.evidence.map(({key, evidence: e}) => {
    const rows = e.topics
      .flatMap((t) =>
        t.partitions.map(
          (p) =>
            `<tr class="${p.ok ? '' : 'bad'}"><td>${esc(t.source_topic)}</td><td>${esc(t.scratch_topic)}</td><td class="n">${p.partition}</td><td class="n">${p.expected.records}</td><td class="n">${p.restored.records}</td><td><code>${esc(short(p.expected.sha256))}</code></td><td><code>${esc(short(p.restored.sha256))}</code></td><td>${p.ok ? '✓' : '✗'}</td></tr>`,
        ),
      )
      .join('')
    const groups = e.consumer_groups.length
      ? `<h3>Consumer groups</h3><table><tr><th>group</th><th>scratch topic</th><th>translated</th><th>found</th><th>ok</th></tr>${e.consumer_groups.map((g) => `<tr class="${g.ok ? '' : 'bad'}"><td>${esc(g.group)}</td><td>${esc(g.topic)}</td><td><code>${esc(JSON.stringify(g.expected))}</code></td><td><code>${esc(JSON.stringify(g.found))}</code></td><td>${g.ok ? '✓' : '✗'}</td></tr>`).join('')}</table>`
      : ''
    return `<section class="page">
<h2><span class="badge ${e.result}">${e.result === 'pass' ? 'PASS' : 'FAIL'}</span> Drill ${esc(e.drill)} <small>${esc(e.started_at)}</small></h2>
<dl>
<dt>Run by</dt><dd>${esc(e.who)} · kbk ${esc(e.kbk_version)}</dd>
<dt>Restored</dt><dd>policy <b>${esc(e.policy)}</b> (store ${esc(e.store)}) → cluster <b>${esc(e.cluster)}</b>, point in time ${esc(e.point_in_time)}</dd>
<dt>RTO</dt><dd>measured <b>${ms(e.rto.measured_ms)}</b> · target ${ms(e.rto.target_ms)} · <span class="${e.rto.ok ? 'ok' : 'no'}">${e.rto.ok ? 'met' : 'missed'}</span></dd>
<dt>Records validated</dt><dd>${e.records} (scratch topics ${esc(e.cleanup)})</dd>
<dt>Workspace digest</dt><dd><code>${esc(e.workspace_digest)}</code></dd>
<dt>Plan digest</dt><dd><code>${esc(e.plan_digest)}</code></dd>
<dt>Evidence object</dt><dd><code>${esc(key)}</code></dd>
</dl>
${e.reasons.length ? `<div class="why"><b>Why it failed</b><ul>${e.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul></div>` : ''}
<h3>Per partition: the backup's records vs the restored records</h3>
<table><tr><th>source topic</th><th>scratch topic</th><th>partition</th><th>backup records</th><th>restored records</th><th>backup digest</th><th>restored digest</th><th>ok</th></tr>${rows}</table>
${groups}
</section>`
  })
  const declared = input.declared.length
    ? `<table><tr><th>drill</th><th>policy</th><th>every</th><th>rto</th><th>last pass</th><th>status</th></tr>${input.declared.map((d) => `<tr class="${d.overdue ? 'bad' : ''}"><td>${esc(d.drill)}</td><td>${esc(d.policy)}</td><td>${esc(d.every ?? '—')}</td><td>${esc(d.rto ?? '—')}</td><td>${esc(d.last_pass ?? 'never')}</td><td>${d.overdue ? 'overdue' : 'ok'}</td></tr>`).join('')}</table>`
    : ''
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kbk drill report</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:#1d2330;margin:2rem auto;max-width:1100px;padding:0 1rem}
h1{margin:0 0 .25rem}h2{border-bottom:1px solid #d5dae3;padding-bottom:.3rem}small{color:#66708a;font-weight:normal}
.meta{color:#66708a}.cards{display:flex;gap:1rem;margin:1rem 0}.card{flex:1;border:1px solid #d5dae3;border-radius:8px;padding:.75rem 1rem}
.card b{display:block;font-size:1.6rem}table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}th,td{border:1px solid #d5dae3;padding:.3rem .5rem;text-align:left}
th{background:#f3f5f9}td.n{text-align:right}tr.bad td{background:#fde8e8}.badge{display:inline-block;border-radius:4px;padding:.05rem .45rem;color:#fff;font-size:.9em}
.badge.pass{background:#1f8a4c}.badge.fail{background:#c62828}.ok{color:#1f8a4c;font-weight:600}.no{color:#c62828;font-weight:600}
dl{display:grid;grid-template-columns:12rem 1fr;gap:.2rem 1rem}dt{color:#66708a}dd{margin:0}.why{background:#fde8e8;border-left:4px solid #c62828;padding:.5rem 1rem}
@media print{.page{page-break-before:always}}
</style></head><body>
<h1>kbk drill report</h1>
<p class="meta">Generated ${esc(input.generated_at)}${input.since ? ` · drills since ${esc(input.since)}` : ''} · kbk ${esc(input.kbk_version)} · workspace digest <code>${esc(short(input.workspace_digest))}</code></p>
<div class="cards">
<div class="card">Drills run<b>${s.runs}</b></div>
<div class="card">Passed<b class="ok">${s.passed}</b></div>
<div class="card">Failed<b class="${s.failed ? 'no' : ''}">${s.failed}</b></div>
<div class="card">RTO compliance<b>${s.rto_compliance_pct === null ? '—' : `${s.rto_compliance_pct}%`}</b>${s.rto_measured ? `${s.rto_met} of ${s.rto_measured} met` : 'no targets'}</div>
<div class="card">Overdue<b class="${s.overdue.length ? 'no' : ''}">${s.overdue.length}</b>${esc(s.overdue.join(', '))}</div>
</div>
${declared}
${input.unreadable.map((u) => `<p class="why">Unreadable evidence object: <code>${esc(u)}</code></p>`).join('')}
${pages.join('\n') || '<p>No drill evidence in this period.</p>'}
</body></html>
`
}
