// From the normalized workspace to the planner's input: what each policy and restore asks for,
// with canonical, secret-free settings (what the state records and the plan diffs). Pure.
import type {ComplianceTag, PolicyConfig, RestoreConfig, Workspace} from '../config/types.js'
import type {Desired, DesiredPolicy, DesiredRestore, PlanDiagnostic} from './types.js'

export function desiredFromWorkspace(ws: Workspace, tags: (name: string) => ComplianceTag | undefined, diagnostics: PlanDiagnostic[] = []): Desired {
  const policies: Record<string, DesiredPolicy> = {}
  const drillWithinMs: Record<string, number> = {}
  for (const p of Object.values(ws.policies)) {
    policies[p.name] = desiredPolicy(p)
    const windows = p.tags.map((t) => tags(t)?.requireDrillWithinMs).filter((x): x is number => x !== undefined)
    if (windows.length > 0) drillWithinMs[p.name] = Math.min(...windows)
  }
  const restores: Record<string, DesiredRestore> = {}
  for (const r of Object.values(ws.restores)) restores[r.name] = desiredRestore(r)
  return {policies, restores, drillWithinMs, configDigest: ws.digest, diagnostics}
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
    // Only when set: a policy applied before this key existed must not show as changed.
    ...(p.rateLimit ? {rateLimit: {...p.rateLimit}} : {}),
  }
}

function desiredPolicy(p: PolicyConfig): DesiredPolicy {
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
    // Pinned in the plan: the restore's apply reads its limit from here (restore-run.ts).
    ...(r.rateLimit ? {rateLimit: {...r.rateLimit}} : {}),
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
    settings: restoreSettings(r),
  }
}
