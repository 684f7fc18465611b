// Untrusted workspace input (issue 21: anyone who opens a pull request controls the YAML that CI
// validates): alias bombs, deep nesting and absurd sizes are refused with a position, and an
// unset ${VAR} is only a warning for validate (issue 13: a fork's PR has no secrets).
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {loadWorkspace} from '../../../src/config/index.js'
import {MAX_WORKSPACE_BYTES} from '../../../src/config/read-workspace.js'
import {runKbk} from './cli-runner.js'
import {BASE, errors, load, tempDir, writeFiles} from './helpers.js'

/** `levels` anchors, each a list of `width` aliases of the one before: width^levels values. */
export function aliasBomb(levels: number, width: number): string[] {
  const lines = [`a0: &a0 [${Array(width).fill('"x"').join(', ')}]`]
  for (let i = 1; i < levels; i++) lines.push(`a${i}: &a${i} [${Array(width).fill(`*a${i - 1}`).join(', ')}]`)
  return lines
}

describe('alias expansion is bounded', () => {
  test('a billion-laughs bomb in topics.include is refused at the alias, not expanded', async () => {
    const text = BASE.replace('policies:\n', `x-anchors:\n${aliasBomb(9, 9).map((l) => '  ' + l).join('\n')}\npolicies:\n`).replace('topics: {include: ["orders\\\\..*"], exclude: [".*-repartition"]}', 'topics: {include: *a8}')
    const r = await load(text)
    const tooLarge = r.diagnostics.filter((d) => d.code === 'KBK_CONFIG_TOO_LARGE')
    assert.equal(tooLarge.length, 1, JSON.stringify(r.diagnostics))
    assert.match(tooLarge[0]!.message, /alias/)
    assert.equal(tooLarge[0]!.file, 'kbk.yaml')
    assert.ok(tooLarge[0]!.line > 0 && tooLarge[0]!.column > 0)
    assert.equal(r.workspace, undefined)
  })

  test('the budget is shared by the files of a directory workspace', async () => {
    const dir = tempDir()
    const files: Record<string, string> = {'kbk.yaml': BASE}
    // Each file alone expands to 9^5 = 59,049 values (under the bound); together they are over it.
    for (const f of ['a', 'b']) files[`${f}.yaml`] = `x-${f}:\n${aliasBomb(6, 9).map((l) => '  ' + l).join('\n')}\n`
    writeFiles(dir, files)
    const r = await loadWorkspace({cwd: dir, config: '.', env: {}})
    assert.ok(r.diagnostics.some((d) => d.code === 'KBK_CONFIG_TOO_LARGE' && d.file === 'b.yaml'), JSON.stringify(r.diagnostics.slice(0, 3)))
  })

  test('ordinary anchors and aliases still work', async () => {
    const text = BASE.replace('topics: {include: ["orders\\\\..*"], exclude: [".*-repartition"]}', 'topics: &orders {include: ["orders\\\\..*"]}') + '  again:\n    cluster: prod\n    store: primary\n    topics: *orders\n    retention: production\n'
    assert.ok(text.includes('*orders'))
    const r = await load(text)
    assert.deepEqual(r.diagnostics, [])
    assert.equal(r.workspace!.policies.again!.topics.include[0]!.source, 'orders\\..*')
    assert.deepEqual(r.workspace!.positionOf(['policies', 'again', 'topics']), {file: 'kbk.yaml', line: 24, column: 13})
  })

  test('nesting deeper than the limit is refused with a position', async () => {
    const r = await load(BASE + 'description: ' + '['.repeat(200) + ']'.repeat(200) + '\n')
    const d = r.diagnostics.find((x) => x.code === 'KBK_CONFIG_TOO_LARGE')
    assert.ok(d, JSON.stringify(r.diagnostics))
    assert.match(d.message, /nest/)
    assert.equal(d.line, 21)
  })
})

describe('workspace size', () => {
  test('more YAML than the limit is refused before parsing, naming the largest file', async () => {
    const dir = tempDir()
    writeFiles(dir, {'kbk.yaml': BASE, 'huge.yaml': `description: "${'x'.repeat(MAX_WORKSPACE_BYTES)}"\n`})
    const r = await loadWorkspace({cwd: dir, config: '.', env: {}})
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.file]), [['KBK_CONFIG_TOO_LARGE', 'huge.yaml']])
    assert.match(r.diagnostics[0]!.message, /MiB/)
  })

  test('a key repeated in a large mapping is still found (without yaml’s quadratic check)', async () => {
    const many = Array.from({length: 3000}, (_, i) => `  p${i}: {brokers: ["h:1"]}`)
    many.push('  p17: {brokers: ["h:2"]}')
    const r = await load(BASE.replace('clusters:\n', `clusters:\n${many.join('\n')}\n`))
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.line]), [['KBK_CONFIG_DUPLICATE', 3003]])
  })
})

describe('an unset ${VAR} without a default', () => {
  const text = BASE.replace('brokers: ["127.0.0.1:9092"]', 'brokers: ["${KAFKA_BOOTSTRAP}"]').replace('path: ./backups', 'path: ./backups\n    # a value the schema would reject as written\n    compression: x').replace('retention: production\n', 'retention: production\n    rpo: ${RPO}\n')
  test('is an error by default (plan, apply)', async () => {
    const dir = tempDir()
    writeFiles(dir, {'kbk.yaml': text.replace('    compression: x\n', '')})
    const r = await loadWorkspace({cwd: dir, env: {}})
    assert.deepEqual(errors(r).map((d) => d.code).sort(), ['KBK_CONFIG_BAD_DURATION', 'KBK_CONFIG_ENV_UNSET', 'KBK_CONFIG_ENV_UNSET'])
    assert.equal(r.workspace, undefined)
  })
  test('is a warning for validate, and checks of the unknown value are skipped', async () => {
    const dir = tempDir()
    writeFiles(dir, {'kbk.yaml': text.replace('    compression: x\n', '')})
    const r = await loadWorkspace({cwd: dir, env: {}, unsetEnv: 'warning'})
    assert.deepEqual(errors(r), [])
    assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.code, d.path]), [
      ['warning', 'KBK_CONFIG_ENV_UNSET', 'clusters.prod.brokers[0]'],
      ['warning', 'KBK_CONFIG_ENV_UNSET', 'policies.orders.rpo'],
    ])
    assert.ok(r.workspace)
  })
  test('does not hide other errors from validate', async () => {
    const dir = tempDir()
    writeFiles(dir, {'kbk.yaml': text})
    const r = await loadWorkspace({cwd: dir, env: {}, unsetEnv: 'warning'})
    assert.deepEqual(errors(r).map((d) => d.code), ['KBK_CONFIG_UNKNOWN_KEY'])
  })
})

test('kbk validate passes with a warning when a secret is unset; kbk plan refuses it', () => {
  const dir = tempDir()
  writeFiles(dir, {'kbk.yaml': BASE.replace('brokers: ["127.0.0.1:9092"]', 'brokers: ["127.0.0.1:9092"]\n    sasl: {mechanism: plain, username: "${KAFKA_USER}", password: "${KAFKA_PASSWORD}"}')})
  const v = runKbk(['validate'], {cwd: dir})
  assert.equal(v.status, 0, v.stdout + v.stderr)
  assert.match(v.stdout + v.stderr, /warning KBK_CONFIG_ENV_UNSET: environment variable KAFKA_PASSWORD is not set/)
  assert.match(v.stdout + v.stderr, /valid with 2 warning/)
  const p = runKbk(['plan'], {cwd: dir})
  assert.notEqual(p.status, 0)
  assert.match(p.stdout + p.stderr, /error KBK_CONFIG_ENV_UNSET: environment variable KAFKA_PASSWORD is not set/)
})
