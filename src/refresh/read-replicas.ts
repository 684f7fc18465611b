// Refresh of replica stores (policies.X.replicas): each replica store's own state, the segments it
// records for the replicated policies, and a listing of those policies' data areas there — so the
// planner can tell what is missing, replaced or extra on each copy. Also loads the primary's
// segment lists the comparison needs. Read-only, through the ports.
import {asKbkError} from '../errors.js'
import {SEGMENT_KEY_PREFIX} from '../segment/index.js'
import type {Desired, ReplicaView} from '../plan/types.js'
import type {SegmentRef, StateSnapshot} from '../state/types.js'
import {topicKey} from '../state/types.js'
import {mapLimit} from '../storage/keys.js'
import type {StateRead, StateStore} from '../state/state-store.js'
import type {ObjectStore} from '../storage/object-store.js'
import {pushTo} from '../collections.js'

/** The store port of the refresh (read-observed.ts's RefreshPorts.store). */
interface StorePort {
  store: (name: string) => {store: ObjectStore; state: StateStore}
}

export interface ReplicaRefresh {
  replicas: Record<string, ReplicaView>
  reads: Record<string, StateRead>
}

/** The data area of one policy in any store: data/<policy>/. */
export function policyDataPrefix(policy: string): string {
  return `${SEGMENT_KEY_PREFIX}${policy}/`
}

export async function readReplicas(
  desired: Desired,
  ports: StorePort,
  primary: {states: Record<string, StateSnapshot>; segments: Record<string, SegmentRef[]>},
  options: {now: Date; concurrency?: number; unknownGraceMs: number},
): Promise<ReplicaRefresh> {
  const concurrency = options.concurrency ?? 8
  const byStore = new Map<string, string[]>()
  for (const p of Object.values(desired.policies)) {
    for (const r of p.replicas ?? []) pushTo(byStore, r.store, p.name)
  }
  const replicas: Record<string, ReplicaView> = {}
  const reads: Record<string, StateRead> = {}
  // The primary's segment lists of every replicated topic (loaded once, shared by all its replicas).
  const wanted: Array<{store: string; policy: string; topic: string}> = []
  for (const p of Object.values(desired.policies)) {
    if (!p.replicas || p.replicas.length === 0) continue
    const state = primary.states[p.store]
    for (const index of Object.values(state?.topics ?? {})) {
      if (index.policy === p.name && !primary.segments[topicKey(p.name, index.topic)]) wanted.push({store: p.store, policy: p.name, topic: index.topic})
    }
  }
  await mapLimit(wanted, concurrency, async ({store, policy, topic}) => {
    primary.segments[topicKey(policy, topic)] = await ports.store(store).state.loadSegments(primary.states[store]!, policy, topic)
  })

  for (const [name, policies] of [...byStore.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const handle = ports.store(name)
    const view: ReplicaView = {segments: {}, objects: {}, extra: []}
    replicas[name] = view
    try {
      const read = await handle.state.read()
      reads[name] = read
      view.state = read.snapshot
      const topics = Object.values(read.snapshot.topics).filter((t) => policies.includes(t.policy))
      await mapLimit(topics, concurrency, async (t) => {
        view.segments[topicKey(t.policy, t.topic)] = await handle.state.loadSegments(read.snapshot, t.policy, t.topic)
      })
      const recorded = new Set<string>()
      for (const list of Object.values(view.segments)) for (const s of list) recorded.add(s.key)
      for (const policy of [...policies].sort()) {
        for await (const o of handle.store.list(policyDataPrefix(policy))) {
          view.objects[o.key] = {size: o.size, etag: o.etag}
          // An object written moments ago may be an apply copying right now: not reported yet.
          const recent = o.lastModified !== undefined && options.now.getTime() - o.lastModified.getTime() < options.unknownGraceMs
          if (!recorded.has(o.key) && !recent) view.extra.push(o.key)
        }
      }
    } catch (error) {
      const e = asKbkError(error)
      view.error = {code: e.code, message: e.message}
    }
  }
  return {replicas, reads}
}
