// The drill use case: `kbk drill NAME` plans a drill of any restore intent now (marked `drill:`
// or not) and applies just that; the drill itself runs inside apply (app/drill-executor.ts).
import type {ApplyOutcome} from '../apply/apply-plan.js'
import type {Reporter} from '../apply/events.js'
import type {DrillEvidence} from '../audit/evidence.js'
import {closest} from '../config/diagnostics.js'
import {KbkError, asKbkError} from '../errors.js'
import type {Plan, RestoreRun} from '../plan/types.js'
import type {DrillReportInput} from '../format/drill-report.js'
import type {DrillOutcome} from './drill-executor.js'
import {makePlan} from './plan.js'
import {runApply} from './apply.js'
import type {WorkspaceContext} from './workspace.js'

export {formatMs} from './drill-executor.js'

export interface RunDrillOptions {
  reporter: Reporter
  lockTimeoutMs: number
  /** Keep the scratch topics (for a look at them) whatever the intent says. */
  keep?: boolean
  signal?: AbortSignal
}

export interface DrillRunResult {
  drill: string
  plan: Plan
  outcome: ApplyOutcome
  evidence?: DrillEvidence
  evidence_key?: string
}

/** `kbk drill NAME`: a drill of any restore intent, now. */
export async function runDrill(ctx: WorkspaceContext, name: string, options: RunDrillOptions): Promise<DrillRunResult> {
  if (!ctx.desired.restores[name]) {
    const names = Object.keys(ctx.desired.restores)
    const guess = closest(name, names)
    throw new KbkError('KBK_DRILL_UNKNOWN', `No restore intent "${name}" in the workspace${names.length > 0 ? ` (it has: ${names.join(', ')})` : ''}.`, {
      suggestion: guess ? `Did you mean \`kbk drill ${guess}\`?` : 'Declare it under restores: (any restore intent can be drilled), then run kbk drill NAME.',
    })
  }
  const forced: WorkspaceContext = {...ctx, desired: {...ctx.desired, forceDrills: [name]}}
  const plan = await makePlan(forced, {refreshOnly: false, targets: [`restore.${name}`], listObjects: false})
  const errors = plan.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length > 0) {
    const own = errors.find((d) => d.code === 'KBK_DRILL_TARGET_PRODUCTION')
    if (own) throw new KbkError('KBK_DRILL_TARGET_PRODUCTION', own.message, {suggestion: own.suggestion ?? ''})
    throw new KbkError('KBK_PLAN_NOT_APPLYABLE', `The drill cannot run: ${errors.map((d) => d.message).join('; ')}`, {suggestion: 'Fix the problems above (`kbk plan` lists them too), then run the drill again.', details: {diagnostics: errors}})
  }
  const change = plan.resource_changes.find((c) => c.type === 'restore' && c.restore.drill)
  if (!change || change.type !== 'restore') {
    throw new KbkError('KBK_DRILL_NOTHING_TO_RESTORE', `Drill "${name}" has nothing to restore: policy "${ctx.desired.restores[name]!.policy}" has no backup of the intent's topics yet.`, {
      suggestion: 'Run kbk apply first (it takes the first backup), then run the drill.',
    })
  }
  if (options.keep) (change.restore.drill as NonNullable<RestoreRun['drill']>).cleanup = false
  const results = new Map<string, DrillOutcome>()
  let outcome: ApplyOutcome
  try {
    outcome = await runApply(forced, plan, {reporter: options.reporter, lockTimeoutMs: options.lockTimeoutMs, ...(options.signal ? {signal: options.signal} : {}), drillResults: results})
  } catch (error) {
    throw asKbkError(error)
  }
  const r = results.get(change.address)
  return {drill: name, plan, outcome, ...(r ? {evidence: r.evidence, evidence_key: r.evidence_key} : {})}
}


/** Everything `kbk drill report` renders, read from one store. */
export async function readDrillReport(ctx: WorkspaceContext, storeName: string, options: {since?: Date}): Promise<DrillReportInput> {
  const [{readEvidence, listDrillRuns}, {isDrillDue}] = await Promise.all([import('../audit/evidence.js'), import('../plan/planners/drill.js')])
  const store = ctx.storeHandle(storeName).store
  const read = await readEvidence(store, options.since ? {since: options.since} : {})
  const runs = await listDrillRuns(store)
  const now = ctx.clock()
  const declared = Object.values(ctx.workspace.restores)
    .filter((r) => r.drill && ctx.workspace.policies[r.from.policy]?.store === storeName)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((r) => {
      const d = ctx.desired.restores[r.name]!
      const last = runs[r.name] ?? {}
      return {drill: r.name, policy: r.from.policy, every: r.drill?.every ?? null, rto: r.drill?.rto ?? null, last_pass: last.last_pass ?? null, overdue: isDrillDue(d, last, now)}
    })
  return {
    generated_at: now.toISOString(),
    since: options.since ? options.since.toISOString() : null,
    workspace_digest: ctx.workspace.digest,
    kbk_version: ctx.kbkVersion,
    evidence: read.filter((e): e is {key: string; evidence: DrillEvidence} => e.evidence !== undefined),
    declared,
    unreadable: read.filter((e) => !e.evidence).map((e) => e.key),
  }
}
