#!/usr/bin/env node
// `npm test`: build, type-check, lint and layer check, then unit and integration tests in one
// node:test run. Integration tests talk to real servers; they are brought up here when not running.
//   node scripts/test.mjs [--unit|--integration] [--quick] [path-substring ...]
// --quick skips the static checks (for the edit-test loop).
import {spawnSync} from 'node:child_process'
import {readdirSync, statSync, readFileSync, existsSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const argv = process.argv.slice(2)
const only = argv.includes('--unit') ? 'unit' : argv.includes('--integration') ? 'integration' : 'all'
const quick = argv.includes('--quick')
const filters = argv.filter((a) => !a.startsWith('--'))

function run(title, cmd, args, env = process.env) {
  process.stderr.write(`\n▶ ${title}\n`)
  const r = spawnSync(cmd, args, {cwd: root, stdio: 'inherit', env})
  if (r.status !== 0) {
    process.stderr.write(`✖ ${title} failed (exit ${r.status ?? r.signal})\n`)
    process.exit(r.status || 1)
  }
}

function walk(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.ts') ? [p] : []
  })
}

const tsc = join(root, 'node_modules/typescript/bin/tsc')
// tsc → dist/ and oclif.manifest.json (scripts/build.mjs): the CLI tests run what users run.
run('build', process.execPath, [join(root, 'scripts/build.mjs')])
if (!quick) {
  run('type-check (src and tests)', process.execPath, [tsc, '-p', 'tsconfig.test.json'])
  run('lint', process.execPath, [join(root, 'node_modules/eslint/bin/eslint.js'), '.'])
  run('layer check', process.execPath, [join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'), 'src', '--config', '.dependency-cruiser.cjs'])
}

let files = []
if (only !== 'integration') files.push(...walk(join(root, 'test/unit')))
if (only !== 'unit') files.push(...walk(join(root, 'test/integration')))
files = files.map((f) => relative(root, f)).sort()
if (filters.length > 0) files = files.filter((f) => filters.some((s) => f.includes(s)))
if (files.length === 0) {
  process.stderr.write('No test files matched.\n')
  process.exit(1)
}

// Pinned tools the tests run (actionlint): built once into .cache/bin, before the tests, so their
// first build is not counted against a test's timeout.
run('tools (scripts/env/tools.mjs)', process.execPath, [join(root, 'scripts/env/tools.mjs')])

// The package test runs an installed tarball; packing and installing it (minutes on a busy
// machine) happens here, not inside that test file's timeout.
if (files.includes('test/integration/package.test.ts')) {
  run('npm pack, and install the tarball into tmp/package-test', process.execPath, [join(root, 'scripts/package-install.mjs')])
}

const env = {...process.env}
if (files.some((f) => f.startsWith('test/integration'))) {
  run('test environment (real servers on loopback)', process.execPath, [join(root, 'scripts/env/up.mjs')])
  for (const line of readFileSync(join(root, '.env.test'), 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim())
    if (m && env[m[1]] === undefined) env[m[1]] = m[2]
  }
}

// One run, one summary. Files run one at a time: the 2-core machine also hosts the brokers.
// --test-force-exit: a failed test can leave a Kafka client open; that must not hang the run.
// --test-timeout bounds any single test, so a wedged server fails loudly instead of eating CI's time.
run(`tests (${files.length} files)`, process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-force-exit', '--test-timeout=300000', '--test-reporter=spec', ...files], env)
