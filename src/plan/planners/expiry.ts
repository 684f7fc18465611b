// Expiry: per topic, the oldest segments past the policy's retention tier, and what is kept and
// why (minKeep, immutability, pending restores, compacted topics). Pure.
import {blockedText} from '../../format/plan-findings.js'
import type {SegmentRef, StateSnapshot, TopicIndex} from '../../state/types.js'
import {topicKey} from '../../state/types.js'
import {expireAddress} from '../addresses.js'
import {diffAttributes} from '../attribute-diff.js'
import type {Desired, DesiredPolicy, ExpirySet, Observed, PlanDiagnostic, PlanOptions, ResourceChange} from '../types.js'
import {diagnostic, sortedValues} from './shared.js'
export function planExpiry(policy: DesiredPolicy, state: StateSnapshot, observed: Observed, desired: Desired, options: PlanOptions, changes: ResourceChange[], diagnostics: PlanDiagnostic[]): void {
  const {maxAgeMs} = policy.retention
  if (maxAgeMs === null) return
  const cutoff = options.now.getTime() - maxAgeMs
  for (const index of sortedValues(state.topics)) {
    if (index.policy !== policy.name) continue
    // Cheap check first: the plan must stay interactive over a million segments.
    const oldest = index.partitions.map((p) => p.oldest_written_at).filter((x): x is string => x !== undefined).sort()[0]
    if (!oldest || Date.parse(oldest) >= cutoff) continue
    const segments = observed.segments[topicKey(policy.name, index.topic)]
    if (!segments) continue
    if (isCompacted(index.configs)) {
      keptCompacted(policy, index, segments, cutoff, diagnostics)
      continue
    }
    const set = selectExpiry(policy, index, segments, cutoff, desired, state, options)
    if (!set || set.segments.length === 0) continue
    const blockedReason = !policy.retention.allowDestroy
      ? blockedText({kind: 'allow-destroy-unset', tier: policy.retention.tier, policy: policy.name})
      : undefined
    changes.push({
      address: expireAddress(policy.name, index.topic),
      type: 'expire',
      name: policy.name,
      topic: index.topic,
      store: policy.store,
      actions: ['delete'],
      before: {segments: set.segments.length, bytes: set.bytes},
      after: null,
      expire: set,
      ...(blockedReason ? {blocked: blockedReason} : {}),
    })
  }
}

function isCompacted(configs: Record<string, string>): boolean {
  return (configs['cleanup.policy'] ?? '').includes('compact')
}

/**
 * A compacted topic is state, not a log: its old segments hold the only copy of every key not
 * updated since, so dropping them by age would silently lose keys. kbk keeps them, and the plan
 * says which and why on every plan (not only in the docs), so nobody mistakes "no change" for
 * "nothing past maxAge".
 */
function keptCompacted(policy: DesiredPolicy, index: TopicIndex, segments: SegmentRef[], cutoff: number, diagnostics: PlanDiagnostic[]): void {
  const old = segments.filter((s) => Date.parse(s.written_at) < cutoff)
  if (old.length === 0) return
  const byPartition = new Map<number, {from: number; to: number; n: number}>()
  for (const s of old) {
    const r = byPartition.get(s.partition) ?? {from: s.first_offset, to: s.last_offset, n: 0}
    r.from = Math.min(r.from, s.first_offset)
    r.to = Math.max(r.to, s.last_offset)
    r.n++
    byPartition.set(s.partition, r)
  }
  const written = old.map((s) => s.written_at).sort()
  diagnostics.push(
    diagnostic('warning', {
      kind: 'compacted-kept',
      address: expireAddress(policy.name, index.topic),
      topic: index.topic,
      tier: policy.retention.tier,
      maxAgeMs: policy.retention.maxAgeMs ?? Number.POSITIVE_INFINITY,
      cleanupPolicy: index.configs['cleanup.policy'],
      segments: old.length,
      ranges: [...byPartition.entries()].sort((a, b) => a[0] - b[0]).map(([partition, r]) => ({partition, from: r.from, to: r.to, segments: r.n})),
      bytes: old.reduce((n, s) => n + s.bytes, 0),
      writtenFrom: written[0]!,
      writtenTo: written[written.length - 1]!,
    }),
  )
}

function selectExpiry(
  policy: DesiredPolicy,
  index: TopicIndex,
  segments: SegmentRef[],
  cutoff: number,
  desired: Desired,
  state: StateSnapshot,
  options: PlanOptions,
): ExpirySet | undefined {
  const kept = new Map<string, number>()
  const keep = (reason: string): void => {
    kept.set(reason, (kept.get(reason) ?? 0) + 1)
  }
  // The newest minKeep backup runs are restorable points that must survive age-based expiry.
  const runs = [...new Map(segments.map((s) => [s.run_id, s.written_at])).entries()].sort((a, b) => b[1].localeCompare(a[1]) || b[0].localeCompare(a[0]))
  const protectedRuns = new Set(runs.slice(0, Math.max(0, policy.retention.minKeep)).map(([id]) => id))
  const restorePoints = pendingRestorePoints(policy.name, desired, state)

  const byPartition = new Map<number, SegmentRef[]>()
  for (const s of segments) {
    const list = byPartition.get(s.partition) ?? []
    list.push(s)
    byPartition.set(s.partition, list)
  }
  const chosen: SegmentRef[] = []
  for (const [, list] of [...byPartition.entries()].sort((a, b) => a[0] - b[0])) {
    // Expiry trims a partition's oldest segments only: stop at the first one that must stay.
    for (const s of [...list].sort((a, b) => a.first_offset - b.first_offset)) {
      if (Date.parse(s.written_at) >= cutoff) break
      if (protectedRuns.has(s.run_id)) {
        keep(`written by one of the newest ${policy.retention.minKeep} backup run(s) (minKeep)`)
        break
      }
      if (s.retain_until && Date.parse(s.retain_until) > options.now.getTime()) {
        keep(`immutable until ${s.retain_until}`)
        break
      }
      if (restorePoints.some((t) => s.min_timestamp <= t)) {
        keep('needed by a restore intent that has not been applied yet')
        break
      }
      chosen.push(s)
    }
  }
  if (chosen.length === 0 && kept.size === 0) return undefined
  if (chosen.length === 0) return undefined
  const written = chosen.map((s) => s.written_at).sort()
  return {
    policy: policy.name,
    topic: index.topic,
    store: policy.store,
    tier: policy.retention.tier,
    segments: chosen.map((s) => ({
      key: s.key,
      partition: s.partition,
      first_offset: s.first_offset,
      last_offset: s.last_offset,
      records: s.records,
      bytes: s.bytes,
      written_at: s.written_at,
      sha256: s.sha256,
    })),
    bytes: chosen.reduce((n, s) => n + s.bytes, 0),
    records: chosen.reduce((n, s) => n + s.records, 0),
    written_from: written[0]!,
    written_to: written[written.length - 1]!,
    kept: [...kept.entries()].map(([reason, n]) => ({reason, segments: n})).sort((a, b) => a.reason.localeCompare(b.reason)),
  }
}

/**
 * Points in time of restore intents from this policy that still have to run. One applied with
 * the same settings will not run again (the plan shows no change for it), so it needs nothing:
 * counting it would let a `latest` drill block expiry forever.
 */
function pendingRestorePoints(policy: string, desired: Desired, state: StateSnapshot): number[] {
  return Object.values(desired.restores)
    .filter((r) => r.policy === policy)
    .filter((r) => {
      const recorded = state.restores[r.name]
      return !(recorded?.status === 'complete' && diffAttributes(recorded.settings, r.settings).length === 0)
    })
    .map((r) => (r.pointInTime === 'latest' ? Number.POSITIVE_INFINITY : Date.parse(r.pointInTime)))
}
