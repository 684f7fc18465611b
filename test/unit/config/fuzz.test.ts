// Property: random mutations of the examples never crash loading — every outcome is diagnostics,
// and an outcome without a workspace always says why.
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {fileURLToPath} from 'node:url'
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
