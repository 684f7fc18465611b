#!/usr/bin/env node
// Writes docs/errors.md from the ERRORS table in src/errors.ts (through the build's dist/).
// Run it after changing the table (after npm run build); test/unit/errors.test.ts fails while
// the committed file is stale.
//   node scripts/gen-errors-doc.mjs [--check]
import {generateDoc} from './gen-doc.mjs'

await generateDoc({module: 'errors-doc.js', render: 'renderErrorsDoc', doc: 'docs/errors.md', script: 'scripts/gen-errors-doc.mjs'})
