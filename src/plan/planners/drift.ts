// Drift: what changed outside kbk — RPO breaches (overdue drills: drill.ts), and what the store's listing or
// probe shows (missing, changed and unknown objects). Pure; findings, never changes.
import type {StateSnapshot} from '../../state/types.js'
import {topicKey} from '../../state/types.js'
import {backupAddress, policyAddress} from '../addresses.js'
import type {ClusterView, DesiredPolicy, Drift, Observed, PlanOptions} from '../types.js'
import {topicMatches} from './backup.js'
import {finding, sortedValues} from './shared.js'
import {pushTo} from '../../collections.js'
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
  drift.push(
    finding(
      policyAddress(policy.name),
      'critical',
      {kind: 'rpo-exceeded', policy: policy.name, rpoMs: policy.rpoMs, topics: stale.length, worstTopic: worst.topic, worstAgeMs: worst.last_backup_at ? worst.age_ms : null, pending},
      {expected: {rpo_ms: policy.rpoMs}, found: {topics: stale.map(({topic, last_backup_at, pending_records}) => ({topic, last_backup_at, pending_records}))}},
    ),
  )
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
      drift.push(finding(`store.${storeName}`, 'warning', {kind: 'unknown-object', cause: 'listed', store: storeName, key, why}, {expected: null, found: {key}}))
    }
  } else {
    const folders = new Map<string, string[]>()
    for (const key of objects.unknown) {
      // data/<policy>/<topic>/ or _kbk/<area>/<kind>/: one finding per folder keeps a drift job's output readable.
      const folder = key.split('/').slice(0, 3).join('/') + '/'
      pushTo(folders, folder, key)
    }
    for (const [folder, keys] of [...folders.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      drift.push(
        finding(`store.${storeName}`, 'warning', {kind: 'unknown-object', cause: 'folder', store: storeName, folder, count: keys.length, example: keys[0]!}, {
          expected: null,
          found: {prefix: folder, count: keys.length, examples: keys.slice(0, 5)},
        }),
      )
    }
  }
  for (const index of sortedValues(state.topics)) {
    const segments = observed.segments[topicKey(index.policy, index.topic)]
    if (!segments) continue
    for (const s of segments) {
      if (!(s.key in objects.sizes)) {
        if (!objects.complete) continue
        drift.push(
          finding(
            backupAddress(index.policy, index.topic),
            'critical',
            {kind: 'segment-missing', cause: 'listed', store: storeName, key: s.key, partition: s.partition, first: s.first_offset, last: s.last_offset, records: s.records},
            {expected: {key: s.key, bytes: s.bytes, sha256: s.sha256}, found: null},
          ),
        )
      } else if (objects.sizes[s.key] !== s.bytes) {
        drift.push(
          finding(backupAddress(index.policy, index.topic), 'critical', {kind: 'segment-changed', store: storeName, key: s.key, bytes: objects.sizes[s.key]!, written: s.bytes}, {
            expected: {key: s.key, bytes: s.bytes, sha256: s.sha256},
            found: {key: s.key, bytes: objects.sizes[s.key]},
          }),
        )
      }
    }
  }
}

/** What a normal plan's cheap probe found (docs/drift.md): the oldest segments, and data without state. */
function probeDrift(storeName: string, state: StateSnapshot, probe: NonNullable<Observed['probes']>[string], drift: Drift[]): void {
  if (probe.data_without_state) {
    drift.push(
      finding(`store.${storeName}`, 'critical', {kind: 'unknown-object', cause: 'data-without-state', store: storeName, example: probe.data_without_state}, {
        expected: {state: '_kbk/state/head.json'},
        found: {state: null, data: probe.data_without_state},
      }),
    )
  }
  for (const p of probe.partitions) {
    const index = state.topics[topicKey(p.policy, p.topic)]
    const summary = index?.partitions.find((x) => x.partition === p.partition)
    if (!index || !summary || summary.segment_count === 0) continue
    const address = backupAddress(p.policy, p.topic)
    if (p.first_offset === null) {
      drift.push(
        finding(
          address,
          'critical',
          {kind: 'segment-missing', cause: 'all-of-partition', store: storeName, partition: p.partition, segments: summary.segment_count, first: summary.first_offset, next: summary.next_offset},
          {expected: {partition: p.partition, first_offset: summary.first_offset, segments: summary.segment_count}, found: {partition: p.partition, first_offset: null}},
        ),
      )
    } else if (p.first_offset > summary.first_offset) {
      drift.push(
        finding(
          address,
          'critical',
          {kind: 'segment-missing', cause: 'oldest-of-partition', store: storeName, partition: p.partition, recordedFrom: summary.first_offset, firstKey: p.first_key, firstOffset: p.first_offset},
          {expected: {partition: p.partition, first_offset: summary.first_offset}, found: {partition: p.partition, first_offset: p.first_offset, first_key: p.first_key}},
        ),
      )
    } else if (p.first_offset < summary.first_offset) {
      drift.push(
        finding(`store.${storeName}`, 'warning', {kind: 'unknown-object', cause: 'older-than-recorded', key: p.first_key, partition: p.partition, topic: p.topic, offset: p.first_offset, recordedFrom: summary.first_offset}, {
          expected: null,
          found: {key: p.first_key},
        }),
      )
    }
  }
}
