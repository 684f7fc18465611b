// Executes a Plan through the ports: takes every involved store's lock for the whole run,
// refuses a stale plan, then runs the changes in order (policies, backups, expiry, restores)
// and records each outcome in the state. Emits typed events; never writes to the terminal.
import {randomUUID} from 'node:crypto'
import {KbkError, asKbkError} from '../errors.js'
import type {KafkaPort} from '../kafka/port.js'
import type {BackupRun, ExpirySet, OffsetResetRun, Plan, ReplicateChange, ResourceChange, RestoreRun} from '../plan/types.js'
import {applyReplication} from '../replication/replicate-run.js'
import {canApply} from '../plan/types.js'
import type {ObjectStore} from '../storage/object-store.js'
import {acquireLock, acquireRunLock} from '../state/lock.js'
import type {HeldLock} from '../state/lock.js'
import type {StateRead, StateStore} from '../state/state-store.js'
import {remainingShare} from './shard.js'
import {applyBackupRun, emptyBackupResult} from './backup-run.js'
import type {BackupResult, BackupRuntime} from './backup-run.js'
import type {ApplySummary, Reporter} from './events.js'
import {StateCommitter} from './state-committer.js'
import {formatBytes, formatCount} from '../format/numbers.js'
import type {RestoreTally} from '../restore/restore-run.js'
import {verifySegments} from '../verify/verify-backups.js'

export interface StoreHandle {
  store: ObjectStore
  state: StateStore
}

/**
 * Runs one restore (restore/restore-run.ts, bound to the cluster and the policy's keyring by the
 * application layer). Injected rather than imported because the keys and the target cluster are
 * the workspace's to give, not the executor's to look up.
 */
export interface RestoreExecutor {
  (
    run: RestoreRun,
    address: string,
    deps: {store: ObjectStore; state: StateStore; committer: StateCommitter; reporter: Reporter; now: () => Date; settings: Record<string, unknown>; signal?: AbortSignal; tally: RestoreTally},
  ): Promise<RestoreTally>
}

/** Runs one offsets change (offsets/apply-reset.ts, bound to the cluster by the application layer). */
export interface OffsetsExecutor {
  (run: OffsetResetRun, address: string, deps: {store: ObjectStore; committer: StateCommitter; now: () => Date; settings: Record<string, unknown>; signal?: AbortSignal}): Promise<{message: string}>
}

export interface ApplyContext {
  stores: Record<string, StoreHandle>
  kafka: (cluster: string) => KafkaPort
  backupRuntime: (policy: string) => BackupRuntime
  restore: RestoreExecutor
  /** Offset resets and rollbacks; a plan with an offsets change fails without it. */
  offsets?: OffsetsExecutor
  reporter: Reporter
  /** Digest of the config as it is now: a saved plan made from another config is stale. */
  configDigest: string
  kbkVersion: string
  now?: () => Date
  lockTimeoutMs?: number
  /** user@host, recorded in the lock. */
  who?: string
  /**
   * Aborted with 'SIGINT' or 'SIGTERM' as its reason: the running change stops reading (open
   * segments are dropped, no further produce request is sent), what is durable is committed, no
   * further change starts, and the lock is released as usual.
   */
  signal?: AbortSignal
  /** Test hooks (set by the composition root from KBK_TEST_* variables only). */
  testHooks?: {afterReplicaCopy?: () => void}
  /** Called with the outcome once everything is committed (the audit trail hooks in here). */
  afterApply?: (outcome: ApplyOutcome, committers: Record<string, StateCommitter>) => Promise<void>
  /**
   * Sharded apply (`--shard I/N`): the plan given is this worker's share (apply/shard.ts). The
   * store lock is the run lock all N workers of the plan with this digest share; the state may
   * have moved on since the plan only by this run's own workers, whose commits this one's
   * interleave with (compare-and-swap, retried); what a dead worker of this shard did is skipped.
   */
  shard?: {index: number; count: number; planDigest: string}
}

export interface ChangeOutcome {
  address: string
  /** interrupted: stopped part-way by a signal; `records` says what it had committed. */
  status: 'done' | 'failed' | 'skipped' | 'interrupted'
  message?: string
  code?: string
  /** Committed by this change: records backed up (in durable segments) or restored. */
  records?: number
  bytes?: number
  /** Backups: segments committed to the state. */
  segments?: number
}

export interface ApplyOutcome {
  ok: boolean
  run_id: string
  started_at: string
  finished_at: string
  changes: ChangeOutcome[]
  summary: ApplySummary
  /** Set when a signal stopped the apply: 'SIGINT' or 'SIGTERM'. */
  interrupted?: string
}

export async function applyPlan(share: Plan, ctx: ApplyContext): Promise<ApplyOutcome> {
  let plan = share
  const now = ctx.now ?? (() => new Date())
  const check = canApply(plan)
  if (!check.ok) throw new KbkError('KBK_PLAN_NOT_APPLYABLE', `This plan cannot be applied: ${check.reason}.`, {suggestion: 'Fix the problems `kbk plan` reports, then plan again.'})
  if (plan.config_digest !== ctx.configDigest) {
    throw new KbkError('KBK_PLAN_STALE', 'Saved plan is stale — the configuration changed after the plan was created.', {
      suggestion: 'Run `kbk plan --out FILE` again and apply the new plan.',
      kind: 'conflict',
    })
  }
  const runId = `${now().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomUUID().slice(0, 8)}`
  const started = Date.now()
  const startedAt = now().toISOString()
  const summary: ApplySummary = {changes: plan.resource_changes.length, done: 0, failed: 0, skipped: 0, records: 0, bytes: 0, stored_bytes: 0, segments: 0, deleted_segments: 0, restored_records: 0}
  const outcomes: ChangeOutcome[] = []
  // What each change committed, counted as it becomes durable; read once everything is flushed,
  // so a change that failed or was interrupted part-way reports exactly what it left committed.
  const tallies = new Map<ChangeOutcome, Tally>()
  const interrupted = (): string | undefined => (ctx.signal?.aborted ? signalName(ctx.signal) : undefined)
  ctx.reporter.emit({type: 'apply.start', changes: plan.resource_changes.length, run_id: runId})

  const storeNames = Object.keys(plan.states).sort()
  const locks: HeldLock[] = []
  const committers: Record<string, StateCommitter> = {}
  try {
    // Stores are locked in name order so two applies can never hold one each and wait forever.
    for (const name of storeNames) {
      const handle = requireStore(ctx, name)
      const notLocked = (): KbkError => new KbkError('KBK_APPLY_INTERRUPTED', `Apply stopped by ${interrupted()} before it took the lock of store "${name}": nothing was changed.`, {kind: 'user'})
      if (interrupted()) throw notLocked()
      const lockOptions = {timeoutMs: ctx.lockTimeoutMs ?? 0, kbkVersion: ctx.kbkVersion, ...(ctx.who ? {who: ctx.who} : {}), ...(ctx.signal ? {signal: ctx.signal} : {})}
      const lock = await (ctx.shard
        ? acquireRunLock(handle.store, {...lockOptions, planDigest: ctx.shard.planDigest, shard: ctx.shard.index, shards: ctx.shard.count, onWait: (holder, why) => ctx.reporter.emit({type: 'warning', message: `Store "${name}": ${why} (${holder.who}, ${holder.operation}, lock ${holder.id}); waiting.`})})
        : acquireLock(handle.store, {
            operation: 'apply',
            ...lockOptions,
            onWait: (holder) => ctx.reporter.emit({type: 'warning', message: `Store "${name}" is locked by ${holder.who} (${holder.operation}, lock ${holder.id}); waiting for it.`}),
          })
      ).catch((error: unknown) => {
        // The wait was cut short by the signal: that is a stop, not a failure to get the lock.
        if (interrupted()) throw notLocked()
        throw error
      })
      locks.push(lock)
      ctx.reporter.emit({type: 'lock.acquired', store: name, lock_id: lock.info.id})
      // A shard reads among committing siblings: patiently (the head may change under each read).
      let read = await handle.state.read(ctx.shard ? {patient: true} : {})
      const pinned = plan.states[name]!
      // No state yet, at plan time and now: each read of an empty store invents a lineage, so
      // adopt the plan's. Had anyone written a state since, the etag would say so.
      if (read.etag === undefined && pinned.serial === 0) read = {...read, snapshot: {...read.snapshot, lineage: pinned.lineage}}
      // A shard may find the state moved on, by its own run only (the run lock says nobody else held it since).
      const ownRun = 'continued' in lock && lock.continued === true && read.snapshot.serial > pinned.serial
      if (read.snapshot.lineage !== pinned.lineage || (read.snapshot.serial !== pinned.serial && !ownRun)) {
        throw new KbkError(
          'KBK_PLAN_STALE',
          `Saved plan is stale — the state of store "${name}" was changed by another operation after the plan was created (serial ${pinned.serial} → ${read.snapshot.serial}${read.snapshot.lineage !== pinned.lineage ? ', different lineage' : ''}).`,
          {suggestion: 'Run `kbk plan` again and apply the new plan.', kind: 'conflict'},
        )
      }
      if (read.etag === undefined) read = await establishState(handle, read, name, ctx.shard !== undefined)
      committers[name] = new StateCommitter(handle.state, read, {beforeCommit: () => lock.assertHeld(), ...(ctx.shard ? {shared: true, runSince: plan.created_at} : {})})
    }
    // A rerun shard continues what its dead predecessor left, read under the lock.
    if (ctx.shard) plan = await remainingShare(plan, shareProgress(ctx, committers))

    for (const change of plan.resource_changes) {
      if (interrupted()) {
        outcomes.push({address: change.address, status: 'skipped', code: 'KBK_APPLY_INTERRUPTED', message: `not started: apply stopped by ${interrupted()}`})
        summary.skipped++
        continue
      }
      if (change.blocked) {
        outcomes.push({address: change.address, status: 'skipped', message: change.blocked})
        summary.skipped++
        continue
      }
      const t0 = Date.now()
      ctx.reporter.emit({type: 'change.start', address: change.address, action: change.actions[0] ?? 'run'})
      const tally: Tally = {}
      try {
        const r = await applyChange(change, ctx, committers, runId, now, summary, tally)
        const o: ChangeOutcome = {address: change.address, status: 'done', ...r}
        outcomes.push(o)
        tallies.set(o, tally)
        summary.done++
        ctx.reporter.emit({type: 'change.done', address: change.address, summary: r.message ?? 'done', ...(r.records !== undefined ? {records: r.records} : {}), ...(r.bytes !== undefined ? {bytes: r.bytes} : {}), duration_ms: Date.now() - t0})
      } catch (error) {
        const e = asKbkError(error)
        if (e.code === 'KBK_KAFKA_NO_TOPIC' && change.backup) {
          // Deleted between plan and apply: what was copied stays recorded and restorable; the
          // topic is marked deleted so the next plan reports it, and the rest of the run goes on.
          const run = change.backup
          await committers[run.store]!.update({policy: run.policy, topic: run.topic, deletedAt: now().toISOString()})
          const message = `topic "${run.topic}" was deleted from cluster "${run.cluster}" after the plan; what was copied before is kept`
          const o: ChangeOutcome = {address: change.address, status: 'skipped', code: e.code, message}
          outcomes.push(o)
          tallies.set(o, tally)
          summary.skipped++
          ctx.reporter.emit({type: 'warning', address: change.address, message})
          continue
        }
        const signal = interrupted()
        if (signal) {
          // Whatever the running change threw once the signal came (the read cut short, a produce
          // not sent), it stopped because it was asked to: interrupted, not failed.
          const o: ChangeOutcome = {address: change.address, status: 'interrupted', code: 'KBK_APPLY_INTERRUPTED', message: `stopped by ${signal}`}
          outcomes.push(o)
          tallies.set(o, tally)
          summary.interrupted = (summary.interrupted ?? 0) + 1
          ctx.reporter.emit({type: 'change.failed', address: change.address, code: o.code!, message: o.message!})
          continue
        }
        const o: ChangeOutcome = {address: change.address, status: 'failed', code: e.code, message: e.message}
        outcomes.push(o)
        tallies.set(o, tally)
        summary.failed++
        ctx.reporter.emit({type: 'change.failed', address: change.address, code: e.code, message: e.message})
        // A lost lock or a state conflict means someone else is writing: stop everything.
        if (e.code === 'KBK_LOCK_LOST' || e.code === 'KBK_STATE_CONFLICT') break
      }
    }
    for (const name of storeNames) await committers[name]!.flush()
    for (const [o, t] of tallies) addTally(o, t, summary)
    const signal = interrupted()
    const outcome: ApplyOutcome = {ok: summary.failed === 0 && signal === undefined, run_id: runId, started_at: startedAt, finished_at: now().toISOString(), changes: outcomes, summary, ...(signal ? {interrupted: signal} : {})}
    if (ctx.afterApply) await ctx.afterApply(outcome, committers)
    ctx.reporter.emit({type: 'apply.done', ok: outcome.ok, summary, duration_ms: Date.now() - started, ...(signal ? {interrupted: signal} : {})})
    return outcome
  } finally {
    for (const lock of locks.reverse()) await lock.release().catch(() => undefined)
  }
}

/**
 * Establish the state before the first segment is written: from then on, objects in the store
 * that the state does not know can only be leftovers of a run that died under the lock. A shard
 * may lose that race to a sibling (whose first segments may already be there): it adopts the
 * sibling's state, which has the plan's lineage too.
 */
async function establishState(handle: StoreHandle, read: StateRead, name: string, shared: boolean): Promise<StateRead> {
  try {
    await refuseOrphanedData(handle.store, name)
    return await handle.state.commit(read, {})
  } catch (error) {
    if (!shared) throw error
    const now = await handle.state.read({patient: true})
    if (now.etag === undefined || now.snapshot.lineage !== read.snapshot.lineage) throw error
    return now
  }
}

/** What a rerun shard needs to see of the state (apply/shard.ts remainingShare). */
function shareProgress(ctx: ApplyContext, committers: Record<string, StateCommitter>): Parameters<typeof remainingShare>[1] {
  return {
    nextOffsets: (store, policy, topic) => committerFor(committers, store).nextOffsets(policy, topic),
    recordedSegments: async (store, policy, topic) => new Set((await requireStore(ctx, store).state.loadSegments(committerFor(committers, store).current.snapshot, policy, topic)).map((s) => s.key)),
    restore: (store, name) => committerFor(committers, store).current.snapshot.restores[name],
  }
}

/**
 * A store with backup data but no state: the state was lost, or another workspace uses this
 * prefix. Applying would treat that data as leftovers of a dead run; refuse instead.
 */
async function refuseOrphanedData(store: ObjectStore, name: string): Promise<void> {
  for await (const o of store.list('data/')) {
    throw new KbkError('KBK_STATE_MISSING', `Store "${name}" holds backup data (e.g. ${o.key}) but no kbk state: the state was lost, or another workspace writes to the same prefix. kbk will not write here, so it cannot overwrite or remove those backups.`, {
      suggestion: `Give this workspace its own prefix (stores.${name}.prefix), or recover _kbk/state/ from a bucket version or backup of the store.`,
      kind: 'user',
    })
  }
}

/** What one change committed, filled in as it becomes durable. */
interface Tally {
  backup?: BackupResult
  restore?: RestoreTally
}

/** Adds what a change committed to its outcome and to the summary (after the last commit). */
function addTally(o: ChangeOutcome, t: Tally, summary: ApplySummary): void {
  if (t.backup) {
    const b = t.backup
    summary.records += b.records
    summary.bytes += b.bytes
    summary.stored_bytes += b.storedBytes
    summary.segments += b.segments
    o.records = b.records
    o.bytes = b.bytes
    o.segments = b.segments
    if (o.status !== 'done' && b.segments > 0) o.message = `${(o.message ?? o.status).replace(/\.$/, '')}; ${formatCount(b.records)} record(s) in ${formatCount(b.segments)} segment(s) were committed before it stopped`
  }
  if (t.restore) {
    const r = t.restore
    summary.restored_records += r.records
    o.records = r.records
    o.bytes = r.bytes
    if (o.status !== 'done' && r.records > 0) o.message = `${(o.message ?? o.status).replace(/\.$/, '')}; ${formatCount(r.records)} record(s) were restored before it stopped (${formatCount(r.before + r.records)} of this restore in all)`
  }
}

/** The signal's reason as kbk reports it ('SIGINT', 'SIGTERM'), or a generic word. */
function signalName(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? signal.reason : 'a cancel'
}

function requireStore(ctx: ApplyContext, name: string): StoreHandle {
  const handle = ctx.stores[name]
  if (!handle) throw new KbkError('KBK_PLAN_STALE', `Saved plan is stale — it refers to store "${name}", which the configuration no longer defines.`, {suggestion: 'Run `kbk plan` again.'})
  return handle
}

function committerFor(committers: Record<string, StateCommitter>, store: string): StateCommitter {
  const committer = committers[store]
  if (!committer) throw new KbkError('KBK_PLAN_STALE', `Saved plan is stale — it refers to store "${store}", which this run did not lock.`, {suggestion: 'Run `kbk plan` again.'})
  return committer
}

async function applyChange(
  change: ResourceChange,
  ctx: ApplyContext,
  committers: Record<string, StateCommitter>,
  runId: string,
  now: () => Date,
  summary: ApplySummary,
  tally: Tally,
): Promise<{message?: string; records?: number; bytes?: number}> {
  switch (change.type) {
    case 'policy': {
      const committer = committerFor(committers, change.store)
      if (change.actions[0] === 'delete') {
        committer.removePolicy(change.name)
        return {message: 'no longer managed; backups kept'}
      }
      if (!change.after) throw new KbkError('KBK_INTERNAL', `No settings for ${change.address}.`, {kind: 'internal'})
      const prior = committer.current.snapshot.policies[change.name]
      const at = now().toISOString()
      committer.setPolicy({name: change.name, settings: change.after, created_at: prior?.created_at ?? at, updated_at: at})
      return {message: change.actions[0] === 'create' ? 'created' : 'updated'}
    }
    case 'backup':
      if (!change.backup) {
        // The topic is gone from the cluster: record it, so the next plan stops reporting it.
        const committer = committerFor(committers, change.store)
        await committer.update({policy: change.name, topic: change.topic, deletedAt: now().toISOString()})
        return {message: 'recorded as deleted from the cluster; backups kept'}
      }
      return runBackup(change.backup, change.address, ctx, committers, runId, now, summary, tally)
    case 'expire': {
      const n = await applyExpiry(change.expire, requireStore(ctx, change.store), committers[change.store]!, now)
      summary.deleted_segments += n
      return {message: `${formatCount(n)} segment(s) deleted`}
    }
    case 'replicate':
      return runReplicate(change, ctx, committers, now, summary)
    case 'restore': {
      const r = change.restore
      const handle = requireStore(ctx, change.store)
      tally.restore = {records: 0, bytes: 0, before: 0}
      const result = await ctx.restore(r, change.address, {store: handle.store, state: handle.state, committer: committers[change.store]!, reporter: ctx.reporter, now, settings: change.after, tally: tally.restore, ...(ctx.signal ? {signal: ctx.signal} : {})})
      const resumed = result.before > 0 ? ` (${formatCount(result.before + result.records)} in all, ${formatCount(result.before)} by an interrupted run)` : ''
      return {message: `${formatCount(result.records)} record(s) restored${resumed}`, records: result.records, bytes: result.bytes}
    }
    case 'offsets': {
      if (!ctx.offsets) throw new KbkError('KBK_INTERNAL', `No offsets executor to apply ${change.address}.`, {kind: 'internal'})
      const handle = requireStore(ctx, change.store)
      return ctx.offsets(change.offsets, change.address, {store: handle.store, committer: committerFor(committers, change.store), now, settings: change.after, ...(ctx.signal ? {signal: ctx.signal} : {})})
    }
  }
}

/** A replica's recorded settings, or a topic's copies (src/replication/replicate-run.ts). */
async function runReplicate(change: ReplicateChange, ctx: ApplyContext, committers: Record<string, StateCommitter>, now: () => Date, summary: ApplySummary): Promise<{message?: string; records?: number; bytes?: number}> {
  const committer = committerFor(committers, change.store)
  const set = change.replicate
  if (!set) {
    const prior = committer.current.snapshot.policies[change.name]
    const at = now().toISOString()
    committer.setPolicy({name: change.name, settings: change.after, created_at: prior?.created_at ?? at, updated_at: at})
    return {message: change.actions[0] === 'create' ? 'replica recorded' : 'replica settings updated'}
  }
  const tally = {segments: 0, bytes: 0, records: 0}
  const source = requireStore(ctx, set.source_store)
  const target = requireStore(ctx, set.store)
  await applyReplication(set, change.address, {
    source: {...source, committer: committerFor(committers, set.source_store)},
    target: {...target, committer},
    reporter: ctx.reporter,
    now,
    tally,
    ...(ctx.signal ? {signal: ctx.signal} : {}),
    ...(ctx.testHooks?.afterReplicaCopy ? {afterCopy: ctx.testHooks.afterReplicaCopy} : {}),
  })
  await committer.flush()
  summary.replicated_segments = (summary.replicated_segments ?? 0) + tally.segments
  summary.replicated_bytes = (summary.replicated_bytes ?? 0) + tally.bytes
  return {message: `${formatCount(tally.segments)} segment(s) copied and verified, ${formatBytes(tally.bytes)}`, bytes: tally.bytes}
}

async function runBackup(
  run: BackupRun,
  address: string,
  ctx: ApplyContext,
  committers: Record<string, StateCommitter>,
  runId: string,
  now: () => Date,
  summary: ApplySummary,
  tally: Tally,
): Promise<{message?: string; records?: number; bytes?: number}> {
  const handle = requireStore(ctx, run.store)
  const runtime = ctx.backupRuntime(run.policy)
  tally.backup = emptyBackupResult()
  const result = await applyBackupRun(run, address, {kafka: ctx.kafka(run.cluster), store: handle.store, state: committers[run.store]!, reporter: ctx.reporter, runId, now, tally: tally.backup, ...(ctx.signal ? {signal: ctx.signal} : {})}, runtime)
  // policies.X.verify: read back what this run wrote before it counts as done (src/verify).
  const verified = runtime.verify && result.segments > 0 ? await verifyAfterBackup(run, handle, committers[run.store]!, runtime.verify, now) : ''
  let masking = ''
  if (runtime.masking) {
    const m = runtime.masking
    summary.masked_records = (summary.masked_records ?? 0) + m.masked
    summary.unmasked_records = (summary.unmasked_records ?? 0) + m.notJson
    masking = `; masking: ${formatCount(m.masked)} record(s) masked, ${formatCount(m.notJson)} non-JSON value(s) left as is`
    // Masking only understands JSON: a value it cannot read is backed up unmasked, and says so.
    if (m.notJson > 0) ctx.reporter.emit({type: 'warning', address, message: `${m.notJson} record value(s) of "${run.topic}" are not JSON objects or arrays: they were backed up as is, without masking.`})
  }
  return {message: `${formatCount(result.records)} record(s) in ${formatCount(result.segments)} segment(s)${result.removedLeftovers ? `, ${result.removedLeftovers} leftover(s) of an interrupted run removed` : ''}${masking}${verified}`, records: result.records, bytes: result.bytes}
}

/**
 * Reads back the segments a backup run just wrote (policies.X.verify) and records the result on
 * the topic in the state; a problem fails the change, naming the segment.
 */
async function verifyAfterBackup(run: BackupRun, handle: StoreHandle, committer: StateCommitter, verify: NonNullable<BackupRuntime['verify']>, now: () => Date): Promise<string> {
  const read = await committer.flush()
  const all = await handle.state.loadSegments(read.snapshot, run.policy, run.topic)
  const from = new Map(run.ranges.map((r) => [r.partition, r.from]))
  const written = all.filter((s) => from.has(s.partition) && s.first_offset >= from.get(s.partition)!)
  const partitions = read.snapshot.topics[`${run.policy}/${run.topic}`]?.partitions
  const report = await verifySegments(written, all, handle.store, {deep: verify.mode === 'deep', keyring: verify.keyring, ...(partitions ? {partitions} : {})})
  const first = report.problems[0]
  await committer.update({policy: run.policy, topic: run.topic, lastVerify: {at: now().toISOString(), mode: verify.mode, ok: report.ok, segments: written.length, ...(first ? {problem: `${first.key}: ${first.kind}: ${first.message}`} : {})}})
  if (first) {
    throw new KbkError('KBK_BACKUP_VERIFY_FAILED', `Reading back what the backup of "${run.topic}" just wrote found ${report.problems.length} problem(s); first: segment ${first.key} (partition ${first.partition}): ${first.kind}: ${first.message}.`, {
      suggestion: 'Run `kbk verify --deep` for the full list; check the store (a proxy or lifecycle rule altering objects?) and run kbk apply again.',
      details: {problems: report.problems},
    })
  }
  return `; verified (${verify.mode}) ${formatCount(written.length)} segment(s)`
}

/**
 * Expiry forgets segments in the state first, then deletes the objects: a crash in between
 * leaves unreferenced objects (reported, cleaned later), never a state that points at nothing.
 */
async function applyExpiry(set: ExpirySet, handle: StoreHandle, committer: StateCommitter, now: () => Date): Promise<number> {
  const wanted = new Set(set.segments.map((s) => s.key))
  const recorded = await handle.state.loadSegments(committer.current.snapshot, set.policy, set.topic)
  const refs = recorded.filter((s) => wanted.has(s.key))
  if (refs.length !== wanted.size) {
    throw new KbkError('KBK_PLAN_STALE', `Saved plan is stale — some segments of ${set.topic} it would expire are no longer recorded.`, {suggestion: 'Run `kbk plan` again.'})
  }
  for (const s of refs) {
    if (s.retain_until && Date.parse(s.retain_until) > now().getTime()) {
      // The planner never selects such a segment; a plan made with a clock ahead of this one could.
      throw new KbkError('KBK_RETENTION_IMMUTABLE', `Segment ${s.key} is immutable until ${s.retain_until}; kbk never deletes it earlier. Nothing of ${set.topic} was expired.`, {
        kind: 'conflict',
        suggestion: 'Run `kbk plan` again: expiry of immutable backups waits until their retention ends (check this machine\'s clock if the plan was made elsewhere).',
      })
    }
  }
  await committer.removeSegments(set.policy, set.topic, refs)
  await handle.store.delete(refs.map((s) => s.key))
  return refs.length
}
