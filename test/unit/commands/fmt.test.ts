// `kbk fmt` as a process: rewrites in place, --check exits 1 and writes nothing, --diff shows it.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {runKbk} from '../config/cli-runner.js'
import {tempDir, writeFiles} from '../config/helpers.js'

const messy = 'stores:\n  s:\n    path: ./b # keep me\n    type: fs\nversion: 1\n'
const tidy = 'version: 1\nstores:\n  s:\n    type: fs\n    path: ./b # keep me\n'

test('kbk fmt --check --diff reports and changes nothing; kbk fmt rewrites; then --check passes', () => {
  const dir = tempDir()
  writeFiles(dir, {'kbk.yaml': messy})
  const check = runKbk(['fmt', '--check', '--diff'], {cwd: dir})
  assert.equal(check.status, 1)
  assert.match(check.stdout, /^--- kbk\.yaml/m)
  assert.match(check.stdout, /^\+version: 1$/m)
  assert.match(check.stderr, /kbk\.yaml: not formatted/)
  assert.equal(readFileSync(join(dir, 'kbk.yaml'), 'utf8'), messy)

  const fmt = runKbk(['fmt', '--json'], {cwd: dir})
  assert.equal(fmt.status, 0, fmt.stderr)
  assert.deepEqual(JSON.parse(fmt.stdout), {files: [{file: 'kbk.yaml', changed: true}], changed: 1, diagnostics: []})
  assert.equal(readFileSync(join(dir, 'kbk.yaml'), 'utf8'), tidy)

  assert.equal(runKbk(['fmt', '--check'], {cwd: dir}).status, 0)
})

test('kbk fmt on invalid YAML exits 1 and leaves the file alone', () => {
  const dir = tempDir()
  writeFiles(dir, {'kbk.yaml': 'version: [1\n'})
  const r = runKbk(['fmt'], {cwd: dir})
  assert.equal(r.status, 1)
  assert.match(r.stderr, /KBK_CONFIG_YAML/)
  assert.equal(readFileSync(join(dir, 'kbk.yaml'), 'utf8'), 'version: [1\n')
})
