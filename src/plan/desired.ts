// From the normalized workspace to the planner's input: what each policy and restore asks for,
// with canonical, secret-free settings (what the state records and the plan diffs). Pure.
import {offsetResetStore} from '../config/offset-resets.js'
import type {ComplianceTag, OffsetResetConfig, PolicyConfig, RestoreConfig, Workspace} from '../config/types.js'
import type {Desired, DesiredOffsetReset, DesiredPolicy, DesiredRestore, PlanDiagnostic} from './types.js'

export function desiredFromWorkspace(ws: Workspace, tags: (name: string) => ComplianceTag | undefined, diagnostics: PlanDiagnostic[] = []): Desired {
  const policies: Record<string, DesiredPolicy> = {}
  const drillWithinMs: Record<string, number> = {}
  for (const p of Object.values(ws.policies)) {
    policies[p.name] = desiredPolicy(p, ws)
    const windows = p.tags.map((t) => tags(t)?.requireDrillWithinMs).filter((x): x is number => x !== undefined)
    if (windows.length > 0) drillWithinMs[p.name] = Math.min(...windows)
  }
  const restores: Record<string, DesiredRestore> = {}
  for (const r of Object.values(ws.restores)) restores[r.name] = desiredRestore(r)
  const resets = Object.values(ws.offsetResets ?? {})
  const offsetResets: Record<string, DesiredOffsetReset> = {}
  for (const o of resets) offsetResets[o.name] = desiredOffsetReset(o, offsetResetStore(ws, o) ?? '')
  return {policies, restores, drillWithinMs, configDigest: ws.digest, diagnostics, ...(resets.length > 0 ? {offsetResets} : {})}
}

/** How long apply waits for an active group to empty with ifActive: wait, unless waitTimeout says. */
export const DEFAULT_OFFSET_WAIT_MS = 5 * 60_000

export function offsetResetSettings(o: OffsetResetConfig, store: string): Record<string, unknown> {
  return {
    cluster: o.cluster,
    store,
    groups: o.groups.map((x) => x.source),
    topics: o.topics.map((x) => x.source),
    to: o.to,
    ...(o.to === 'restored' ? {restore: o.restore ?? null} : {}),
    ...(o.to === 'timestamp' ? {timestamp: o.timestamp ?? null} : {}),
    ...(o.to === 'snapshot' ? {snapshot: o.snapshot ?? null} : {}),
  }
}

function desiredOffsetReset(o: OffsetResetConfig, store: string): DesiredOffsetReset {
  return {
    name: o.name,
    cluster: o.cluster,
    store,
    groups: o.groups.map((x) => x.regex),
    topics: o.topics.map((x) => x.regex),
    to: o.to,
    ...(o.restore !== undefined ? {restore: o.restore} : {}),
    ...(o.timestamp !== undefined ? {timestamp: o.timestamp} : {}),
    ...(o.snapshot !== undefined ? {snapshot: o.snapshot} : {}),
    ifActive: o.ifActive,
    waitTimeoutMs: o.waitTimeoutMs ?? DEFAULT_OFFSET_WAIT_MS,
    settings: offsetResetSettings(o, store),
  }
}

export function policySettings(p: PolicyConfig): Record<string, unknown> {
  return {
    cluster: p.cluster,
    store: p.store,
    topics: {include: p.topics.include.map((x) => x.source), exclude: p.topics.exclude.map((x) => x.source)},
    internalTopics: p.internalTopics,
    retention: p.retention,
    retentionTier: {maxAge: p.tier.maxAge, minKeep: p.tier.minKeep, immutable: p.tier.immutable},
    allowDestroy: p.allowDestroy,
    tags: [...p.tags].sort(),
    compression: {codec: p.compression.codec, level: p.compression.level},
    // Only the key id: the key itself is a secret and never reaches a plan or the state.
    encryption: p.encryption ? {keyId: p.encryption.keyId} : null,
    rpo: p.rpo ?? null,
    consumerGroups: {include: p.consumerGroups.include.map((x) => x.source), exclude: p.consumerGroups.exclude.map((x) => x.source)},
    segment: {maxBytes: p.segment.maxBytes, maxRecords: p.segment.maxRecords ?? null},
    masking: p.masking ? {fields: [...p.masking.fields], mode: p.masking.mode} : null,
    // Recorded with each apply (a change shows in the plan as an update); only when set, so a
    // policy applied before labels existed does not show as changed.
    ...(Object.keys(p.labels).length > 0 ? {labels: Object.fromEntries(Object.entries(p.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))} : {}),
    // Only when declared: a policy applied before replicas existed must not show as changed.
    ...(p.replicas.length > 0 ? {replicas: p.replicas.map((r) => ({store: r.store, retention: r.retention}))} : {}),
    // Only when set: a policy applied before this key existed must not show as changed.
    ...(p.rateLimit ? {rateLimit: {...p.rateLimit}} : {}),
  }
}

function desiredPolicy(p: PolicyConfig, ws: Workspace): DesiredPolicy {
  return {
    name: p.name,
    cluster: p.cluster,
    store: p.store,
    include: p.topics.include.map((x) => x.regex),
    exclude: p.topics.exclude.map((x) => x.regex),
    internalTopics: p.internalTopics,
    groupInclude: p.consumerGroups.include.map((x) => x.regex),
    groupExclude: p.consumerGroups.exclude.map((x) => x.regex),
    retention: {tier: p.retention, maxAgeMs: p.tier.maxAgeMs, minKeep: p.tier.minKeep, immutable: p.tier.immutable, allowDestroy: p.allowDestroy},
    ...(p.rpoMs !== undefined ? {rpoMs: p.rpoMs} : {}),
    tags: [...p.tags],
    settings: policySettings(p),
    replicas: p.replicas.map((r) => ({store: r.store, sourceKind: ws.stores[p.store]?.type ?? 'fs', retention: {tier: r.retention, maxAgeMs: r.tier.maxAgeMs, minKeep: r.tier.minKeep, immutable: r.tier.immutable, allowDestroy: p.allowDestroy}})),
  }
}

export function restoreSettings(r: RestoreConfig): Record<string, unknown> {
  return {
    policy: r.from.policy,
    pointInTime: r.from.pointInTime,
    cluster: r.to.cluster,
    topicSuffix: r.to.topicSuffix ?? null,
    rename: {...r.to.rename},
    topics: {include: r.topics.include.map((x) => x.source), exclude: r.topics.exclude.map((x) => x.source)},
    createTopics: r.createTopics,
    partitions: r.partitions ?? null,
    configs: {...r.configs},
    partitionMapping: r.partitionMapping ? {...r.partitionMapping} : null,
    consumerGroups: {translate: [...r.consumerGroups.translate].sort()},
    ifTargetNotEmpty: r.ifTargetNotEmpty,
    // Only when set: an intent applied before this key existed must not show as changed.
    ...(r.extendRetention ? {extendRetention: true} : {}),
    ...(r.streams ? {streams: {applicationId: r.streams.applicationId}} : {}),
    ...(r.from.store !== undefined ? {store: r.from.store} : {}),
    // Pinned in the plan: the restore's apply reads its limit from here (restore-run.ts).
    ...(r.rateLimit ? {rateLimit: {...r.rateLimit}} : {}),
    // Only when set, like extendRetention: pinned in the plan, read by the restore's apply.
    ...(r.compression ? {compression: r.compression} : {}),
  }
}

function desiredRestore(r: RestoreConfig): DesiredRestore {
  return {
    name: r.name,
    policy: r.from.policy,
    cluster: r.to.cluster,
    pointInTime: r.from.pointInTime,
    include: r.topics.include.map((x) => x.regex),
    exclude: r.topics.exclude.map((x) => x.regex),
    ...(r.to.topicSuffix !== undefined ? {topicSuffix: r.to.topicSuffix} : {}),
    rename: {...r.to.rename},
    createTopics: r.createTopics,
    ...(r.partitions !== undefined ? {partitions: r.partitions} : {}),
    configs: {...r.configs},
    ...(r.partitionMapping ? {partitionMapping: {...r.partitionMapping}} : {}),
    translateGroups: [...r.consumerGroups.translate],
    ifTargetNotEmpty: r.ifTargetNotEmpty,
    extendRetention: r.extendRetention,
    ...(r.streams ? {streamsApplicationId: r.streams.applicationId} : {}),
    ...(r.from.store !== undefined ? {store: r.from.store} : {}),
    settings: restoreSettings(r),
    ...(r.drill ? {drill: {...(r.drill.everyMs !== undefined ? {everyMs: r.drill.everyMs} : {}), ...(r.drill.rtoMs !== undefined ? {rtoMs: r.drill.rtoMs} : {}), cleanup: r.drill.cleanup}} : {}),
  }
}
