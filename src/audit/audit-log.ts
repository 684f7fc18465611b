// The audit trail: one record per apply, hash-chained to the previous one and written
// create-only, so a removed, altered or reordered record is detected and named by `verify`.
import {createHash} from 'node:crypto'
import {KbkError} from '../errors.js'
import type {ObjectStore} from '../storage/object-store.js'

export const AUDIT_PREFIX = '_kbk/audit/'
const GENESIS = '0'.repeat(64)

export interface AuditEntry {
  seq: number
  at: string
  who: string
  kbk_version: string
  run_id: string
  /** sha256 of the applied plan's JSON. */
  plan_digest: string
  config_digest: string
  outcome: 'success' | 'failed'
  actions: Array<{address: string; action: string; status: string}>
  counts: Record<string, number>
  prev_hash: string
  hash: string
}

export function auditKey(seq: number): string {
  return `${AUDIT_PREFIX}${String(seq).padStart(12, '0')}.json`
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as Record<string, unknown>)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value)
}

export function hashEntry(entry: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(canonical(entry)).digest('hex')
}

export async function readAuditEntries(store: ObjectStore): Promise<Array<{key: string; entry?: AuditEntry; error?: string}>> {
  const out: Array<{key: string; entry?: AuditEntry; error?: string}> = []
  for await (const o of store.list(AUDIT_PREFIX)) {
    try {
      out.push({key: o.key, entry: JSON.parse((await store.get(o.key)).toString('utf8')) as AuditEntry})
    } catch (error) {
      out.push({key: o.key, error: error instanceof Error ? error.message : String(error)})
    }
  }
  return out
}

/** Appends one entry. The caller holds the store's lock; create-only makes a lost race loud anyway. */
export async function appendAuditEntry(store: ObjectStore, fields: Omit<AuditEntry, 'seq' | 'prev_hash' | 'hash'>): Promise<AuditEntry> {
  let last: AuditEntry | undefined
  let lastKey: string | undefined
  for await (const o of store.list(AUDIT_PREFIX)) lastKey = o.key
  if (lastKey) last = JSON.parse((await store.get(lastKey)).toString('utf8')) as AuditEntry
  const body = {...fields, seq: (last?.seq ?? 0) + 1, prev_hash: last?.hash ?? GENESIS}
  const entry: AuditEntry = {...body, hash: hashEntry(body)}
  try {
    await store.put(auditKey(entry.seq), Buffer.from(JSON.stringify(entry, null, 1)), {ifNoneMatch: '*', contentType: 'application/json'})
  } catch (error) {
    throw new KbkError('KBK_AUDIT_CONFLICT', `Could not append audit record ${entry.seq}: another writer added one at the same time.`, {cause: error, kind: 'conflict', suggestion: 'Run `kbk audit verify`; the apply itself completed.'})
  }
  return entry
}

export interface AuditProblem {
  key: string
  seq?: number
  kind: 'unreadable' | 'altered' | 'removed' | 'reordered' | 'misnamed'
  message: string
}

export function verifyAuditEntries(entries: Array<{key: string; entry?: AuditEntry; error?: string}>): AuditProblem[] {
  const problems: AuditProblem[] = []
  let prev: AuditEntry | undefined
  let expectedSeq = 1
  for (const {key, entry, error} of entries) {
    if (!entry) {
      problems.push({key, kind: 'unreadable', message: `cannot be read: ${error}`})
      continue
    }
    const {hash, ...body} = entry
    if (hashEntry(body) !== hash) problems.push({key, seq: entry.seq, kind: 'altered', message: `record ${entry.seq} was altered after it was written (its content no longer matches its hash)`})
    if (key !== auditKey(entry.seq)) problems.push({key, seq: entry.seq, kind: 'misnamed', message: `holds record ${entry.seq} but is named for another position`})
    if (entry.seq > expectedSeq) {
      problems.push({key, seq: entry.seq, kind: 'removed', message: `record(s) ${expectedSeq}..${entry.seq - 1} are missing before record ${entry.seq}`})
    } else if (entry.seq < expectedSeq) {
      problems.push({key, seq: entry.seq, kind: 'reordered', message: `record ${entry.seq} appears after record ${expectedSeq - 1}`})
    }
    const wantPrev = prev?.hash ?? GENESIS
    if (entry.prev_hash !== wantPrev && entry.seq === expectedSeq) {
      problems.push({key, seq: entry.seq, kind: prev ? 'reordered' : 'removed', message: `record ${entry.seq} does not chain to ${prev ? `record ${prev.seq}` : 'the start'}: a record before it was removed, replaced or reordered`})
    }
    prev = entry
    expectedSeq = Math.max(expectedSeq, entry.seq + 1)
  }
  return problems
}
