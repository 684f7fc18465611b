// Batches an apply's state changes and commits them one at a time, in order. A checkpoint is
// queued only after its segment is durable, so whatever is committed is true; batching only
// decides how much a crash makes the next run redo (the leftovers it then removes).
import type {Gap, OffsetResetRecord, PolicyRecord, RestoreRecord, SegmentRef} from '../state/types.js'
import {topicKey} from '../state/types.js'
import type {StateChange, StateRead, StateStore, TopicChange} from '../state/state-store.js'
import {isKbkError} from '../errors.js'
import {sleep} from '../sleep.js'

export interface CommitterOptions {
  /** Commit when this many segments are pending. */
  maxPendingSegments?: number
  /** Commit when the oldest pending change is this old. */
  maxDelayMs?: number
  /** Called before every commit: throws when the lock was lost, so nothing is written without it. */
  beforeCommit?: () => void
  now?: () => number
  /**
   * Other workers of the same run commit to this state at the same time (sharded apply, under
   * their shared run lock). A commit that loses the race on the head re-reads the state and is
   * made again on top of it: the changes of concurrent workers touch disjoint partitions, and
   * chunks and topic indexes are create-only under fresh names, so nobody's update is lost.
   */
  shared?: boolean
  /**
   * Sharded apply: when this run's workers began (the plan's creation time at the latest). Objects
   * written after it and past a checkpoint are leftovers of a dead worker of this run, although
   * siblings have moved the state's `updated_at` on since (see backup-run's removeLeftovers).
   */
  runSince?: string
}

/** Commits made and head races lost (sharded apply: what limits N workers' commit rate). */
export interface CommitStats {
  commits: number
  conflicts: number
}

/** Attempts of one commit against concurrent siblings before giving up (each re-reads the head). */
const MAX_SHARED_ATTEMPTS = 200

export class StateCommitter {
  private base: StateRead
  private pending: StateChange = {}
  private pendingSegments = 0
  private pendingSince: number | undefined
  /** Told when the commit holding their change is durable (what an apply reports as committed). */
  private pendingDurable: Array<() => void> = []
  private chain: Promise<unknown> = Promise.resolve()
  private readonly opts: Required<Omit<CommitterOptions, 'beforeCommit' | 'shared' | 'runSince'>> & Pick<CommitterOptions, 'beforeCommit' | 'shared'>
  readonly stats: CommitStats = {commits: 0, conflicts: 0}
  /** Checkpoints as queued (ahead of the committed state). */
  private readonly offsets = new Map<string, Map<number, number>>()

  /** The state as it was when this apply began (before any of its own commits). */
  readonly initial: StateRead

  constructor(
    private readonly store: StateStore,
    base: StateRead,
    options: CommitterOptions = {},
  ) {
    this.base = base
    this.initial = options.runSince !== undefined && options.runSince < base.snapshot.updated_at ? {...base, snapshot: {...base.snapshot, updated_at: options.runSince}} : base
    this.opts = {maxPendingSegments: options.maxPendingSegments ?? 64, maxDelayMs: options.maxDelayMs ?? 5000, now: options.now ?? Date.now, beforeCommit: options.beforeCommit, shared: options.shared}
  }

  get current(): StateRead {
    return this.base
  }

  /** The queued checkpoint of each partition of a topic (committed or pending). */
  nextOffsets(policy: string, topic: string): Map<number, number> {
    const key = topicKey(policy, topic)
    const result = new Map<number, number>()
    for (const p of this.base.snapshot.topics[key]?.partitions ?? []) result.set(p.partition, p.next_offset)
    for (const [partition, offset] of this.offsets.get(key) ?? []) result.set(partition, offset)
    return result
  }

  setPolicy(record: PolicyRecord): void {
    this.pending.policies = {...this.pending.policies, set: {...this.pending.policies?.set, [record.name]: record}}
    this.touch()
  }

  removePolicy(name: string): void {
    this.pending.policies = {...this.pending.policies, remove: [...(this.pending.policies?.remove ?? []), name]}
    this.touch()
  }

  setRestore(record: RestoreRecord): void {
    this.pending.restores = {...this.pending.restores, set: {...this.pending.restores?.set, [record.name]: record}}
    this.touch()
  }

  setOffsetReset(record: OffsetResetRecord): void {
    this.pending.offsetResets = {...this.pending.offsetResets, set: {...this.pending.offsetResets?.set, [record.name]: record}}
    this.touch()
  }

  async update(change: Omit<TopicChange, 'addSegments' | 'removeSegments'>): Promise<void> {
    const t = this.topic(change.policy, change.topic)
    const {partitions, ...rest} = change
    Object.assign(t, rest)
    for (const p of partitions ?? []) {
      this.mergePartition(t, p.partition, p.nextOffset, p.addGaps)
      if (p.nextOffset !== undefined) this.remember(change.policy, change.topic, p.partition, p.nextOffset)
    }
    this.touch()
    await this.maybeFlush()
  }

  /** `onDurable` runs once the commit holding this checkpoint is durable, never before. */
  async checkpoint(policy: string, topic: string, partition: number, nextOffset: number, segment: SegmentRef | undefined, onDurable?: () => void): Promise<void> {
    const t = this.topic(policy, topic)
    if (onDurable) this.pendingDurable.push(onDurable)
    if (segment) {
      t.addSegments = [...(t.addSegments ?? []), segment]
      this.pendingSegments++
    }
    this.mergePartition(t, partition, nextOffset, undefined)
    this.remember(policy, topic, partition, nextOffset)
    this.touch()
    await this.maybeFlush()
  }

  async removeSegments(policy: string, topic: string, segments: SegmentRef[]): Promise<void> {
    const t = this.topic(policy, topic)
    t.removeSegments = [...(t.removeSegments ?? []), ...segments]
    this.touch()
    await this.flush()
  }

  /** Commit everything pending; resolves when it is durable. */
  async flush(): Promise<StateRead> {
    const next = this.chain.then(async () => {
      if (this.pendingSince === undefined) return this.base
      const change = this.pending
      const durable = this.pendingDurable
      this.pending = {}
      this.pendingDurable = []
      this.pendingSegments = 0
      this.pendingSince = undefined
      this.base = await this.commitOnce(change)
      for (const f of durable) f()
      return this.base
    })
    this.chain = next.catch(() => undefined)
    return next
  }

  private async commitOnce(change: StateChange): Promise<StateRead> {
    for (let attempt = 1; ; attempt++) {
      this.opts.beforeCommit?.()
      try {
        const next = await this.store.commit(this.base, change, {retrying: this.opts.shared === true})
        this.stats.commits++
        return next
      } catch (error) {
        if (!this.opts.shared || !isKbkError(error) || error.code !== 'KBK_STATE_CONFLICT' || attempt >= MAX_SHARED_ATTEMPTS) throw error
        this.stats.conflicts++
        const lineage = this.base.snapshot.lineage
        const fresh = await this.store.read({reuse: this.base, patient: true})
        // Another lineage is not a sibling's commit: someone replaced the state. Stop.
        if (fresh.snapshot.lineage !== lineage) throw error
        this.base = fresh
        // Back off a little, randomly, so N workers that lost together do not collide again.
        await sleep(Math.floor(Math.random() * Math.min(50, 2 * attempt)))
      }
    }
  }

  private async maybeFlush(): Promise<void> {
    if (this.pendingSince === undefined) return
    if (this.pendingSegments >= this.opts.maxPendingSegments || this.opts.now() - this.pendingSince >= this.opts.maxDelayMs) await this.flush()
  }

  private touch(): void {
    this.pendingSince ??= this.opts.now()
  }

  private topic(policy: string, topic: string): TopicChange {
    const topics = (this.pending.topics ??= [])
    let t = topics.find((x) => x.policy === policy && x.topic === topic)
    if (!t) {
      t = {policy, topic}
      topics.push(t)
    }
    return t
  }

  private mergePartition(t: TopicChange, partition: number, nextOffset: number | undefined, addGaps: Gap[] | undefined): void {
    const list = (t.partitions ??= [])
    let p = list.find((x) => x.partition === partition)
    if (!p) {
      p = {partition}
      list.push(p)
    }
    if (nextOffset !== undefined) p.nextOffset = Math.max(p.nextOffset ?? 0, nextOffset)
    if (addGaps) p.addGaps = [...(p.addGaps ?? []), ...addGaps]
  }

  private remember(policy: string, topic: string, partition: number, offset: number): void {
    const key = topicKey(policy, topic)
    const m = this.offsets.get(key) ?? new Map<number, number>()
    m.set(partition, Math.max(m.get(partition) ?? 0, offset))
    this.offsets.set(key, m)
  }
}
