// The plan use case: refresh what is really there, add what the stores say about their own
// protection, check the targets, and hand everything to the pure planner.
import {applyStoreProtection, storesHoldingImmutable} from '../config/store-protection.js'
import {KbkError} from '../errors.js'
import {findUnknownTargets} from '../plan/targets.js'
import type {Desired, Observed, Plan} from '../plan/types.js'
import {toPlanDiagnostic, type WorkspaceContext} from './workspace.js'

export interface MakePlanOptions {
  refreshOnly: boolean
  targets: string[]
  listObjects: boolean
  /** Say in the plan when the apply will rewrite the runbooks kept in the stores (app/runbook.ts). */
  runbooks?: {envNames: string[]; configFile: string}
}

export async function makePlan(ctx: WorkspaceContext, options: MakePlanOptions): Promise<Plan> {
  // Loaded on first use, so commands that never plan start fast.
  const [{readObserved}, {planChanges}] = await Promise.all([import('../refresh/read-observed.js'), import('../plan/plan-changes.js')])
  const now = ctx.clock()
  const read = await readObserved(ctx.desired, {store: (n) => ctx.storeHandle(n), kafka: (c) => ctx.kafka(c)}, {now, listObjects: options.listObjects})
  const observed = await withDrillRuns(ctx, read.observed)
  if (ctx.desired.offsetResets) {
    // Offset resets read their groups and sources beside the rest (offsets/read-offsets.ts).
    const {readOffsetResets} = await import('../offsets/read-offsets.js')
    const offsets = await readOffsetResets(ctx.desired, observed.states, {store: (n) => ctx.storeHandle(n), kafka: (c) => ctx.kafka(c)})
    observed.offsets = offsets.views
    observed.states = offsets.states
  }
  const desired = await withStoreProtection(ctx)
  assertTargetsKnown(options.targets, desired, observed)
  const plan = planChanges(desired, observed, {now, kbkVersion: ctx.kbkVersion, refreshOnly: options.refreshOnly, targets: options.targets})
  // Schema registries: notes on the backups and restores that involve one (src/app/schema-registry.ts).
  if (Object.keys(ctx.workspace.schemaRegistries).length > 0) await (await import('./schema-registry.js')).addSchemaRegistryNotes(ctx, plan)
  if (options.runbooks) await (await import('./runbook.js')).addRunbookNotes(ctx, plan, options.runbooks.envNames, options.runbooks.configFile)
  return plan
}

/** A --target that matches nothing is a mistake, not an empty plan (KBK_TARGET_UNKNOWN). */
function assertTargetsKnown(targets: string[], desired: Desired, observed: Observed): void {
  const unknown = findUnknownTargets(targets, desired, observed)
  if (unknown.length === 0) return
  const first = unknown[0]!
  throw new KbkError('KBK_TARGET_UNKNOWN', unknown.map((u) => u.message).join('\n'), {
    suggestion: `${first.guess ? `Did you mean '${first.guess}'? ` : ''}Addresses look like policy.orders, backup.orders["orders.created"] or restore.drill; \`kbk plan\` prints every address it would act on.`,
    details: {targets: unknown.map((u) => ({target: u.target, ...(u.guess ? {did_you_mean: u.guess} : {})}))},
  })
}

/**
 * The compliance rules again, against what the stores really do (config/store-protection.ts).
 * One probe per store (cached by the adapter), only for stores that hold immutable policies.
 */
async function withStoreProtection(ctx: WorkspaceContext): Promise<Desired> {
  const stores = storesHoldingImmutable(ctx.workspace)
  if (stores.size === 0) return ctx.desired
  const enforces = new Map<string, boolean>()
  for (const name of stores.keys()) {
    // A store that cannot be asked was already reported by the refresh; `objectLock: true` on a
    // bucket without the lock fails here, loudly, as documented.
    enforces.set(name, (await ctx.storeHandle(name).store.capabilities()).enforcesRetention)
  }
  const {kept, added} = applyStoreProtection(ctx.workspace, ctx.findings, enforces, (name) => ctx.workspace.positionOf(['stores', name]))
  return {...ctx.desired, diagnostics: [...kept.map(toPlanDiagnostic), ...added]}
}

/** Drill runs (from the evidence objects' names), for stores whose policies or intents need them. */
async function withDrillRuns(ctx: WorkspaceContext, observed: Observed): Promise<Observed> {
  const d = ctx.desired
  const needs = Object.values(d.restores).some((r) => r.drill || d.forceDrills?.includes(r.name)) || Object.keys(d.drillWithinMs).length > 0
  if (!needs) return observed
  const {listDrillRuns} = await import('../audit/evidence.js')
  const drills: NonNullable<Observed['drills']> = {}
  for (const name of Object.keys(observed.states)) drills[name] = await listDrillRuns(ctx.storeHandle(name).store)
  return {...observed, drills}
}
