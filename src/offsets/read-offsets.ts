// The refresh of offset resets: each reset's groups (state, members, committed offsets), the
// watermarks of the topics it may touch, and where its new offsets come from (a snapshot, or a
// restore's translated positions). Read-only: DescribeGroups, OffsetFetch, ListOffsets and store
// reads; nothing joins a group or commits.
import {asKbkError} from '../errors.js'
import type {KafkaPort, PartitionWatermarks} from '../kafka/port.js'
import type {Desired, DesiredOffsetReset, OffsetResetView} from '../plan/types.js'
import type {StateStore} from '../state/state-store.js'
import type {StateSnapshot} from '../state/types.js'
import type {ObjectStore} from '../storage/object-store.js'
import {listSnapshotIds, readSnapshot, snapshotIdTime} from './snapshots.js'
import type {OffsetSnapshot} from './snapshots.js'

export interface OffsetsRefreshPorts {
  store: (name: string) => {store: ObjectStore; state: StateStore}
  kafka: (cluster: string) => KafkaPort
}

/** The views of every offset reset, and the states of stores only resets use (the plan pins them too). */
export async function readOffsetResets(desired: Desired, states: Record<string, StateSnapshot>, ports: OffsetsRefreshPorts): Promise<{views: Record<string, OffsetResetView>; states: Record<string, StateSnapshot>}> {
  const views: Record<string, OffsetResetView> = {}
  const allStates = {...states}
  for (const reset of Object.values(desired.offsetResets ?? {}).sort((a, b) => a.name.localeCompare(b.name))) {
    try {
      allStates[reset.store] ??= (await ports.store(reset.store).state.read()).snapshot
      views[reset.name] = await readOne(reset, allStates[reset.store]!, ports)
    } catch (error) {
      const e = asKbkError(error)
      views[reset.name] = {groups: [], watermarks: {}, error: {code: e.code, message: e.message}}
    }
  }
  return {views, states: allStates}
}

async function readOne(reset: DesiredOffsetReset, state: StateSnapshot, ports: OffsetsRefreshPorts): Promise<OffsetResetView> {
  const kafka = ports.kafka(reset.cluster)
  const store = ports.store(reset.store).store
  const view: OffsetResetView = {groups: [], watermarks: {}}
  const recorded = state.offset_resets?.[reset.name]
  const pinned = recorded?.status === 'in-progress' ? Object.keys(recorded.offsets) : []
  const ids = [...new Set([...(await kafka.listGroups()).filter((g) => reset.groups.some((r) => r.test(g))), ...pinned])].sort()
  view.groups = await describe(kafka, ids)

  if (reset.to === 'snapshot' && reset.snapshot !== undefined) {
    const s = await readSnapshot(store, reset.snapshot, reset.store)
    view.snapshot = {id: s.id, taken_at: s.taken_at, groups: offsetsOf(s)}
  } else if (reset.to === 'timestamp' && reset.timestamp !== undefined) {
    const found = await snapshotAsOf(store, reset.store, reset.cluster, Date.parse(reset.timestamp), ids)
    if (found) view.snapshot = found
  } else if (reset.to === 'restored' && reset.restore !== undefined) {
    const key = state.restores[reset.restore]?.offset_map_key
    if (key) {
      const map = JSON.parse((await store.get(key)).toString('utf8')) as {group_offsets?: Record<string, Record<string, Record<number, number>>>}
      view.restored = map.group_offsets ?? {}
    }
  }

  const topics = new Set<string>()
  const wanted = (t: string): boolean => reset.topics.length === 0 || reset.topics.some((r) => r.test(t))
  for (const g of view.groups) for (const t of Object.keys(g.offsets)) if (wanted(t)) topics.add(t)
  for (const source of [view.snapshot?.groups, view.restored]) for (const [g, byTopic] of Object.entries(source ?? {})) if (ids.includes(g)) for (const t of Object.keys(byTopic)) if (wanted(t)) topics.add(t)
  if (reset.topics.length > 0 && (reset.to === 'earliest' || reset.to === 'latest')) for (const t of await kafka.listTopics()) if (wanted(t)) topics.add(t)
  for (const g of pinned) for (const t of Object.keys(recorded!.offsets[g] ?? {})) topics.add(t)
  for (const t of [...topics].sort()) view.watermarks[t] = await watermarksOrNone(kafka, t)
  return view
}

export async function describe(kafka: KafkaPort, ids: string[]): Promise<OffsetResetView['groups']> {
  if (ids.length === 0) return []
  const [descriptions, committed] = await Promise.all([kafka.describeGroups(ids), kafka.groupOffsets(ids)])
  return ids.map((group) => {
    const d = descriptions.find((x) => x.groupId === group)
    return {
      group,
      state: d?.state ?? 'Dead',
      members: (d?.members ?? []).map((m) => ({member_id: m.memberId, client_id: m.clientId, host: m.host})),
      offsets: committed.find((x) => x.groupId === group)?.offsets ?? {},
    }
  })
}

/** A deleted topic has no watermarks: the planner leaves its partitions alone and says so. */
async function watermarksOrNone(kafka: KafkaPort, topic: string): Promise<PartitionWatermarks[]> {
  try {
    return await kafka.watermarks(topic)
  } catch (error) {
    if (asKbkError(error).code === 'KBK_KAFKA_NO_TOPIC') return []
    throw error
  }
}

function offsetsOf(s: OffsetSnapshot): Record<string, Record<string, Record<number, number>>> {
  return Object.fromEntries(Object.entries(s.groups).map(([g, x]) => [g, x.offsets]))
}

/**
 * The committed offsets of each group as of an instant: for every group, the newest snapshot of
 * this cluster taken at or before it that holds the group (backups take them on schedule; resets
 * and rollbacks take one before they commit).
 */
export async function snapshotAsOf(store: ObjectStore, storeName: string, cluster: string, at: number, groups: string[]): Promise<OffsetResetView['snapshot']> {
  const ids = (await listSnapshotIds(store)).filter((id) => snapshotIdTime(id) <= at).reverse()
  const out: Record<string, Record<string, Record<number, number>>> = {}
  let newest: OffsetSnapshot | undefined
  for (const id of ids) {
    if (groups.every((g) => out[g])) break
    const s = await readSnapshot(store, id, storeName)
    if (s.cluster !== cluster) continue
    for (const g of groups) {
      if (out[g] || !s.groups[g]) continue
      out[g] = s.groups[g].offsets
      newest ??= s
    }
  }
  return newest ? {id: newest.id, taken_at: newest.taken_at, groups: out} : undefined
}
