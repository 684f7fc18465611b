#!/usr/bin/env node
// Writes docs/metrics.md from the metric table in src/metrics/registry.ts (through the build's dist/).
// Run it after changing the table (after npm run build); test/unit/metrics/metrics-doc.test.ts fails while
// the committed file is stale.
//   node scripts/gen-metrics-doc.mjs [--check]
import {generateDoc} from './gen-doc.mjs'

await generateDoc({module: 'metrics/metrics-doc.js', render: 'renderMetricsDoc', doc: 'docs/metrics.md', script: 'scripts/gen-metrics-doc.mjs'})
