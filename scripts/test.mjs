#!/usr/bin/env node
// `npm test`: build, type-check, lint and layer check, then unit and integration tests in one
// node:test run. Integration tests talk to real servers; they are brought up here when not running.
//   node scripts/test.mjs [--unit|--integration] [--quick] [path-substring ...]
// --quick skips the static checks (for the edit-test loop).
import {spawn, spawnSync} from 'node:child_process'
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

/**
 * Steps that do not depend on one another, run at once: on a fresh clone most of their time is
 * downloads and builds of pinned tools and servers (Go, Maven, npm pack), which overlap well even
 * on two cores. Each step's output is kept and printed whole when it ends, so logs stay readable.
 */
async function runAll(steps, env = process.env) {
  const began = Date.now()
  process.stderr.write(`\n▶ at once: ${steps.map((s) => s.title).join('; ')}\n`)
  const results = await Promise.all(
    steps.map(
      (step) =>
        new Promise((resolve) => {
          const child = spawn(step.cmd, step.args, {cwd: root, env})
          const out = []
          child.stdout.on('data', (d) => out.push(d))
          child.stderr.on('data', (d) => out.push(d))
          child.on('close', (code, signal) => {
            process.stderr.write(`\n▶ ${step.title} (${Math.round((Date.now() - began) / 1000)} s)\n${Buffer.concat(out).toString()}`)
            resolve({step, status: code ?? signal})
          })
        }),
    ),
  )
  const failed = results.filter((r) => r.status !== 0)
  for (const r of failed) process.stderr.write(`✖ ${r.step.title} failed (exit ${r.status})\n`)
  if (failed.length > 0) process.exit(typeof failed[0].status === 'number' ? failed[0].status : 1)
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

let files = []
if (only !== 'integration') files.push(...walk(join(root, 'test/unit')))
if (only !== 'unit') files.push(...walk(join(root, 'test/integration')))
files = files.map((f) => relative(root, f)).sort()
if (filters.length > 0) files = files.filter((f) => filters.some((s) => f.includes(s)))
if (files.length === 0) {
  process.stderr.write('No test files matched.\n')
  process.exit(1)
}

const steps = []
if (!quick) {
  steps.push({title: 'type-check (src and tests)', cmd: process.execPath, args: [tsc, '-p', 'tsconfig.test.json']})
  steps.push({title: 'lint', cmd: process.execPath, args: [join(root, 'node_modules/eslint/bin/eslint.js'), '.']})
  steps.push({title: 'layer check', cmd: process.execPath, args: [join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'), 'src', '--config', '.dependency-cruiser.cjs']})
}
// Pinned tools the tests run (actionlint, promtool, helm): built once into .cache/bin, before the
// tests, so their first build is not counted against a test's timeout.
steps.push({title: 'tools (scripts/env/tools.mjs)', cmd: process.execPath, args: [join(root, 'scripts/env/tools.mjs')]})
// The package test runs an installed tarball; packing and installing it (minutes on a busy
// machine) happens here, not inside that test file's timeout.
if (files.includes('test/integration/package.test.ts')) {
  steps.push({title: 'npm pack, and install the tarball into tmp/package-test', cmd: process.execPath, args: [join(root, 'scripts/package-install.mjs')]})
}
const integration = files.some((f) => f.startsWith('test/integration'))
if (integration) steps.push({title: 'test environment (real servers on loopback)', cmd: process.execPath, args: [join(root, 'scripts/env/up.mjs')]})
await runAll(steps)

const env = {...process.env}
if (integration) {
  for (const line of readFileSync(join(root, '.env.test'), 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim())
    if (m && env[m[1]] === undefined) env[m[1]] = m[2]
  }
}

// One run, one summary. Files run one at a time: the 2-core machine also hosts the brokers.
// --test-force-exit: a failed test can leave a Kafka client open; that must not hang the run.
// --test-timeout bounds any single test, so a wedged server fails loudly instead of eating CI's time.
run(`tests (${files.length} files)`, process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-force-exit', '--test-timeout=300000', '--test-reporter=spec', ...files], env)
