// The audit trail: one record per apply, hash-chained to the previous one and written
// create-only, so a removed, altered or reordered record is detected and named by `verify`.
import {KbkError} from '../errors.js'
import {canonicalJson, sha256Hex} from '../state/canonical-json.js'
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
  /** interrupted: stopped by SIGINT/SIGTERM; `counts` then say what it committed before it stopped. */
  outcome: 'success' | 'failed' | 'interrupted'
  actions: Array<{address: string; action: string; status: string}>
  counts: Record<string, number>
  /** A drill's record links its evidence object (audit/evidence.ts): verify re-hashes it. */
  evidence?: {key: string; sha256: string}
  prev_hash: string
  hash: string
}

export function auditKey(seq: number): string {
  return `${AUDIT_PREFIX}${String(seq).padStart(12, '0')}.json`
}

/**
 * The same canonical JSON as the state's digests. Records written before it was shared hashed a
 * local copy that differed only on values JSON cannot hold (undefined in arrays, NaN, Dates), which
 * an audit record never contains: test/unit/audit/audit-canonical.test.ts checks they agree.
 */
export function hashEntry(entry: Omit<AuditEntry, 'hash'>): string {
  return sha256Hex(canonicalJson(entry))
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
  if (lastKey) {
    const raw = (await store.get(lastKey)).toString('utf8')
    try {
      last = JSON.parse(raw) as AuditEntry
    } catch {
      last = undefined
    }
    if (!isAuditEntry(last)) {
      throw new KbkError('KBK_AUDIT_CORRUPT', `Could not append an audit record: the newest one, ${lastKey}, is not a readable audit record, so the chain cannot continue from it.`, {
        kind: 'environment',
        suggestion: 'Run `kbk audit verify` and find out who changed the audit trail; the apply itself completed.',
      })
    }
  }
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
  kind: 'unreadable' | 'altered' | 'removed' | 'reordered'
  message: string
}

function isAuditEntry(v: unknown): v is AuditEntry {
  const e = v as Partial<AuditEntry> | null
  return typeof e === 'object' && e !== null && Number.isSafeInteger(e.seq) && typeof e.hash === 'string' && typeof e.prev_hash === 'string'
}

/**
 * Checks the chain. Each record's hash covers its content and its predecessor's hash, and each
 * file is named for its position, so: an edited record no longer matches its hash (altered); a
 * record rewritten with a fresh hash breaks the link from its successor (altered); a gap in the
 * numbers is a removal; a record in another record's file is a reordering. The newest records can
 * be cut off without a trace in the chain itself: the documented limit of a chain kept in the
 * same store (see docs/security.md).
 */
export function verifyAuditEntries(entries: Array<{key: string; entry?: AuditEntry; error?: string}>): AuditProblem[] {
  const problems: AuditProblem[] = []
  const readable: Array<{key: string; entry: AuditEntry}> = []
  for (const {key, entry, error} of entries) {
    if (!isAuditEntry(entry)) {
      problems.push({key, kind: 'unreadable', message: entry === undefined ? `cannot be read: ${error}` : 'is not an audit record (no seq, hash or prev_hash)'})
      continue
    }
    const {hash, ...body} = entry
    if (hashEntry(body) !== hash) problems.push({key, seq: entry.seq, kind: 'altered', message: `record ${entry.seq} was altered after it was written: its content no longer matches its hash`})
    if (key !== auditKey(entry.seq)) problems.push({key, seq: entry.seq, kind: 'reordered', message: `holds record ${entry.seq} in the place of another record: records were moved or reordered`})
    readable.push({key, entry})
  }
  let prev: AuditEntry | undefined
  for (const {key, entry} of [...readable].sort((a, b) => a.entry.seq - b.entry.seq || a.key.localeCompare(b.key))) {
    const expected = (prev?.seq ?? 0) + 1
    if (prev && entry.seq === prev.seq) {
      problems.push({key, seq: entry.seq, kind: 'reordered', message: `a second copy of record ${entry.seq}`})
      continue
    }
    if (entry.seq > expected) {
      problems.push({key, seq: entry.seq, kind: 'removed', message: `record(s) ${expected}..${entry.seq - 1} are missing before record ${entry.seq}`})
    } else if (entry.prev_hash !== (prev?.hash ?? GENESIS)) {
      problems.push({
        key,
        seq: entry.seq,
        kind: 'altered',
        message: prev
          ? `record ${entry.seq} does not chain to record ${prev.seq}: record ${prev.seq} was replaced after record ${entry.seq} was written (or record ${entry.seq} was forged)`
          : `record ${entry.seq} does not chain to the start of the trail: it was replaced or forged`,
      })
    }
    prev = entry
  }
  return problems
}
