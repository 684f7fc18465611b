// Renders a Plan for people: terraform's layout in a terminal (format*), and a pull-request
// comment in markdown. Pure functions over the Plan value; colors come from colors.ts.
import type {Drift, Plan, ResourceChange} from '../plan/types.js'
import {c} from './colors.js'
import {formatBytes, formatCount, formatRate} from './numbers.js'
import {formatOffsetsLines, offsetsHeadline} from './offsets-text.js'
import {egressLines, formatReplicateChange} from './replication-text.js'

const SYMBOL: Record<string, string> = {create: '+', update: '~', delete: '-', run: '>'}

function paintAction(action: string, s: string): string {
  if (action === 'create') return c.green(s)
  if (action === 'update') return c.yellow(s)
  if (action === 'delete') return c.red(s)
  return c.cyan(s)
}

function headline(ch: ResourceChange): string {
  const action = ch.actions[0] ?? 'run'
  const sym = SYMBOL[action] ?? '?'
  const verb =
    ch.type === 'policy'
      ? {create: 'will be created', update: 'will be updated in-place', delete: 'will no longer be managed', run: 'will run'}[action]
      : ch.type === 'backup'
        ? action === 'update'
          ? 'will be recorded as deleted'
          : 'will be backed up'
        : ch.type === 'expire'
          ? 'will expire (DESTROYS BACKUP DATA)'
          : ch.type === 'offsets'
            ? offsetsHeadline(ch)
            : ch.type === 'replicate'
              ? ch.replicate
                ? 'will be copied to the replica'
                : action === 'create'
                  ? 'will be recorded in the replica store'
                  : 'will be updated in the replica store'
              : action === 'update'
            ? 'changed: will run again'
            : 'will run'
  const blocked = ch.blocked ? c.boldYellow(' [BLOCKED: not performed]') : ''
  return `  ${paintAction(action, sym)} ${c.bold(ch.address)} ${verb}${blocked}`
}

function value(v: unknown): string {
  return v === undefined ? '(absent)' : JSON.stringify(v)
}

export function formatChange(ch: ResourceChange): string[] {
  const lines = [headline(ch)]
  const ind = '      '
  if (ch.type === 'policy') {
    if (ch.actions[0] === 'create' && ch.after) {
      for (const [k, v] of Object.entries(ch.after)) lines.push(`${ind}${c.green('+')} ${k} = ${value(v)}`)
    }
    for (const d of ch.diff ?? []) lines.push(`${ind}${c.yellow('~')} ${d.path}: ${value(d.before)} ${c.dim('->')} ${value(d.after)}`)
  }
  if (ch.backup) {
    const b = ch.backup
    lines.push(`${ind}cluster "${b.cluster}" -> store "${b.store}"${b.first_backup ? ' (first backup of this topic)' : ''}`)
    for (const r of b.ranges) {
      const n = r.to - r.from
      lines.push(`${ind}partition ${String(r.partition).padStart(3)}: offsets ${r.from}..${r.to - 1}  (${formatCount(n)} record(s))${r.lost ? c.boldRed(`  DATA LOSS: ${r.lost.from}..${r.lost.to - 1} gone`) : ''}`)
    }
    const size = b.estimated_bytes === undefined ? 'size unknown (the brokers did not report their log sizes)' : `~${formatBytes(b.estimated_bytes)}${b.first_backup ? " (the brokers' log size)" : ''}`
    lines.push(`${ind}${formatCount(b.estimated_records)} record(s), ${size}`)
    if (b.rate_limit) lines.push(`${ind}read ${rateLimitText(b.rate_limit)}`)
  }
  if (ch.expire) {
    const e = ch.expire
    lines.push(`${ind}${c.red(`${formatCount(e.segments.length)} segment(s), ${formatCount(e.records)} record(s), ${formatBytes(e.bytes)}`)} written ${e.written_from} .. ${e.written_to} (tier "${e.tier}")`)
    for (const k of e.kept) lines.push(`${ind}kept: ${formatCount(k.segments)} segment(s) — ${k.reason}`)
  }
  if (ch.type === 'replicate') lines.push(...formatReplicateChange(ch, ind))
  if (ch.restore) {
    const r = ch.restore
    const pit = r.point_in_time_requested === 'latest' ? `${r.point_in_time} (latest, pinned)` : r.point_in_time
    lines.push(`${ind}from policy "${r.policy}" (store "${r.store}") up to ${pit} into cluster "${r.cluster}"`)
    for (const t of r.topics) {
      lines.push(`${ind}${t.source_topic} -> ${t.target_topic}${t.create ? c.green(` (create, ${t.partitions} partitions)`) : ''}: ${formatCount(t.estimated_records)} record(s) at most, ~${formatBytes(t.estimated_bytes)}`)
    }
    if (r.consumer_groups.length > 0) lines.push(`${ind}consumer groups translated: ${r.consumer_groups.join(', ')}`)
    const produced = producedLine(ch.after)
    if (produced) lines.push(`${ind}${produced}`)
    for (const d of ch.diff ?? []) lines.push(`${ind}${c.yellow('~')} ${d.path}: ${value(d.before)} ${c.dim('->')} ${value(d.after)}`)
  }
  if (ch.offsets) lines.push(...formatOffsetsLines(ch, ind))
  for (const n of ch.notes ?? []) lines.push(`${ind}${c.dim(n)}`)
  if (ch.blocked) lines.push(`${ind}${c.yellow(ch.blocked)}`)
  return lines
}

/**
 * How a restore produces, when its intent says (rateLimit, compression): the brakes and the
 * codec the apply will use are part of what the plan promises.
 */
function producedLine(after: unknown): string | undefined {
  const s = (after ?? {}) as {rateLimit?: {bytesPerSecond: number; recordsPerSecond?: number}; compression?: string}
  const parts: string[] = []
  if (s.rateLimit) parts.push(rateLimitText(s.rateLimit))
  if (s.compression) parts.push(s.compression === 'auto' ? 'batches uncompressed to a loopback broker, lz4 otherwise (compression: auto)' : `batches ${s.compression === 'none' ? 'uncompressed' : s.compression + '-compressed'} (compression: ${s.compression})`)
  return parts.length > 0 ? `produced ${parts.join('; ')}` : undefined
}

/** A rateLimit as the plan says it, for backups and restores alike. */
function rateLimitText(r: {bytesPerSecond: number; recordsPerSecond?: number}): string {
  return `at most ${formatRate(r.bytesPerSecond)}${r.recordsPerSecond ? ` and ${formatCount(r.recordsPerSecond)} records/s` : ''} over all partitions (rateLimit)`
}

export function formatDrift(d: Drift): string[] {
  const tag = d.severity === 'critical' ? c.boldRed('!!') : d.severity === 'warning' ? c.yellow(' !') : c.dim(' i')
  const lines = [`  ${tag} ${c.bold(d.address)} ${d.kind}: ${d.severity === 'critical' ? c.red(d.message) : d.message}`]
  if (d.expected !== undefined || d.found !== undefined) lines.push(c.dim(`       expected: ${value(d.expected ?? null)}  found: ${value(d.found ?? null)}`))
  lines.push(`       fix: ${d.fix}`)
  return lines
}

export function formatSummaryLine(plan: Plan): string {
  const s = plan.summary
  if (plan.refresh_only) return `Drift: ${s.drift} finding(s).`
  const parts = [`${s.create} to create`, `${s.update} to update`, `${s.delete} to destroy`, `${s.run} to run`]
  return `Plan: ${parts.join(', ')}.${s.blocked ? ` ${s.blocked} blocked.` : ''}`
}

/** terraform's "Resource targeting is in effect": a --target plan says it is partial. */
export const PARTIAL_PLAN_WARNING = {
  title: 'Targeting is in effect',
  body: (targets: string[]) =>
    `This plan covers only ${targets.map((t) => `"${t}"`).join(', ')} and what is under it: it may not show every change the configuration calls for. --target is for exceptional situations (recovering from a mistake, working around an error); run a plan without it before you rely on the result.`,
}

/**
 * The last line when there is nothing to do — and only when that is true: never after an error
 * (the plan is incomplete), and never below a drift finding (something does need attention).
 */
export function formatNothingToDo(plan: Plan): {tone: 'ok' | 'attention' | 'error'; text: string} {
  const errors = plan.diagnostics.filter((d) => d.severity === 'error').length
  if (plan.refresh_only) {
    if (errors > 0) return {tone: 'error', text: `The drift check is incomplete: ${errors} error(s) above. It cannot tell whether there is drift.`}
    if (plan.drift.length > 0) return {tone: 'attention', text: formatSummaryLine(plan)}
    return {tone: 'ok', text: 'No drift. The store and the clusters match the recorded state.'}
  }
  if (errors > 0) return {tone: 'error', text: `The plan has ${errors} error(s) above; nothing would be done.`}
  if (plan.drift.length > 0) return {tone: 'attention', text: `No changes to make, but ${plan.drift.length} drift finding(s) above need attention.`}
  return {tone: 'ok', text: 'No changes. Your backups match the configuration.'}
}

function paintNothingToDo(n: {tone: 'ok' | 'attention' | 'error'; text: string}): string {
  return n.tone === 'ok' ? c.green(n.text) : n.tone === 'error' ? c.red(n.text) : c.bold(n.text)
}

export function formatPlanText(plan: Plan): string {
  const out: string[] = []
  const errors = plan.diagnostics.filter((d) => d.severity === 'error')
  const lost = plan.drift.filter((d) => d.kind === 'data-loss')
  if (plan.targets && plan.targets.length > 0) {
    out.push(`${c.yellow('Warning')}: ${c.bold(PARTIAL_PLAN_WARNING.title)}`, '', `  ${PARTIAL_PLAN_WARNING.body(plan.targets)}`, '')
  }
  if (lost.length > 0) {
    // The loudest line of the plan: records are gone for good, and the schedule must change.
    out.push(c.boldRed(`DATA LOSS: Kafka deleted records that were never backed up, in ${lost.length} partition range(s). See the drift below.`), '')
  }
  if (plan.drift.length > 0) {
    out.push(c.bold('Drift: what changed outside kbk since the last apply'), '')
    for (const d of plan.drift) out.push(...formatDrift(d))
    out.push('')
  }
  for (const d of plan.diagnostics) {
    const where = d.file ? `${d.file}:${d.line}:${d.column}: ` : ''
    out.push(`${d.severity === 'error' ? c.boldRed('Error') : c.yellow('Warning')}: ${where}${d.code}: ${d.message}`)
    if (d.suggestion) out.push(`  fix: ${d.suggestion}`)
  }
  if (plan.diagnostics.length > 0) out.push('')
  const live = plan.resource_changes
  if (plan.refresh_only || live.length === 0) {
    out.push(paintNothingToDo(formatNothingToDo(plan)))
    return out.join('\n')
  }
  const destroys = live.filter((ch) => ch.type === 'expire' && !ch.blocked)
  if (destroys.length > 0) {
    out.push(c.boldRed(`WARNING: this plan will destroy backup data (${destroys.length} expiry action(s), ${formatBytes(destroys.reduce((n, ch) => n + (ch.expire?.bytes ?? 0), 0))}).`), '')
  }
  out.push('kbk will perform the following actions:', '')
  for (const ch of live) out.push(...formatChange(ch), '')
  const egress = egressLines(live)
  if (egress.length > 0) out.push(...egress, '')
  out.push(c.bold(formatSummaryLine(plan)))
  if (errors.length > 0) out.push(c.red(`This plan cannot be applied: ${errors.length} error(s) above.`))
  return out.join('\n')
}

export function formatPlanMarkdown(plan: Plan): string {
  const s = plan.summary
  const out: string[] = ['### kbk plan', '']
  if (plan.targets && plan.targets.length > 0) out.push(`> [!WARNING]\n> **${PARTIAL_PLAN_WARNING.title}.** ${escapeMd(PARTIAL_PLAN_WARNING.body(plan.targets))}`, '')
  const destroys = plan.resource_changes.filter((ch) => ch.type === 'expire' && !ch.blocked)
  if (destroys.length > 0) {
    out.push(`> [!CAUTION]\n> **This plan destroys backup data**: ${destroys.map((d) => `\`${d.address}\``).join(', ')} (${formatBytes(destroys.reduce((n, ch) => n + (ch.expire?.bytes ?? 0), 0))}).`, '')
  }
  const critical = plan.drift.filter((d) => d.kind === 'data-loss')
  if (critical.length > 0) out.push(`> [!WARNING]\n> **Data loss detected** on ${critical.length} partition range(s): see Drift.`, '')
  out.push('| create | update | destroy | run | blocked | drift |', '|---:|---:|---:|---:|---:|---:|', `| ${s.create} | ${s.update} | ${s.delete} | ${s.run} | ${s.blocked} | ${s.drift} |`, '')
  if (plan.diagnostics.length > 0) {
    out.push('#### Problems', '')
    for (const d of plan.diagnostics) out.push(`- **${d.severity}** \`${d.code}\`: ${escapeMd(d.message)}${d.suggestion ? ` — fix: ${escapeMd(d.suggestion)}` : ''}`)
    out.push('')
  }
  if (plan.drift.length > 0) {
    out.push('#### Drift', '', '| severity | address | kind | finding | expected | found | fix |', '|---|---|---|---|---|---|---|')
    for (const d of plan.drift) {
      out.push(`| ${d.severity} | \`${d.address}\` | ${d.kind} | ${escapeMd(d.message)} | ${mdValue(d.expected)} | ${mdValue(d.found)} | ${escapeMd(d.fix)} |`)
    }
    out.push('')
  }
  if (!plan.refresh_only && plan.resource_changes.length > 0) {
    out.push('#### Changes', '', '| action | address | detail |', '|---|---|---|')
    for (const ch of plan.resource_changes) {
      const sym = SYMBOL[ch.actions[0] ?? 'run']
      const detail = ch.backup
        ? `${formatCount(ch.backup.estimated_records)} record(s) in ${formatCount(ch.backup.ranges.length)} partition(s)${ch.backup.estimated_bytes === undefined ? '' : `, ~${formatBytes(ch.backup.estimated_bytes)}`}`
        : ch.expire
          ? `${formatCount(ch.expire.segments.length)} segment(s), ${formatBytes(ch.expire.bytes)}`
          : ch.restore
            ? `up to ${ch.restore.point_in_time} into \`${ch.restore.cluster}\``
            : ch.offsets
              ? offsetsHeadline(ch)
            : ch.replicate
              ? `${formatCount(ch.replicate.segments.length)} segment(s), ${formatBytes(ch.replicate.bytes)} to \`${ch.replicate.store}\``
              : (ch.diff ?? []).map((d) => d.path).join(', ')
      out.push(`| \`${sym}\` ${ch.actions[0]}${ch.blocked ? ' (blocked)' : ''} | \`${ch.address}\` | ${escapeMd(detail)} |`)
    }
    out.push('', '<details><summary>Full plan</summary>', '', '```diff', ...plan.resource_changes.flatMap((ch) => formatChange(ch)), '```', '', '</details>')
    const errors = plan.diagnostics.filter((d) => d.severity === 'error').length
    if (errors > 0) out.push('', `**This plan cannot be applied: ${errors} error(s) under Problems.**`)
  } else {
    const n = formatNothingToDo(plan)
    out.push(n.tone === 'ok' ? n.text : `**${n.text}**`)
  }
  return out.join('\n') + '\n'
}

function mdValue(v: unknown): string {
  return v === undefined || v === null ? '—' : `\`${escapeMd(JSON.stringify(v)).replace(/`/g, "'")}\``
}

function escapeMd(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}
