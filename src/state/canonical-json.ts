// Canonical JSON for state objects: the same value always gives the same bytes, so a sha256
// recorded in a parent object identifies the child exactly and a rewrite is byte-for-byte stable.
import {createHash} from 'node:crypto'

/**
 * Sorted keys (by UTF-16 code unit, as JSON.stringify sees them), no whitespace, `undefined`
 * members dropped, UTF-8. Non-finite numbers and other non-JSON values are a bug in the caller,
 * so they throw rather than silently becoming `null`.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$')
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8')
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

function write(value: unknown, path: string): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${path} is ${value}, which JSON cannot represent`)
      return JSON.stringify(value)
    case 'object': {
      if (Array.isArray(value)) return '[' + value.map((v, i) => (v === undefined ? 'null' : write(v, `${path}[${i}]`))).join(',') + ']'
      const proto = Object.getPrototypeOf(value) as unknown
      if (proto !== Object.prototype && proto !== null) throw new TypeError(`canonicalJson: ${path} is a ${(value as object).constructor?.name ?? 'non-plain object'}, not a plain object`)
      const record = value as Record<string, unknown>
      const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort()
      return '{' + keys.map((k) => JSON.stringify(k) + ':' + write(record[k], `${path}.${k}`)).join(',') + '}'
    }
    default:
      throw new TypeError(`canonicalJson: ${path} is a ${typeof value}, which JSON cannot represent`)
  }
}
