#!/usr/bin/env node
// Writes docs/metrics.md from the metric table in src/metrics/registry.ts (through the build's dist/).
// Run it after changing the table (after npm run build); test/unit/metrics/metrics-doc.test.ts fails while
// the committed file is stale.
//   node scripts/gen-metrics-doc.mjs [--check]
import {readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = new URL('..', import.meta.url)
const {renderMetricsDoc} = await import(new URL('dist/metrics/metrics-doc.js', root).href)
const file = fileURLToPath(new URL('docs/metrics.md', root))
const text = renderMetricsDoc()
let current = ''
try {
  current = readFileSync(file, 'utf8')
} catch {
  // not written yet
}
if (process.argv.includes('--check')) {
  if (current !== text) {
    process.stderr.write('docs/metrics.md is stale: run node scripts/gen-metrics-doc.mjs\n')
    process.exit(1)
  }
} else if (current !== text) {
  writeFileSync(file, text)
}
