// Rule: durations parse (7d, 90d, 7y, never where allowed) and timestamps are real instants.
import {parseDuration} from '../duration.js'
import {formatPath, type ConfigPath} from '../diagnostics.js'
import {diagnosticAt, type Rule} from './rule.js'

type Obj = Record<string, unknown>
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {})

/** Where durations live in a workspace, and whether `never` is allowed there. */
function durationFields(raw: unknown): Array<{path: ConfigPath; value: unknown; never: boolean}> {
  const root = obj(raw)
  const out: Array<{path: ConfigPath; value: unknown; never: boolean}> = []
  for (const [n, c] of Object.entries(obj(root.clusters))) out.push({path: ['clusters', n, 'connectionTimeout'], value: obj(c).connectionTimeout, never: false})
  for (const [n, t] of Object.entries(obj(root.retention))) out.push({path: ['retention', n, 'maxAge'], value: obj(t).maxAge, never: true})
  for (const [n, t] of Object.entries(obj(root.compliance))) {
    out.push({path: ['compliance', n, 'minRetention'], value: obj(t).minRetention, never: true})
    out.push({path: ['compliance', n, 'maxRetention'], value: obj(t).maxRetention, never: false})
    out.push({path: ['compliance', n, 'requireDrillWithin'], value: obj(t).requireDrillWithin, never: false})
  }
  for (const [n, p] of Object.entries(obj(root.policies))) out.push({path: ['policies', n, 'rpo'], value: obj(p).rpo, never: false})
  for (const [n, r] of Object.entries(obj(root.restores))) {
    for (const k of ['every', 'rto']) out.push({path: ['restores', n, 'drill', k], value: obj(obj(r).drill)[k], never: false})
  }
  return out.filter((f) => f.value !== undefined)
}

/** A real calendar instant: 2026-02-30T00:00:00Z passes a pattern but is not one. */
export function isRealTimestamp(text: string): boolean {
  const ms = Date.parse(text)
  if (Number.isNaN(ms)) return false
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(text)
  if (!m) return false
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number]
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate()
  return mo >= 1 && mo <= 12 && d >= 1 && d <= days && h <= 23 && mi <= 59
}

export const durationsParse: Rule = {
  name: 'durations-parse',
  description: 'Durations are a number and a unit (ms, s, m, h, d, w, y) or never where allowed, are not zero, and timestamps are real instants.',
  check({ws, raw, unresolved}) {
    const out = []
    for (const f of durationFields(raw)) {
      if (typeof f.value !== 'string' || unresolved(f.path)) continue // the schema reports wrong types
      const ms = parseDuration(f.value, {allowNever: f.never})
      const shown = ws.isFromEnv(f.path) ? 'the value from the environment' : JSON.stringify(f.value)
      if (ms === undefined) {
        out.push(
          diagnosticAt(ws, f.path, 'error', 'KBK_CONFIG_BAD_DURATION', `${formatPath(f.path)}: ${shown} is not a duration`, `Write a whole number and a unit (ms, s, m, h, d, w, y), e.g. 30m, 7d, 90d, 7y${f.never ? ', or never' : ''}.`),
        )
      } else if (ms === 0) {
        out.push(diagnosticAt(ws, f.path, 'error', 'KBK_CONFIG_BAD_DURATION', `${formatPath(f.path)}: a zero duration means nothing is ever kept or checked`, `Use a positive duration, e.g. 1h or 7d${f.never ? ', or never' : ''}.`))
      }
    }
    for (const r of Object.values(ws.restores)) {
      const pit = r.from.pointInTime
      const path = ['restores', r.name, 'from', 'pointInTime']
      if (pit === 'latest' || unresolved(path)) continue
      if (/^[0-9]{4}-/.test(pit) && !isRealTimestamp(pit)) {
        out.push(diagnosticAt(ws, path, 'error', 'KBK_CONFIG_BAD_TIMESTAMP', `restores.${r.name}.from.pointInTime: ${JSON.stringify(pit)} is not a real date and time`, 'Write an existing ISO 8601 instant with a zone, e.g. 2026-03-22T14:30:00Z, or latest.'))
      }
    }
    return out
  },
}

export const retentionSane: Rule = {
  name: 'retention-sane',
  description: 'A tier keeps the last good backup (minKeep >= 1), or says loudly that it does not.',
  check({ws}) {
    const out = []
    for (const t of Object.values(ws.retention)) {
      if (t.minKeep === 0 && t.maxAgeMs !== null) {
        out.push(
          diagnosticAt(ws, ['retention', t.name, 'minKeep'], 'warning', 'KBK_CONFIG_MIN_KEEP_ZERO', `retention.${t.name}: minKeep 0 lets expiry delete the last good backup when it is older than ${t.maxAge}`, `Set retention.${t.name}.minKeep: 1 (or more) so a restorable point always remains.`),
        )
      }
    }
    return out
  },
}
