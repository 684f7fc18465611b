// `kbk apply --shard`: a misconfigured worker (no saved plan, no JOB_COMPLETION_INDEX, an index
// past N) fails at once with the fix, before any workspace or store is opened.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {runKbk} from '../config/cli-runner.js'
import {tempDir} from '../config/helpers.js'

describe('kbk apply --shard', () => {
  const dir = tempDir() // no kbk.yaml: any of these getting as far as the workspace would say so

  it('needs a saved plan', () => {
    const r = runKbk(['apply', '--shard', '1/2', '--auto-approve'], {cwd: dir})
    assert.equal(r.status, 1)
    assert.match(r.stderr, /KBK_USAGE/)
    assert.match(r.stderr, /--shard needs a saved plan/)
  })

  it('auto/N without JOB_COMPLETION_INDEX says so, and how to fix it', () => {
    const r = runKbk(['apply', 'plan.kbk', '--shard', 'auto/4'], {cwd: dir})
    assert.equal(r.status, 1)
    assert.match(r.stderr, /KBK_SHARD_INVALID/)
    assert.match(r.stderr, /JOB_COMPLETION_INDEX, and it is not set/)
    assert.match(r.stderr, /completionMode: Indexed/)
  })

  it('auto/N with an index past N names both, counting from 0', () => {
    const r = runKbk(['apply', 'plan.kbk', '--shard', 'auto/4', '--json'], {cwd: dir, env: {JOB_COMPLETION_INDEX: '4'}})
    assert.equal(r.status, 1)
    const line = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {type: string; error: {code: string; message: string}}
    assert.equal(line.error.code, 'KBK_SHARD_INVALID')
    assert.match(line.error.message, /JOB_COMPLETION_INDEX is 4, but indexes of 4 workers run from 0 to 3/)
  })

  it('I/N counts from 1', () => {
    const r = runKbk(['apply', 'plan.kbk', '--shard', '0/4'], {cwd: dir})
    assert.equal(r.status, 1)
    assert.match(r.stderr, /I must be between 1 and 4 \(shards are numbered from 1\)/)
  })
})
