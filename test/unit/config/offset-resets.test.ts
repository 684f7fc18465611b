// The offset-resets-valid rule and the schema on offsetResets: what each `to` needs, references,
// patterns and timestamps, each placed at file:line:column.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {BASE, errors, load} from './helpers.js'

const reset = (body: string): string => `${BASE}offsetResets:\n  replay:\n${body}`

describe('offset-resets-valid', () => {
  test('a complete reset is valid and normalized', async () => {
    const r = await load(reset('    cluster: prod\n    groups: ["billing-.*"]\n    to: timestamp\n    timestamp: "2026-03-22T14:30:00Z"\n    ifActive: wait\n    waitTimeout: 2m\n'))
    assert.deepEqual(errors(r), [])
    const o = r.workspace!.offsetResets!.replay!
    assert.equal(o.to, 'timestamp')
    assert.equal(o.waitTimeoutMs, 120_000)
    assert.ok(o.groups[0]!.regex.test('billing-app'))
    assert.ok(!o.groups[0]!.regex.test('xbilling-app'), 'patterns match whole group ids')
  })

  test('what a `to` needs, missing, is an error at the `to` key with the key to add', async () => {
    const r = await load(reset('    cluster: prod\n    groups: ["g"]\n    to: snapshot\n'))
    const [e] = errors(r)
    assert.equal(e?.code, 'KBK_CONFIG_INCOMPLETE')
    assert.equal(e?.path, 'offsetResets.replay.to')
    assert.equal(e?.line, BASE.split('\n').length + 4)
    assert.equal(e?.column, 9)
    assert.match(e!.suggestion!, /snapshot: /)
  })

  test('an undefined cluster and restore are reported with a guess; a restore on another cluster is a conflict', async () => {
    const withRestore = BASE + 'restores:\n  drill:\n    from: {policy: orders}\n    to: {cluster: staging, topicSuffix: -r}\n'
    let r = await load(`${withRestore}offsetResets:\n  replay:\n    cluster: prd\n    groups: ["g"]\n    to: restored\n    restore: dril\n`)
    assert.deepEqual(errors(r).map((d) => [d.code, d.path, d.suggestion]), [
      ['KBK_CONFIG_UNDEFINED_REF', 'offsetResets.replay.cluster', 'Did you mean "prod"?'],
      ['KBK_CONFIG_UNDEFINED_REF', 'offsetResets.replay.restore', 'Did you mean "drill"?'],
    ])
    r = await load(`${withRestore}offsetResets:\n  replay:\n    cluster: prod\n    groups: ["g"]\n    to: restored\n    restore: drill\n`)
    assert.deepEqual(errors(r).map((d) => [d.code, d.path]), [['KBK_CONFIG_CONFLICT', 'offsetResets.replay.cluster']])
  })

  test('a bad pattern, an impossible date and an unknown `to` are errors at their place', async () => {
    const r = await load(reset('    cluster: prod\n    groups: ["(open"]\n    to: timestamp\n    timestamp: "2026-02-30T10:00:00Z"\n'))
    assert.deepEqual(errors(r).map((d) => [d.code, d.path]).sort(), [
      ['KBK_CONFIG_BAD_REGEX', 'offsetResets.replay.groups[0]'],
      ['KBK_CONFIG_BAD_TIMESTAMP', 'offsetResets.replay.timestamp'],
    ])
    const bad = await load(reset('    cluster: prod\n    groups: ["g"]\n    to: yesterday\n'))
    assert.ok(errors(bad).some((d) => d.path === 'offsetResets.replay.to' && d.line > 0))
  })
})
