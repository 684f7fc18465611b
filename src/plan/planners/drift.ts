// Drift: what changed outside kbk — RPO breaches, overdue drills, and what the store's listing or
// probe shows (missing, changed and unknown objects). Pure; findings, never changes.
import {formatAge} from '../../format/numbers.js'
import type {StateSnapshot} from '../../state/types.js'
import {topicKey} from '../../state/types.js'
import {backupAddress, policyAddress} from '../addresses.js'
import type {ClusterView, Desired, DesiredPolicy, Drift, Observed, PlanOptions} from '../types.js'
import {topicMatches} from './backup.js'
import {sortedValues} from './shared.js'
/**
 * The RPO bounds how much a disaster could lose: records on the cluster that no backup holds.
 * A topic that is fully backed up is within its RPO however long ago its last run was (a quiet
 * topic has nothing to copy, and an apply with no changes writes nothing), so only topics with
 * records past their checkpoint count, measured from their last backup.
 */
export function checkRpo(policy: DesiredPolicy, state: StateSnapshot, cluster: ClusterView, options: PlanOptions, drift: Drift[]): void {
  if (policy.rpoMs === undefined) return
  const stale: Array<{topic: string; last_backup_at: string | null; age_ms: number; pending_records: number}> = []
  for (const index of sortedValues(state.topics)) {
    if (index.policy !== policy.name || index.deleted_at) continue
    const view = cluster.topics[index.topic]
    if (!view || !topicMatches(policy, index.topic)) continue
    const next = new Map(index.partitions.map((p) => [p.partition, p.next_offset]))
    const pending = view.watermarks.reduce((n, w) => n + Math.max(0, w.high - Math.max(next.get(w.partition) ?? w.low, w.low)), 0)
    if (pending === 0) continue
    const age = index.last_backup_at ? options.now.getTime() - Date.parse(index.last_backup_at) : Number.POSITIVE_INFINITY
    if (age > policy.rpoMs) stale.push({topic: index.topic, last_backup_at: index.last_backup_at ?? null, age_ms: age, pending_records: pending})
  }
  if (stale.length === 0) return
  const worst = [...stale].sort((a, b) => b.age_ms - a.age_ms)[0]!
  const pending = stale.reduce((n, t) => n + t.pending_records, 0)
  drift.push({
    address: policyAddress(policy.name),
    kind: 'rpo-exceeded',
    severity: 'critical',
    message:
      `The newest backup of ${stale.length === 1 ? `topic "${worst.topic}"` : `${stale.length} topics (oldest: "${worst.topic}")`} of policy "${policy.name}" is ` +
      `${worst.last_backup_at ? formatAge(worst.age_ms) + ' old' : 'missing'}, over its rpo of ${formatAge(policy.rpoMs)}, with ${pending} record(s) on the cluster not backed up.`,
    expected: {rpo_ms: policy.rpoMs},
    found: {topics: stale.map(({topic, last_backup_at, pending_records}) => ({topic, last_backup_at, pending_records}))},
    fix: 'Run kbk apply now, and schedule it more often than the rpo.',
  })
}

export function checkDrill(policy: DesiredPolicy, state: StateSnapshot, desired: Desired, options: PlanOptions, drift: Drift[]): void {
  const within = desired.drillWithinMs[policy.name]
  if (within === undefined) return
  const drills = Object.values(state.restores)
    .filter((r) => r.status === 'complete' && (r.settings as {policy?: string}).policy === policy.name)
    .map((r) => r.applied_at)
    .sort()
  const last = drills.pop()
  if (last && options.now.getTime() - Date.parse(last) <= within) return
  drift.push({
    address: policyAddress(policy.name),
    kind: 'drill-overdue',
    severity: 'warning',
    message: `No restore drill of policy "${policy.name}" within ${formatAge(within)}${last ? ` (last: ${last})` : ' (never drilled)'}, as its compliance tags require.`,
    expected: {within_ms: within},
    found: {last_drill: last ?? null},
    fix: `Declare a restore intent from policy "${policy.name}" into a non-production cluster (or change its point in time) and kbk apply it.`,
  })
}

/** Above this many unknown objects in one store, they are reported per folder, not one by one. */
const UNKNOWN_ONE_BY_ONE = 20

export function storeDrift(storeName: string, state: StateSnapshot, observed: Observed, drift: Drift[]): void {
  const probe = observed.probes?.[storeName]
  if (probe) probeDrift(storeName, state, probe, drift)
  const objects = observed.objects?.[storeName]
  if (!objects) return
  if (objects.unknown.length <= UNKNOWN_ONE_BY_ONE) {
    for (const key of objects.unknown) {
      const why = objects.unknown_reasons?.[key]
      drift.push({
        address: `store.${storeName}`,
        kind: 'unknown-object',
        severity: 'warning',
        message: `Object "${key}" is in store "${storeName}" but no state knows it${why ? `: ${why}` : ' (left by an interrupted run, or written by someone else)'}.`,
        expected: null,
        found: {key},
        fix: unknownFix(key),
      })
    }
  } else {
    const folders = new Map<string, string[]>()
    for (const key of objects.unknown) {
      // data/<policy>/<topic>/ or _kbk/<area>/<kind>/: one finding per folder keeps a drift job's output readable.
      const folder = key.split('/').slice(0, 3).join('/') + '/'
      folders.set(folder, [...(folders.get(folder) ?? []), key])
    }
    for (const [folder, keys] of [...folders.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      drift.push({
        address: `store.${storeName}`,
        kind: 'unknown-object',
        severity: 'warning',
        message: `${keys.length} object(s) under "${folder}" in store "${storeName}" are not known to any state (e.g. "${keys[0]}").`,
        expected: null,
        found: {prefix: folder, count: keys.length, examples: keys.slice(0, 5)},
        fix: unknownFix(keys[0]!),
      })
    }
  }
  for (const index of sortedValues(state.topics)) {
    const segments = observed.segments[topicKey(index.policy, index.topic)]
    if (!segments) continue
    for (const s of segments) {
      if (!(s.key in objects.sizes)) {
        if (!objects.complete) continue
        drift.push({
          address: backupAddress(index.policy, index.topic),
          kind: 'segment-missing',
          severity: 'critical',
          message: `Segment "${s.key}" (partition ${s.partition}, offsets ${s.first_offset}..${s.last_offset}, ${s.records} record(s)) is recorded but missing from store "${storeName}".`,
          expected: {key: s.key, bytes: s.bytes, sha256: s.sha256},
          found: null,
          fix: 'Those records cannot be restored from this store. Check the bucket lifecycle rules and who deleted it; if the records are still in Kafka, restore the object from a bucket version or re-copy them.',
        })
      } else if (objects.sizes[s.key] !== s.bytes) {
        drift.push({
          address: backupAddress(index.policy, index.topic),
          kind: 'segment-changed',
          severity: 'critical',
          message: `Segment "${s.key}" in store "${storeName}" has ${objects.sizes[s.key]} bytes; kbk wrote ${s.bytes}.`,
          expected: {key: s.key, bytes: s.bytes, sha256: s.sha256},
          found: {key: s.key, bytes: objects.sizes[s.key]},
          fix: 'Run kbk verify --deep to see whether its records can still be read; restore the object from a bucket version if not.',
        })
      }
    }
  }
}

function unknownFix(key: string): string {
  if (key.startsWith('_kbk/state/')) return 'Harmless to the recorded state. Delete it by hand once no kbk apply is running.'
  if (key.startsWith('data/')) return 'If an interrupted kbk apply left it, the next apply of that topic removes it; otherwise find out who wrote it, then move or delete it by hand.'
  return 'kbk does not use it: find out who wrote it, then move or delete it by hand (keep kbk\'s prefix for kbk alone).'
}

/** What a normal plan's cheap probe found (docs/drift.md): the oldest segments, and data without state. */
function probeDrift(storeName: string, state: StateSnapshot, probe: NonNullable<Observed['probes']>[string], drift: Drift[]): void {
  if (probe.data_without_state) {
    drift.push({
      address: `store.${storeName}`,
      kind: 'unknown-object',
      severity: 'critical',
      message: `Store "${storeName}" holds backup data (e.g. "${probe.data_without_state}") but no kbk state: the state under _kbk/ was deleted, another workspace shares this prefix, or the first apply was interrupted.`,
      expected: {state: '_kbk/state/head.json'},
      found: {state: null, data: probe.data_without_state},
      fix: 'Do not apply until you know which: a new backup run may remove segments it finds past its checkpoint. Restore _kbk/ from a bucket version, or give this workspace its own store prefix.',
    })
  }
  for (const p of probe.partitions) {
    const index = state.topics[topicKey(p.policy, p.topic)]
    const summary = index?.partitions.find((x) => x.partition === p.partition)
    if (!index || !summary || summary.segment_count === 0) continue
    const address = backupAddress(p.policy, p.topic)
    if (p.first_offset === null) {
      drift.push({
        address,
        kind: 'segment-missing',
        severity: 'critical',
        message: `All ${summary.segment_count} recorded segment(s) of partition ${p.partition} (offsets ${summary.first_offset}..${summary.next_offset - 1}) are missing from store "${storeName}".`,
        expected: {partition: p.partition, first_offset: summary.first_offset, segments: summary.segment_count},
        found: {partition: p.partition, first_offset: null},
        fix: 'Those records cannot be restored from this store. Check the bucket lifecycle rules and who deleted them; kbk plan --refresh-only lists every missing segment.',
      })
    } else if (p.first_offset > summary.first_offset) {
      drift.push({
        address,
        kind: 'segment-missing',
        severity: 'critical',
        message: `The oldest segment(s) of partition ${p.partition} are missing from store "${storeName}": recorded from offset ${summary.first_offset}, but the first object is "${p.first_key}" (offset ${p.first_offset}), so offsets ${summary.first_offset}..${p.first_offset - 1} cannot be restored.`,
        expected: {partition: p.partition, first_offset: summary.first_offset},
        found: {partition: p.partition, first_offset: p.first_offset, first_key: p.first_key},
        fix: 'A bucket lifecycle rule shorter than the retention tier, or a manual deletion, removed them. Fix the rule; restore the objects from a bucket version if you can. kbk plan --refresh-only lists every missing segment.',
      })
    } else if (p.first_offset < summary.first_offset) {
      drift.push({
        address: `store.${storeName}`,
        kind: 'unknown-object',
        severity: 'warning',
        message: `Object "${p.first_key}" (partition ${p.partition} of "${p.topic}", offset ${p.first_offset}) is older than the oldest recorded segment (offset ${summary.first_offset}): no state knows it (an interrupted expiry, or a copy by someone else).`,
        expected: null,
        found: {key: p.first_key},
        fix: 'Check it and delete it by hand; kbk plan --refresh-only lists every unknown object.',
      })
    }
  }
}
