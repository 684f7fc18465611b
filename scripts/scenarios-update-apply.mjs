#!/usr/bin/env node
// `npm run scenarios:update:apply`: rewrites the expected outputs of the executor scenarios
// (test/scenarios-apply/<case>/) from what the executors produce now. Review the diff like code.
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', 'test/unit/scenarios/apply-scenarios.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: {...process.env, KBK_UPDATE_SCENARIOS: 'apply'},
})
if (r.status === 0) process.stderr.write('Updated test/scenarios-apply/*/ — review with `git diff test/scenarios-apply`.\n')
process.exit(r.status ?? 1)
