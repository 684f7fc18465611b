// kafka_backup_lag_records with a bound on cardinality: one series per partition while the run
// has at most partitionLabelLimit partitions, else one per topic with partition="all".
import type {KbkMetrics} from './registry.js'

export interface LagEntry {
  policy: string
  topic: string
  partition: number
  lag: number
}

export function setLag(metrics: KbkMetrics, entries: readonly LagEntry[]): void {
  const gauge = metrics.gauge('kafka_backup_lag_records')
  gauge.reset()
  if (entries.length <= metrics.partitionLabelLimit) {
    for (const e of entries) gauge.set({policy: e.policy, topic: e.topic, partition: String(e.partition)}, e.lag)
    return
  }
  const perTopic = new Map<string, {policy: string; topic: string; lag: number}>()
  for (const e of entries) {
    const key = `${e.policy}\0${e.topic}`
    const t = perTopic.get(key) ?? {policy: e.policy, topic: e.topic, lag: 0}
    t.lag += e.lag
    perTopic.set(key, t)
  }
  for (const t of perTopic.values()) gauge.set({policy: t.policy, topic: t.topic, partition: 'all'}, t.lag)
}
