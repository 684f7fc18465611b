// The composition root: the one place that knows the adapters and the environment. It builds the
// WorkspaceContext (src/app/workspace.ts) that the use cases in src/app take. kafkajs is loaded
// only for commands that talk to Kafka; the use cases and storage/index.ts load the rest lazily.
import {readFileSync} from 'node:fs'
import {hostname, userInfo} from 'node:os'
import type {StoreHandle} from '../apply/apply-plan.js'
import {backupRuntimeOf} from '../app/backup-runtime.js'
import {systemClock} from '../app/clock.js'
import {chooseStore, validWorkspace} from '../app/workspace.js'
import type {WorkspaceContext} from '../app/workspace.js'
import {keyringOf} from '../config/encryption-keys.js'
import {loadWorkspace} from '../config/index.js'
import {KbkError} from '../errors.js'
import type {KafkaPort} from '../kafka/port.js'
import {countRetries, InstrumentedStore} from '../metrics/instrumented-store.js'
import type {KbkMetrics} from '../metrics/registry.js'
import {openObjectStore} from '../storage/index.js'
import type {ObjectStore} from '../storage/object-store.js'
import {StateStore} from '../state/state-store.js'
import {openSchemaRegistry} from '../schema-registry/open.js'
import type {SchemaRegistryPort} from '../schema-registry/port.js'

export type {WorkspaceContext} from '../app/workspace.js'

export const KBK_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}).version

export interface OpenWorkspaceOptions {
  /** Whether the command talks to Kafka (default true): false leaves kafkajs unloaded, and kafka() throws. */
  kafka?: boolean
  /** Count and time every store operation into these metrics (--metrics-file, --metrics-port). */
  metrics?: KbkMetrics
}

/** Loads and validates the workspace; a config with errors stops here with every diagnostic. */
export async function openWorkspace(flags: {config?: string}, options: OpenWorkspaceOptions = {}): Promise<WorkspaceContext> {
  const valid = validWorkspace(await loadWorkspace({config: flags.config, cwd: process.cwd(), env: process.env}))
  const ws = valid.workspace
  const kafkaAdapter = options.kafka === false ? undefined : await import('../kafka/kafkajs-adapter.js')
  // KBK_NOW (an ISO timestamp) shifts the clock, for tests only: read here and nowhere else.
  const clock = systemClock(process.env.KBK_NOW)
  const stores = new Map<string, StoreHandle>()
  const clusters = new Map<string, KafkaPort>()
  // KBK_TEST_KILL_AFTER_REPLICA_COPIES=N: the process kills itself (SIGKILL) after N verified
  // copies, for the crash tests of replication. Read here and nowhere else.
  const killAfter = Number(process.env.KBK_TEST_KILL_AFTER_REPLICA_COPIES ?? '')
  let copies = 0
  const testHooks = {
    ...(Number.isSafeInteger(killAfter) && killAfter > 0 ? {afterReplicaCopy: () => void (++copies >= killAfter && process.kill(process.pid, 'SIGKILL'))} : {}),
    // Tests only: die like kill -9 between an offset reset's snapshot and its commits.
    ...(process.env.KBK_TEST_KILL_AFTER_OFFSET_SNAPSHOT === '1' ? {afterOffsetSnapshot: () => process.kill(process.pid, 'SIGKILL')} : {}),
  }
  const registries = new Map<string, SchemaRegistryPort>()
  return {
    ...valid,
    ...(Object.keys(testHooks).length > 0 ? {testHooks} : {}),
    clock,
    kbkVersion: KBK_VERSION,
    who: whoAmI(),
    storeHandle(name) {
      let h = stores.get(name)
      if (!h) {
        const cfg = ws.stores[name]
        if (!cfg) throw new KbkError('KBK_CONFIG_UNDEFINED_REF', `Store "${name}" is not defined in the workspace.`, {suggestion: 'Add it under `stores:` or fix the reference.'})
        const metrics = options.metrics
        const opened = openObjectStore(cfg, {name, position: ws.positionOf(['stores', name]), cwd: process.cwd()}, metrics ? {retry: {onRetry: countRetries(metrics, name)}} : {})
        const store = metrics ? new InstrumentedStore(opened, name, metrics) : opened
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
      return backupRuntimeOf(p, clock)
    },
    keyring: (policyName) => keyringOf(ws.policies[policyName]),
    schemaRegistry(name) {
      let r = registries.get(name)
      if (!r) {
        const cfg = ws.schemaRegistries[name]
        if (!cfg) throw new KbkError('KBK_CONFIG_UNDEFINED_REF', `Schema registry "${name}" is not defined in the workspace.`, {suggestion: 'Add it under `schemaRegistries:` or fix the reference.'})
        r = openSchemaRegistry(cfg, process.env)
        registries.set(name, r)
      }
      return r
    },
    async close() {
      await Promise.allSettled([...clusters.values()].map((k) => k.close()))
      await Promise.allSettled([...stores.values()].map((h) => h.store.close()))
    },
  }
}

/** For commands that only need the store (state, lock, backups): the one store, or the named one. Kafka is not opened. */
export async function openWorkspaceStore(flags: {config?: string; store?: string}, options: {metrics?: KbkMetrics} = {}): Promise<{ctx: WorkspaceContext; store: ObjectStore; state: StateStore; storeName: string; close(): Promise<void>}> {
  const ctx = await openWorkspace(flags, {kafka: false, ...options})
  let storeName: string
  try {
    storeName = chooseStore(ctx.workspace, flags.store)
  } catch (error) {
    await ctx.close()
    throw error
  }
  const h = ctx.storeHandle(storeName)
  return {ctx, store: h.store, state: h.state, storeName, close: () => ctx.close()}
}

function whoAmI(): string {
  try {
    return `${userInfo().username}@${hostname()}`
  } catch {
    return `unknown@${hostname()}`
  }
}

/** Kubernetes sets JOB_COMPLETION_INDEX (from 0) in each pod of an Indexed Job: `apply --shard auto/N` reads it. */
export function jobCompletionIndex(): string | undefined {
  return process.env.JOB_COMPLETION_INDEX
}
