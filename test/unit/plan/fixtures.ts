// Builders for planner inputs: small, explicit, and valid by construction.
import type {Desired, DesiredPolicy, DesiredRestore, Observed, TopicView} from '../../../src/plan/types.js'
import type {PartitionSummary, SegmentRef, StateSnapshot, TopicIndex} from '../../../src/state/types.js'

export const NOW = new Date('2026-06-01T12:00:00Z')
export const DAY = 86_400_000

export function policy(name: string, over: Partial<DesiredPolicy> = {}): DesiredPolicy {
  const p: DesiredPolicy = {
    name,
    cluster: 'prod',
    store: 'primary',
    include: [/orders\..*/],
    exclude: [/.*-repartition/],
    internalTopics: false,
    groupInclude: [],
    groupExclude: [],
    retention: {tier: 'production', maxAgeMs: 90 * DAY, minKeep: 3, immutable: false, allowDestroy: true},
    tags: [],
    settings: {},
    ...over,
  }
  p.settings = Object.keys(over.settings ?? {}).length > 0 ? over.settings! : {cluster: p.cluster, store: p.store, retention: p.retention.tier, topics: {include: p.include.map((r) => r.source), exclude: p.exclude.map((r) => r.source)}}
  return p
}

export function restore(name: string, over: Partial<DesiredRestore> = {}): DesiredRestore {
  const r: DesiredRestore = {
    name,
    policy: 'orders',
    cluster: 'staging',
    pointInTime: 'latest',
    include: [/.*/],
    exclude: [],
    topicSuffix: '-restored',
    rename: {},
    createTopics: true,
    configs: {},
    translateGroups: [],
    ifTargetNotEmpty: 'fail',
    extendRetention: false,
    settings: {},
    ...over,
  }
  if (Object.keys(r.settings).length === 0) r.settings = {policy: r.policy, cluster: r.cluster, pointInTime: r.pointInTime, topicSuffix: r.topicSuffix}
  return r
}

export function desired(policies: DesiredPolicy[], restores: DesiredRestore[] = [], over: Partial<Desired> = {}): Desired {
  return {
    policies: Object.fromEntries(policies.map((p) => [p.name, p])),
    restores: Object.fromEntries(restores.map((r) => [r.name, r])),
    drillWithinMs: {},
    configDigest: 'sha256:test',
    diagnostics: [],
    ...over,
  }
}

export function emptyState(): StateSnapshot {
  return {format_version: 1, lineage: 'lin-1', serial: 0, kbk_version: '0.0.0', updated_at: NOW.toISOString(), policies: {}, restores: {}, topics: {}}
}

export function topicView(watermarks: Array<[number, number]>, configs: Record<string, string> = {}): TopicView {
  return {partitions: watermarks.length, configs, watermarks: watermarks.map(([low, high], partition) => ({partition, low, high}))}
}

export function partitionSummary(partition: number, next: number, over: Partial<PartitionSummary> = {}): PartitionSummary {
  return {partition, next_offset: next, first_offset: 0, segment_count: 1, records: next, bytes: next * 10, uncompressed_bytes: next * 100, gaps: [], ...over}
}

export function topicIndex(policyName: string, topic: string, partitions: PartitionSummary[], over: Partial<TopicIndex> = {}): TopicIndex {
  return {policy: policyName, topic, partition_count: partitions.length, configs: {}, partitions, chunks: [], last_backup_at: NOW.toISOString(), ...over}
}

export function segment(policyName: string, topic: string, partition: number, first: number, last: number, writtenAt: Date, over: Partial<SegmentRef> = {}): SegmentRef {
  return {
    key: `data/${policyName}/${topic}/${partition}/${String(first).padStart(20, '0')}-${String(last).padStart(20, '0')}.kbs`,
    policy: policyName,
    topic,
    partition,
    first_offset: first,
    last_offset: last,
    records: last - first + 1,
    bytes: (last - first + 1) * 10,
    uncompressed_bytes: (last - first + 1) * 100,
    min_timestamp: writtenAt.getTime() - 1000,
    max_timestamp: writtenAt.getTime(),
    sha256: 'ab'.repeat(32),
    run_id: `run-${writtenAt.toISOString()}`,
    written_at: writtenAt.toISOString(),
    ...over,
  }
}

export function observed(state: StateSnapshot, topics: Record<string, TopicView>, over: Partial<Observed> = {}): Observed {
  return {states: {primary: state}, clusters: {prod: {topics}, staging: {topics: {}}}, segments: {}, ...over}
}
