// GDPR field masking at backup time: declared JSON paths in record values are redacted or
// replaced by a hash before the record reaches a segment. Irreversible by design — the backup
// never holds the original. Values that are not JSON objects are left alone and counted.
import {createHash} from 'node:crypto'
import type {KafkaRecord} from '../kafka/port.js'

export interface MaskingStats {
  masked: number
  notJson: number
}

export const REDACTED = '[REDACTED]'

/** `$.customer.email`, `$.items[*].card`, `$.a.b` → path segments; `*` matches every array item or key. */
export function parseMaskPath(path: string): string[] {
  const body = path.startsWith('$.') ? path.slice(2) : path.startsWith('$') ? path.slice(1) : path
  return body
    .split('.')
    .flatMap((part) => {
      const m = /^([^[\]]*)((?:\[[^\]]*\])*)$/.exec(part)
      if (!m) return [part]
      const idx = [...m[2]!.matchAll(/\[([^\]]*)\]/g)].map((x) => x[1]!.replace(/^['"]|['"]$/g, ''))
      return [m[1]!, ...idx].filter((x) => x !== '')
    })
}

export function createMasker(fields: string[], mode: 'redact' | 'hash', stats: MaskingStats): (record: KafkaRecord) => KafkaRecord {
  const paths = fields.map(parseMaskPath)
  const replace = (v: unknown): unknown => (mode === 'redact' ? REDACTED : `sha256:${createHash('sha256').update(JSON.stringify(v)).digest('hex')}`)
  return (record) => {
    if (record.value === null || record.value.length === 0) return record
    const first = record.value[0]
    if (first !== 0x7b && first !== 0x5b) {
      stats.notJson++
      return record
    }
    let doc: unknown
    try {
      doc = JSON.parse(record.value.toString('utf8'))
    } catch {
      stats.notJson++
      return record
    }
    let changed = false
    for (const path of paths) changed = maskAt(doc, path, 0, replace) || changed
    if (!changed) return record
    stats.masked++
    return {...record, value: Buffer.from(JSON.stringify(doc), 'utf8')}
  }
}

function maskAt(node: unknown, path: string[], i: number, replace: (v: unknown) => unknown): boolean {
  if (node === null || typeof node !== 'object') return false
  const seg = path[i]!
  const container = node as Record<string, unknown>
  const keys = seg === '*' ? Object.keys(container) : Object.prototype.hasOwnProperty.call(container, seg) ? [seg] : []
  let changed = false
  for (const k of keys) {
    if (i === path.length - 1) {
      container[k] = replace(container[k])
      changed = true
    } else changed = maskAt(container[k], path, i + 1, replace) || changed
  }
  return changed
}
