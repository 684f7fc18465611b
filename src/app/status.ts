// The status use case: per policy, how far behind its backups are and what they cost — read-only
// and cheap enough to run every minute (the state's head and topic indexes, the lock object, and
// one round of ListOffsets per cluster; no segment is read). The verdict is pure (inventory/status.ts).
import type {PartitionWatermarks} from '../kafka/port.js'
import {labelsMatch, policyStatus, type StatusReport, type StoreStatus} from '../inventory/status.js'
import {topicMatches} from '../plan/topic-selection.js'
import {readLocks} from '../state/lock.js'
import type {StateSnapshot} from '../state/types.js'
import type {WorkspaceContext} from './workspace.js'

export {costByLabel, labelsMatch, policyStatus} from '../inventory/status.js'
export type {CostGroup, PartitionLag, PolicyStatus, StatusReport, StoreStatus} from '../inventory/status.js'

export interface StatusOptions {
  /** Only policies carrying every one of these labels. */
  labels?: Record<string, string>
}

export async function readStatus(ctx: WorkspaceContext, options: StatusOptions = {}): Promise<StatusReport> {
  const now = ctx.clock()
  const policies = Object.values(ctx.workspace.policies)
    .filter((p) => labelsMatch(p.labels, options.labels))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const storeNames = [...new Set(policies.map((p) => p.store))].sort()
  const snapshots = new Map<string, StateSnapshot>()
  const stores: StoreStatus[] = []
  for (const name of storeNames) {
    const handle = ctx.storeHandle(name)
    const [{snapshot}, locks] = await Promise.all([handle.state.read(), readLocks(handle.store)])
    snapshots.set(name, snapshot)
    const lock = locks[0]
    stores.push({
      store: name,
      state_updated_at: snapshot.serial > 0 ? snapshot.updated_at : null,
      lock: lock ? {id: lock.id, who: lock.who, operation: lock.operation, heartbeat: lock.heartbeat, age_ms: Math.max(0, now.getTime() - Date.parse(lock.heartbeat))} : null,
    })
  }
  // One ListOffsets round per topic the policies select or have backed up, per cluster.
  const clusters = new Map<string, {topics: Map<string, PartitionWatermarks[]>; error?: string}>()
  for (const cluster of [...new Set(policies.map((p) => p.cluster))].sort()) {
    const kafka = ctx.kafka(cluster)
    const wanted = policies.filter((p) => p.cluster === cluster)
    try {
      const names = await kafka.listTopics()
      const selected = names.filter((t) => wanted.some((p) => topicMatches(ctx.desired.policies[p.name]!, t)))
      const marks = await Promise.all(selected.map(async (t) => [t, await kafka.watermarks(t)] as const))
      clusters.set(cluster, {topics: new Map(marks)})
    } catch (error) {
      clusters.set(cluster, {topics: new Map(), error: (error as Error).message})
    }
  }
  const out = policies.map((p) => {
    const c = clusters.get(p.cluster)!
    return policyStatus(p, ctx.desired.policies[p.name]!, snapshots.get(p.store)!, c.error === undefined ? c.topics : undefined, now, ctx.workspace.stores[p.store]?.pricePerGiBMonth, c.error)
  })
  return {at: now.toISOString(), policies: out, stores, breached: out.filter((s) => s.rpo_breached).map((s) => s.policy)}
}

