// Metrics of `kbk status`: the state-derived gauges (store size, RPO, restorable window, drills,
// locks) that a cheap exporter run every minute keeps fresh.
import type {StatusReport} from '../inventory/status.js'
import {setLag, type LagEntry} from './lag.js'
import type {KbkMetrics} from './registry.js'

const seconds = (iso: string | null): number | undefined => (iso === null ? undefined : Date.parse(iso) / 1000)

export function recordStatus(metrics: KbkMetrics, report: StatusReport): void {
  const lag: LagEntry[] = []
  metrics.setLabelKeys(report.policies.flatMap((p) => Object.keys(p.labels)))
  for (const p of report.policies) {
    const policy = {policy: p.policy}
    const inStore = {policy: p.policy, store: p.store}
    metrics.setPolicyLabels(p.policy, p.labels)
    for (const l of p.lag) lag.push({policy: p.policy, topic: l.topic, partition: l.partition, lag: l.lag})
    const set = (name: Parameters<KbkMetrics['gauge']>[0], labels: Record<string, string>, v: number | undefined | null): void => {
      if (v !== undefined && v !== null) metrics.gauge(name).set(labels, v)
    }
    set('kbk_backup_newest_timestamp_seconds', policy, seconds(p.last_backup_at))
    set('kbk_backup_restorable_oldest_timestamp_seconds', policy, seconds(p.oldest_restorable_at))
    set('kbk_backup_restorable_newest_timestamp_seconds', policy, seconds(p.newest_record_at))
    set('kbk_drill_last_timestamp_seconds', policy, seconds(p.last_drill_at))
    if (p.rpo_ms !== null) {
      set('kbk_rpo_target_seconds', policy, p.rpo_ms / 1000)
      set('kbk_rpo_seconds', policy, p.rpo_now_ms === null ? Number.POSITIVE_INFINITY : p.rpo_now_ms / 1000)
      set('kbk_rpo_breached', policy, p.rpo_breached ? 1 : 0)
    }
    if (p.stored_bytes > 0) set('kafka_backup_compression_ratio', policy, p.uncompressed_bytes / p.stored_bytes)
    set('kbk_store_bytes', inStore, p.stored_bytes)
    set('kbk_store_segments', inStore, p.segments)
    set('kbk_store_records', inStore, p.records)
    set('kbk_store_growth_bytes_per_day', inStore, p.growth_bytes_per_day)
    set('kbk_store_monthly_cost', inStore, p.monthly_cost)
  }
  setLag(metrics, lag)
  for (const s of report.stores) {
    metrics.gauge('kbk_lock_held_seconds').set({store: s.store}, s.lock ? s.lock.age_ms / 1000 : 0)
    const updated = seconds(s.state_updated_at)
    if (updated !== undefined) metrics.gauge('kbk_state_updated_timestamp_seconds').set({store: s.store}, updated)
  }
}
