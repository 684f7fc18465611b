// Refresh: reads what is really there — each store's recorded state, the clusters' topics,
// partitions, watermarks and configs — through the ports, for the pure planner. Read-only by
// construction: it calls only the ports' read methods (no topic is created, no group joined,
// no object written).
import type {KafkaPort} from '../kafka/port.js'
import {topicMatches} from '../plan/plan-changes.js'
import type {ClusterView, Desired, Observed, StoreObjectView, TopicView} from '../plan/types.js'
import type {ObjectStore} from '../storage/object-store.js'
import type {StateRead, StateStore} from '../state/state-store.js'
import type {SegmentRef, StateSnapshot} from '../state/types.js'
import {topicKey} from '../state/types.js'
import {asKbkError} from '../errors.js'

export interface RefreshPorts {
  store: (name: string) => {store: ObjectStore; state: StateStore}
  kafka: (cluster: string) => KafkaPort
}

export interface RefreshOptions {
  now: Date
  /** List the stores' objects to find missing, changed and unknown ones (drift). */
  listObjects: boolean
  /** Bounded parallelism for per-topic reads. */
  concurrency?: number
}

export interface Refreshed {
  observed: Observed
  reads: Record<string, StateRead>
}

export async function readObserved(desired: Desired, ports: RefreshPorts, options: RefreshOptions): Promise<Refreshed> {
  const storeNames = [...new Set(Object.values(desired.policies).map((p) => p.store))].sort()
  const reads: Record<string, StateRead> = {}
  await Promise.all(
    storeNames.map(async (name) => {
      reads[name] = await ports.store(name).state.read()
    }),
  )
  const states: Record<string, StateSnapshot> = Object.fromEntries(Object.entries(reads).map(([k, v]) => [k, v.snapshot]))

  const clusterNames = [...new Set([...Object.values(desired.policies).map((p) => p.cluster), ...Object.values(desired.restores).map((r) => r.cluster)])].sort()
  const clusters: Record<string, ClusterView> = {}
  await Promise.all(
    clusterNames.map(async (name) => {
      clusters[name] = await readCluster(name, desired, ports.kafka(name), options.concurrency ?? 8)
    }),
  )

  const segments: Record<string, SegmentRef[]> = {}
  const wanted = segmentLoads(desired, states, options)
  await mapLimit(wanted, options.concurrency ?? 8, async ({store, policy, topic}) => {
    segments[topicKey(policy, topic)] = await ports.store(store).state.loadSegments(states[store]!, policy, topic)
  })

  let objects: Record<string, StoreObjectView> | undefined
  if (options.listObjects) {
    objects = {}
    for (const name of storeNames) objects[name] = await listStoreObjects(ports.store(name).store, states[name]!, segments)
  }
  return {observed: {states, clusters, segments, ...(objects ? {objects} : {})}, reads}
}

async function readCluster(name: string, desired: Desired, kafka: KafkaPort, concurrency: number): Promise<ClusterView> {
  try {
    const all = await kafka.listTopics()
    const policies = Object.values(desired.policies).filter((p) => p.cluster === name)
    const restoreTargets = new Set<string>()
    for (const r of Object.values(desired.restores)) {
      if (r.cluster !== name) continue
      // Target names depend on source topics; collect candidates cheaply: every existing topic that a rename or suffix could produce.
      for (const t of all) {
        if (r.topicSuffix && t.endsWith(r.topicSuffix)) restoreTargets.add(t)
        if (Object.values(r.rename).includes(t)) restoreTargets.add(t)
      }
    }
    const selected = all.filter((t) => policies.some((p) => topicMatches(p, t)) || restoreTargets.has(t)).sort()
    const infos = selected.length > 0 ? await kafka.describeTopics(selected) : []
    const topics: Record<string, TopicView> = {}
    await mapLimit(infos, concurrency, async (info) => {
      topics[info.name] = {partitions: info.partitions, configs: info.configs, watermarks: await kafka.watermarks(info.name)}
    })
    return {topics}
  } catch (error) {
    const e = asKbkError(error)
    return {topics: {}, error: {code: e.code, message: e.message}}
  }
}

function segmentLoads(desired: Desired, states: Record<string, StateSnapshot>, options: RefreshOptions): Array<{store: string; policy: string; topic: string}> {
  const loads = new Map<string, {store: string; policy: string; topic: string}>()
  for (const policy of Object.values(desired.policies)) {
    const state = states[policy.store]
    if (!state) continue
    const cutoff = policy.retention.maxAgeMs === null ? Number.NEGATIVE_INFINITY : options.now.getTime() - policy.retention.maxAgeMs
    const restoring = Object.values(desired.restores).some((r) => r.policy === policy.name)
    for (const index of Object.values(state.topics)) {
      if (index.policy !== policy.name) continue
      const oldest = index.partitions.map((p) => p.oldest_written_at).filter((x): x is string => x !== undefined).sort()[0]
      const expiryDue = oldest !== undefined && Date.parse(oldest) < cutoff
      if (expiryDue || restoring || options.listObjects) loads.set(topicKey(policy.name, index.topic), {store: policy.store, policy: policy.name, topic: index.topic})
    }
  }
  return [...loads.values()].sort((a, b) => a.policy.localeCompare(b.policy) || a.topic.localeCompare(b.topic))
}

async function listStoreObjects(store: ObjectStore, state: StateSnapshot, segments: Record<string, SegmentRef[]>): Promise<StoreObjectView> {
  const known = new Set<string>()
  for (const index of Object.values(state.topics)) for (const s of segments[topicKey(index.policy, index.topic)] ?? []) known.add(s.key)
  const sizes: Record<string, number> = {}
  const unknown: string[] = []
  for await (const o of store.list('data/')) {
    if (known.has(o.key)) sizes[o.key] = o.size
    else unknown.push(o.key)
  }
  return {sizes, unknown, complete: true}
}

export async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const workers = Array.from({length: Math.min(limit, items.length)}, async () => {
    while (next < items.length) {
      const item = items[next++]!
      await fn(item)
    }
  })
  await Promise.all(workers)
}
