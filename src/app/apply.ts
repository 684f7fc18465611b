// The apply use case: execute a plan through the workspace's ports (apply/apply-plan.ts does
// the executing), run restores with the policy's keyring, and leave a hash-chained audit record
// in every store the plan touched.
import {createHash} from 'node:crypto'
import type {ApplyOutcome, RestoreExecutor, StoreHandle} from '../apply/apply-plan.js'
import type {Reporter} from '../apply/events.js'
import type {AuditEntry} from '../audit/audit-log.js'
import {KbkError} from '../errors.js'
import {hasChanges} from '../plan/types.js'
import type {Plan} from '../plan/types.js'
import {makePlan} from './plan.js'
import type {WorkspaceContext} from './workspace.js'

/** What the apply use case needs from the person running it: to see a fresh plan, and approve it. */
export interface ApplyHost {
  showPlan(plan: Plan): void
  /** Resolves when approved; throws (KBK_APPLY_CANCELLED, KBK_APPROVAL_REQUIRED) when not. */
  approve(): Promise<void>
}

/**
 * The plan an apply runs: a saved plan exactly as it is, or a fresh one that the host has shown
 * and, unless auto-approved, had approved. Undefined: there is nothing to do.
 */
export async function planToApply(ctx: WorkspaceContext, source: {saved: Plan} | {targets: string[]; autoApprove: boolean}, host: ApplyHost): Promise<Plan | undefined> {
  if ('saved' in source) return hasChanges(source.saved) ? source.saved : undefined
  const plan = await makePlan(ctx, {refreshOnly: false, targets: source.targets, listObjects: false})
  host.showPlan(plan)
  const problems = plan.diagnostics.filter((d) => d.severity === 'error')
  if (problems.length > 0) {
    // The host may not show the plan (--json): the error carries the problems.
    throw new KbkError('KBK_PLAN_NOT_APPLYABLE', 'The plan has errors; nothing was applied.', {
      suggestion: 'Fix the problems listed above and run `kbk apply` again.',
      details: {diagnostics: problems},
    })
  }
  if (!hasChanges(plan)) return undefined
  if (!source.autoApprove) await host.approve()
  return plan
}

export interface RunApplyOptions {
  reporter: Reporter
  lockTimeoutMs: number
  signal?: AbortSignal
}

export async function runApply(ctx: WorkspaceContext, plan: Plan, options: RunApplyOptions): Promise<ApplyOutcome> {
  // Loaded on first use, so commands that never apply start fast.
  const [{applyPlan}, {applyRestoreRun}, {appendAuditEntry}] = await Promise.all([
    import('../apply/apply-plan.js'),
    import('../restore/restore-run.js'),
    import('../audit/audit-log.js'),
  ])
  const stores: Record<string, StoreHandle> = {}
  for (const name of Object.keys(plan.states)) stores[name] = ctx.storeHandle(name)
  const schemas = Object.keys(ctx.workspace.schemaRegistries).length > 0 ? await import('./schema-registry.js') : undefined
  const restore: RestoreExecutor = async (run, address, deps) => {
    // Schemas first: registered (and checked) in the target before any record is produced.
    const prepared = schemas ? await schemas.prepareSchemaRestore(ctx, run, deps.store, deps.reporter, address) : undefined
    return applyRestoreRun(run, address, {
      store: deps.store,
      state: deps.committer,
      reporter: deps.reporter,
      now: deps.now,
      kafka: ctx.kafka(run.cluster),
      loadSegments: (policy, topic) => deps.state.loadSegments(deps.committer.current.snapshot, policy, topic),
      keyring: ctx.keyring(run.policy),
      settings: deps.settings,
      tally: deps.tally,
      ...(deps.signal ? {signal: deps.signal} : {}),
      ...(prepared?.transform ? {transformRecord: prepared.transform} : {}),
    })
  }
  const outcome = await applyPlan(plan, {
    stores,
    kafka: (c) => ctx.kafka(c),
    backupRuntime: (p) => ctx.backupRuntime(p),
    restore,
    reporter: options.reporter,
    // Every apply leaves a hash-chained audit record in each store it touched.
    afterApply: async (outcome) => {
      const digest = planDigest(plan)
      for (const [name, handle] of Object.entries(stores)) await appendAuditEntry(handle.store, auditRecordOf(ctx, plan, digest, outcome, name))
    },
    configDigest: ctx.desired.configDigest,
    kbkVersion: ctx.kbkVersion,
    now: ctx.clock,
    lockTimeoutMs: options.lockTimeoutMs,
    who: ctx.who,
    ...(options.signal ? {signal: options.signal} : {}),
  })
  // One immutable schema snapshot per policy whose backups ran (after the records: see takeSchemaSnapshots).
  if (schemas) {
    for (const t of await schemas.takeSchemaSnapshots(ctx, plan, outcome)) {
      options.reporter.emit({type: 'warning', message: `schema snapshot of policy "${t.policy}": ${t.subjects} subject(s), ${t.versions} version(s) in ${t.key}${t.notes.length > 0 ? ` (${t.notes.join('; ')})` : ''}`})
    }
  }
  return outcome
}

/** The audit record of one apply in one store: who, which plan and config, what it did there. */
export function auditRecordOf(ctx: Pick<WorkspaceContext, 'workspace' | 'kbkVersion' | 'who'>, plan: Plan, digest: string, outcome: ApplyOutcome, store: string): Omit<AuditEntry, 'seq' | 'prev_hash' | 'hash'> {
  const touched = plan.resource_changes.filter((ch) => ch.store === store)
  return {
    at: outcome.finished_at,
    who: ctx.who,
    kbk_version: ctx.kbkVersion,
    run_id: outcome.run_id,
    plan_digest: digest,
    config_digest: plan.config_digest,
    outcome: outcome.interrupted ? 'interrupted' : outcome.ok ? 'success' : 'failed',
    actions: touched.map((ch) => ({address: ch.address, action: ch.actions[0] ?? 'run', status: outcome.changes.find((o) => o.address === ch.address)?.status ?? 'skipped'})),
    counts: {...outcome.summary},
  }
}

/** sha256 of the plan's JSON, as the audit trail records it. */
export function planDigest(plan: Plan): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(plan)).digest('hex')}`
}

