// Drill evidence: one object per drill run, written create-only beside the audit trail and linked
// into it — the audit record of the drill carries the evidence object's key and sha256, so an
// edited or deleted evidence object is named by `kbk audit verify` (the record itself is covered
// by the hash chain). Runbooks live beside them, readable from the store when the wiki is down.
import {createHash} from 'node:crypto'
import {KbkError} from '../errors.js'
import type {ObjectStore} from '../storage/object-store.js'
import type {AuditEntry, AuditProblem} from './audit-log.js'

export const DRILL_PREFIX = '_kbk/drills/'
export const RUNBOOK_PREFIX = '_kbk/runbooks/'

export interface DrillPartitionEvidence {
  /** Target partition of the scratch topic. */
  partition: number
  expected: {records: number; sha256: string}
  restored: {records: number; sha256: string}
  ok: boolean
}

export interface DrillTopicEvidence {
  source_topic: string
  scratch_topic: string
  records: number
  partitions: DrillPartitionEvidence[]
}

export interface DrillEvidence {
  kind: 'kbk.drill-evidence'
  version: 1
  drill: string
  run_id: string
  /** Who ran it (user@host), when it started and finished. */
  who: string
  started_at: string
  finished_at: string
  kbk_version: string
  workspace_digest: string
  policy: string
  store: string
  cluster: string
  point_in_time: string
  /** sha256 of the applied plan's JSON, and the restore it ran (topics, ranges, estimates). */
  plan_digest: string
  plan: unknown
  topics: DrillTopicEvidence[]
  consumer_groups: Array<{group: string; topic: string; expected: Record<number, number>; found: Record<number, number>; ok: boolean}>
  rto: {target_ms: number | null; measured_ms: number; ok: boolean}
  records: number
  bytes: number
  cleanup: 'deleted' | 'kept' | 'failed'
  result: 'pass' | 'fail'
  /** Why it failed, one line each (empty when it passed). */
  reasons: string[]
}

/** Evidence keys sort by drill, then time; pass/fail is in the name so the planner lists, never reads. */
export function evidenceKey(drill: string, startedAt: string, result: 'pass' | 'fail', runId: string): string {
  return `${DRILL_PREFIX}${drill}/${startedAt.replace(/[-:.]/g, '')}-${result}-${runId}.json`
}

export function parseEvidenceKey(key: string): {drill: string; stamp: string; result: 'pass' | 'fail'} | undefined {
  const m = /^_kbk\/drills\/([^/]+)\/([0-9TZ]+)-(pass|fail)-[^/]+\.json$/.exec(key)
  return m ? {drill: m[1]!, stamp: m[2]!, result: m[3] as 'pass' | 'fail'} : undefined
}

/** 20260330T101500123Z → 2026-03-30T10:15:00.123Z */
export function stampToIso(stamp: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})?Z$/.exec(stamp)
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7] ?? '000'}Z` : stamp
}

export function sha256OfBytes(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Writes the evidence create-only; returns its key and the sha256 the audit record links. */
export async function writeEvidence(store: ObjectStore, evidence: DrillEvidence): Promise<{key: string; sha256: string}> {
  const key = evidenceKey(evidence.drill, evidence.started_at, evidence.result, evidence.run_id)
  const body = Buffer.from(JSON.stringify(evidence, null, 1))
  try {
    await store.put(key, body, {ifNoneMatch: '*', contentType: 'application/json'})
  } catch (error) {
    throw new KbkError('KBK_DRILL_EVIDENCE', `Could not write the drill evidence ${key}.`, {cause: error, kind: 'environment', suggestion: 'Check write access to the store and run the drill again.'})
  }
  return {key, sha256: sha256OfBytes(body)}
}

/** Every evidence object in the store, newest last, optionally only since a time. */
export async function readEvidence(store: ObjectStore, options: {since?: Date} = {}): Promise<Array<{key: string; evidence?: DrillEvidence; error?: string}>> {
  const out: Array<{key: string; evidence?: DrillEvidence; error?: string}> = []
  for await (const o of store.list(DRILL_PREFIX)) {
    const parsed = parseEvidenceKey(o.key)
    if (!parsed) continue
    if (options.since && Date.parse(stampToIso(parsed.stamp)) < options.since.getTime()) continue
    try {
      out.push({key: o.key, evidence: JSON.parse((await store.get(o.key)).toString('utf8')) as DrillEvidence})
    } catch (error) {
      out.push({key: o.key, error: error instanceof Error ? error.message : String(error)})
    }
  }
  return out.sort((a, b) => (a.evidence?.started_at ?? '').localeCompare(b.evidence?.started_at ?? '') || a.key.localeCompare(b.key))
}

/** Per drill: the start of its newest run and of its newest passing run (from the keys alone). */
export async function listDrillRuns(store: ObjectStore): Promise<Record<string, {last_run?: string; last_result?: 'pass' | 'fail'; last_pass?: string}>> {
  const out: Record<string, {last_run?: string; last_result?: 'pass' | 'fail'; last_pass?: string}> = {}
  for await (const o of store.list(DRILL_PREFIX)) {
    const p = parseEvidenceKey(o.key)
    if (!p) continue
    const at = stampToIso(p.stamp)
    const d = (out[p.drill] ??= {})
    if (!d.last_run || at > d.last_run) {
      d.last_run = at
      d.last_result = p.result
    }
    if (p.result === 'pass' && (!d.last_pass || at > d.last_pass)) d.last_pass = at
  }
  return out
}

/**
 * The evidence objects the audit trail links must still be there with the bytes it hashed, and
 * every evidence object must be linked by some audit record (an evidence object slipped into the
 * store by hand is not evidence).
 */
export async function verifyEvidenceLinks(store: ObjectStore, entries: Array<{key: string; entry?: AuditEntry}>): Promise<AuditProblem[]> {
  const problems: AuditProblem[] = []
  const linked = new Set<string>()
  for (const {key, entry} of entries) {
    const ev = entry?.evidence
    if (!ev) continue
    linked.add(ev.key)
    let bytes: Buffer | undefined
    try {
      bytes = await store.get(ev.key)
    } catch {
      bytes = undefined
    }
    if (!bytes) problems.push({key: ev.key, seq: entry.seq, kind: 'removed', message: `the drill evidence that audit record ${entry.seq} (${key}) links is missing from the store`})
    else if (sha256OfBytes(bytes) !== ev.sha256) problems.push({key: ev.key, seq: entry.seq, kind: 'altered', message: `drill evidence was altered after it was written: its sha256 no longer matches the one audit record ${entry.seq} holds`})
  }
  for await (const o of store.list(DRILL_PREFIX)) {
    if (!linked.has(o.key)) problems.push({key: o.key, kind: 'unreadable', message: 'drill evidence that no audit record links: it was not written by a kbk drill (or its audit record was removed)'})
  }
  return problems
}
