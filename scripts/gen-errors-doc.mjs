#!/usr/bin/env node
// Writes docs/errors.md from the ERRORS table in src/errors.ts (through the build's dist/).
// Run it after changing the table (after npm run build); test/unit/errors.test.ts fails while
// the committed file is stale.
//   node scripts/gen-errors-doc.mjs [--check]
import {readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = new URL('..', import.meta.url)
const {renderErrorsDoc} = await import(new URL('dist/errors-doc.js', root).href)
const file = fileURLToPath(new URL('docs/errors.md', root))
const text = renderErrorsDoc()
let current = ''
try {
  current = readFileSync(file, 'utf8')
} catch {
  // not written yet
}
if (process.argv.includes('--check')) {
  if (current !== text) {
    process.stderr.write('docs/errors.md is stale: run node scripts/gen-errors-doc.mjs\n')
    process.exit(1)
  }
} else if (current !== text) {
  writeFileSync(file, text)
}
