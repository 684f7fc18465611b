// `kbk init` as a process: scaffolds a workspace that validates, refuses to overwrite without --force.
import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {runKbk} from '../config/cli-runner.js'
import {tempDir, writeFiles} from '../config/helpers.js'

test('kbk init DIR writes kbk.yaml, .gitignore and a CI workflow; the result validates', () => {
  const dir = tempDir()
  const r = runKbk(['init', 'ws', '--json'], {cwd: dir})
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.deepEqual(
    out.files.map((f: {path: string; action: string}) => [f.path, f.action]),
    [
      ['kbk.yaml', 'created'],
      ['.gitignore', 'created'],
      ['.github/workflows/kbk.yml', 'created'],
    ],
  )
  assert.match(readFileSync(join(dir, 'ws/kbk.yaml'), 'utf8'), /yaml-language-server: \$schema=/)
  assert.match(readFileSync(join(dir, 'ws/.gitignore'), 'utf8'), /\.kbk-backups\//)
  const v = runKbk(['validate'], {cwd: join(dir, 'ws')})
  assert.equal(v.status, 0, v.stderr)
})

test('kbk init refuses to overwrite kbk.yaml without --force, and merges an existing .gitignore', () => {
  const dir = tempDir()
  writeFiles(dir, {'kbk.yaml': 'version: 1\n# mine\n', '.gitignore': 'node_modules/\n'})
  const refused = runKbk(['init'], {cwd: dir})
  assert.equal(refused.status, 1)
  assert.match(refused.stderr, /already exists/)
  assert.match(refused.stderr, /--force/)
  assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace')
  assert.equal(readFileSync(join(dir, 'kbk.yaml'), 'utf8'), 'version: 1\n# mine\n')
  assert.ok(!existsSync(join(dir, '.github')))

  const forced = runKbk(['init', '--force'], {cwd: dir})
  assert.equal(forced.status, 0, forced.stderr)
  assert.match(readFileSync(join(dir, 'kbk.yaml'), 'utf8'), /policies:/)
  const gi = readFileSync(join(dir, '.gitignore'), 'utf8')
  assert.ok(gi.startsWith('node_modules/\n'), 'existing lines kept')
  assert.match(gi, /\.kbk-backups\//)
  writeFileSync(join(dir, 'x'), '')
})
