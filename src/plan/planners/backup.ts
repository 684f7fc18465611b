// Backups: per selected topic, the offsets to copy; topics gone from the cluster; the drift a
// topic's watermarks reveal (new, grown, recreated, records lost to Kafka's retention). Pure.
import type {PartitionSummary, StateSnapshot, TopicIndex} from '../../state/types.js'
import {topicKey} from '../../state/types.js'
import {backupAddress} from '../addresses.js'
import type {BackupRun, ClusterView, DesiredPolicy, Drift, PartitionRange, PlanOptions, ResourceChange, TopicView} from '../types.js'
import {noteText} from '../../format/plan-findings.js'
import {finding, sortedValues} from './shared.js'
import {candidateTopics, topicMatches} from '../topic-selection.js'
export {topicMatches}

export function planBackups(
  policy: DesiredPolicy,
  state: StateSnapshot,
  cluster: ClusterView,
  options: PlanOptions,
  changes: ResourceChange[],
  drift: Drift[],
): void {
  const live = candidateTopics(policy.include, cluster).filter((t) => topicMatches(policy, t))
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
        store: policy.store,
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
      store: policy.store,
      actions: ['update'],
      before: {deleted_at: null},
      after: {deleted_at: '(recorded at apply)', store: policy.store},
      notes: [noteText({kind: 'topic-gone'})],
    })
    drift.push(
      finding(backupAddress(policy.name, index.topic), 'warning', {kind: 'topic-deleted', topic: index.topic, cluster: policy.cluster, policy: policy.name}, {
        expected: {topic: index.topic, partitions: index.partition_count},
        found: null,
      }),
    )
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
    drift.push(finding(address, 'info', {kind: 'new-topic', topic, policy: policy.name, records}))
  } else if (view.partitions > index.partition_count) {
    drift.push(finding(address, 'info', {kind: 'partitions-added', topic, from: index.partition_count, to: view.partitions}, {expected: index.partition_count, found: view.partitions}))
  }

  const ranges: PartitionRange[] = []
  for (const w of [...view.watermarks].sort((a, b) => a.partition - b.partition)) {
    const p = recorded.get(w.partition)
    let from = p ? p.next_offset : w.low
    let lost: PartitionRange['lost']
    if (p && from > w.high) {
      drift.push(finding(address, 'critical', {kind: 'topic-recreated', topic, partition: w.partition, high: w.high, next: from}, {expected: {next_offset: from}, found: {low: w.low, high: w.high}}))
      from = w.low
    } else if (from < w.low) {
      lost = {from, to: w.low}
      drift.push(finding(address, 'critical', {kind: 'data-loss', topic, partition: w.partition, from, low: w.low}, {expected: {next_offset: from}, found: {earliest_offset: w.low}}))
      from = w.low
    }
    if (from < w.high || lost) ranges.push({partition: w.partition, from, to: Math.max(from, w.high), ...(lost ? {lost} : {})})
  }
  if (ranges.length === 0) return undefined
  const estimatedRecords = ranges.reduce((n, r) => n + (r.to - r.from), 0)
  const perRecord = bytesPerRecord(index)
  const estimatedBytes = perRecord === undefined ? bytesFromLogSizes(ranges, view) : Math.round(estimatedRecords * perRecord)
  // The policy's settings as recorded (desired.ts): the apply reads no faster than this.
  const rate = policy.settings.rateLimit as BackupRun['rate_limit']
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
    ...(rate ? {rate_limit: {...rate}} : {}),
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
