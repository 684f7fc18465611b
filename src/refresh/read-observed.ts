// Refresh: reads what is really there — each store's recorded state, the clusters' topics,
// partitions, watermarks and configs — through the ports, for the pure planner. Read-only by
// construction: it calls only the ports' read methods (no topic is created, no group joined,
// no object written).
import type {KafkaPort} from '../kafka/port.js'
import {policiesByTopic} from '../plan/topic-selection.js'
import type {ClusterView, Desired, Observed, StoreObjectView, StoreProbe, TopicView} from '../plan/types.js'
import {AUDIT_PREFIX} from '../audit/audit-log.js'
import {DRILL_PREFIX, RUNBOOK_PREFIX} from '../audit/evidence.js'
import {OFFSETS_PREFIX} from '../offsets/snapshots.js'
import {streamsInternal} from '../plan/planners/streams.js'
import {SEGMENT_KEY_PREFIX, parseSegmentKey, segmentKey} from '../segment/index.js'
import type {ObjectInfo, ObjectStore} from '../storage/object-store.js'
import {KBK_PREFIX, LOCK_KEY, STATE_PREFIX} from '../state/layout.js'
import {listUnreferencedStateObjects} from '../state/state-store.js'
import type {StateRead, StateStore} from '../state/state-store.js'
import type {SegmentRef, StateSnapshot} from '../state/types.js'
import {topicKey} from '../state/types.js'
import {asKbkError} from '../errors.js'
import {mapLimit} from '../storage/keys.js'
import {readReplicas} from './read-replicas.js'

/** A normal plan probes at most this many partitions per store (a rotating window; see docs/drift.md). */
export const DEFAULT_PROBE_LIMIT = 1000
/** Unknown objects younger than this are not reported: an apply running right now may be writing them. */
export const DEFAULT_UNKNOWN_GRACE_MS = 15 * 60_000

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
  /** Without listObjects: how many partitions' oldest segment to probe per store (default 1000). */
  probeLimit?: number
  /** Unknown objects modified less than this long ago are not reported (default 15 minutes). */
  unknownGraceMs?: number
}

export interface Refreshed {
  observed: Observed
  reads: Record<string, StateRead>
}

export async function readObserved(desired: Desired, ports: RefreshPorts, options: RefreshOptions): Promise<Refreshed> {
  const reads: Record<string, StateRead> = {}
  const storeErrors: NonNullable<Observed['store_errors']> = {}
  await Promise.all(
    [...new Set(Object.values(desired.policies).map((p) => p.store))].map(async (name) => {
      try {
        reads[name] = await ports.store(name).state.read()
      } catch (error) {
        // A store that cannot be read stops only its own policies (the planner says so); a
        // restore may still read a replica of them (docs/replicas.md).
        const e = asKbkError(error)
        if (!e.code.startsWith('KBK_STORE')) throw error
        storeErrors[name] = {code: e.code, message: e.message}
      }
    }),
  )
  const storeNames = Object.keys(reads).sort()
  const states: Record<string, StateSnapshot> = Object.fromEntries(Object.entries(reads).map(([k, v]) => [k, v.snapshot]))

  const clusterNames = [...new Set([...Object.values(desired.policies).map((p) => p.cluster), ...Object.values(desired.restores).map((r) => r.cluster)])].sort()
  const clusters: Record<string, ClusterView> = {}
  await Promise.all(
    clusterNames.map(async (name) => {
      clusters[name] = await readCluster(name, desired, ports.kafka(name), options.concurrency ?? 8, (policy, topic) => !states[policy.store]?.topics[topicKey(policy.name, topic)])
    }),
  )

  const segments: Record<string, SegmentRef[]> = {}
  const wanted = segmentLoads(desired, states, options)
  await mapLimit(wanted, options.concurrency ?? 8, async ({store, policy, topic}) => {
    segments[topicKey(policy, topic)] = await ports.store(store).state.loadSegments(states[store]!, policy, topic)
  })

  let objects: Record<string, StoreObjectView> | undefined
  let probes: Record<string, StoreProbe> | undefined
  const concurrency = options.concurrency ?? 8
  if (options.listObjects) {
    objects = {}
    const graceMs = options.unknownGraceMs ?? DEFAULT_UNKNOWN_GRACE_MS
    for (const name of storeNames) objects[name] = await listStoreObjects(ports.store(name).store, reads[name]!, segments, options.now, graceMs)
  } else {
    probes = {}
    for (const name of storeNames) {
      probes[name] = await probeStore(ports.store(name).store, states[name]!, reads[name]!.etag !== undefined, options.now, options.probeLimit ?? DEFAULT_PROBE_LIMIT, concurrency)
    }
  }
  const replicated = await readReplicas(desired, ports, {states, segments}, {now: options.now, concurrency, unknownGraceMs: options.unknownGraceMs ?? DEFAULT_UNKNOWN_GRACE_MS})
  const replicas = Object.keys(replicated.replicas).length > 0 ? {replicas: replicated.replicas} : {}
  const errors = Object.keys(storeErrors).length > 0 ? {store_errors: storeErrors} : {}
  return {observed: {states, clusters, segments, ...(objects ? {objects} : {}), ...(probes ? {probes} : {}), ...replicas, ...errors}, reads: {...reads, ...replicated.reads}}
}

async function readCluster(
  name: string,
  desired: Desired,
  kafka: KafkaPort,
  concurrency: number,
  firstBackup: (policy: Desired['policies'][string], topic: string) => boolean,
): Promise<ClusterView> {
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
    const chosen = policiesByTopic(policies, all)
    // Kafka Streams restores recreate the application's repartition topics: their partitions and configs come from here.
    const streams = Object.values(desired.restores).filter((r) => r.streamsApplicationId !== undefined && desired.policies[r.policy]?.cluster === name).map((r) => streamsInternal(r.streamsApplicationId!, 'repartition'))
    const selected = all.filter((t) => chosen.has(t) || restoreTargets.has(t) || streams.some((re) => re.test(t))).sort()
    const infos = selected.length > 0 ? await kafka.describeTopics(selected) : []
    const topics: Record<string, TopicView> = {}
    await mapLimit(infos, concurrency, async (info) => {
      topics[info.name] = {partitions: info.partitions, configs: info.configs, watermarks: await kafka.watermarks(info.name)}
    })
    // A first backup has no bytes-per-record history to estimate from: ask the brokers how big
    // the logs are, in one request per broker for all such topics.
    const unrecorded = infos.map((i) => i.name).filter((t) => (chosen.get(t) ?? []).some((p) => firstBackup(p, t)))
    const sizes = unrecorded.length > 0 ? await kafka.logSizes(unrecorded) : {}
    for (const [topic, bytes] of Object.entries(sizes)) if (topics[topic]) topics[topic].log_bytes = bytes
    // A restore target's effective retention and timestamp limits come from the broker for every
    // setting the topic does not set itself. Not readable (no DescribeConfigs on the cluster):
    // the planner says it assumes Kafka's defaults.
    if (!Object.values(desired.restores).some((r) => r.cluster === name)) return {topics}
    const defaults = await kafka.topicDefaults().catch(() => undefined)
    return {topics, ...(defaults ? {topic_defaults: defaults} : {})}
  } catch (error) {
    const e = asKbkError(error)
    return {topics: {}, error: {code: e.code, message: e.message}}
  }
}

function segmentLoads(desired: Desired, states: Record<string, StateSnapshot>, options: RefreshOptions): Array<{store: string; policy: string; topic: string}> {
  const loads = new Map<string, {store: string; policy: string; topic: string}>()
  if (options.listObjects) {
    // Every recorded topic, also those of policies no longer in the config: their segments are
    // still kbk's, and must be neither "unknown" nor go unchecked.
    for (const [store, state] of Object.entries(states)) {
      for (const index of Object.values(state.topics)) loads.set(topicKey(index.policy, index.topic), {store, policy: index.policy, topic: index.topic})
    }
  }
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

async function listStoreObjects(store: ObjectStore, read: StateRead, segments: Record<string, SegmentRef[]>, now: Date, graceMs: number): Promise<StoreObjectView> {
  const state = read.snapshot
  const known = new Set<string>()
  for (const index of Object.values(state.topics)) for (const s of segments[topicKey(index.policy, index.topic)] ?? []) known.add(s.key)
  const recent = (o: ObjectInfo): boolean => o.lastModified !== undefined && now.getTime() - o.lastModified.getTime() < graceMs
  const sizes: Record<string, number> = {}
  const unknown: string[] = []
  const reasons: Record<string, string> = {}
  for await (const o of store.list(SEGMENT_KEY_PREFIX)) {
    if (known.has(o.key)) sizes[o.key] = o.size
    else if (!recent(o)) {
      unknown.push(o.key)
      const parts = parseSegmentKey(o.key)
      const p = parts ? state.topics[topicKey(parts.policy, parts.topic)]?.partitions.find((x) => x.partition === parts.partition) : undefined
      if (parts && p && parts.firstOffset >= p.next_offset) reasons[o.key] = 'a segment past the checkpoint: left by an interrupted backup run (the next kbk apply of this topic removes it)'
      else if (!parts) reasons[o.key] = 'not a kbk segment name: written by someone else'
    }
  }
  // kbk's own area. Every commit supersedes topic indexes (and merges chunks), which stay behind
  // unreferenced: that is normal and not drift. A state object newer than the state itself
  // comes from a commit that never completed (a crash); anything else here kbk never writes.
  const unreferenced = new Set((await listUnreferencedStateObjects(store, {read})).map((o) => o.key))
  for await (const o of store.list(KBK_PREFIX)) {
    if (recent(o) || o.key === LOCK_KEY || o.key.startsWith(AUDIT_PREFIX) || o.key.startsWith(OFFSETS_PREFIX)) continue
    if (o.key.startsWith(DRILL_PREFIX) || o.key.startsWith(RUNBOOK_PREFIX)) continue // drill evidence and runbooks: audit verify checks them
    if (o.key.startsWith(STATE_PREFIX)) {
      if (!unreferenced.has(o.key)) continue
      const serial = stateObjectSerial(o.key)
      if (serial !== undefined && serial <= state.serial) continue
      unknown.push(o.key)
      reasons[o.key] =
        serial === undefined
          ? 'not a name kbk gives state objects: written by someone else'
          : `a state object of serial ${serial}, but the state is at serial ${state.serial}: left by a commit that never completed (an apply that was killed)`
    } else {
      unknown.push(o.key)
      reasons[o.key] = 'kbk never writes this key: written by someone else'
    }
  }
  return {sizes, unknown, unknown_reasons: reasons, complete: true}
}

const STATE_OBJECT_NAME = /^_kbk\/state\/(?:topics|chunks)\/[^/]+\/[^/]+\/([0-9]{12})-[0-9a-f]+\.json$/

function stateObjectSerial(key: string): number | undefined {
  const m = STATE_OBJECT_NAME.exec(key)
  return m ? Number(m[1]) : undefined
}

/**
 * A normal plan must stay interactive over a million segments, so it does not list the store.
 * It probes, per partition, the first object under the partition's prefix (one LIST request
 * that stops at the first key): that must be the oldest recorded segment. This catches what
 * usually happens — a bucket lifecycle rule or a person deleting the oldest backups, or the
 * whole prefix — but not a segment missing from the middle (kbk plan --refresh-only and kbk
 * verify catch those). Over `limit` partitions, a window that moves every hour is probed.
 */
async function probeStore(store: ObjectStore, state: StateSnapshot, hasState: boolean, now: Date, limit: number, concurrency: number): Promise<StoreProbe> {
  if (!hasState) {
    let first: string | null = null
    try {
      for await (const o of store.list(SEGMENT_KEY_PREFIX)) {
        first = o.key
        break
      }
    } catch {
      // A store that cannot be listed yet (no bucket): the first apply says so clearly.
    }
    return {partitions: [], total: 0, probed: 0, data_without_state: first}
  }
  const all: Array<{policy: string; topic: string; partition: number}> = []
  for (const index of Object.values(state.topics)) {
    for (const p of index.partitions) if (p.segment_count > 0) all.push({policy: index.policy, topic: index.topic, partition: p.partition})
  }
  all.sort((a, b) => a.policy.localeCompare(b.policy) || a.topic.localeCompare(b.topic) || a.partition - b.partition)
  let window = all
  if (all.length > limit) {
    const start = (Math.floor(now.getTime() / 3_600_000) * limit) % all.length
    window = [...all.slice(start), ...all.slice(0, start)].slice(0, limit)
  }
  const partitions: StoreProbe['partitions'] = []
  await mapLimit(window, concurrency, async ({policy, topic, partition}) => {
    const prefix = segmentKey(policy, topic, partition, 0, 0).replace(/[^/]+$/, '')
    let found: {key: string; first: number} | undefined
    for await (const o of store.list(prefix)) {
      const parts = parseSegmentKey(o.key)
      if (!parts) continue
      found = {key: o.key, first: parts.firstOffset}
      break
    }
    partitions.push({policy, topic, partition, first_offset: found?.first ?? null, first_key: found?.key ?? null})
  })
  partitions.sort((a, b) => a.policy.localeCompare(b.policy) || a.topic.localeCompare(b.topic) || a.partition - b.partition)
  return {partitions, total: all.length, probed: window.length}
}
