// Consumer offset use cases beside plan/apply: list the snapshots in a store, plan a rollback to
// one (applied by runApply like any plan, so it is locked, snapshotted first, recorded and
// audited), and the snapshots that backups of one topic took.
import {KbkError} from '../errors.js'
import {describe} from '../offsets/read-offsets.js'
import {listSnapshotIds, readSnapshot, readSnapshots, summarizeSnapshot, type OffsetSnapshot, type OffsetSnapshotSummary} from '../offsets/snapshots.js'
import {planOffsetRollback} from '../plan/planners/offsets.js'
import {PLAN_FORMAT_VERSION, summarize, type OffsetResetView, type Plan, type PlanDiagnostic} from '../plan/types.js'
import type {WorkspaceContext} from './workspace.js'

/** The snapshots in a store, oldest first; with `group`, only those holding that group. */
export async function listOffsetSnapshots(ctx: WorkspaceContext, storeName: string, filter: {group?: string} = {}): Promise<OffsetSnapshotSummary[]> {
  const snapshots = await readSnapshots(ctx.storeHandle(storeName).store, storeName)
  return snapshots.filter((s) => filter.group === undefined || s.groups[filter.group] !== undefined).map(summarizeSnapshot)
}

/** One snapshot, whole. */
export async function readOffsetSnapshot(ctx: WorkspaceContext, storeName: string, id: string): Promise<OffsetSnapshot> {
  return readSnapshot(ctx.storeHandle(storeName).store, id, storeName)
}

/**
 * The plan of `kbk offsets rollback ID`: every group of the snapshot back to exactly the offsets
 * it holds. Read-only (describe, fetch offsets, watermarks); pins the store's state like any plan.
 */
export async function planRollback(ctx: WorkspaceContext, storeName: string, id: string): Promise<Plan> {
  const handle = ctx.storeHandle(storeName)
  const snapshot = await readSnapshot(handle.store, id, storeName)
  if (!ctx.workspace.clusters[snapshot.cluster]) {
    throw new KbkError('KBK_CONFIG_UNDEFINED_REF', `Snapshot ${id} is of cluster "${snapshot.cluster}", which the workspace does not define.`, {suggestion: `Add cluster "${snapshot.cluster}" under clusters: (the same brokers), then run the rollback again.`})
  }
  const state = (await handle.state.read()).snapshot
  const kafka = ctx.kafka(snapshot.cluster)
  const groups = Object.keys(snapshot.groups).sort()
  const view: OffsetResetView = {groups: await describe(kafka, groups), watermarks: {}}
  const topics = new Set<string>()
  for (const g of Object.values(snapshot.groups)) for (const t of Object.keys(g.offsets)) topics.add(t)
  for (const t of [...topics].sort()) {
    try {
      view.watermarks[t] = await kafka.watermarks(t)
    } catch (error) {
      if (!(error instanceof KbkError && error.code === 'KBK_KAFKA_NO_TOPIC')) throw error
      view.watermarks[t] = []
    }
  }
  const diagnostics: PlanDiagnostic[] = []
  const offsets = Object.fromEntries(Object.entries(snapshot.groups).map(([g, x]) => [g, x.offsets]))
  const change = planOffsetRollback({id: snapshot.id, taken_at: snapshot.taken_at, cluster: snapshot.cluster, groups: offsets}, storeName, view, diagnostics)
  const changes = change ? [change] : []
  return {
    format_version: PLAN_FORMAT_VERSION,
    kbk_version: ctx.kbkVersion,
    created_at: ctx.clock().toISOString(),
    refresh_only: false,
    config_digest: ctx.desired.configDigest,
    states: {[storeName]: {lineage: state.lineage, serial: state.serial}},
    resource_changes: changes,
    drift: [],
    diagnostics,
    summary: summarize(changes, []),
    applyable: !diagnostics.some((d) => d.severity === 'error'),
  }
}

/** The newest snapshots backups of a policy took, with the offsets of one topic (for `backups describe`). */
export async function backupSnapshotsOfTopic(ctx: WorkspaceContext, storeName: string, policy: string, topic: string, limit = 10): Promise<Array<{id: string; taken_at: string; groups: Record<string, Record<number, number>>}>> {
  const store = ctx.storeHandle(storeName).store
  const out: Array<{id: string; taken_at: string; groups: Record<string, Record<number, number>>}> = []
  for (const id of (await listSnapshotIds(store)).reverse()) {
    if (out.length >= limit) break
    const s = await readSnapshot(store, id, storeName)
    if (s.reason.kind !== 'backup' || s.reason.policy !== policy) continue
    const groups: Record<string, Record<number, number>> = {}
    for (const [g, x] of Object.entries(s.groups)) if (x.offsets[topic]) groups[g] = x.offsets[topic]
    if (Object.keys(groups).length > 0) out.push({id: s.id, taken_at: s.taken_at, groups})
  }
  return out
}
