// The one way kbk prints numbers for people: counts with thousands separators, sizes in binary
// units (KiB, MiB, ...) with one decimal, rates, percentages and durations. Every renderer
// (plan, apply, progress, state, backups, verify) imports these, so the same quantity never
// reads differently in two places. --json output keeps raw numbers and never uses them.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB']

/** 1234567 -> "1,234,567". Non-integers keep at most one decimal. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US', {maximumFractionDigits: Number.isInteger(n) ? 0 : 1})
}

/** 0 -> "0 B", 1536 -> "1.5 KiB"; undefined (not known) -> "unknown". */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return 'unknown'
  let v = Math.max(0, n)
  let i = 0
  while (v >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024
    i++
  }
  // Rounding can reach 1024.0 of a unit: print it as 1.0 of the next one instead.
  if (i > 0 && Number(v.toFixed(1)) >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${BYTE_UNITS[i]}`
}

/** Bytes per second: "12.3 MiB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`
}

/** A fraction 0..1 as "42%"; "99%" until it is really done, so 100% means finished. */
export function formatPercent(fraction: number): string {
  const f = Math.min(1, Math.max(0, fraction))
  const p = Math.floor(f * 100)
  return `${f < 1 ? Math.min(p, 99) : 100}%`
}

/** Elapsed or remaining time: "0.4s", "12s", "3m05s", "2h07m". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, ms) / 1000
  if (s < 10) return `${s.toFixed(1)}s`
  const total = Math.round(s)
  if (total < 60) return `${total}s`
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const sec = total % 60
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`
}

const DAY = 86_400_000

/**
 * An age or a retention, as the plan's findings print it: whole years and days exactly (7y, 30d),
 * else one decimal (1.5d, 2.5h), minutes and seconds rounded; "forever" for no limit. Unlike
 * formatDuration (elapsed time) it reads like the durations of the workspace; config/duration
 * keeps the config's own syntax (parse and the canonical form written back to YAML).
 */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return 'forever'
  if (ms >= 365 * DAY && ms % (365 * DAY) === 0) return `${ms / (365 * DAY)}y`
  if (ms >= DAY && ms % DAY === 0) return `${ms / DAY}d`
  if (ms >= DAY) return `${(ms / DAY).toFixed(1)}d`
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(ms % 3_600_000 === 0 ? 0 : 1)}h`
  if (ms >= 60_000) return `${Math.round(ms / 60_000)}m`
  return `${Math.round(ms / 1000)}s`
}