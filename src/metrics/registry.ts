// Every metric kbk exposes, in one table: the registry is built from it, docs/metrics.md is
// generated from it (scripts/gen-metrics-doc.mjs; a test fails when the doc is stale), and the
// dashboard and alert rules in deploy/ are checked against it. kbk runs as a CLI, not a daemon:
// one registry per command run, written as a node_exporter textfile and/or served on /metrics.
import {Counter, Gauge, Histogram, Registry} from 'prom-client'

export type MetricType = 'counter' | 'gauge' | 'histogram'

export interface MetricDef {
  name: string
  type: MetricType
  labels: readonly string[]
  help: string
  /** Which commands set it (for the docs). */
  from: readonly string[]
  buckets?: readonly number[]
}

/** Seconds: storage writes range from a millisecond (local disk) to tens of seconds (a large upload). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export const METRIC_DEFS = [
  // The names the operations guide (OE-02) fixes.
  {name: 'kafka_backup_lag_records', type: 'gauge', labels: ['policy', 'topic', 'partition'], from: ['apply', 'plan', 'status'], help: 'Records on the broker not yet in a durable backup segment. partition="all" when the run has more partitions than --metrics-partition-labels (the topic total).'},
  {name: 'kafka_backup_records_total', type: 'counter', labels: ['policy', 'topic'], from: ['apply'], help: 'Records this run copied into durable segments.'},
  {name: 'kafka_backup_bytes_total', type: 'counter', labels: ['policy', 'topic'], from: ['apply'], help: 'Uncompressed record bytes this run copied into durable segments.'},
  {name: 'kafka_backup_compression_ratio', type: 'gauge', labels: ['policy'], from: ['apply', 'status'], help: 'Uncompressed bytes / stored bytes: of this run (apply), of everything held (status).'},
  {name: 'kafka_backup_storage_write_latency_seconds', type: 'histogram', labels: ['store', 'operation'], from: ['apply', 'plan', 'status', 'verify'], help: 'Duration of store writes (operation put or delete), retries included.', buckets: LATENCY_BUCKETS},
  // kbk's own.
  {name: 'kbk_backup_stored_bytes_total', type: 'counter', labels: ['policy', 'topic'], from: ['apply'], help: 'Bytes this run wrote to the store (compressed, encrypted).'},
  {name: 'kbk_backup_segments_total', type: 'counter', labels: ['policy', 'topic'], from: ['apply'], help: 'Segments this run wrote.'},
  {name: 'kbk_backup_last_success_timestamp_seconds', type: 'gauge', labels: ['policy'], from: ['apply'], help: 'When an apply last finished with every change of the policy done (a run with nothing to do counts).'},
  {name: 'kbk_backup_newest_timestamp_seconds', type: 'gauge', labels: ['policy'], from: ['status'], help: 'When the newest backup of the policy was written (its last backup run that copied records).'},
  {name: 'kbk_backup_restorable_oldest_timestamp_seconds', type: 'gauge', labels: ['policy'], from: ['status'], help: 'The oldest point in time a restore of the policy can target.'},
  {name: 'kbk_backup_restorable_newest_timestamp_seconds', type: 'gauge', labels: ['policy'], from: ['status'], help: 'Timestamp of the newest record held in a durable segment.'},
  {name: 'kbk_rpo_seconds', type: 'gauge', labels: ['policy'], from: ['status', 'plan'], help: 'RPO now: age of the last backup of the policy\'s most stale topic that has records not yet backed up (0 when everything is backed up).'},
  {name: 'kbk_rpo_target_seconds', type: 'gauge', labels: ['policy'], from: ['status', 'plan'], help: 'The rpo the policy declares.'},
  {name: 'kbk_rpo_breached', type: 'gauge', labels: ['policy'], from: ['status', 'plan'], help: '1 when RPO now exceeds the declared rpo, else 0.'},
  {name: 'kbk_apply_duration_seconds', type: 'gauge', labels: [], from: ['apply'], help: 'How long the apply ran (so far, while it runs).'},
  {name: 'kbk_apply_success', type: 'gauge', labels: [], from: ['apply'], help: '1 when the apply finished with every change done, 0 when one failed or it was interrupted.'},
  {name: 'kbk_apply_last_run_timestamp_seconds', type: 'gauge', labels: [], from: ['apply'], help: 'When the apply finished.'},
  {name: 'kbk_apply_changes', type: 'gauge', labels: ['status'], from: ['apply'], help: 'Changes of the apply by outcome: planned, done, failed, skipped.'},
  {name: 'kbk_apply_change_failures_total', type: 'counter', labels: ['policy', 'code'], from: ['apply'], help: 'Changes that failed, by policy (or restore) and error code.'},
  {name: 'kbk_lock_wait_seconds', type: 'gauge', labels: ['store'], from: ['apply'], help: 'How long the apply waited for the store\'s lock.'},
  {name: 'kbk_lock_held_seconds', type: 'gauge', labels: ['store'], from: ['status'], help: 'Age of the lock held on the store now, by its last heartbeat (0 when none is held): a large value is a stale lock.'},
  {name: 'kbk_state_updated_timestamp_seconds', type: 'gauge', labels: ['store'], from: ['status'], help: 'When the store\'s state (the checkpoints) was last committed.'},
  {name: 'kbk_restore_records_total', type: 'counter', labels: ['restore'], from: ['apply'], help: 'Records a restore produced in this run.'},
  {name: 'kbk_restore_bytes_total', type: 'counter', labels: ['restore'], from: ['apply'], help: 'Record bytes a restore produced in this run.'},
  {name: 'kbk_restore_duration_seconds', type: 'gauge', labels: ['restore'], from: ['apply'], help: 'How long the restore ran in this apply.'},
  {name: 'kbk_drill_last_timestamp_seconds', type: 'gauge', labels: ['policy'], from: ['status'], help: 'When a restore of the policy last completed (the last drill).'},
  {name: 'kbk_verify_failures', type: 'gauge', labels: ['store'], from: ['verify'], help: 'Problems the last verify found (missing, changed or unreadable segments).'},
  {name: 'kbk_verify_segments', type: 'gauge', labels: ['store'], from: ['verify'], help: 'Segments the last verify checked.'},
  {name: 'kbk_verify_last_run_timestamp_seconds', type: 'gauge', labels: ['store'], from: ['verify'], help: 'When the last verify finished.'},
  {name: 'kbk_store_bytes', type: 'gauge', labels: ['policy', 'store'], from: ['status'], help: 'Bytes the policy holds in the store (compressed, encrypted).'},
  {name: 'kbk_store_segments', type: 'gauge', labels: ['policy', 'store'], from: ['status'], help: 'Segments the policy holds in the store.'},
  {name: 'kbk_store_records', type: 'gauge', labels: ['policy', 'store'], from: ['status'], help: 'Records the policy holds in the store.'},
  {name: 'kbk_store_growth_bytes_per_day', type: 'gauge', labels: ['policy', 'store'], from: ['status'], help: 'Average growth of the policy\'s stored bytes per day, over the segments it holds.'},
  {name: 'kbk_store_monthly_cost', type: 'gauge', labels: ['policy', 'store'], from: ['status'], help: 'Projected monthly cost of what the policy holds: stored GiB × the store\'s pricePerGiBMonth (only for stores that declare one).'},
  {name: 'kbk_store_operations_total', type: 'counter', labels: ['store', 'operation'], from: ['apply', 'plan', 'status', 'verify'], help: 'Store operations (put, get, get_stream, head, list, delete), by store.'},
  {name: 'kbk_store_errors_total', type: 'counter', labels: ['store', 'operation'], from: ['apply', 'plan', 'status', 'verify'], help: 'Store operations that failed after their retries.'},
  {name: 'kbk_store_retries_total', type: 'counter', labels: ['store', 'operation'], from: ['apply', 'plan', 'status', 'verify'], help: 'Retries of store operations (throttling, 5xx, connection resets).'},
  {name: 'kbk_plan_changes', type: 'gauge', labels: ['type'], from: ['plan'], help: 'Changes the plan proposes, by type (policy, backup, expire, restore).'},
  {name: 'kbk_plan_drift', type: 'gauge', labels: ['severity'], from: ['plan'], help: 'Drift findings of the plan, by severity.'},
  {name: 'kbk_policy_labels', type: 'gauge', labels: ['policy'], from: ['apply', 'plan', 'status'], help: 'Always 1; the policy\'s labels as label_<key> (Kubernetes style: characters other than [A-Za-z0-9_] become _). Join on policy to group by a label.'},
] as const satisfies readonly MetricDef[]

export type MetricName = (typeof METRIC_DEFS)[number]['name']

/** A label key (Kubernetes syntax) as a Prometheus label name: `team` → label_team, `app.kubernetes.io/name` → label_app_kubernetes_io_name. */
export function promLabelName(key: string): string {
  return `label_${key.replace(/[^A-Za-z0-9_]/g, '_')}`
}

export interface MetricsOptions {
  /** The command ("apply", "status", …): every series carries it as `command`, so the textfiles of two commands never collide. */
  command: string
  /** Above this many partitions in a run, lag is reported per topic (partition="all"). */
  partitionLabelLimit?: number
}

import {DEFAULT_PARTITION_LABEL_LIMIT} from './limits.js'

export {DEFAULT_PARTITION_LABEL_LIMIT}

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>

/** One command's metrics: a registry of its own (never prom-client's global one). */
export class KbkMetrics {
  readonly registry = new Registry()
  readonly partitionLabelLimit: number
  private readonly metrics = new Map<string, AnyMetric>()
  private labelNames = new Map<string, string>()

  constructor(readonly options: MetricsOptions) {
    this.partitionLabelLimit = options.partitionLabelLimit ?? DEFAULT_PARTITION_LABEL_LIMIT
    this.registry.setDefaultLabels({command: options.command})
    for (const def of METRIC_DEFS as readonly MetricDef[]) if (def.name !== 'kbk_policy_labels') this.define(def, [...def.labels])
  }

  private define(def: MetricDef, labelNames: string[]): void {
    const config = {name: def.name, help: def.help, labelNames, registers: [this.registry]}
    const metric = def.type === 'counter' ? new Counter(config) : def.type === 'gauge' ? new Gauge(config) : new Histogram({...config, buckets: [...(def.buckets ?? [])]})
    this.metrics.set(def.name, metric)
  }

  /**
   * The label keys policies use (known once the workspace is loaded): kbk_policy_labels gets one
   * Prometheus label per key. Called once; setPolicyLabels before it defines it without any.
   */
  setLabelKeys(keys: Iterable<string>): void {
    if (this.metrics.has('kbk_policy_labels')) return
    this.labelNames = new Map([...new Set(keys)].sort().map((k) => [k, promLabelName(k)]))
    const def = (METRIC_DEFS as readonly MetricDef[]).find((d) => d.name === 'kbk_policy_labels')!
    this.define(def, [...def.labels, ...new Set(this.labelNames.values())])
  }

  counter(name: MetricName): Counter<string> {
    return this.metrics.get(name) as Counter<string>
  }

  gauge(name: MetricName): Gauge<string> {
    return this.metrics.get(name) as Gauge<string>
  }

  histogram(name: MetricName): Histogram<string> {
    return this.metrics.get(name) as Histogram<string>
  }

  /** kbk_policy_labels{policy, label_…} 1 for each policy. */
  setPolicyLabels(policy: string, labels: Record<string, string>): void {
    this.setLabelKeys([])
    const values: Record<string, string> = {policy}
    for (const [k, v] of Object.entries(labels)) {
      const name = this.labelNames.get(k)
      if (name) values[name] = v
    }
    this.gauge('kbk_policy_labels').set(values, 1)
  }

  /** The exposition text (also the node_exporter textfile format). */
  async text(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}
