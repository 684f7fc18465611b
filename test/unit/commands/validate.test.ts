// `kbk validate` as a process: human output on stderr, --json on stdout, exit codes, no stack trace.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {runKbk} from '../config/cli-runner.js'
import {BASE, tempDir, writeFiles} from '../config/helpers.js'

describe('kbk validate', () => {
  test('three mistakes: three located diagnostics with fixes, exit 1, and --json tells the same', () => {
    const dir = tempDir()
    const text = BASE.replace('    retention: production\n', '    retention: production\n    compresion: {codec: zstd}\n').replace('store: primary\n    topics', 'store: primry\n    topics').replace('maxAge: 7d,', 'maxAge: 7days,')
    writeFiles(dir, {'kbk.yaml': text})
    const human = runKbk(['validate'], {cwd: dir})
    assert.equal(human.status, 1)
    assert.match(human.stderr, /kbk\.yaml:12:17: error KBK_CONFIG_BAD_DURATION: .*\n {4}fix: /)
    assert.match(human.stderr, /kbk\.yaml:18:12: error KBK_CONFIG_UNDEFINED_REF: .*\n {4}fix: Did you mean "primary"\?/)
    assert.match(human.stderr, /kbk\.yaml:21:5: error KBK_CONFIG_UNKNOWN_KEY: .*\n {4}fix: Did you mean "compression"\?/)
    assert.match(human.stderr, /3 error\(s\)/)
    assert.doesNotMatch(human.stderr, /\n\s+at .*\.(ts|js):\d+/, 'no stack trace')

    const json = runKbk(['validate', '--json'], {cwd: dir})
    assert.equal(json.status, 1)
    const out = JSON.parse(json.stdout)
    assert.equal(out.valid, false)
    assert.equal(out.error_count, 3)
    assert.equal(out.warning_count, 0)
    assert.deepEqual(Object.keys(out.diagnostics[0]).sort(), ['code', 'column', 'file', 'line', 'message', 'path', 'severity', 'suggestion'])
    assert.deepEqual(
      out.diagnostics.map((d: {code: string; line: number; column: number}) => [d.code, d.line, d.column]),
      [
        ['KBK_CONFIG_BAD_DURATION', 12, 17],
        ['KBK_CONFIG_UNDEFINED_REF', 18, 12],
        ['KBK_CONFIG_UNKNOWN_KEY', 21, 5],
      ],
    )
  })

  test('a valid workspace exits 0; --config and KBK_CONFIG pick the file', () => {
    const dir = tempDir()
    writeFiles(dir, {'conf/ws.yaml': BASE})
    const flag = runKbk(['validate', '--config', 'conf/ws.yaml', '--json'], {cwd: dir})
    assert.equal(flag.status, 0, flag.stderr)
    assert.deepEqual(JSON.parse(flag.stdout), {valid: true, error_count: 0, warning_count: 0, files: ['conf/ws.yaml'], diagnostics: []})
    const env = runKbk(['validate'], {cwd: dir, env: {KBK_CONFIG: 'conf'}})
    assert.equal(env.status, 0)
    assert.match(env.stderr, /✔ conf\/ws\.yaml: valid\./)
  })

  test('no workspace: says to run kbk init, exit 1', () => {
    const r = runKbk(['validate'], {cwd: tempDir()})
    assert.equal(r.status, 1)
    assert.match(r.stderr, /KBK_CONFIG_NOT_FOUND: no kbk\.yaml/)
    assert.match(r.stderr, /kbk init/)
  })
})
