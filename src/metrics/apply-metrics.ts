// Metrics of an apply, fed by the applier's typed events (apply/events.ts): a Reporter that
// updates the registry and passes every event on to the reporter that renders it. The applier
// itself knows nothing of metrics.
import type {ApplyEvent, Reporter} from '../apply/events.js'
import type {Plan} from '../plan/types.js'
import type {KbkMetrics} from './registry.js'
import {setLag, type LagEntry} from './lag.js'

export interface ApplyMetricsOptions {
  /** Every policy of the workspace with its labels: a policy with nothing to do is a success too. */
  policies: Record<string, {labels: Record<string, string>}>
  now?: () => number
}

interface BackupTarget {
  policy: string
  topic: string
  /** partition → the high watermark the plan copies up to. */
  to: Map<number, number>
  /** partition → first offset not yet in a durable segment. */
  done: Map<number, number>
}

export class ApplyMetricsReporter implements Reporter {
  private readonly backups = new Map<string, BackupTarget>()
  private readonly restores = new Map<string, string>()
  /** address → policy (or restore) name, for failures. */
  private readonly owners = new Map<string, string>()
  private readonly failedPolicies = new Set<string>()
  private readonly restoreSeen = new Map<string, {records: number; bytes: number; started: number}>()
  /** Key+value bytes each backup change committed. */
  private readonly runBytes = new Map<string, number>()
  private started: number
  private readonly now: () => number

  constructor(
    private readonly metrics: KbkMetrics,
    private readonly inner: Reporter,
    plan: Plan,
    private readonly options: ApplyMetricsOptions,
  ) {
    this.now = options.now ?? Date.now
    this.started = this.now()
    for (const ch of plan.resource_changes) {
      this.owners.set(ch.address, ch.name)
      if (ch.blocked) continue
      if (ch.type === 'backup' && ch.backup) {
        const to = new Map(ch.backup.ranges.map((r) => [r.partition, r.to]))
        const done = new Map(ch.backup.ranges.map((r) => [r.partition, r.from]))
        this.backups.set(ch.address, {policy: ch.backup.policy, topic: ch.backup.topic, to, done})
      } else if (ch.type === 'restore') {
        this.restores.set(ch.address, ch.name)
      }
    }
    metrics.setLabelKeys(Object.values(options.policies).flatMap((p) => Object.keys(p.labels)))
    for (const [policy, p] of Object.entries(options.policies)) metrics.setPolicyLabels(policy, p.labels)
    metrics.gauge('kbk_apply_changes').set({status: 'planned'}, plan.resource_changes.length)
    this.publishLag()
  }

  emit(event: ApplyEvent): void {
    try {
      this.observe(event)
    } finally {
      this.inner.emit(event)
    }
  }

  private observe(event: ApplyEvent): void {
    const m = this.metrics
    m.gauge('kbk_apply_duration_seconds').set((this.now() - this.started) / 1000)
    switch (event.type) {
      case 'apply.start':
        this.started = this.now()
        break
      case 'lock.acquired':
        m.gauge('kbk_lock_wait_seconds').set({store: event.store}, (this.now() - this.started) / 1000)
        break
      case 'change.start':
        if (this.restores.has(event.address)) this.restoreSeen.set(event.address, {records: 0, bytes: 0, started: this.now()})
        break
      case 'segment.written': {
        const b = this.backups.get(event.address)
        if (!b) break
        const labels = {policy: b.policy, topic: b.topic}
        m.counter('kafka_backup_records_total').inc(labels, event.records)
        m.counter('kbk_backup_segments_total').inc(labels)
        m.counter('kbk_backup_stored_bytes_total').inc(labels, event.bytes)
        this.storedByAddress.set(event.address, (this.storedByAddress.get(event.address) ?? 0) + event.bytes)
        b.done.set(event.partition, Math.max(b.done.get(event.partition) ?? 0, event.last_offset + 1))
        this.publishLag()
        break
      }
      case 'restore.progress': {
        const name = this.restores.get(event.address)
        const seen = this.restoreSeen.get(event.address)
        if (!name || !seen) break
        m.counter('kbk_restore_records_total').inc({restore: name}, Math.max(0, event.records - seen.records))
        m.counter('kbk_restore_bytes_total').inc({restore: name}, Math.max(0, event.bytes - seen.bytes))
        seen.records = Math.max(seen.records, event.records)
        seen.bytes = Math.max(seen.bytes, event.bytes)
        m.gauge('kbk_restore_duration_seconds').set({restore: name}, (this.now() - seen.started) / 1000)
        break
      }
      case 'change.done': {
        const b = this.backups.get(event.address)
        if (b) {
          // The whole range up to the plan's watermark is accounted for (segments, markers, gaps).
          for (const [partition, to] of b.to) b.done.set(partition, Math.max(b.done.get(partition) ?? 0, to))
          // Key+value bytes of what the run committed: reported once, when the topic's run is done.
          if (event.bytes !== undefined) {
            m.counter('kafka_backup_bytes_total').inc({policy: b.policy, topic: b.topic}, event.bytes)
            this.runBytes.set(event.address, event.bytes)
          }
          this.publishLag()
        }
        const name = this.restores.get(event.address)
        const seen = this.restoreSeen.get(event.address)
        if (name && seen) {
          if (event.records !== undefined) m.counter('kbk_restore_records_total').inc({restore: name}, Math.max(0, event.records - seen.records))
          if (event.bytes !== undefined) m.counter('kbk_restore_bytes_total').inc({restore: name}, Math.max(0, event.bytes - seen.bytes))
          m.gauge('kbk_restore_duration_seconds').set({restore: name}, event.duration_ms / 1000)
        }
        break
      }
      case 'change.failed': {
        const owner = this.owners.get(event.address) ?? event.address
        this.failedPolicies.add(owner)
        m.counter('kbk_apply_change_failures_total').inc({policy: owner, code: event.code})
        break
      }
      case 'apply.done': {
        const s = event.summary
        m.gauge('kbk_apply_duration_seconds').set(event.duration_ms / 1000)
        m.gauge('kbk_apply_success').set(event.ok && !event.interrupted ? 1 : 0)
        m.gauge('kbk_apply_last_run_timestamp_seconds').set(this.now() / 1000)
        m.gauge('kbk_apply_changes').set({status: 'done'}, s.done)
        m.gauge('kbk_apply_changes').set({status: 'failed'}, s.failed)
        m.gauge('kbk_apply_changes').set({status: 'skipped'}, s.skipped)
        if (!event.interrupted) {
          for (const policy of Object.keys(this.options.policies)) {
            if (!this.failedPolicies.has(policy)) m.gauge('kbk_backup_last_success_timestamp_seconds').set({policy}, this.now() / 1000)
          }
        }
        this.publishRatios()
        break
      }
      default:
        break
    }
  }

  private publishRatios(): void {
    const byPolicy = new Map<string, {bytes: number; stored: number}>()
    for (const [address, bytes] of this.runBytes) {
      const b = this.backups.get(address)
      if (!b) continue
      const t = byPolicy.get(b.policy) ?? {bytes: 0, stored: 0}
      t.bytes += bytes
      byPolicy.set(b.policy, t)
    }
    for (const [policy, t] of byPolicy) {
      const stored = this.storedOf(policy)
      if (stored > 0 && t.bytes > 0) this.metrics.gauge('kafka_backup_compression_ratio').set({policy}, t.bytes / stored)
    }
  }

  private storedOf(policy: string): number {
    let n = 0
    for (const [address, b] of this.backups) if (b.policy === policy) n += this.storedByAddress.get(address) ?? 0
    return n
  }

  /** Stored bytes of durable segments, per backup change. */
  private readonly storedByAddress = new Map<string, number>()

  private publishLag(): void {
    const entries: LagEntry[] = []
    for (const b of this.backups.values()) {
      for (const [partition, to] of b.to) entries.push({policy: b.policy, topic: b.topic, partition, lag: Math.max(0, to - (b.done.get(partition) ?? 0))})
    }
    setLag(this.metrics, entries)
  }
}

/** An apply with nothing to do is a successful run of every policy. */
export function recordNoopApply(metrics: KbkMetrics, policies: ApplyMetricsOptions['policies'], now: () => number = Date.now): void {
  const at = now() / 1000
  metrics.gauge('kbk_apply_success').set(1)
  metrics.gauge('kbk_apply_duration_seconds').set(0)
  metrics.gauge('kbk_apply_last_run_timestamp_seconds').set(at)
  for (const status of ['planned', 'done', 'failed', 'skipped']) metrics.gauge('kbk_apply_changes').set({status}, 0)
  for (const policy of Object.keys(policies)) metrics.gauge('kbk_backup_last_success_timestamp_seconds').set({policy}, at)
  setLag(metrics, [])
}
