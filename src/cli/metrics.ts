// --metrics-file, --metrics-port and --metrics-host on apply, plan, status and verify: one
// registry per run (src/metrics), written as a textfile and/or served while the command runs.
import {Flags} from '@oclif/core'
import type {Workspace} from '../config/types.js'
import {DEFAULT_PARTITION_LABEL_LIMIT} from '../metrics/limits.js'
import {MetricsSession} from '../metrics/outputs.js'
import type {KbkMetrics} from '../metrics/registry.js'

export const metricsFlags = {
  'metrics-file': Flags.string({
    description: 'Write Prometheus metrics to this file (node_exporter textfile format, atomically) at the end and every 15 s while running.',
    helpGroup: 'METRICS',
  }),
  'metrics-port': Flags.integer({description: 'Serve /metrics on this port while the command runs (0 picks a free port and prints it).', min: 0, max: 65_535, helpGroup: 'METRICS'}),
  'metrics-host': Flags.string({description: 'Address --metrics-port listens on.', default: '127.0.0.1', helpGroup: 'METRICS'}),
  'metrics-partition-labels': Flags.integer({
    description: 'Up to this many partitions, lag is reported per partition; above it, per topic (partition="all").',
    default: DEFAULT_PARTITION_LABEL_LIMIT,
    min: 0,
    helpGroup: 'METRICS',
  }),
}

export interface MetricsFlagValues {
  'metrics-file'?: string | undefined
  'metrics-port'?: number | undefined
  'metrics-host'?: string | undefined
  'metrics-partition-labels'?: number | undefined
}

/** The metrics session of a command, or undefined when no metrics output was asked for. */
export async function startMetrics(command: string, flags: MetricsFlagValues): Promise<MetricsSession | undefined> {
  if (flags['metrics-file'] === undefined && flags['metrics-port'] === undefined) return undefined
  // Loaded here, not at start-up: most runs ask for no metrics (src/metrics/limits.ts).
  const {KbkMetrics} = await import('../metrics/registry.js')
  const metrics = new KbkMetrics({command, partitionLabelLimit: flags['metrics-partition-labels'] ?? DEFAULT_PARTITION_LABEL_LIMIT})
  return MetricsSession.start(metrics, {
    ...(flags['metrics-file'] !== undefined ? {file: flags['metrics-file']} : {}),
    ...(flags['metrics-port'] !== undefined ? {port: flags['metrics-port']} : {}),
    host: flags['metrics-host'] ?? '127.0.0.1',
    onServing: (url) => process.stderr.write(`metrics: serving ${url}\n`),
  })
}

/** kbk_policy_labels for every policy of the workspace. */
export function publishPolicyLabels(metrics: KbkMetrics, ws: Workspace): void {
  metrics.setLabelKeys(Object.values(ws.policies).flatMap((p) => Object.keys(p.labels)))
  for (const p of Object.values(ws.policies)) metrics.setPolicyLabels(p.name, p.labels)
}
