#!/usr/bin/env node
// Rewrites the planner's golden files (test/scenarios/<case>/plan.txt and plan.json) from each
// case's kbk.yaml and observed.json. Review the result with `git diff test/scenarios`.
// Usage: npm run scenarios:update [-- CASE...]
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const code = `
import {scenarioNames, updateScenario} from './test/unit/plan/scenarios.ts'
const wanted = ${JSON.stringify(process.argv.slice(2))}
const names = wanted.length > 0 ? wanted : scenarioNames()
for (const name of names) {
  await updateScenario(name)
  console.log('updated test/scenarios/' + name)
}
`
const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {cwd: root, stdio: 'inherit'})
process.exit(r.status ?? 1)
