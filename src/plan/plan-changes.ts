// The planner: a pure function from what the config asks for and what the refresh observed to
// a Plan. It imports no SDK, reads no clock (`now` is an input), never mutates its inputs,
// and sorts its output so the same inputs always give the same plan.
import {matchesTarget} from './addresses.js'
import {planBackups} from './planners/backup.js'
import {checkRpo, storeDrift} from './planners/drift.js'
import {checkDrillCompliance, planDrill, plansAsDrill} from './planners/drill.js'
import {planExpiry} from './planners/expiry.js'
import {planOffsetResets} from './planners/offsets.js'
import {planPolicy, planRemovedPolicies} from './planners/policy.js'
import {planReplication, replicaDiagnostic} from './planners/replication.js'
import {planRestore} from './planners/restore.js'
import {diagnostic, sortedEntries, sortedValues} from './planners/shared.js'
import type {Desired, Drift, Observed, Plan, PlanDiagnostic, PlanOptions, ResourceChange} from './types.js'
import {PLAN_FORMAT_VERSION, summarize} from './types.js'

// Kept here for the modules that import them from the planner's front door.
export {topicMatches} from './planners/backup.js'
export {RESTORE_RETENTION_MARGIN_MS} from './planners/restore.js'

export function planChanges(desired: Desired, observed: Observed, options: PlanOptions): Plan {
  const changes: ResourceChange[] = []
  const drift: Drift[] = []
  const diagnostics: PlanDiagnostic[] = [...desired.diagnostics]
  const unreadable = new Set<string>()

  for (const policy of sortedValues(desired.policies)) {
    const state = observed.states[policy.store]
    const cluster = observed.clusters[policy.cluster]
    const storeError = observed.store_errors?.[policy.store]
    if (storeError) {
      // Nothing of this policy can be planned; a plan targeted elsewhere (a restore from a replica) goes on.
      const targeted = options.targets !== undefined && options.targets.length > 0
      const touched = !targeted || options.targets!.some((t) => t === `policy.${policy.name}` || t.startsWith(`backup.${policy.name}[`) || t.startsWith(`expire.${policy.name}`) || t.startsWith(`replicate.${policy.name}@`))
      diagnostics.push(replicaDiagnostic(touched ? 'error' : 'warning', {kind: 'store-unreadable', policy: policy.name, store: policy.store, error: storeError.message, replicas: (policy.replicas ?? []).map((r) => r.store)}))
      continue
    }
    planPolicy(policy, state, changes)
    if (!state) continue
    planReplication(policy, desired, observed, options, changes, drift, diagnostics)
    if (!cluster || cluster.error) {
      // Not drift: without the cluster the plan cannot say what it would copy, so it must not
      // pretend to be complete. An error makes the plan fail (exit 1) and unapplyable.
      if (!unreadable.has(policy.cluster)) {
        unreadable.add(policy.cluster) // one diagnostic per cluster, however many policies use it
        diagnostics.push(diagnostic('error', {kind: 'cluster-unreachable', code: cluster?.error?.code ?? 'KBK_KAFKA_UNREACHABLE', cluster: policy.cluster, policy: policy.name, error: cluster?.error?.message}))
      }
      continue
    }
    planBackups(policy, state, cluster, options, changes, drift)
    planExpiry(policy, state, observed, desired, options, changes, diagnostics)
    checkRpo(policy, state, cluster, options, drift)
    checkDrillCompliance(policy, desired, observed, options, drift)
  }
  for (const [storeName, state] of sortedEntries(observed.states)) {
    planRemovedPolicies(desired, storeName, state, changes)
    storeDrift(storeName, state, observed, drift)
  }
  for (const restore of sortedValues(desired.restores)) {
    if (plansAsDrill(restore, desired)) planDrill(restore, desired, observed, options, changes, diagnostics, drift)
    else planRestore(restore, desired, observed, options, changes, diagnostics)
  }
  planOffsetResets(desired, observed, changes, diagnostics)

  let selected = options.refreshOnly ? [] : changes
  if (options.targets && options.targets.length > 0) {
    const targets = options.targets
    selected = selected.filter((c) => targets.some((t) => matchesTarget(c.address, t)))
  }
  selected = [...selected].sort(compareChanges)
  const sortedDrift = [...drift].sort(
    (a, b) => severityRank(a.severity) - severityRank(b.severity) || a.address.localeCompare(b.address) || a.kind.localeCompare(b.kind),
  )

  const states: Plan['states'] = {}
  for (const [name, s] of sortedEntries(observed.states)) states[name] = {lineage: s.lineage, serial: s.serial}
  // Replica stores are written by replication and read by restores: apply locks and pins them too.
  for (const [name, r] of sortedEntries(observed.replicas ?? {})) if (r.state) states[name] = {lineage: r.state.lineage, serial: r.state.serial}

  const hasErrors = diagnostics.some((d) => d.severity === 'error')
  return {
    format_version: PLAN_FORMAT_VERSION,
    kbk_version: options.kbkVersion,
    created_at: options.now.toISOString(),
    refresh_only: Boolean(options.refreshOnly),
    config_digest: desired.configDigest,
    states,
    ...(options.targets && options.targets.length > 0 ? {targets: [...options.targets]} : {}),
    resource_changes: selected,
    drift: sortedDrift,
    diagnostics,
    summary: summarize(selected, sortedDrift),
    applyable: !options.refreshOnly && !hasErrors,
  }
}

// Copies are made before the primary's expiry, so what a longer replica tier keeps is copied first.
const TYPE_ORDER: Record<string, number> = {policy: 0, backup: 1, replicate: 1.5, expire: 2, restore: 3, offsets: 4}

function compareChanges(a: ResourceChange, b: ResourceChange): number {
  return (TYPE_ORDER[a.type] ?? 9) - (TYPE_ORDER[b.type] ?? 9) || a.address.localeCompare(b.address)
}

function severityRank(s: Drift['severity']): number {
  return s === 'critical' ? 0 : s === 'warning' ? 1 : 2
}
