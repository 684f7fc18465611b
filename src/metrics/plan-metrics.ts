// Metrics of a plan: what it proposes, the records each backup would copy (its lag), drift by
// severity and the RPO verdict per policy. Pure over the Plan value.
import {policyAddress} from '../plan/addresses.js'
import type {Plan} from '../plan/types.js'
import {setLag, type LagEntry} from './lag.js'
import type {KbkMetrics} from './registry.js'

export function recordPlan(metrics: KbkMetrics, plan: Plan, policies: Record<string, {rpoMs?: number | undefined}>): void {
  const byType = new Map<string, number>([['policy', 0], ['backup', 0], ['expire', 0], ['restore', 0]])
  const lag: LagEntry[] = []
  for (const ch of plan.resource_changes) {
    byType.set(ch.type, (byType.get(ch.type) ?? 0) + 1)
    if (ch.type === 'backup' && ch.backup) for (const r of ch.backup.ranges) lag.push({policy: ch.backup.policy, topic: ch.backup.topic, partition: r.partition, lag: Math.max(0, r.to - r.from)})
  }
  for (const [type, n] of byType) metrics.gauge('kbk_plan_changes').set({type}, n)
  for (const severity of ['critical', 'warning', 'info']) metrics.gauge('kbk_plan_drift').set({severity}, plan.drift.filter((d) => d.severity === severity).length)
  setLag(metrics, lag)
  for (const [policy, p] of Object.entries(policies)) {
    if (p.rpoMs === undefined) continue
    metrics.gauge('kbk_rpo_target_seconds').set({policy}, p.rpoMs / 1000)
    const breach = plan.drift.find((d) => d.kind === 'rpo-exceeded' && d.address === policyAddress(policy))
    metrics.gauge('kbk_rpo_breached').set({policy}, breach ? 1 : 0)
    const worst = (breach?.found as {topics?: Array<{last_backup_at: string | null}>} | undefined)?.topics ?? []
    const ages = worst.map((t) => (t.last_backup_at ? (Date.parse(plan.created_at) - Date.parse(t.last_backup_at)) / 1000 : Number.POSITIVE_INFINITY))
    metrics.gauge('kbk_rpo_seconds').set({policy}, ages.length > 0 ? Math.max(...ages) : 0)
  }
}
