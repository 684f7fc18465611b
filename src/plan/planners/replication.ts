// Replication (policies.X.replicas): per replica store and topic, the primary's segments that are
// not (or not verifiably) on the copy, the primary's checkpoints and topic facts the copy must
// mirror to be self-sufficient, expiry of the copy by its own tier, and what is wrong with the
// copy (behind its rpo, objects missing, replaced or extra). Pure.
import {replicaDiagnosticText, replicaDriftText, replicaNote} from '../../format/replication-text.js'
import type {ReplicaDiagnosticFact, ReplicaDriftFact} from '../../format/replication-text.js'
import type {SegmentRef, StateSnapshot, TopicIndex} from '../../state/types.js'
import {topicKey} from '../../state/types.js'
import {diffAttributes} from '../attribute-diff.js'
import type {Desired, DesiredPolicy, DesiredReplica, Drift, Observed, PlanDiagnostic, PlanOptions, ReplicaSegment, ReplicaView, ReplicationSet, ResourceChange} from '../types.js'
import {planExpiry} from './expiry.js'
import {sortedValues} from './shared.js'

/** replicate.orders@dr-azure["orders.created"]; without a topic, the copy's recorded settings. */
export function replicateAddress(policy: string, store: string, topic?: string): string {
  return `replicate.${policy}@${store}${topic === undefined ? '' : `[${JSON.stringify(topic)}]`}`
}

/** What a replica store records about the policy it copies: the policy's settings, and whose copy it is. */
export function replicaSettings(policy: DesiredPolicy, replica: DesiredReplica): Record<string, unknown> {
  return {...policy.settings, replica: {of: policy.store, retention: replica.retention.tier}}
}

/** A policy recorded in a store's state as a copy of another store's (replicaSettings). */
export function replicaOf(state: StateSnapshot | undefined, policy: string): string | undefined {
  const r = state?.policies[policy]?.settings.replica as {of?: unknown} | undefined
  return typeof r?.of === 'string' ? r.of : undefined
}

export function replicaFinding(address: string, severity: Drift['severity'], fact: ReplicaDriftFact, evidence: {expected?: unknown; found?: unknown} = {}): Drift {
  const {message, fix} = replicaDriftText(fact)
  const kind = fact.kind
  return {address, kind, severity, message, ...('expected' in evidence ? {expected: evidence.expected} : {}), ...('found' in evidence ? {found: evidence.found} : {}), fix}
}

export function replicaDiagnostic(severity: PlanDiagnostic['severity'], fact: ReplicaDiagnosticFact): PlanDiagnostic {
  const {message, suggestion} = replicaDiagnosticText(fact)
  const code = fact.kind === 'replica-unreachable' ? 'KBK_REPLICA_UNREACHABLE' : 'KBK_STORE_UNREADABLE'
  return {severity, code, message, suggestion}
}

export function planReplication(
  policy: DesiredPolicy,
  desired: Desired,
  observed: Observed,
  options: PlanOptions,
  changes: ResourceChange[],
  drift: Drift[],
  diagnostics: PlanDiagnostic[],
): void {
  const state = observed.states[policy.store]
  if (!state) return
  for (const replica of policy.replicas ?? []) {
    const view = observed.replicas?.[replica.store]
    if (!view?.state) {
      diagnostics.push(replicaDiagnostic('warning', {kind: 'replica-unreachable', policy: policy.name, store: replica.store, error: view?.error?.message ?? 'not refreshed'}))
      continue
    }
    planOneReplica(policy, replica, state, view as ReplicaView & {state: StateSnapshot}, desired, observed, options, changes, drift, diagnostics)
  }
}

function planOneReplica(
  policy: DesiredPolicy,
  replica: DesiredReplica,
  primary: StateSnapshot,
  view: ReplicaView & {state: StateSnapshot},
  desired: Desired,
  observed: Observed,
  options: PlanOptions,
  changes: ResourceChange[],
  drift: Drift[],
  diagnostics: PlanDiagnostic[],
): void {
  const store = replica.store
  const settings = replicaSettings(policy, replica)
  const recorded = view.state.policies[policy.name]
  const diff = recorded ? diffAttributes(recorded.settings, settings) : []
  if (!recorded || diff.length > 0) {
    changes.push({
      address: replicateAddress(policy.name, store),
      type: 'replicate',
      name: policy.name,
      store,
      actions: [recorded ? 'update' : 'create'],
      before: recorded?.settings ?? null,
      after: settings,
      ...(recorded ? {diff} : {}),
      notes: [replicaNote('record', store)],
    })
  }

  const now = options.now.getTime()
  const cutoff = replica.retention.maxAgeMs === null ? Number.NEGATIVE_INFINITY : now - replica.retention.maxAgeMs
  const behind: Array<{written_at: string; bytes: number}> = []
  for (const index of sortedValues(primary.topics)) {
    if (index.policy !== policy.name) continue
    const key = topicKey(policy.name, index.topic)
    const source = observed.segments[key] ?? []
    const copies = new Map((view.segments[key] ?? []).map((s) => [s.key, s]))
    const toCopy: ReplicaSegment[] = []
    for (const s of source) {
      // The copy's own tier would expire it at once: nothing to copy (a shorter replica tier).
      if (Date.parse(s.written_at) < cutoff) continue
      const copy = copies.get(s.key)
      const object = view.objects[s.key]
      if (!copy) {
        toCopy.push(replicaSegment(s, 'missing'))
        behind.push(s)
        continue
      }
      const versionChanged = object !== undefined && copy.replica_etag !== undefined && unquoted(object.etag) !== unquoted(copy.replica_etag)
      if (copy.sha256 === s.sha256 && object && object.size === s.bytes && !versionChanged) continue
      toCopy.push(replicaSegment(s, 'changed'))
      const address = replicateAddress(policy.name, store, index.topic)
      if (!object) {
        drift.push(replicaFinding(address, 'critical', {kind: 'replica-missing', policy: policy.name, store, key: s.key, partition: s.partition, first: s.first_offset, last: s.last_offset}, {expected: {key: s.key, bytes: s.bytes, sha256: s.sha256}, found: null}))
      } else if (object.size !== s.bytes || versionChanged) {
        drift.push(
          replicaFinding(address, 'critical', {kind: 'replica-changed', policy: policy.name, store, key: s.key, bytes: object.size, recorded: s.bytes, versionChanged}, {
            expected: {key: s.key, bytes: s.bytes, etag: copy.replica_etag ?? null},
            found: {key: s.key, bytes: object.size, etag: object.etag},
          }),
        )
      }
    }
    const set = replicationSet(policy, replica, index, toCopy, view.state.topics[key])
    if (set) {
      changes.push({
        address: replicateAddress(policy.name, store, index.topic),
        type: 'replicate',
        name: policy.name,
        topic: index.topic,
        store,
        actions: ['run'],
        before: {segments: (view.segments[key] ?? []).length},
        after: {segments: (view.segments[key] ?? []).length + toCopy.filter((s) => s.reason === 'missing').length},
        replicate: set,
      })
    }
  }

  // Objects under the policy's data area that the copy's state does not know.
  for (const key of [...view.extra].sort()) {
    drift.push(replicaFinding(`store.${store}`, 'warning', {kind: 'unknown-object', store, key, policy: policy.name}, {expected: null, found: {key}}))
  }

  if (policy.rpoMs !== undefined && behind.length > 0) {
    const oldest = behind.map((s) => s.written_at).sort()[0]!
    const age = now - Date.parse(oldest)
    if (age > policy.rpoMs) {
      drift.push(
        replicaFinding(
          replicateAddress(policy.name, store),
          'critical',
          {kind: 'replica-behind', policy: policy.name, store, rpoMs: policy.rpoMs, oldestMissing: oldest, ageMs: age, segments: behind.length, bytes: behind.reduce((n, s) => n + s.bytes, 0)},
          {expected: {rpo_ms: policy.rpoMs}, found: {oldest_missing: oldest, segments: behind.length}},
        ),
      )
    }
  }

  // Each copy expires by its own tier: the expiry planner, run on the replica's state as if the
  // replica were the policy, under addresses of its own.
  const asCopy: DesiredPolicy = {...policy, store, retention: replica.retention, replicas: []}
  const expiries: ResourceChange[] = []
  const notes: PlanDiagnostic[] = []
  planExpiry(asCopy, view.state, {...observed, segments: view.segments}, desired, options, expiries, notes)
  for (const ch of expiries) {
    if (ch.type !== 'expire') continue
    changes.push({...ch, address: `expire.${policy.name}@${store}[${JSON.stringify(ch.topic)}]`})
  }
  diagnostics.push(...notes.map((d) => ({...d, message: `replica "${store}": ${d.message}`})))
}

/** Stores quote ETags in some responses and not in others (Azure: HEAD vs LIST). */
function unquoted(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1')
}

function replicaSegment(s: SegmentRef, reason: ReplicaSegment['reason']): ReplicaSegment {
  return {key: s.key, partition: s.partition, first_offset: s.first_offset, last_offset: s.last_offset, records: s.records, bytes: s.bytes, sha256: s.sha256, reason}
}

/** Undefined when the copy of this topic is complete and its recorded facts match the primary's. */
function replicationSet(policy: DesiredPolicy, replica: DesiredReplica, index: TopicIndex, toCopy: ReplicaSegment[], copy: TopicIndex | undefined): ReplicationSet | undefined {
  const meta: ReplicationSet['topic_meta'] = {
    partition_count: index.partition_count,
    configs: index.configs,
    ...(index.group_offsets ? {group_offsets: index.group_offsets} : {}),
    ...(index.last_backup_at ? {last_backup_at: index.last_backup_at} : {}),
    ...(index.deleted_at ? {deleted_at: index.deleted_at} : {}),
  }
  const partitions = index.partitions.map((p) => ({partition: p.partition, next_offset: p.next_offset, gaps: p.gaps}))
  const inSync =
    toCopy.length === 0 &&
    copy !== undefined &&
    copy.partition_count === meta.partition_count &&
    diffAttributes(copy.configs, meta.configs).length === 0 &&
    diffAttributes(copy.group_offsets ?? {}, meta.group_offsets ?? {}).length === 0 &&
    copy.last_backup_at === meta.last_backup_at &&
    copy.deleted_at === meta.deleted_at &&
    partitions.every((p) => {
      const c = copy.partitions.find((x) => x.partition === p.partition)
      return c !== undefined && c.next_offset === p.next_offset && c.gaps.length === p.gaps.length
    })
  if (inSync) return undefined
  const ranges = new Map<number, {partition: number; from: number; to: number; segments: number; bytes: number}>()
  for (const s of toCopy) {
    const r = ranges.get(s.partition) ?? {partition: s.partition, from: s.first_offset, to: s.last_offset, segments: 0, bytes: 0}
    r.from = Math.min(r.from, s.first_offset)
    r.to = Math.max(r.to, s.last_offset)
    r.segments++
    r.bytes += s.bytes
    ranges.set(s.partition, r)
  }
  return {
    policy: policy.name,
    topic: index.topic,
    source_store: policy.store,
    source_kind: replica.sourceKind,
    store: replica.store,
    tier: replica.retention.tier,
    segments: toCopy,
    ranges: [...ranges.values()].sort((a, b) => a.partition - b.partition),
    bytes: toCopy.reduce((n, s) => n + s.bytes, 0),
    records: toCopy.reduce((n, s) => n + s.records, 0),
    ...(replica.retention.immutable ? {retain_ms: replica.retention.maxAgeMs ?? 100 * 365 * 86_400_000} : {}),
    topic_meta: meta,
    partitions,
  }
}
