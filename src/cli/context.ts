// The composition root: the one place that knows the adapters, the SDK-backed ports and the
// environment. Commands get a WorkspaceContext from here and call core functions with it.
// What only some commands need is imported when first needed, so every command starts fast:
// kafkajs for the commands that talk to Kafka, the refresh and planner for plan and apply, the
// apply and restore engines for apply, and each cloud store's SDK on its first use
// (storage/index.ts).
import {readFileSync} from 'node:fs'
import {hostname, userInfo} from 'node:os'
import {createHash} from 'node:crypto'
import type {ApplyOutcome, StoreHandle} from '../apply/apply-plan.js'
import type {BackupRuntime} from '../apply/backup-run.js'
import type {Reporter} from '../apply/events.js'
import {createMasker} from '../apply/masking.js'
import {builtinTags, checkCompliance, formatDiagnostic, loadWorkspace} from '../config/index.js'
import type {Diagnostic, Workspace} from '../config/index.js'
import type {EncryptionKey, PolicyConfig} from '../config/types.js'
import {KbkError} from '../errors.js'
import type {KafkaPort} from '../kafka/port.js'
import {desiredFromWorkspace} from '../plan/desired.js'
import {findUnknownTargets} from '../plan/targets.js'
import type {Desired, Observed, Plan, PlanDiagnostic} from '../plan/types.js'
import {openObjectStore} from '../storage/index.js'
import type {ObjectStore} from '../storage/object-store.js'
import {StateStore} from '../state/state-store.js'

export const KBK_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}).version

export interface WorkspaceContext {
  workspace: Workspace
  desired: Desired
  /** Warnings from loading (errors stop openWorkspace). */
  warnings: Diagnostic[]
  storeHandle(name: string): StoreHandle
  kafka(cluster: string): KafkaPort
  backupRuntime(policy: string): BackupRuntime
  keyring(policy: string): Map<string, Buffer>
  close(): Promise<void>
}

export function toPlanDiagnostic(d: Diagnostic): PlanDiagnostic {
  return {severity: d.severity, code: d.code, message: d.message, ...(d.suggestion ? {suggestion: d.suggestion} : {}), file: d.file, line: d.line, column: d.column}
}

export interface OpenWorkspaceOptions {
  /** Whether the command talks to Kafka (default true): false leaves kafkajs unloaded, and kafka() throws. */
  kafka?: boolean
}

/** Loads and validates the workspace; a config with errors stops here with every diagnostic. */
export async function openWorkspace(flags: {config?: string}, options: OpenWorkspaceOptions = {}): Promise<WorkspaceContext> {
  const loaded = await loadWorkspace({config: flags.config, cwd: process.cwd(), env: process.env})
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length > 0 || !loaded.workspace) {
    throw new KbkError('KBK_CONFIG_INVALID', `The workspace has ${errors.length} error(s):\n${errors.map((d) => formatDiagnostic(d)).join('\n')}`, {
      suggestion: 'Fix the errors above (`kbk validate` lists them too), then run the command again.',
      details: {diagnostics: errors},
    })
  }
  const ws = loaded.workspace
  const warnings = loaded.diagnostics.filter((d) => d.severity === 'warning')
  const tags = (name: string) => ws.compliance[name] ?? builtinTags[name]
  const compliance = checkCompliance(ws).map(toPlanDiagnostic)
  const desired = desiredFromWorkspace(ws, tags, dedupe([...warnings.map(toPlanDiagnostic), ...compliance]))
  const kafkaAdapter = options.kafka === false ? undefined : await import('../kafka/kafkajs-adapter.js')

  const stores = new Map<string, StoreHandle>()
  const clusters = new Map<string, KafkaPort>()
  const ctx: WorkspaceContext = {
    workspace: ws,
    desired,
    warnings,
    storeHandle(name) {
      let h = stores.get(name)
      if (!h) {
        const cfg = ws.stores[name]
        if (!cfg) throw new KbkError('KBK_CONFIG_UNDEFINED_REF', `Store "${name}" is not defined in the workspace.`, {suggestion: 'Add it under `stores:` or fix the reference.'})
        const store = openObjectStore(cfg, {name, position: ws.positionOf(['stores', name]), cwd: process.cwd()})
        h = {store, state: new StateStore(store, {kbkVersion: KBK_VERSION})}
        stores.set(name, h)
      }
      return h
    },
    kafka(cluster) {
      let k = clusters.get(cluster)
      if (!k) {
        const cfg = ws.clusters[cluster]
        if (!cfg) throw new KbkError('KBK_CONFIG_UNDEFINED_REF', `Cluster "${cluster}" is not defined in the workspace.`, {suggestion: 'Add it under `clusters:` or fix the reference.'})
        if (!kafkaAdapter) throw new KbkError('KBK_INTERNAL', `Cluster "${cluster}" was asked for by a command that opened the workspace without Kafka.`, {kind: 'internal'})
        const pos = ws.positionOf(['clusters', cluster])
        k = kafkaAdapter.openKafka(cfg, {name: cluster, ...(pos ? {position: `${pos.file}:${pos.line}:${pos.column}`} : {})})
        clusters.set(cluster, k)
      }
      return k
    },
    backupRuntime(policyName) {
      const p = ws.policies[policyName]
      if (!p) throw new KbkError('KBK_PLAN_STALE', `Saved plan is stale — policy "${policyName}" is no longer in the workspace.`, {suggestion: 'Run `kbk plan` again.'})
      return backupRuntimeOf(p, clockNow)
    },
    keyring(policyName) {
      const p = ws.policies[policyName]
      return p?.encryption ? keyringOf([p.encryption, ...p.encryption.previousKeys], policyName) : new Map()
    },
    async close() {
      await Promise.allSettled([...clusters.values()].map((k) => k.close()))
      await Promise.allSettled([...stores.values()].map((h) => h.store.close()))
    },
  }
  return ctx
}

function dedupe(list: PlanDiagnostic[]): PlanDiagnostic[] {
  const seen = new Set<string>()
  return list.filter((d) => {
    const k = `${d.code}|${d.file}|${d.line}|${d.column}|${d.message}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

function decodeKey(k: EncryptionKey, policy: string): Buffer {
  let b64 = k.key?.reveal()
  if (b64 === undefined && k.keyFile) b64 = readFileSync(k.keyFile, 'utf8').trim()
  if (b64 === undefined) {
    throw new KbkError('KBK_ENCRYPTION_KEY_MISSING', `The encryption key "${k.keyId}" of policy "${policy}" is not available here.`, {
      suggestion: `Set the environment variable or key file that policies.${policy}.encryption names.`,
    })
  }
  const key = Buffer.from(b64, 'base64')
  if (key.length !== 32) {
    throw new KbkError('KBK_ENCRYPTION_KEY_INVALID', `The encryption key "${k.keyId}" of policy "${policy}" is ${key.length} bytes after base64 decoding; AES-256 needs 32.`, {
      suggestion: 'Generate one with `openssl rand -base64 32`.',
    })
  }
  return key
}

function keyringOf(keys: EncryptionKey[], policy: string): Map<string, Buffer> {
  const ring = new Map<string, Buffer>()
  for (const k of keys) {
    try {
      ring.set(k.keyId, decodeKey(k, policy))
    } catch (error) {
      // An old key may be absent; segments that need it then fail clearly when read.
      if (k === keys[0]) throw error
    }
  }
  return ring
}

/**
 * The clock of every plan and apply. `KBK_NOW` (an ISO timestamp) shifts it — for tests only, so
 * that expiry can be proven without waiting days: time still moves, from that instant on. Read
 * here and nowhere else; the planner and the applier take `now` as an input.
 */
export function clockNow(): Date {
  const pinned = process.env.KBK_NOW
  if (pinned === undefined || pinned === '') return new Date()
  clockOffset ??= parseClockOverride(pinned) - Date.now()
  return new Date(Date.now() + clockOffset)
}
let clockOffset: number | undefined

function parseClockOverride(text: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN
  if (!Number.isFinite(ms)) {
    throw new KbkError('KBK_USAGE', `KBK_NOW "${text}" is not an ISO timestamp.`, {suggestion: 'Unset KBK_NOW: it is for tests only. Tests set it to e.g. 2026-03-22T14:30:00Z.'})
  }
  return ms
}

/** How long an immutable tier with `maxAge: never` locks its objects: a century is "forever" to any store. */
const FOREVER_MS = 100 * 365 * 86_400_000

function backupRuntimeOf(p: PolicyConfig, now: () => Date): BackupRuntime {
  const stats = {masked: 0, notJson: 0}
  // The lock lasts exactly maxAge from now: by the time a segment is old enough to expire, the
  // store lets it go, and not a moment earlier.
  const retainUntil = p.tier.immutable ? new Date(now().getTime() + (p.tier.maxAgeMs ?? FOREVER_MS)) : undefined
  return {
    segment: {
      codec: p.compression.codec,
      level: p.compression.level,
      ...(p.encryption ? {encryption: {keyId: p.encryption.keyId, masterKey: decodeKey(p.encryption, p.name)}} : {}),
    },
    segmentMaxBytes: p.segment.maxBytes,
    ...(p.segment.maxRecords !== undefined ? {segmentMaxRecords: p.segment.maxRecords} : {}),
    ...(retainUntil ? {retainUntil} : {}),
    ...(p.masking ? {transform: createMasker(p.masking.fields, p.masking.mode, stats), masking: stats} : {}),
    groups:
      p.consumerGroups.include.length === 0
        ? undefined
        : async (kafka, topic) => {
            const ids = (await kafka.listGroups()).filter((g) => p.consumerGroups.include.some((r) => r.regex.test(g)) && !p.consumerGroups.exclude.some((r) => r.regex.test(g)))
            const out: Record<string, Record<number, number>> = {}
            for (const g of ids.length > 0 ? await kafka.groupOffsets(ids) : []) {
              const offsets = g.offsets[topic]
              if (offsets && Object.keys(offsets).length > 0) out[g.groupId] = offsets
            }
            return out
          },
  }
}

export interface MakePlanOptions {
  refreshOnly: boolean
  targets: string[]
  listObjects: boolean
}

export async function makePlan(ctx: WorkspaceContext, options: MakePlanOptions): Promise<Plan> {
  const [{readObserved}, {planChanges}] = await Promise.all([import('../refresh/read-observed.js'), import('../plan/plan-changes.js')])
  const now = clockNow()
  const {observed} = await readObserved(ctx.desired, {store: (n) => ctx.storeHandle(n), kafka: (c) => ctx.kafka(c)}, {now, listObjects: options.listObjects})
  const desired = await withStoreProtection(ctx)
  assertTargetsKnown(options.targets, desired, observed)
  return planChanges(desired, observed, {now, kbkVersion: KBK_VERSION, refreshOnly: options.refreshOnly, targets: options.targets})
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

const STORE_PROTECTION_FIX: Record<string, (store: string) => string> = {
  fs: () => 'A local directory has no write-once feature: for protection kbk alone cannot give, use an S3 bucket with Object Lock, an Azure container with version-level immutability, or a GCS bucket with object retention.',
  s3: (store) => `Create the bucket with S3 Object Lock (ObjectLockEnabledForBucket) and set stores.${store}.objectLock: true, so a missing lock fails instead of warning.`,
  azure: () => 'Enable version-level immutability (immutable storage with versioning) on the container.',
  gcs: () => 'Create the bucket with object retention enabled (gcloud storage buckets create --enable-per-object-retention).',
}

/**
 * Compliance rules again, against what the stores really do: an immutable tier on a store that
 * does not itself enforce write-once is a warning naming the store; on one that does, the
 * config-only warning that objectLock is unset is dropped (the bucket has the lock). One probe
 * per store (cached by the adapter), only for stores that hold immutable policies.
 */
async function withStoreProtection(ctx: WorkspaceContext): Promise<Desired> {
  const byStore = new Map<string, string[]>()
  for (const p of Object.values(ctx.desired.policies).sort((a, b) => a.name.localeCompare(b.name))) {
    if (p.retention.immutable) byStore.set(p.store, [...(byStore.get(p.store) ?? []), p.name])
  }
  if (byStore.size === 0) return ctx.desired
  const added: PlanDiagnostic[] = []
  const enforcing = new Set<string>()
  for (const [name, policies] of [...byStore.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const cfg = ctx.workspace.stores[name]
    if (!cfg) continue
    // A store that cannot be asked was already reported by the refresh; `objectLock: true` on a
    // bucket without the lock fails here, loudly, as documented.
    const caps = await ctx.storeHandle(name).store.capabilities()
    if (caps.enforcesRetention) {
      enforcing.add(name)
      continue
    }
    const pos = ctx.workspace.positionOf(['stores', name])
    added.push({
      severity: 'warning',
      code: 'KBK_RETENTION_NOT_ENFORCED_BY_STORE',
      message: `store "${name}" (${cfg.type}) does not enforce write-once itself: kbk refuses to delete or overwrite the immutable backups of ${policies.map((p) => `policy "${p}"`).join(', ')} before their retention ends, but anyone with direct access to the store can still delete them`,
      suggestion: (STORE_PROTECTION_FIX[cfg.type] ?? STORE_PROTECTION_FIX.fs!)(name),
      ...(pos ? {file: pos.file, line: pos.line, column: pos.column} : {}),
    })
  }
  const kept = ctx.desired.diagnostics.filter((d) => !(d.code.endsWith('_OBJECT_LOCK') && [...enforcing].some((s) => d.message.includes(`store "${s}"`))))
  return {...ctx.desired, diagnostics: [...kept, ...added]}
}

export async function runApply(ctx: WorkspaceContext, plan: Plan, options: {reporter: Reporter; lockTimeoutMs: number; signal?: AbortSignal}): Promise<ApplyOutcome> {
  const [{applyPlan}, {applyRestoreRun}, {appendAuditEntry}] = await Promise.all([
    import('../apply/apply-plan.js'),
    import('../restore/restore-run.js'),
    import('../audit/audit-log.js'),
  ])
  const stores: Record<string, StoreHandle> = {}
  for (const name of Object.keys(plan.states)) stores[name] = ctx.storeHandle(name)
  return applyPlan(plan, {
    stores,
    kafka: (c) => ctx.kafka(c),
    backupRuntime: (p) => ctx.backupRuntime(p),
    restore: (run, address, deps) =>
      applyRestoreRun(run, address, {
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
      }),
    reporter: options.reporter,
    // Every apply leaves a hash-chained audit record in each store it touched.
    afterApply: async (outcome) => {
      const planDigest = createHash('sha256').update(JSON.stringify(plan)).digest('hex')
      for (const [name, handle] of Object.entries(stores)) {
        const touched = plan.resource_changes.filter((ch) => ch.store === name)
        await appendAuditEntry(handle.store, {
          at: outcome.finished_at,
          who: whoAmI(),
          kbk_version: KBK_VERSION,
          run_id: outcome.run_id,
          plan_digest: `sha256:${planDigest}`,
          config_digest: plan.config_digest,
          outcome: outcome.interrupted ? 'interrupted' : outcome.ok ? 'success' : 'failed',
          actions: touched.map((ch) => ({address: ch.address, action: ch.actions[0] ?? 'run', status: outcome.changes.find((o) => o.address === ch.address)?.status ?? 'skipped'})),
          counts: {...outcome.summary},
        })
      }
    },
    configDigest: ctx.desired.configDigest,
    kbkVersion: KBK_VERSION,
    now: clockNow,
    lockTimeoutMs: options.lockTimeoutMs,
    who: whoAmI(),
    ...(options.signal ? {signal: options.signal} : {}),
  })
}

/** For commands that only need the store (state, lock, backups): the one store, or the named one. Kafka is not opened. */
export async function openWorkspaceStore(flags: {config?: string; store?: string}): Promise<{ctx: WorkspaceContext; store: ObjectStore; state: StateStore; storeName: string; close(): Promise<void>}> {
  const ctx = await openWorkspace(flags, {kafka: false})
  const names = Object.keys(ctx.workspace.stores)
  const used = [...new Set(Object.values(ctx.workspace.policies).map((p) => p.store))]
  const storeName = flags.store ?? (used.length === 1 ? used[0]! : names.length === 1 ? names[0]! : undefined)
  if (!storeName) {
    await ctx.close()
    throw new KbkError('KBK_STORE_AMBIGUOUS', `The workspace has ${names.length} stores (${names.join(', ')}); say which one.`, {suggestion: 'Pass --store NAME.'})
  }
  const h = ctx.storeHandle(storeName)
  return {ctx, store: h.store, state: h.state, storeName, close: () => ctx.close()}
}

export function whoAmI(): string {
  try {
    return `${userInfo().username}@${hostname()}`
  } catch {
    return `unknown@${hostname()}`
  }
}
