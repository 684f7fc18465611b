// The audit log's hash chain used its own canonical JSON until it shared the state's. Records
// already written must still verify: for every value an audit record can hold (what JSON.parse
// returns), the shared function must give exactly the bytes the old one hashed.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {canonicalJson} from '../../../src/state/canonical-json.js'
import {hashEntry, type AuditEntry} from '../../../src/audit/audit-log.js'

/** The audit log's canonical JSON as it was, verbatim (src/audit/audit-log.ts before the merge). */
function oldCanonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(oldCanonical).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as Record<string, unknown>)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${oldCanonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value)
}

/** A small deterministic PRNG, so a failure reproduces. */
function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const STRINGS = ['', 'a', 'A', 'é', 'ü', '日本', '😀', '\u0000', '\n"\\', 'key with space', 'Z', '_', '10', '9', '__proto__x', 'ǅ', '\ud800']

function randomJson(r: () => number, depth: number): unknown {
  const pick = r()
  if (depth <= 0 || pick < 0.35) {
    const leaf = Math.floor(r() * 7)
    if (leaf === 0) return null
    if (leaf === 1) return r() < 0.5
    if (leaf === 2) return Math.floor(r() * 2e6) - 1e6
    if (leaf === 3) return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20)
    if (leaf === 4) return [0, -0, 1e21, 5e-324, Number.MAX_SAFE_INTEGER][Math.floor(r() * 5)]
    return STRINGS[Math.floor(r() * STRINGS.length)]! + (r() < 0.3 ? String(Math.floor(r() * 100)) : '')
  }
  const n = Math.floor(r() * 5)
  if (pick < 0.65) return Array.from({length: n}, () => randomJson(r, depth - 1))
  const o: Record<string, unknown> = {}
  for (let i = 0; i < n; i++) o[STRINGS[Math.floor(r() * STRINGS.length)]! + (r() < 0.5 ? String(i) : '')] = randomJson(r, depth - 1)
  return o
}

describe('audit hashes use the shared canonical JSON', () => {
  it('gives the old bytes for 5000 random JSON values (as read back with JSON.parse)', () => {
    const r = prng(19)
    for (let i = 0; i < 5000; i++) {
      const value = JSON.parse(JSON.stringify(randomJson(r, 5))) as unknown
      assert.equal(canonicalJson(value), oldCanonical(value), JSON.stringify(value))
    }
  })

  it('gives the old bytes for an in-memory record with absent optional fields', () => {
    const body: Omit<AuditEntry, 'hash'> & {note?: string} = {
      seq: 7, at: '2026-03-22T14:30:00.000Z', who: 'ci@runner', kbk_version: '0.1.0', run_id: 'r-1', plan_digest: 'a'.repeat(64), config_digest: 'b'.repeat(64),
      outcome: 'success', actions: [{address: 'backup.orders["orders.created"]', action: 'create', status: 'done'}], counts: {create: 1, update: 0},
      prev_hash: '0'.repeat(64), note: undefined,
    }
    assert.equal(canonicalJson(body), oldCanonical(body))
    assert.equal(hashEntry(body), createHash('sha256').update(oldCanonical(body)).digest('hex'))
  })
})
