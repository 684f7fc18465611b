// The apply use case: execute a plan through the workspace's ports (apply/apply-plan.ts does
// the executing), run restores with the policy's keyring, and leave a hash-chained audit record
// in every store the plan touched.
import {createHash} from 'node:crypto'
import type {ApplyOutcome, OffsetsExecutor, RestoreExecutor, StoreHandle} from '../apply/apply-plan.js'
import {formatCount} from '../format/numbers.js'
import type {BackupRuntime} from '../apply/backup-run.js'
import type {Reporter} from '../apply/events.js'
import type {AuditEntry} from '../audit/audit-log.js'
import {KbkError} from '../errors.js'
import {hasChanges} from '../plan/types.js'
import type {Plan} from '../plan/types.js'
import {makePlan} from './plan.js'
import {shardPlan, shardWeights, workItemsOf} from '../apply/shard.js'
import type {ShardSpec} from '../apply/shard.js'
export {parseShardSpec} from '../apply/shard.js'
import {sleep} from '../sleep.js'
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
  /** Where drills (restores with `drill`) leave their evidence, by address (app/drill.ts). */
  drillResults?: Map<string, import('./drill-executor.js').DrillOutcome>
  /** Keep the workspace's runbooks in the stores the apply touched (app/runbook.ts). */
  runbooks?: {envNames: string[]; configFile: string}
  /** `--shard I/N`: apply only this worker's share of the (saved) plan. */
  shard?: ShardSpec
}

/** A sharded apply's outcome says which share it was, and how heavy each share is. */
export interface ShardedApplyOutcome extends ApplyOutcome {
  shard?: {index: number; count: number; plan_digest: string; items: number; planned_bytes: number[]}
}

export async function runApply(ctx: WorkspaceContext, fullPlan: Plan, options: RunApplyOptions): Promise<ShardedApplyOutcome> {
  // Every worker computes the same share from the plan alone; the run lock carries the whole
  // plan's digest, so only workers of this plan (and this N) share it.
  const digest = planDigest(fullPlan)
  const spec = options.shard
  const plan = spec ? shardPlan(fullPlan, spec) : fullPlan
  // Loaded on first use, so commands that never apply start fast.
  const [{applyPlan}, {applyRestoreRun}, {appendAuditEntry}, {drillingExecutor}] = await Promise.all([
    import('../apply/apply-plan.js'),
    import('../restore/restore-run.js'),
    import('../audit/audit-log.js'),
    import('./drill-executor.js'),
  ])
  const stores: Record<string, StoreHandle> = {}
  for (const name of Object.keys(plan.states)) stores[name] = ctx.storeHandle(name)
  const schemas = Object.keys(ctx.workspace.schemaRegistries).length > 0 ? await import('./schema-registry.js') : undefined
  const plainRestore: RestoreExecutor = async (run, address, deps) => {
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
      ...(spec ? {shards: spec.count} : {}),
    })
  }
  // Drills are restores followed by validation, timing, cleanup and evidence (app/drill-executor.ts).
  const restore = drillingExecutor(ctx, plainRestore, options.drillResults ?? new Map())
  const captured = new GroupCapture()
  const outcome = await applyPlan(plan, {
    stores,
    kafka: (c) => ctx.kafka(c),
    // A sharded run's workers each take 1/N of a policy's or restore's rateLimit.
    backupRuntime: (p) => captured.wrap(p, spec ? {...ctx.backupRuntime(p), shards: spec.count} : ctx.backupRuntime(p)),
    restore,
    offsets: offsetsExecutor(ctx),
    reporter: options.reporter,
    // Every apply leaves a hash-chained audit record in each store it touched.
    afterApply: async (outcome) => {
      await captured.writeSnapshots(ctx, outcome.run_id)
      for (const [name, handle] of Object.entries(stores)) {
        // N workers finish at about the same time: a lost race for the next audit number is retried.
        for (let attempt = 1; ; attempt++) {
          try {
            await appendAuditEntry(handle.store, auditRecordOf(ctx, plan, digest, outcome, name))
            break
          } catch (error) {
            if (!spec || !(error instanceof KbkError) || error.code !== 'KBK_AUDIT_CONFLICT' || attempt >= 20) throw error
            await sleep(Math.floor(Math.random() * 100 * attempt))
          }
        }
      }
      // One worker of a sharded run keeps the runbooks: they describe the workspace, not the share.
      if (options.runbooks && (!spec || spec.index === 1)) {
        // Best effort: the apply itself is done; a runbook that cannot be written is a warning.
        try {
          const {storeRunbooks} = await import('./runbook.js')
          await storeRunbooks(ctx, Object.keys(stores), options.runbooks.envNames, options.runbooks.configFile)
        } catch (error) {
          options.reporter.emit({type: 'warning', message: `could not update the runbooks in the store: ${error instanceof Error ? error.message : String(error)}`})
        }
      }
    },
    configDigest: ctx.desired.configDigest,
    kbkVersion: ctx.kbkVersion,
    now: ctx.clock,
    lockTimeoutMs: options.lockTimeoutMs,
    who: ctx.who,
    ...(ctx.testHooks ? {testHooks: ctx.testHooks} : {}),
    ...(options.signal ? {signal: options.signal} : {}),
    ...(spec ? {shard: {...spec, planDigest: digest}} : {}),
  })
  // One immutable schema snapshot per policy whose backups ran (after the records: see takeSchemaSnapshots).
  if (schemas) {
    for (const t of await schemas.takeSchemaSnapshots(ctx, plan, outcome)) {
      options.reporter.emit({type: 'warning', message: `schema snapshot of policy "${t.policy}": ${t.subjects} subject(s), ${t.versions} version(s) in ${t.key}${t.notes.length > 0 ? ` (${t.notes.join('; ')})` : ''}`})
    }
  }
  return spec ? {...outcome, shard: {index: spec.index, count: spec.count, plan_digest: digest, items: workItemsOf(plan).length, planned_bytes: shardWeights(fullPlan, spec.count)}} : outcome
}

/**
 * The consumer group offsets backups record (policies with consumerGroups.include), gathered per
 * policy during the apply and written as one snapshot per policy afterwards: the history
 * `to: timestamp` resets go back to (offsets/snapshots.ts).
 */
class GroupCapture {
  readonly #byPolicy = new Map<string, Record<string, Record<string, Record<number, number>>>>()

  wrap(policy: string, runtime: BackupRuntime): BackupRuntime {
    const groups = runtime.groups
    if (!groups) return runtime
    return {
      ...runtime,
      groups: async (kafka, topic) => {
        const got = await groups(kafka, topic)
        const mine = this.#byPolicy.get(policy) ?? {}
        for (const [g, offsets] of Object.entries(got)) (mine[g] ??= {})[topic] = offsets
        this.#byPolicy.set(policy, mine)
        return got
      },
    }
  }

  async writeSnapshots(ctx: WorkspaceContext, runId: string): Promise<void> {
    if (this.#byPolicy.size === 0) return
    const {newSnapshotId, writeSnapshot} = await import('../offsets/snapshots.js')
    for (const [policy, groups] of [...this.#byPolicy].sort(([a], [b]) => a.localeCompare(b))) {
      const p = ctx.workspace.policies[policy]
      if (!p || Object.keys(groups).length === 0) continue
      const at = ctx.clock()
      await writeSnapshot(ctx.storeHandle(p.store).store, {
        format_version: 1,
        id: newSnapshotId(at),
        taken_at: at.toISOString(),
        cluster: p.cluster,
        reason: {kind: 'backup', policy, run_id: runId},
        // Read with the admin API beside the backup: the members are not described there.
        groups: Object.fromEntries(Object.entries(groups).map(([g, offsets]) => [g, {state: 'Unknown', members: [], offsets}])),
      })
    }
  }
}

/** Offset resets and rollbacks, on the reset's cluster (offsets/apply-reset.ts). */
function offsetsExecutor(ctx: WorkspaceContext): OffsetsExecutor {
  return async (run, address, deps) => {
    const {applyOffsetReset} = await import('../offsets/apply-reset.js')
    const r = await applyOffsetReset(run, {kafka: ctx.kafka(run.cluster), store: deps.store, committer: deps.committer, now: deps.now, settings: deps.settings, address, ...(deps.signal ? {signal: deps.signal} : {}), ...(ctx.testHooks?.afterOffsetSnapshot ? {afterSnapshot: ctx.testHooks.afterOffsetSnapshot} : {})})
    return {message: `${formatCount(r.committed)} offset(s) of ${formatCount(r.groups)} group(s) committed; snapshot ${r.snapshot} holds the offsets before (kbk offsets rollback ${r.snapshot})`}
  }
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

