// Constants the CLI's flags need without loading prom-client (src/metrics/registry.ts), which a
// command only loads when --metrics-file or --metrics-port asks for metrics: prom-client and the
// OpenTelemetry API it pulls in are ~80 modules, paid at every start-up otherwise.

/** Above this many partitions in a run, lag is reported per topic (partition="all"). */
export const DEFAULT_PARTITION_LABEL_LIMIT = 1000
