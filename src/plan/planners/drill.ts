// Recovery drills (docs/drills.md): a restore intent marked `drill:` is planned as a drill when
// due — never passed, or its last passing run is older than `every` — or when `kbk drill NAME`
// asks for one. A drill restores into scratch topics (the intent's targets plus a suffix pinned
// at plan time), which must not be topics the policy backs up. Compliance tags that require
// drills are satisfied only by a passing drill within their period. Pure.
import {restoreAddress} from '../addresses.js'
import type {Desired, DesiredPolicy, DesiredRestore, Drift, DrillRuns, Observed, PlanDiagnostic, PlanOptions, ResourceChange} from '../types.js'
import {buildRestoreRun, restoreSource} from './restore.js'
import {finding, fullMatch, notesField} from './shared.js'
import {policyAddress} from '../addresses.js'

/** The scratch suffix of a drill planned at `now`: -drill-20260330101500. */
export function scratchSuffix(now: Date): string {
  return `-drill-${now.toISOString().replace(/[-:TZ]/g, '').slice(0, 14)}`
}

/** The drill runs recorded for a restore intent in its policy's store. */
function runsOf(restore: DesiredRestore, desired: Desired, observed: Observed): DrillRuns {
  const policy = desired.policies[restore.policy]
  return (policy && observed.drills?.[policy.store]?.[restore.name]) || {}
}

export function isDrillDue(restore: DesiredRestore, runs: DrillRuns, now: Date): boolean {
  if (!restore.drill) return false
  if (!runs.last_pass) return true
  return restore.drill.everyMs !== undefined && now.getTime() - Date.parse(runs.last_pass) > restore.drill.everyMs
}

/** True when this intent is planned by planDrill (and not as a plain restore). */
export function plansAsDrill(restore: DesiredRestore, desired: Desired): boolean {
  return restore.drill !== undefined || (desired.forceDrills ?? []).includes(restore.name)
}

export function planDrill(restore: DesiredRestore, desired: Desired, observed: Observed, options: PlanOptions, changes: ResourceChange[], diagnostics: PlanDiagnostic[], drift: Drift[]): void {
  const policy = desired.policies[restore.policy]
  if (!policy) return
  const runs = runsOf(restore, desired, observed)
  const requested = (desired.forceDrills ?? []).includes(restore.name)
  const due = isDrillDue(restore, runs, options.now)
  if (due && restore.drill?.everyMs !== undefined && runs.last_pass) {
    // Overdue (it passed once, but too long ago): drift for the scheduled drift job.
    drift.push(
      finding(
        restoreAddress(restore.name),
        'warning',
        {kind: 'drill-overdue', cause: 'schedule', drill: restore.name, everyMs: restore.drill.everyMs, lastPass: runs.last_pass, lastRun: runs.last_run, lastResult: runs.last_result},
        {expected: {every_ms: restore.drill.everyMs}, found: {last_pass: runs.last_pass, last_run: runs.last_run ?? null}},
      ),
    )
  } else if (due && options.refreshOnly && restore.drill && desired.drillWithinMs[policy.name] === undefined) {
    // Never passed. (A policy whose tags require drills already gets the compliance finding.)
    drift.push(
      finding(
        restoreAddress(restore.name),
        'warning',
        {kind: 'drill-overdue', cause: 'schedule', drill: restore.name, everyMs: restore.drill?.everyMs ?? 0, lastPass: runs.last_pass, lastRun: runs.last_run, lastResult: runs.last_result},
        {expected: {every_ms: restore.drill?.everyMs ?? null}, found: {last_pass: runs.last_pass ?? null, last_run: runs.last_run ?? null}},
      ),
    )
  }
  if (options.refreshOnly || (!requested && !due)) return
  const suffix = scratchSuffix(options.now)
  const scratch: DesiredRestore = {
    ...restore,
    name: `${restore.name}${suffix}`,
    topicSuffix: `${restore.topicSuffix ?? ''}${suffix}`,
    rename: Object.fromEntries(Object.entries(restore.rename).map(([k, v]) => [k, `${v}${suffix}`])),
    createTopics: true,
    ifTargetNotEmpty: 'fail',
  }
  // A drill reads the copy its intent names (from.store), like the restore it drills.
  const source = restoreSource(scratch, policy, observed, options, diagnostics)
  if (!source) return
  const run = buildRestoreRun(scratch, policy, source, observed, options, diagnostics, false)
  if (!run) return
  const address = restoreAddress(restore.name)
  const production = run.topics.filter((t) => restore.cluster === policy.cluster && (t.target_topic === t.source_topic || backsUp(policy, t.target_topic)))
  if (production.length > 0) {
    diagnostics.push({
      severity: 'error',
      code: 'KBK_DRILL_TARGET_PRODUCTION',
      message: `${address}: a drill must not restore into topics policy "${policy.name}" backs up, but on cluster "${restore.cluster}" its scratch topic(s) ${production.map((t) => `"${t.target_topic}"`).join(', ')} match the policy's topics.`,
      suggestion: `Point restores.${restore.name}.to.cluster at a scratch cluster, or exclude ".*-drill-.*" in policies.${policy.name}.topics.exclude.`,
    })
    return
  }
  run.drill = {intent: restore.name, scratch_suffix: suffix, rto_ms: restore.drill?.rtoMs ?? null, cleanup: restore.drill?.cleanup ?? true, reason: requested ? 'requested' : 'due', last_pass: runs.last_pass ?? null}
  changes.push({
    address,
    type: 'restore',
    name: restore.name,
    store: run.store,
    actions: ['run'],
    before: null,
    after: {...restore.settings, drill: {scratch_suffix: suffix, rto_ms: run.drill.rto_ms, cleanup: run.drill.cleanup}},
    restore: run,
    ...notesField([
      requested ? 'drill requested (kbk drill)' : runs.last_pass ? `drill due: last passed ${runs.last_pass}` : 'drill due: it has never passed',
      `into scratch topics ${run.topics.map((t) => t.target_topic).join(', ')} on cluster "${run.cluster}", validated record by record${run.drill.rto_ms !== null ? `, rto ${Math.round(run.drill.rto_ms / 1000)}s` : ''}${run.drill.cleanup ? ', then deleted' : ', kept afterwards'}`,
    ]),
  })
}

function backsUp(policy: DesiredPolicy, topic: string): boolean {
  return policy.include.some((r) => fullMatch(r, topic)) && !policy.exclude.some((r) => fullMatch(r, topic))
}

/**
 * Compliance tags that require drills (dora: 1y) are satisfied only by a passing drill of an
 * intent from the policy within the period; otherwise the policy is out of compliance since the
 * moment its last pass aged out (or, never drilled, since always).
 */
export function checkDrillCompliance(policy: DesiredPolicy, desired: Desired, observed: Observed, options: PlanOptions, drift: Drift[]): void {
  const within = desired.drillWithinMs[policy.name]
  if (within === undefined) return
  const passes = Object.entries(observed.drills?.[policy.store] ?? {})
    .filter(([name]) => desired.restores[name]?.policy === policy.name)
    .map(([, r]) => r.last_pass)
    .filter((x): x is string => x !== undefined)
    .sort()
  const last = passes.pop()
  if (last && options.now.getTime() - Date.parse(last) <= within) return
  const since = last ? new Date(Date.parse(last) + within).toISOString() : undefined
  drift.push(
    finding(
      policyAddress(policy.name),
      'warning',
      {kind: 'drill-overdue', cause: 'compliance', policy: policy.name, withinMs: within, lastPass: last, since, tags: [...policy.tags].sort()},
      {expected: {within_ms: within}, found: last ? {last_drill: last, out_of_compliance_since: since} : {last_drill: null}},
    ),
  )
}
