// Attribute diffs (old → new) between two recorded settings objects, via json-diff, flattened
// to one line per changed path so every renderer can show them the same way.
import {diff} from 'json-diff'
import type {AttributeDiff} from './types.js'

export function diffAttributes(before: unknown, after: unknown): AttributeDiff[] {
  const out: AttributeDiff[] = []
  walk(diff(before, after, {full: false}), '', before, after, out)
  return out.sort((a, b) => a.path.localeCompare(b.path))
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

// json-diff marks changes as {__old, __new}, added keys as `key__added`, removed as `key__deleted`,
// and array edits as [op, value] pairs. Arrays are reported whole: a list of regexes reads
// better as old → new than as positional edits.
function walk(d: unknown, path: string, before: unknown, after: unknown, out: AttributeDiff[]): void {
  if (d === undefined) return
  if (Array.isArray(d)) {
    out.push({path: path || '.', before, after})
    return
  }
  if (!isRecord(d)) return
  if ('__old' in d || '__new' in d) {
    out.push({path: path || '.', before: d.__old, after: d.__new})
    return
  }
  for (const [k, v] of Object.entries(d)) {
    if (k.endsWith('__added')) {
      const key = k.slice(0, -'__added'.length)
      out.push({path: join(path, key), before: undefined, after: v})
    } else if (k.endsWith('__deleted')) {
      const key = k.slice(0, -'__deleted'.length)
      out.push({path: join(path, key), before: v, after: undefined})
    } else {
      walk(v, join(path, k), isRecord(before) ? before[k] : undefined, isRecord(after) ? after[k] : undefined, out)
    }
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key
}
