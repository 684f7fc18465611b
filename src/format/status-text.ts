// `kbk status` for people: one row per policy (RPO now against its target, lag, size, growth,
// restorable window, last drill), the stores' lock and checkpoint, and the cost view of --by.
import type {CostGroup, StatusReport} from '../inventory/status.js'
import {c} from './colors.js'
import {formatAge, formatBytes, formatCount} from './numbers.js'
import {renderTable} from './table.js'

function ago(iso: string | null, at: string): string {
  return iso === null ? 'never' : `${formatAge(Math.max(0, Date.parse(at) - Date.parse(iso)))} ago`
}

export function formatStatusText(report: StatusReport): string {
  if (report.policies.length === 0) return 'No policies match.'
  const header = ['POLICY', 'LAST BACKUP', 'RPO NOW / TARGET', 'LAG', 'STORED', 'GROWTH/DAY', 'RESTORABLE', 'LAST DRILL', 'LABELS']
  const rows = report.policies.map((p) => {
    const rpoNow = p.rpo_now_ms === null ? 'never backed up' : p.rpo_now_ms === 0 ? '0s' : formatAge(p.rpo_now_ms)
    const rpo = `${rpoNow} / ${p.rpo ?? '-'}${p.rpo_breached ? ' BREACHED' : ''}`
    return [
      p.policy,
      ago(p.last_backup_at, report.at),
      rpo,
      p.lag_records === null ? 'unknown' : formatCount(p.lag_records),
      formatBytes(p.stored_bytes),
      p.growth_bytes_per_day === null ? '-' : formatBytes(p.growth_bytes_per_day),
      p.oldest_restorable_at === null ? '-' : `${p.oldest_restorable_at} .. ${p.newest_record_at ?? '?'}`,
      ago(p.last_drill_at, report.at),
      Object.entries(p.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || '-',
    ]
  })
  const lines = [renderTable(header, rows)]
  for (const p of report.policies) if (p.cluster_error) lines.push(c.yellow(`! ${p.policy}: cluster "${p.cluster}" could not be asked for offsets (${p.cluster_error}); RPO now is the age of the last backup.`))
  for (const s of report.stores) {
    const lock = s.lock ? `locked by ${s.lock.who} (${s.lock.operation}), heartbeat ${formatAge(s.lock.age_ms)} ago` : 'not locked'
    lines.push(`store ${s.store}: state updated ${ago(s.state_updated_at, report.at)}, ${lock}`)
  }
  if (report.breached.length > 0) lines.push(c.red(`RPO breached: ${report.breached.join(', ')}. Run kbk apply (or check why the scheduled one does not succeed).`))
  return lines.join('\n')
}

export function formatCostText(key: string, groups: CostGroup[]): string {
  const rows = groups.map((g) => [g.value, String(g.policies.length), formatBytes(g.stored_bytes), g.monthly_cost === null ? '-' : g.monthly_cost.toFixed(2) + (g.unpriced.length > 0 ? ` (+${g.unpriced.length} unpriced)` : '')])
  const total = groups.reduce((n, g) => n + (g.monthly_cost ?? 0), 0)
  const lines = [renderTable([key.toUpperCase(), 'POLICIES', 'STORED', 'PER MONTH'], rows)]
  lines.push(`total: ${formatBytes(groups.reduce((n, g) => n + g.stored_bytes, 0))} stored, ${total.toFixed(2)} per month (stores.X.pricePerGiBMonth × stored GiB)`)
  return lines.join('\n')
}
