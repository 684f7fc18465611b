// A small world for fast executor tests: two in-memory clusters ("prod" and "staging"), one
// in-memory store ("primary") and a settable clock. Plans are made the way `kbk plan` makes them —
// refresh (readObserved) through the ports, then the pure planner — so tests never hand-write plan
// objects, and applies run the real applier and restore engine. Unit tests only: the integration
// tests run the same steps against real brokers and stores.
import {applyPlan} from '../../src/apply/apply-plan.js'
import type {ApplyOutcome} from '../../src/apply/apply-plan.js'
import type {BackupRuntime} from '../../src/apply/backup-run.js'
import {RecordingReporter} from '../../src/apply/events.js'
import {planChanges} from '../../src/plan/plan-changes.js'
import type {Desired, Plan} from '../../src/plan/types.js'
import {readObserved} from '../../src/refresh/read-observed.js'
import {applyRestoreRun} from '../../src/restore/restore-run.js'
import {StateStore} from '../../src/state/state-store.js'
import type {StateSnapshot} from '../../src/state/types.js'
import {MemoryKafka} from './memory-kafka.js'
import {MemoryStore} from './memory-store.js'

export const KBK_TEST_VERSION = '0.0.0-test'

export interface WorldOptions {
  start?: Date
  /** Per-policy runtime overrides (default: no compression, 40-record segments). */
  runtime?: Partial<BackupRuntime>
  batchRecords?: number
}

export class World {
  clock: Date
  readonly kafka: Record<string, MemoryKafka>
  readonly store: MemoryStore
  readonly state: StateStore
  readonly runtime: Partial<BackupRuntime>
  /** Events of the last apply. */
  reporter = new RecordingReporter()

  constructor(options: WorldOptions = {}) {
    this.clock = options.start ?? new Date('2026-06-01T12:00:00Z')
    const now = () => this.clock.getTime()
    const batch = options.batchRecords ?? 25
    this.kafka = {prod: new MemoryKafka({now, batchRecords: batch}), staging: new MemoryKafka({now, batchRecords: batch})}
    this.store = new MemoryStore({context: {name: 'primary'}, now: () => this.clock})
    this.state = new StateStore(this.store, {kbkVersion: KBK_TEST_VERSION, now: () => this.clock})
    this.runtime = options.runtime ?? {}
  }

  advance(ms: number): void {
    this.clock = new Date(this.clock.getTime() + ms)
  }

  cluster(name: string): MemoryKafka {
    const k = this.kafka[name]
    if (!k) throw new Error(`no cluster ${name}`)
    return k
  }

  /** refresh → plan, as `kbk plan` does. */
  async plan(desired: Desired, options: {targets?: string[]} = {}): Promise<Plan> {
    const {observed} = await readObserved(desired, {store: () => ({store: this.store, state: this.state}), kafka: (c) => this.cluster(c)}, {now: this.clock, listObjects: true, unknownGraceMs: 0})
    return planChanges(desired, observed, {now: this.clock, kbkVersion: KBK_TEST_VERSION, ...(options.targets ? {targets: options.targets} : {})})
  }

  /** Applies a plan through the real applier; `signal` stops it as SIGINT would. */
  async apply(plan: Plan, desired: Desired, options: {signal?: AbortSignal} = {}): Promise<ApplyOutcome> {
    this.reporter = new RecordingReporter()
    const now = () => this.clock
    return applyPlan(plan, {
      stores: {primary: {store: this.store, state: this.state}},
      kafka: (c) => this.cluster(c),
      backupRuntime: () => ({segment: {codec: 'none'}, segmentMaxBytes: 1 << 20, segmentMaxRecords: 40, ...this.runtime}),
      restore: (run, address, deps) =>
        applyRestoreRun(run, address, {
          store: deps.store,
          state: deps.committer,
          reporter: deps.reporter,
          now: deps.now,
          kafka: this.cluster(run.cluster),
          loadSegments: (policy, topic) => deps.state.loadSegments(deps.committer.current.snapshot, policy, topic),
          keyring: new Map(),
          settings: deps.settings,
          tally: deps.tally,
          batchRecords: 30,
          ...(deps.signal ? {signal: deps.signal} : {}),
        }),
      reporter: this.reporter,
      configDigest: desired.configDigest,
      kbkVersion: KBK_TEST_VERSION,
      now,
      ...(options.signal ? {signal: options.signal} : {}),
    })
  }

  /** plan, then apply it. */
  async planAndApply(desired: Desired): Promise<{plan: Plan; outcome: ApplyOutcome}> {
    const plan = await this.plan(desired)
    return {plan, outcome: await this.apply(plan, desired)}
  }

  async snapshot(): Promise<StateSnapshot> {
    return (await this.state.read()).snapshot
  }

  /** Keys of the segment objects in the store. */
  segmentKeys(): string[] {
    return [...this.store.objects.keys()].filter((k) => k.startsWith('data/')).sort()
  }
}

/** `count` records for a seed, with keys k<i>, values v<i> and timestamps `t0 + i * stepMs`. */
export function records(count: number, t0: number, stepMs = 1000, from = 0): Array<{key: string; value: string; timestamp: number; headers: Array<{key: string; value: Buffer | null}>}> {
  return Array.from({length: count}, (_, j) => {
    const i = from + j
    return {key: `k${i}`, value: `v${i}`, timestamp: t0 + i * stepMs, headers: i % 3 === 0 ? [{key: 'h', value: Buffer.from(`x${i}`)}, {key: 'h', value: null}] : []}
  })
}
