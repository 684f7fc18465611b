// Durations as written in the workspace and on the command line (`30m`, `7d`, `1m30s`, `never`)
// and back. Pure. The one parser for both: a flag must not accept what the config rejects, or the
// other way round.

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  // A year is 365 days: retention law counts years, and a leap day must not shorten a 7y tier by
  // more than a week, which 365d keeps (7y = 2555d < 7 calendar years by at most 2 days).
  y: 365 * 86_400_000,
}

/** One or more `<number><unit>` parts, largest unit first: 90s, 2m, 1m30s, 1d12h. */
export const DURATION_PATTERN = /^(?:[0-9]+(?:ms|s|m|h|d|w|y))+$/
const PART = /([0-9]+)(ms|s|m|h|d|w|y)/g
const ORDER = ['y', 'w', 'd', 'h', 'm', 's', 'ms']

/** What to tell someone whose duration did not parse. */
export const DURATION_HELP = 'Write a whole number and a unit (ms, s, m, h, d, w, y), or several largest first, e.g. 90s, 2m, 1m30s, 7d, 7y'

/**
 * Milliseconds, null for `never`, undefined when the text is not a duration (or overflows).
 * Parts must go from the largest unit to the smallest, each unit once (`1m30s`, not `30s1m`):
 * anything else is more likely a typo than a duration.
 */
export function parseDuration(text: string, opts: {allowNever?: boolean} = {}): number | null | undefined {
  if (text === 'never') return opts.allowNever === false ? undefined : null
  if (!DURATION_PATTERN.test(text)) return undefined
  let ms = 0
  let last = -1
  for (const m of text.matchAll(PART)) {
    const rank = ORDER.indexOf(m[2]!)
    if (rank <= last) return undefined
    last = rank
    ms += Number(m[1]) * UNIT_MS[m[2]!]!
  }
  return Number.isSafeInteger(ms) ? ms : undefined
}

/** The shortest exact form: 7y, 90d, 36h, 1500ms. null prints as never. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return 'never'
  for (const unit of ['y', 'w', 'd', 'h', 'm', 's']) {
    const size = UNIT_MS[unit]!
    if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

/** a >= b, where null (never) is longer than any duration. */
export function durationAtLeast(a: number | null, b: number | null): boolean {
  if (a === null) return true
  if (b === null) return false
  return a >= b
}
