// Shell completion through oclif's autocomplete plugin, as a person sets it up: build the cache,
// eval the line `kbk autocomplete script bash` prints, then ask bash's completion function.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {test} from 'node:test'
import {runKbk} from '../config/cli-runner.js'
import {tempDir} from '../config/helpers.js'

const runJs = fileURLToPath(new URL('../../../bin/run.js', import.meta.url))

test('bash completes kbk commands, subcommands and flags after `kbk autocomplete`', () => {
  const home = tempDir()
  const setup = runKbk(['autocomplete', 'bash'], {cwd: home, env: {HOME: home}})
  assert.equal(setup.status, 0, setup.stderr)
  assert.match(setup.stdout + setup.stderr, /kbk autocomplete script bash/)
  const complete = (words: string[]): string => {
    const script = `eval "$("${process.execPath}" "${runJs}" autocomplete script bash)"
COMP_WORDS=(${words.map((w) => `"${w}"`).join(' ')}); COMP_CWORD=${words.length - 1}
_kbk_autocomplete; echo "\${COMPREPLY[*]}"`
    const r = spawnSync('bash', ['-c', script], {cwd: home, env: {PATH: process.env.PATH ?? '', HOME: home}, encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    return r.stdout.trim()
  }
  assert.equal(complete(['kbk', 'sch']), 'schema')
  assert.equal(complete(['kbk', 'plan', '--ref']), '--refresh-only')
  assert.deepEqual(complete(['kbk', 'state', '']).split(' ').sort(), ['list', 'show'])
})
