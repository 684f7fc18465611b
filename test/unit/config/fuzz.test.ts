// Property: random mutations of the examples never crash loading — every outcome is diagnostics,
// and an outcome without a workspace always says why.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {test} from 'node:test'
import {fileURLToPath, pathToFileURL} from 'node:url'
import fc from 'fast-check'
import {loadWorkspace} from '../../../src/config/index.js'
import {tempDir, writeFiles} from './helpers.js'

const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url))
const texts = readdirSync(examplesDir)
  .filter((n) => statSync(join(examplesDir, n)).isDirectory() && readdirSync(join(examplesDir, n)).includes('kbk.yaml'))
  .map((n) => readFileSync(join(examplesDir, n, 'kbk.yaml'), 'utf8'))

const scalar = fc.oneof(fc.constantFrom('', '~', 'null', '[]', '{}', '-1', '0', '1e999', 'never', '7x', '"${X}"', '${', '*a', '&a', '|', '\t', '__proto__', 'constructor', 'true', '0.5', '"(["', 'type: fs'), fc.string({maxLength: 12}))

type Mutation = (lines: string[]) => string[]
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((i) => (l: string[]) => l.filter((_, j) => j !== i % l.length)),
  fc.tuple(fc.nat(), fc.nat()).map(([i, k]) => (l: string[]) => {
    const out = [...l]
    const a = i % l.length
    const b = k % l.length
    ;[out[a], out[b]] = [out[b]!, out[a]!]
    return out
  }),
  fc.tuple(fc.nat(), scalar).map(([i, v]) => (l: string[]) => l.map((line, j) => (j === i % l.length ? line.replace(/:\s.*$/, `: ${v}`) : line))),
  fc.tuple(fc.nat(), scalar).map(([i, v]) => (l: string[]) => l.map((line, j) => (j === i % l.length ? line.replace(/^(\s*)[A-Za-z-]+:/, `$1${v}:`) : line))),
  fc.tuple(fc.nat(), fc.integer({min: -2, max: 2})).map(([i, d]) => (l: string[]) => l.map((line, j) => (j === i % l.length ? (d >= 0 ? ' '.repeat(d) + line : line.slice(-d)) : line))),
  fc.tuple(fc.nat(), fc.nat()).map(([i, k]) => (l: string[]) => [...l.slice(0, i % l.length), l[k % l.length]!, ...l.slice(i % l.length)]),
)

test('mutated examples load to diagnostics, never to an exception', async () => {
  const dir = tempDir()
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...texts), fc.array(mutation, {minLength: 1, maxLength: 4}), fc.dictionary(fc.constantFrom('X', 'KAFKA_BOOTSTRAP', 'S3_ENDPOINT'), fc.string({maxLength: 8})), async (text, muts, env) => {
      let lines = text.split('\n')
      for (const m of muts) lines = m(lines)
      writeFiles(dir, {'kbk.yaml': lines.join('\n')})
      const r = await loadWorkspace({cwd: dir, env})
      for (const d of r.diagnostics) {
        assert.ok(d.severity === 'error' || d.severity === 'warning')
        assert.match(d.code, /^KBK_[A-Z0-9_]+$/)
        assert.equal(typeof d.message, 'string')
        assert.ok(Number.isInteger(d.line) && Number.isInteger(d.column))
      }
      if (!r.workspace) assert.ok(r.diagnostics.some((d) => d.severity === 'error'), 'no workspace without an error saying why')
    }),
    {numRuns: 300},
  )
})

// Hostile input (issue 21): whoever opens a pull request writes the YAML that CI validates. Each
// case runs the built CLI in its own process, so a runaway case is measured — and stopped — by the
// operating system, not by a timed assertion: it must end with an answer (valid, or errors; never
// KBK_INTERNAL) within generous bounds on a loaded machine. The old heap limit keeps a regression
// from taking the machine's memory before the timeout ends it.
// 30 s: the worst fixed case (200,000 nested flow sequences) takes ~5 s alone and 8–22 s on a
// 2-core machine running CI and other builds; a runaway (exponential) case takes minutes.
const CASE_TIMEOUT_MS = 30_000
const CASE_MAX_RSS_MIB = 512
const runJs = fileURLToPath(new URL('../../../bin/run.js', import.meta.url))
// Runs bin/run.js in this process and reports its peak RSS (KiB on Linux, bytes on macOS) on exit.
const wrapper = `process.on('exit', () => process.stderr.write('\\nKBK_TEST_MAXRSS=' + process.resourceUsage().maxRSS + '\\n')); await import(${JSON.stringify(pathToFileURL(runJs).href)})`

function validateBounded(file: string): {status: number | null; out: string; ms: number; rssMiB: number; timedOut: boolean; error?: string} {
  const t0 = Date.now()
  const r = spawnSync(process.execPath, ['--max-old-space-size=1024', '--input-type=module', '-e', wrapper, runJs, 'validate', '-c', file], {
    cwd: dirname(file),
    env: {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1'},
    encoding: 'utf8',
    timeout: CASE_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 256 * 1024 * 1024,
  })
  const ms = Date.now() - t0
  const rss = Number(/KBK_TEST_MAXRSS=(\d+)/.exec(r.stderr ?? '')?.[1] ?? NaN)
  const rssMiB = process.platform === 'darwin' ? rss / 1024 / 1024 : rss / 1024
  return {status: r.status, out: (r.stdout ?? '') + (r.stderr ?? ''), ms, rssMiB, timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL', error: r.error?.message}
}

const VALID = readFileSync(join(examplesDir, 'quickstart', 'kbk.yaml'), 'utf8')

/** The shapes of hostile input, each with a size the fuzzer picks. */
const hostile = fc.oneof(
  // Alias bombs: width^levels values, referenced from a policy's topics or at the top level.
  fc.record({kind: fc.constant('bomb' as const), levels: fc.integer({min: 6, max: 12}), width: fc.integer({min: 6, max: 12}), at: fc.constantFrom('include', 'top', 'map')}),
  // Deep nesting, flow or block style.
  fc.record({kind: fc.constant('deep' as const), depth: fc.integer({min: 1_000, max: 200_000}), flow: fc.boolean()}),
  // Huge scalars, with ${...} references to interpolate.
  fc.record({kind: fc.constant('scalar' as const), mib: fc.integer({min: 1, max: 7}), refs: fc.boolean()}),
  // Huge maps: many (invalid) policies, or many keys where none are allowed.
  fc.record({kind: fc.constant('map' as const), entries: fc.integer({min: 5_000, max: 30_000}), where: fc.constantFrom('policies', 'clusters', 'unknown')}),
)
type Hostile = typeof hostile extends fc.Arbitrary<infer T> ? T : never

function render(h: Hostile): string {
  switch (h.kind) {
    case 'bomb': {
      const anchors = [`a0: &a0 [${Array(h.width).fill('"x"').join(', ')}]`]
      for (let i = 1; i < h.levels; i++) {
        const items = Array.from({length: h.width}, (_, j) => (h.at === 'map' ? `k${j}: *a${i - 1}` : `*a${i - 1}`))
        anchors.push(h.at === 'map' ? `a${i}: &a${i} {${items.join(', ')}}` : `a${i}: &a${i} [${items.join(', ')}]`)
      }
      const last = `*a${h.levels - 1}`
      if (h.at === 'top') return `${VALID}\n${anchors.join('\n')}\n`
      return `${VALID.replace(/topics: \{include: \[[^\]]*\]/, `topics: {include: ${last}`)}\nx-anchors:\n${anchors.map((l) => '  ' + l).join('\n')}\n`.replace(/^x-anchors:/m, 'x-anchors:')
    }
    case 'deep':
      if (h.flow) return `${VALID}description: ${'['.repeat(h.depth)}${']'.repeat(h.depth)}\n`
      return `${VALID}description:\n${Array.from({length: Math.min(h.depth, 3_000)}, (_, i) => `${' '.repeat(i + 1)}k:`).join('\n')}\n`
    case 'scalar': {
      const unit = h.refs ? 'ab${X:-c}' : 'abcdefgh'
      return `${VALID}description: "${unit.repeat(Math.floor((h.mib * 1024 * 1024) / unit.length))}"\n`
    }
    case 'map': {
      const key = h.where === 'unknown' ? 'x-many' : h.where
      const lines = Array.from({length: h.entries}, (_, i) => `  e${i}: {}`)
      return `${VALID.replace(new RegExp(`^${key}:\\n`, 'm'), `${key}:\n${lines.join('\n')}\n`)}${h.where === 'unknown' ? `x-many:\n${lines.join('\n')}\n` : ''}`
    }
  }
}

test('hostile workspaces end with an answer within 30 s and 512 MiB each (a subprocess per case)', async () => {
  const dir = tempDir()
  // The worst of each kind first (always run), then what the fuzzer picks.
  const fixed: Hostile[] = [
    {kind: 'bomb', levels: 9, width: 9, at: 'include'},
    {kind: 'bomb', levels: 9, width: 9, at: 'top'},
    {kind: 'bomb', levels: 12, width: 12, at: 'map'},
    {kind: 'deep', depth: 200_000, flow: true},
    {kind: 'scalar', mib: 7, refs: true},
    {kind: 'map', entries: 25_000, where: 'policies'},
  ]
  const picked = fc.sample(hostile, {numRuns: 4})
  for (const h of [...fixed, ...picked]) {
    writeFiles(dir, {'kbk.yaml': render(h)})
    const r = validateBounded(join(dir, 'kbk.yaml'))
    const what = JSON.stringify(h)
    assert.ok(!r.timedOut, `${what}: still running after ${CASE_TIMEOUT_MS / 1000} s`)
    assert.ok(r.status === 0 || r.status === 1, `${what}: exit ${r.status} ${r.error ?? ''}\n${r.out.slice(-1500)}`)
    assert.doesNotMatch(r.out, /KBK_INTERNAL|RangeError|heap out of memory/, what)
    assert.match(r.out, /✔ .*valid|✖ .*error\(s\)/, `${what}: no verdict\n${r.out.slice(-1500)}`)
    assert.ok(Number.isFinite(r.rssMiB) && r.rssMiB < CASE_MAX_RSS_MIB, `${what}: peak RSS ${Math.round(r.rssMiB)} MiB`)
  }
})
