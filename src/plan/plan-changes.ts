// The planner: a pure function from what the config asks for and what the refresh observed to
// a Plan. It imports no SDK, reads no clock (`now` is an input), never mutates its inputs,
// and sorts its output so the same inputs always give the same plan.
import type {PartitionSummary, SegmentRef, StateSnapshot, TopicIndex} from '../state/types.js'
import {topicKey} from '../state/types.js'
import {backupAddress, expireAddress, matchesTarget, policyAddress, restoreAddress} from './addresses.js'
import {diffAttributes} from './attribute-diff.js'
import type {
  BackupRun,
  ClusterView,
  Desired,
  DesiredPolicy,
  DesiredRestore,
  Drift,
  ExpirySet,
  Observed,
  PartitionRange,
  Plan,
  PlanDiagnostic,
  PlanOptions,
  ResourceChange,
  RestoreRun,
  RestoreTopicPlan,
  TopicView,
} from './types.js'
import {PLAN_FORMAT_VERSION, summarize} from './types.js'

export function planChanges(desired: Desired, observed: Observed, options: PlanOptions): Plan {
  const changes: ResourceChange[] = []
  const drift: Drift[] = []
  const diagnostics: PlanDiagnostic[] = [...desired.diagnostics]
  const unreadable = new Set<string>()

  for (const policy of sortedValues(desired.policies)) {
    const state = observed.states[policy.store]
    const cluster = observed.clusters[policy.cluster]
    planPolicy(policy, state, changes)
    if (!state) continue
    if (!cluster || cluster.error) {
      // Not drift: without the cluster the plan cannot say what it would copy, so it must not
      // pretend to be complete. An error makes the plan fail (exit 1) and unapplyable.
      if (!unreadable.has(policy.cluster)) {
        unreadable.add(policy.cluster) // one diagnostic per cluster, however many policies use it
        diagnostics.push({
          severity: 'error',
          code: cluster?.error?.code ?? 'KBK_KAFKA_UNREACHABLE',
          message: `Cluster "${policy.cluster}" could not be read, so the backups of policy "${policy.name}" cannot be planned: ${cluster?.error?.message ?? 'not refreshed'}`,
          suggestion: `Check clusters.${policy.cluster}.brokers, TLS/SASL settings, and that the brokers are reachable from here.`,
        })
      }
      continue
    }
    planBackups(policy, state, cluster, options, changes, drift)
    planExpiry(policy, state, observed, desired, options, changes, diagnostics)
    checkRpo(policy, state, cluster, options, drift)
    checkDrill(policy, state, desired, options, drift)
  }
  for (const [storeName, state] of sortedEntries(observed.states)) {
    planRemovedPolicies(desired, storeName, state, changes)
    storeDrift(storeName, state, observed, drift)
  }
  for (const restore of sortedValues(desired.restores)) {
    planRestore(restore, desired, observed, options, changes, diagnostics)
  }

  let selected = options.refreshOnly ? [] : changes
  if (options.targets && options.targets.length > 0) {
    const targets = options.targets
    selected = selected.filter((c) => targets.some((t) => matchesTarget(c.address, t)))
  }
  selected = [...selected].sort(compareChanges)
  const sortedDrift = [...drift].sort(
    (a, b) => severityRank(a.severity) - severityRank(b.severity) || a.address.localeCompare(b.address) || a.kind.localeCompare(b.kind),
  )

  const states: Plan['states'] = {}
  for (const [name, s] of sortedEntries(observed.states)) states[name] = {lineage: s.lineage, serial: s.serial}

  const hasErrors = diagnostics.some((d) => d.severity === 'error')
  return {
    format_version: PLAN_FORMAT_VERSION,
    kbk_version: options.kbkVersion,
    created_at: options.now.toISOString(),
    refresh_only: Boolean(options.refreshOnly),
    config_digest: desired.configDigest,
    states,
    ...(options.targets && options.targets.length > 0 ? {targets: [...options.targets]} : {}),
    resource_changes: selected,
    drift: sortedDrift,
    diagnostics,
    summary: summarize(selected, sortedDrift),
    applyable: !options.refreshOnly && !hasErrors,
  }
}

// ---- policies ----

function planPolicy(policy: DesiredPolicy, state: StateSnapshot | undefined, changes: ResourceChange[]): void {
  const recorded = state?.policies[policy.name]
  const address = policyAddress(policy.name)
  if (!recorded) {
    changes.push({address, type: 'policy', name: policy.name, actions: ['create'], before: null, after: policy.settings})
    return
  }
  const diff = diffAttributes(recorded.settings, policy.settings)
  if (diff.length > 0) {
    changes.push({address, type: 'policy', name: policy.name, actions: ['update'], before: recorded.settings, after: policy.settings, diff})
  }
}

function planRemovedPolicies(desired: Desired, storeName: string, state: StateSnapshot, changes: ResourceChange[]): void {
  for (const [name, recorded] of sortedEntries(state.policies)) {
    const wanted = desired.policies[name]
    if (wanted && wanted.store === storeName) continue
    const topics = Object.values(state.topics).filter((t) => t.policy === name)
    const segments = topics.reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.segment_count, 0), 0)
    changes.push({
      address: policyAddress(name),
      type: 'policy',
      name,
      actions: ['delete'],
      before: recorded.settings,
      after: null,
      notes: [
        `The policy is no longer in the config${wanted ? ` for store "${storeName}"` : ''}: kbk stops managing it.`,
        `Its ${segments} segment(s) in store "${storeName}" are kept and stay restorable; no backup data is deleted.`,
      ],
    })
  }
}

// ---- backups ----

export function topicMatches(policy: DesiredPolicy, topic: string): boolean {
  if (!policy.internalTopics && topic.startsWith('__')) return false
  if (!policy.include.some((r) => fullMatch(r, topic))) return false
  return !policy.exclude.some((r) => fullMatch(r, topic))
}

function fullMatch(re: RegExp, s: string): boolean {
  const m = re.exec(s)
  return m !== null && m.index === 0 && m[0].length === s.length
}

function planBackups(
  policy: DesiredPolicy,
  state: StateSnapshot,
  cluster: ClusterView,
  options: PlanOptions,
  changes: ResourceChange[],
  drift: Drift[],
): void {
  const live = Object.keys(cluster.topics).filter((t) => topicMatches(policy, t)).sort()
  for (const topic of live) {
    const view = cluster.topics[topic]!
    const index = state.topics[topicKey(policy.name, topic)]
    const run = planTopicBackup(policy, topic, view, index, drift, options)
    if (run) {
      changes.push({
        address: backupAddress(policy.name, topic),
        type: 'backup',
        name: policy.name,
        topic,
        actions: ['run'],
        before: index ? {next_offsets: nextOffsets(index)} : null,
        after: {next_offsets: Object.fromEntries(run.ranges.map((r) => [r.partition, r.to]))},
        backup: run,
      })
    }
  }
  const liveSet = new Set(live)
  for (const index of sortedValues(state.topics)) {
    if (index.policy !== policy.name || liveSet.has(index.topic)) continue
    if (cluster.topics[index.topic]) continue // still there, but no longer selected: kept, not drift
    if (index.deleted_at) continue // already recorded by an earlier apply
    changes.push({
      address: backupAddress(policy.name, index.topic),
      type: 'backup',
      name: policy.name,
      topic: index.topic,
      actions: ['update'],
      before: {deleted_at: null},
      after: {deleted_at: '(recorded at apply)', store: policy.store},
      notes: ['The topic was deleted from the cluster: kbk records that, and keeps its backups restorable.'],
    })
    drift.push({
      address: backupAddress(policy.name, index.topic),
      kind: 'topic-deleted',
      severity: 'warning',
      message: `Topic "${index.topic}" was backed up but no longer exists on cluster "${policy.cluster}".`,
      expected: {topic: index.topic, partitions: index.partition_count},
      found: null,
      fix: `Its backups are kept and restorable. If the deletion was intended, nothing to do; otherwise restore it with a restore intent from policy "${policy.name}".`,
    })
  }
}

function nextOffsets(index: TopicIndex): Record<number, number> {
  return Object.fromEntries(index.partitions.map((p) => [p.partition, p.next_offset]))
}

function planTopicBackup(
  policy: DesiredPolicy,
  topic: string,
  view: TopicView,
  index: TopicIndex | undefined,
  drift: Drift[],
  _options: PlanOptions,
): BackupRun | undefined {
  const address = backupAddress(policy.name, topic)
  const recorded = new Map<number, PartitionSummary>((index?.partitions ?? []).map((p) => [p.partition, p]))
  if (!index) {
    const records = view.watermarks.reduce((n, w) => n + (w.high - w.low), 0)
    drift.push({
      address,
      kind: 'new-topic',
      severity: 'info',
      message: `Topic "${topic}" matches policy "${policy.name}" and has never been backed up (${records} record(s) on the broker).`,
      fix: 'kbk apply backs it up.',
    })
  } else if (view.partitions > index.partition_count) {
    drift.push({
      address,
      kind: 'partitions-added',
      severity: 'info',
      message: `Topic "${topic}" grew from ${index.partition_count} to ${view.partitions} partitions.`,
      expected: index.partition_count,
      found: view.partitions,
      fix: 'kbk apply backs up the new partitions from their earliest offset.',
    })
  }

  const ranges: PartitionRange[] = []
  for (const w of [...view.watermarks].sort((a, b) => a.partition - b.partition)) {
    const p = recorded.get(w.partition)
    let from = p ? p.next_offset : w.low
    let lost: PartitionRange['lost']
    if (p && from > w.high) {
      drift.push({
        address,
        kind: 'topic-recreated',
        severity: 'critical',
        message: `Partition ${w.partition} of "${topic}" is at offset ${w.high} but kbk has backed it up to ${from}: the topic was deleted and recreated, or truncated.`,
        expected: {next_offset: from},
        found: {low: w.low, high: w.high},
        fix: 'The old backups stay restorable. kbk backs up the new records from the earliest offset; check whether the recreation was intended.',
      })
      from = w.low
    } else if (from < w.low) {
      lost = {from, to: w.low}
      drift.push({
        address,
        kind: 'data-loss',
        severity: 'critical',
        message: `DATA LOSS: partition ${w.partition} of "${topic}": offsets ${from}..${w.low - 1} (${w.low - from} record(s)) were deleted by Kafka's retention before kbk backed them up.`,
        expected: {next_offset: from},
        found: {earliest_offset: w.low},
        fix: `Run kbk apply more often than the topic's retention.ms (lower the policy's rpo and schedule), or raise the topic's retention. The lost range is recorded as a gap.`,
      })
      from = w.low
    }
    if (from < w.high || lost) ranges.push({partition: w.partition, from, to: Math.max(from, w.high), ...(lost ? {lost} : {})})
  }
  if (ranges.length === 0) return undefined
  const estimatedRecords = ranges.reduce((n, r) => n + (r.to - r.from), 0)
  const perRecord = bytesPerRecord(index)
  const estimatedBytes = perRecord === undefined ? bytesFromLogSizes(ranges, view) : Math.round(estimatedRecords * perRecord)
  return {
    policy: policy.name,
    topic,
    cluster: policy.cluster,
    store: policy.store,
    partition_count: view.partitions,
    configs: {...view.configs},
    ranges,
    estimated_records: estimatedRecords,
    ...(estimatedBytes === undefined ? {} : {estimated_bytes: estimatedBytes}),
    first_backup: !index,
  }
}

/**
 * Before kbk has its own numbers: each partition's log size on the broker, scaled to the share of
 * its offsets the run copies. Undefined unless the brokers reported every planned partition.
 */
function bytesFromLogSizes(ranges: readonly PartitionRange[], view: TopicView): number | undefined {
  if (!view.log_bytes) return undefined
  let total = 0
  for (const r of ranges) {
    const size = view.log_bytes[r.partition]
    const w = view.watermarks.find((m) => m.partition === r.partition)
    if (size === undefined || !w) return undefined
    const span = w.high - w.low
    total += span > 0 ? (size * Math.min(r.to - r.from, span)) / span : 0
  }
  return Math.round(total)
}

function bytesPerRecord(index: TopicIndex | undefined): number | undefined {
  if (!index) return undefined
  let records = 0
  let bytes = 0
  for (const p of index.partitions) {
    records += p.records
    bytes += p.uncompressed_bytes
  }
  return records > 0 ? bytes / records : undefined
}

// ---- expiry ----

const DAY = 86_400_000

function planExpiry(policy: DesiredPolicy, state: StateSnapshot, observed: Observed, desired: Desired, options: PlanOptions, changes: ResourceChange[], diagnostics: PlanDiagnostic[]): void {
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
      ? `allowDestroy is not set on retention tier "${policy.retention.tier}" or policy "${policy.name}": expiry is shown but not performed. Set allowDestroy: true to let kbk delete expired backups.`
      : undefined
    changes.push({
      address: expireAddress(policy.name, index.topic),
      type: 'expire',
      name: policy.name,
      topic: index.topic,
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
  const ranges = [...byPartition.entries()].sort((a, b) => a[0] - b[0]).map(([p, r]) => `partition ${p} offsets ${r.from}..${r.to} (${r.n})`)
  const shown = ranges.length > 5 ? [...ranges.slice(0, 5), `${ranges.length - 5} more partition(s)`] : ranges
  const written = old.map((s) => s.written_at).sort()
  const bytes = old.reduce((n, s) => n + s.bytes, 0)
  diagnostics.push({
    severity: 'warning',
    code: 'KBK_EXPIRY_COMPACTED_KEPT',
    message:
      `${expireAddress(policy.name, index.topic)}: ${old.length} segment(s) older than maxAge ${formatAge(policy.retention.maxAgeMs ?? Number.POSITIVE_INFINITY)} of tier "${policy.retention.tier}" are kept, not expired — ` +
      `${shown.join(', ')}; ${bytes} bytes, written ${written[0]} .. ${written[written.length - 1]}. ` +
      `Topic "${index.topic}" is compacted (cleanup.policy=${index.configs['cleanup.policy']}): those segments hold the only copy of keys not updated since, and dropping them would lose those keys.`,
    suggestion:
      'Nothing to do to keep the state restorable: kbk keeps them on purpose, and the backup of this topic grows with its history (kbk does not compact backups yet). ' +
      'To make that explicit and silence this warning, back compacted topics up under a policy whose tier has maxAge: never.',
  })
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

// ---- drift that needs no cluster ----

/**
 * The RPO bounds how much a disaster could lose: records on the cluster that no backup holds.
 * A topic that is fully backed up is within its RPO however long ago its last run was (a quiet
 * topic has nothing to copy, and an apply with no changes writes nothing), so only topics with
 * records past their checkpoint count, measured from their last backup.
 */
function checkRpo(policy: DesiredPolicy, state: StateSnapshot, cluster: ClusterView, options: PlanOptions, drift: Drift[]): void {
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

function checkDrill(policy: DesiredPolicy, state: StateSnapshot, desired: Desired, options: PlanOptions, drift: Drift[]): void {
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

function storeDrift(storeName: string, state: StateSnapshot, observed: Observed, drift: Drift[]): void {
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

// ---- restores ----

function planRestore(restore: DesiredRestore, desired: Desired, observed: Observed, options: PlanOptions, changes: ResourceChange[], diagnostics: PlanDiagnostic[]): void {
  const policy = desired.policies[restore.policy]
  if (!policy) return // validation reports the dangling reference
  const state = observed.states[policy.store]
  const address = restoreAddress(restore.name)
  const recorded = state?.restores[restore.name]
  if (recorded && recorded.status === 'complete') {
    const diff = diffAttributes(recorded.settings, restore.settings)
    if (diff.length === 0) return
    const run = buildRestoreRun(restore, policy, observed, options, diagnostics, true)
    if (!run) return
    changes.push({address, type: 'restore', name: restore.name, actions: ['update'], before: recorded.settings, after: restore.settings, diff, restore: run, notes: ['The intent changed since it was applied: the restore runs again with the new settings.', ...restoreNotes(run)]})
    return
  }
  const run = buildRestoreRun(restore, policy, observed, options, diagnostics, recorded?.status === 'in-progress')
  if (!run) return
  changes.push({
    address,
    type: 'restore',
    name: restore.name,
    actions: ['run'],
    before: recorded ? recorded.settings : null,
    after: restore.settings,
    restore: run,
    ...notesField([...(recorded?.status === 'in-progress' ? ['A previous run was interrupted: this run resumes it.'] : []), ...restoreNotes(run)]),
  })
}

function buildRestoreRun(restore: DesiredRestore, policy: DesiredPolicy, observed: Observed, options: PlanOptions, diagnostics: PlanDiagnostic[], resuming: boolean): RestoreRun | undefined {
  const state = observed.states[policy.store]
  const address = restoreAddress(restore.name)
  const sourceTopics = Object.values(state?.topics ?? {})
    .filter((t) => t.policy === policy.name)
    .filter((t) => restore.include.some((r) => fullMatch(r, t.topic)) && !restore.exclude.some((r) => fullMatch(r, t.topic)))
    .sort((a, b) => a.topic.localeCompare(b.topic))
  if (sourceTopics.length === 0) {
    // Not an error: a workspace may declare a drill before the policy's first backup exists.
    diagnostics.push({
      severity: 'warning',
      code: 'KBK_RESTORE_NOTHING_YET',
      message: `${address}: policy "${policy.name}" has no backup of a topic matching the restore's topics yet, so there is nothing to restore; it will be planned once there is.`,
      suggestion: `Run kbk apply to back up policy "${policy.name}" first, or check restores.${restore.name}.topics.include.`,
    })
    return undefined
  }
  let pit = restore.pointInTime
  if (pit === 'latest') {
    const newest = Math.max(...sourceTopics.flatMap((t) => t.partitions.map((p) => p.max_timestamp ?? Number.NEGATIVE_INFINITY)))
    pit = Number.isFinite(newest) ? new Date(newest).toISOString() : new Date(0).toISOString()
  }
  const pitMs = Date.parse(pit)
  const target = observed.clusters[restore.cluster]
  const topics: RestoreTopicPlan[] = []
  for (const t of sourceTopics) {
    const targetTopic = restore.rename[t.topic] ?? `${t.topic}${restore.topicSuffix ?? ''}`
    const segments = (observed.segments[topicKey(policy.name, t.topic)] ?? []).filter((s) => s.min_timestamp <= pitMs)
    const byPartition = new Map<number, {from: number; to: number; records: number; bytes: number}>()
    let oldest = Number.POSITIVE_INFINITY
    let newest = Number.NEGATIVE_INFINITY
    for (const s of segments) {
      oldest = Math.min(oldest, s.min_timestamp)
      newest = Math.max(newest, Math.min(s.max_timestamp, pitMs))
      const r = byPartition.get(s.partition) ?? {from: s.first_offset, to: s.last_offset, records: 0, bytes: 0}
      r.from = Math.min(r.from, s.first_offset)
      r.to = Math.max(r.to, s.last_offset)
      r.records += s.records
      r.bytes += s.uncompressed_bytes
      byPartition.set(s.partition, r)
    }
    const existing = target?.topics[targetTopic]
    const partitions = restore.partitions ?? t.partition_count
    if (!existing && !restore.createTopics) {
      diagnostics.push({
        severity: 'error',
        code: 'KBK_RESTORE_NO_TARGET_TOPIC',
        message: `${address}: target topic "${targetTopic}" does not exist on cluster "${restore.cluster}".`,
        suggestion: `Set restores.${restore.name}.createTopics: true, or create the topic first.`,
      })
    }
    if (existing && !resuming && restore.ifTargetNotEmpty === 'fail' && existing.watermarks.some((w) => w.high > w.low)) {
      diagnostics.push({
        severity: 'error',
        code: 'KBK_RESTORE_TARGET_NOT_EMPTY',
        message: `${address}: target topic "${targetTopic}" on cluster "${restore.cluster}" is not empty; restoring into it would mix records.`,
        suggestion: `Restore under another name (restores.${restore.name}.to.topicSuffix or rename), delete the topic, or set restores.${restore.name}.ifTargetNotEmpty: append.`,
      })
    }
    const maxMapped = restore.partitionMapping ? Math.max(...Object.values(restore.partitionMapping)) + 1 : 0
    const ranges = [...byPartition.entries()].sort((a, b) => a[0] - b[0]).map(([partition, r]) => ({partition, from: r.from, to: r.to}))
    const create = !existing && restore.createTopics
    const configs = {...t.configs, ...restore.configs}
    const checked = Number.isFinite(oldest)
      ? checkRestoredTimestamps({restore, address, targetTopic, sourceTopic: t.topic, create, existing, configs, defaults: target?.topic_defaults, oldest, newest, now: options.now.getTime()}, diagnostics)
      : undefined
    if (checked?.extended) configs['retention.ms'] = String(checked.extended.to_ms)
    const retentionMs = checked?.extended?.to_ms ?? checked?.retentionMs
    topics.push({
      source_topic: t.topic,
      target_topic: targetTopic,
      partitions: Math.max(partitions, maxMapped, existing?.partitions ?? 0),
      create,
      configs,
      ...(restore.partitionMapping ? {partition_mapping: {...restore.partitionMapping}} : {}),
      ranges,
      estimated_records: [...byPartition.values()].reduce((n, r) => n + r.records, 0),
      estimated_bytes: [...byPartition.values()].reduce((n, r) => n + r.bytes, 0),
      ...(Number.isFinite(oldest) ? {oldest_timestamp: new Date(oldest).toISOString()} : {}),
      ...(checked?.extended ? {retention_extended: checked.extended} : {}),
      ...(retentionMs !== undefined ? {retention_ms: retentionMs} : {}),
    })
  }
  return {
    name: restore.name,
    policy: policy.name,
    store: policy.store,
    cluster: restore.cluster,
    point_in_time: pit,
    point_in_time_requested: restore.pointInTime,
    topics,
    consumer_groups: [...restore.translateGroups].sort(),
    if_target_not_empty: restore.ifTargetNotEmpty,
    estimated_records: topics.reduce((n, t) => n + t.estimated_records, 0),
    estimated_bytes: topics.reduce((n, t) => n + t.estimated_bytes, 0),
  }
}

/** Kafka's own defaults, for a cluster whose broker settings could not be read. */
const KAFKA_TOPIC_DEFAULTS: Record<string, string> = {
  'cleanup.policy': 'delete',
  'retention.ms': '604800000',
  'message.timestamp.type': 'CreateTime',
  'message.timestamp.before.max.ms': '9223372036854775807',
  'message.timestamp.after.max.ms': '9223372036854775807',
}

/** Restored records older than the target's retention by less than this are still refused: the plan is applied later. */
export const RESTORE_RETENTION_MARGIN_MS = 3_600_000

interface TimestampCheck {
  restore: DesiredRestore
  address: string
  targetTopic: string
  sourceTopic: string
  create: boolean
  existing: TopicView | undefined
  /** What a created topic gets: the recorded configs of the source topic, then the intent's. */
  configs: Record<string, string>
  defaults: Record<string, string> | undefined
  oldest: number
  newest: number
  now: number
}

/**
 * Kafka deletes by record timestamp, and a restore keeps the original CreateTime: records older
 * than the target's retention.ms are deleted at the broker's next retention check, seconds after
 * kbk reported them restored. Brokers also refuse records outside message.timestamp.before/after
 * (INVALID_TIMESTAMP). Both are known at plan time, so the plan refuses with the fix — or, for a
 * created topic with extendRetention, raises retention.ms so the oldest record is kept for the
 * topic's own retention counted from the restore.
 */
function checkRestoredTimestamps(c: TimestampCheck, diagnostics: PlanDiagnostic[]): {extended?: {from_ms: number; to_ms: number}; retentionMs?: number} {
  if (!c.create && !c.existing) return {} // KBK_RESTORE_NO_TARGET_TOPIC already
  const own = c.create ? c.configs : c.existing!.configs
  const effective = {...KAFKA_TOPIC_DEFAULTS, ...c.defaults, ...own}
  const origin = (key: string): string =>
    own[key] !== undefined
      ? c.create
        ? c.restore.configs[key] !== undefined
          ? `restores.${c.restore.name}.configs`
          : `the recorded configs of source topic "${c.sourceTopic}"`
        : `the topic's own config on cluster "${c.restore.cluster}"`
      : c.defaults?.[key] !== undefined
        ? `the broker default of cluster "${c.restore.cluster}"`
        : `Kafka's default (the broker settings of cluster "${c.restore.cluster}" could not be read)`
  const at = `${c.address}: target topic "${c.targetTopic}" on cluster "${c.restore.cluster}"`
  const oldestIso = new Date(c.oldest).toISOString()
  const age = c.now - c.oldest
  const logAppend = effective['message.timestamp.type'] === 'LogAppendTime'
  const out: {extended?: {from_ms: number; to_ms: number}; retentionMs?: number} = {}

  const before = Math.min(num(effective['message.timestamp.before.max.ms']), num(effective['message.timestamp.difference.max.ms']))
  const after = Math.min(num(effective['message.timestamp.after.max.ms']), num(effective['message.timestamp.difference.max.ms']))
  if (!logAppend && (age > before - RESTORE_RETENTION_MARGIN_MS || c.newest - c.now > after)) {
    const tooOld = age > before - RESTORE_RETENTION_MARGIN_MS
    const key = tooOld ? (num(effective['message.timestamp.before.max.ms']) <= before ? 'message.timestamp.before.max.ms' : 'message.timestamp.difference.max.ms') : num(effective['message.timestamp.after.max.ms']) <= after ? 'message.timestamp.after.max.ms' : 'message.timestamp.difference.max.ms'
    const needed = tooOld ? ceilDay(age + RESTORE_RETENTION_MARGIN_MS) : ceilDay(c.newest - c.now)
    diagnostics.push({
      severity: 'error',
      code: 'KBK_RESTORE_TIMESTAMP_REJECTED',
      message: `${at} would reject restored records (INVALID_TIMESTAMP): ${tooOld ? `the oldest is from ${oldestIso} (${formatAge(age)} old)` : `the newest is from ${new Date(c.newest).toISOString()}, ahead of now`}, but its ${key} is ${effective[key]} (${formatAge(num(effective[key]))}, from ${origin(key)}).`,
      suggestion: c.create
        ? `Set restores.${c.restore.name}.configs."${key}": "${needed}" (or a later point in time).`
        : `Raise it first: kafka-configs.sh --alter --entity-type topics --entity-name ${c.targetTopic} --add-config ${key}=${needed}; or restore into a new topic (to.topicSuffix with createTopics: true).`,
    })
  }

  const cleanup = effective['cleanup.policy'] ?? 'delete'
  const retention = num(effective['retention.ms'])
  if (logAppend || !cleanup.includes('delete') || !Number.isFinite(retention) || retention < 0) return out
  out.retentionMs = retention
  if (age <= retention - RESTORE_RETENTION_MARGIN_MS) return out
  // Keep the oldest record for the topic's own retention, counted from the restore.
  const needed = ceilDay(age + retention)
  if (c.create && c.restore.extendRetention) {
    out.extended = {from_ms: retention, to_ms: needed}
    return out
  }
  diagnostics.push({
    severity: 'error',
    code: 'KBK_RESTORE_RETENTION',
    message:
      `${at} would delete restored records right after the restore: the oldest is from ${oldestIso} (${formatAge(age)} old), ` +
      `but its retention.ms is ${effective['retention.ms']} (${formatAge(retention)}, from ${origin('retention.ms')}); Kafka deletes by record timestamp at its next retention check.`,
    suggestion: c.create
      ? `Set restores.${c.restore.name}.extendRetention: true (kbk creates the topic with retention.ms ${needed}, ${formatAge(needed)}: the oldest record is kept ${formatAge(retention)} from now), ` +
        `or set restores.${c.restore.name}.configs."retention.ms" to at least ${ceilDay(age + RESTORE_RETENTION_MARGIN_MS)} (or -1), or restore from a later point in time.`
      : `Raise the topic's retention first: kafka-configs.sh --alter --entity-type topics --entity-name ${c.targetTopic} --add-config retention.ms=${needed} (or -1); ` +
        `or restore into a new topic (restores.${c.restore.name}.to.topicSuffix, createTopics: true, extendRetention: true).`,
  })
  return out
}

function restoreNotes(run: RestoreRun): string[] {
  return run.topics
    .filter((t) => t.retention_extended)
    .map(
      (t) =>
        `${t.target_topic}: created with retention.ms ${t.retention_extended!.to_ms} (${formatAge(t.retention_extended!.to_ms)}) instead of ${t.retention_extended!.from_ms} (${formatAge(t.retention_extended!.from_ms)}): ` +
        `its oldest restored record is from ${t.oldest_timestamp}, and Kafka would delete it at once (extendRetention). Lower it when you no longer need the old records.`,
    )
}

function notesField(notes: string[]): {notes?: string[]} {
  return notes.length > 0 ? {notes} : {}
}

/** A config number; missing or unparsable counts as no limit. */
function num(v: string | undefined): number {
  if (v === undefined || v.trim() === '') return Number.POSITIVE_INFINITY
  const n = Number(v)
  return Number.isFinite(n) ? n : Number.POSITIVE_INFINITY
}

function ceilDay(ms: number): number {
  return Math.ceil(ms / DAY) * DAY
}

// ---- helpers ----

const TYPE_ORDER: Record<string, number> = {policy: 0, backup: 1, expire: 2, restore: 3}

function compareChanges(a: ResourceChange, b: ResourceChange): number {
  return (TYPE_ORDER[a.type] ?? 9) - (TYPE_ORDER[b.type] ?? 9) || a.address.localeCompare(b.address)
}

function severityRank(s: Drift['severity']): number {
  return s === 'critical' ? 0 : s === 'warning' ? 1 : 2
}

function sortedValues<T>(record: Record<string, T>): T[] {
  return Object.keys(record)
    .sort()
    .map((k) => record[k]!)
}

function sortedEntries<T>(record: Record<string, T>): Array<[string, T]> {
  return Object.keys(record)
    .sort()
    .map((k) => [k, record[k]!])
}

export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return 'forever'
  if (ms >= 365 * DAY && ms % (365 * DAY) === 0) return `${ms / (365 * DAY)}y`
  if (ms >= DAY && ms % DAY === 0) return `${ms / DAY}d`
  if (ms >= DAY) return `${(ms / DAY).toFixed(1)}d`
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(ms % 3_600_000 === 0 ? 0 : 1)}h`
  if (ms >= 60_000) return `${Math.round(ms / 60_000)}m`
  return `${Math.round(ms / 1000)}s`
}
