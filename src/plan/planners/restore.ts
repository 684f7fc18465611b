// Restores: a restore intent pinned to a point in time, the topics and offsets it writes, and the
// checks the target cluster must pass (it exists, is empty, keeps the restored timestamps). Pure.
import {noteText} from '../../format/plan-findings.js'
import {topicKey} from '../../state/types.js'
import type {SegmentRef, StateSnapshot} from '../../state/types.js'
import {replicaDiagnostic} from './replication.js'
import {matchesTarget, restoreAddress} from '../addresses.js'
import {diffAttributes} from '../attribute-diff.js'
import type {Desired, DesiredPolicy, DesiredRestore, Observed, PlanDiagnostic, PlanOptions, ResourceChange, RestoreRun, RestoreTopicPlan, TopicView} from '../types.js'
import type {ConfigOrigin} from '../findings.js'
import {DAY, diagnostic, fullMatch, notesField} from './shared.js'
import {planStreams} from './streams.js'
import {streamsNote} from '../../format/offsets-text.js'
export function planRestore(restore: DesiredRestore, desired: Desired, observed: Observed, options: PlanOptions, changes: ResourceChange[], diagnostics: PlanDiagnostic[]): void {
  const policy = desired.policies[restore.policy]
  if (!policy) return // validation reports the dangling reference
  const source = restoreSource(restore, policy, observed, options, diagnostics)
  if (!source) return
  const state = source.state
  const address = restoreAddress(restore.name)
  const recorded = state?.restores[restore.name]
  if (recorded && recorded.status === 'complete') {
    const diff = diffAttributes(recorded.settings, restore.settings)
    if (diff.length === 0) return
    const run = buildRestoreRun(restore, policy, source, observed, options, diagnostics, true)
    if (!run) return
    changes.push({address, type: 'restore', name: restore.name, store: run.store, actions: ['update'], before: recorded.settings, after: restore.settings, diff, restore: run, notes: [noteText({kind: 'restore-changed'}), ...restoreNotes(run)]})
    return
  }
  const run = buildRestoreRun(restore, policy, source, observed, options, diagnostics, recorded?.status === 'in-progress')
  if (!run) return
  changes.push({
    address,
    type: 'restore',
    name: restore.name,
    store: run.store,
    actions: ['run'],
    before: recorded ? recorded.settings : null,
    after: restore.settings,
    restore: run,
    ...notesField([...(recorded?.status === 'in-progress' ? [noteText({kind: 'restore-resumed'})] : []), ...restoreNotes(run)]),
  })
}

/** The copy a restore reads: the policy's store, or the replica its intent names (`from.store`). */
export interface RestoreSource {
  store: string
  state: StateSnapshot | undefined
  segments: Record<string, SegmentRef[]>
}

export function restoreSource(restore: DesiredRestore, policy: DesiredPolicy, observed: Observed, options: PlanOptions, diagnostics: PlanDiagnostic[]): RestoreSource | undefined {
  const store = restore.store ?? policy.store
  const replicas = (policy.replicas ?? []).map((r) => r.store)
  const failed = store === policy.store ? observed.store_errors?.[store] : observed.replicas?.[store]?.error
  if (failed) {
    // The store is gone or cut off: say which copy can be read instead.
    const others = replicas.filter((r) => r !== store && observed.replicas?.[r]?.state !== undefined)
    // A plan targeted at other addresses (a restore from the replica) is not stopped by this one.
    const targets = options.targets ?? []
    const severity = targets.length === 0 || targets.some((t) => matchesTarget(restoreAddress(restore.name), t)) ? 'error' : 'warning'
    diagnostics.push(replicaDiagnostic(severity, {kind: 'restore-store-unreadable', restore: restore.name, policy: policy.name, store, error: failed.message, replicas: others}))
    return undefined
  }
  if (store === policy.store) return {store, state: observed.states[store], segments: observed.segments}
  const view = observed.replicas?.[store]
  return {store, state: view?.state, segments: view?.segments ?? {}}
}

export function buildRestoreRun(restore: DesiredRestore, policy: DesiredPolicy, source: RestoreSource, observed: Observed, options: PlanOptions, diagnostics: PlanDiagnostic[], resuming: boolean): RestoreRun | undefined {
  const state = source.state
  const address = restoreAddress(restore.name)
  const sourceTopics = Object.values(state?.topics ?? {})
    .filter((t) => t.policy === policy.name)
    .filter((t) => restore.include.some((r) => fullMatch(r, t.topic)) && !restore.exclude.some((r) => fullMatch(r, t.topic)))
    .sort((a, b) => a.topic.localeCompare(b.topic))
  if (sourceTopics.length === 0) {
    // Not an error: a workspace may declare a drill before the policy's first backup exists.
    diagnostics.push(diagnostic('warning', {kind: 'restore-nothing-yet', address, restore: restore.name, policy: policy.name}))
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
    const segments = (source.segments[topicKey(policy.name, t.topic)] ?? []).filter((s) => s.min_timestamp <= pitMs)
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
      diagnostics.push(diagnostic('error', {kind: 'restore-no-target-topic', address, restore: restore.name, targetTopic, cluster: restore.cluster}))
    }
    if (existing && !resuming && restore.ifTargetNotEmpty === 'fail' && existing.watermarks.some((w) => w.high > w.low)) {
      diagnostics.push(diagnostic('error', {kind: 'restore-target-not-empty', address, restore: restore.name, targetTopic, cluster: restore.cluster}))
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
    store: source.store,
    cluster: restore.cluster,
    point_in_time: pit,
    point_in_time_requested: restore.pointInTime,
    topics,
    consumer_groups: [...restore.translateGroups].sort(),
    if_target_not_empty: restore.ifTargetNotEmpty,
    estimated_records: topics.reduce((n, t) => n + t.estimated_records, 0),
    estimated_bytes: topics.reduce((n, t) => n + t.estimated_bytes, 0),
    ...(restore.streamsApplicationId !== undefined ? {streams: planStreams(restore, policy, state, observed, topics)!} : {}),
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
  const origin = (key: string): ConfigOrigin =>
    own[key] !== undefined
      ? c.create
        ? c.restore.configs[key] !== undefined
          ? {kind: 'intent', restore: c.restore.name}
          : {kind: 'source-recorded', sourceTopic: c.sourceTopic}
        : {kind: 'topic-own', cluster: c.restore.cluster}
      : c.defaults?.[key] !== undefined
        ? {kind: 'broker-default', cluster: c.restore.cluster}
        : {kind: 'kafka-default', cluster: c.restore.cluster}
  const target = {address: c.address, restore: c.restore.name, targetTopic: c.targetTopic, cluster: c.restore.cluster}
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
    diagnostics.push(
      diagnostic('error', {
        kind: 'restore-timestamp-rejected',
        ...target,
        create: c.create,
        tooOld,
        oldest: oldestIso,
        ageMs: age,
        newest: new Date(c.newest).toISOString(),
        key,
        value: effective[key],
        valueMs: num(effective[key]),
        origin: origin(key),
        needed,
      }),
    )
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
  diagnostics.push(
    diagnostic('error', {
      kind: 'restore-retention',
      ...target,
      create: c.create,
      oldest: oldestIso,
      ageMs: age,
      retention: effective['retention.ms'],
      retentionMs: retention,
      origin: origin('retention.ms'),
      needed,
      atLeast: ceilDay(age + RESTORE_RETENTION_MARGIN_MS),
    }),
  )
  return out
}

function restoreNotes(run: RestoreRun): string[] {
  return [
    ...run.topics
      .filter((t) => t.retention_extended)
      .map((t) => noteText({kind: 'retention-extended', targetTopic: t.target_topic, fromMs: t.retention_extended!.from_ms, toMs: t.retention_extended!.to_ms, oldest: t.oldest_timestamp})),
    ...(run.streams ? streamsNote(run.streams) : []),
  ]
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
