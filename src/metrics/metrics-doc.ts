// docs/metrics.md, rendered from METRIC_DEFS so the reference cannot drift from the registry.
// Pure; scripts/gen-metrics-doc.mjs writes it; test/unit/metrics/metrics-doc.test.ts fails while it is stale.
import {DEFAULT_PARTITION_LABEL_LIMIT, METRIC_DEFS, type MetricDef} from './registry.js'

export function renderMetricsDoc(): string {
  const defs = [...(METRIC_DEFS as readonly MetricDef[])].sort((a, b) => (a.name < b.name ? -1 : 1))
  const cell = (s: string): string => s.replaceAll('|', '\\|')
  return [
    '# Metrics',
    '',
    '<!-- Generated from src/metrics/registry.ts by `node scripts/gen-metrics-doc.mjs` after `npm run build`. Do not edit by hand. -->',
    '',
    'kbk runs as a CLI (CronJobs, CI), not as a daemon, so its Prometheus metrics leave each run in',
    'one of two ways, both from the same registry ([prom-client](https://github.com/siimon/prom-client)):',
    '',
    '- `--metrics-file PATH` on `apply`, `plan`, `status` and `verify`: the node_exporter textfile',
    '  format, written atomically (a temp file renamed over PATH) at the end of the run and every 15 s',
    '  while it runs. Point node_exporter\'s `--collector.textfile.directory` at the directory, and give',
    '  each command its own file (`kbk-apply.prom`, `kbk-status.prom`).',
    '- `--metrics-port N` (with `--metrics-host`, default 127.0.0.1): `/metrics` served while the command',
    '  runs, for scraping a long apply. `--metrics-port 0` picks a free port and prints the URL on stderr.',
    '',
    '`kbk status --metrics-file` is the cheap exporter to run every minute: it reads the state and one',
    'round of ListOffsets per cluster, and no segment.',
    '',
    'Every series carries `command` (`apply`, `plan`, `status`, `verify`): two commands never write the',
    'same series, so their textfiles can sit side by side in the collector\'s directory. Aggregate it',
    'away (`max without (command) (...)`) where it does not matter.',
    '',
    '**Cardinality.** `kafka_backup_lag_records` has a series per partition while the run covers at most',
    `\`--metrics-partition-labels\` partitions (default ${DEFAULT_PARTITION_LABEL_LIMIT}); above that it falls back to one series per topic`,
    'with `partition="all"` holding the topic\'s total. Other metrics are per policy, topic, store or',
    'restore, never per partition.',
    '',
    '**Labels.** A policy\'s `labels:` (with the workspace\'s default `labels:`) are carried by',
    '`kbk_policy_labels{policy, label_<key>=...} 1`, the kube-state-metrics way: join on `policy` to',
    'group any metric by a label, e.g.',
    '`sum by (label_team) (kbk_store_bytes * on (policy) group_left (label_team) kbk_policy_labels)`.',
    'A label key becomes `label_` + the key with every character other than `[A-Za-z0-9_]` replaced',
    'by `_` (`app.kubernetes.io/team` → `label_app_kubernetes_io_team`).',
    '',
    'Dashboards and alerts that use these names ship in `deploy/grafana/kbk.json` and',
    '`deploy/prometheus/kbk-rules.yaml`; a test checks that every metric they use is listed here.',
    '',
    '| metric | type | labels | set by | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...defs.map((d) => `| \`${d.name}\` | ${d.type} | ${d.labels.length > 0 ? d.labels.map((l) => `\`${l}\``).join(', ') : '-'} | ${d.from.join(', ')} | ${cell(d.help)} |`),
    '',
  ].join('\n')
}
