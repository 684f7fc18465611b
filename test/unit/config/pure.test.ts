// Pure pieces of config loading: durations, interpolation, suggestions, secrets, formatting.
import assert from 'node:assert/strict'
import {inspect} from 'node:util'
import {describe, test} from 'node:test'
import fc from 'fast-check'
import {closest, formatDiagnostic, formatDuration, formatPath, parseDuration, Secret} from '../../../src/config/index.js'
import {interpolate} from '../../../src/config/interpolate.js'
import {isKey256} from '../../../src/config/rules/credentials.js'
import {isRealTimestamp} from '../../../src/config/rules/durations.js'
import {literalTopic, sampleTopic} from '../../../src/config/rules/restores.js'

describe('durations', () => {
  test('parse the units the docs list, and never', () => {
    assert.equal(parseDuration('7d'), 7 * 86_400_000)
    assert.equal(parseDuration('90d'), 90 * 86_400_000)
    assert.equal(parseDuration('7y'), 7 * 365 * 86_400_000)
    assert.equal(parseDuration('1h'), 3_600_000)
    assert.equal(parseDuration('30m'), 1_800_000)
    assert.equal(parseDuration('250ms'), 250)
    assert.equal(parseDuration('2w'), 14 * 86_400_000)
    assert.equal(parseDuration('never'), null)
    assert.equal(parseDuration('never', {allowNever: false}), undefined)
    for (const bad of ['7', 'd', '7days', '1.5h', '-1d', ' 7d', '7D', '99999999999999999y']) assert.equal(parseDuration(bad), undefined, bad)
  })
  test('format is the inverse of parse', () => {
    fc.assert(
      fc.property(fc.integer({min: 1, max: 10_000}), fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w', 'y'), (n, unit) => {
        const ms = parseDuration(`${n}${unit}`)!
        assert.equal(parseDuration(formatDuration(ms)), ms)
      }),
    )
    assert.equal(formatDuration(null), 'never')
    assert.equal(formatDuration(90 * 86_400_000), '90d')
  })
  test('timestamps: real instants only', () => {
    assert.ok(isRealTimestamp('2026-03-22T14:30:00Z'))
    assert.ok(isRealTimestamp('2024-02-29T00:00:00+02:00'))
    assert.ok(!isRealTimestamp('2026-02-29T00:00:00Z'))
    assert.ok(!isRealTimestamp('2026-13-01T00:00:00Z'))
  })
})

describe('interpolate', () => {
  test('variables, defaults, escapes and errors', () => {
    const env = {A: 'x', EMPTY: ''}
    assert.deepEqual(interpolate('${A}-${B:-y}', env), {value: 'x-y', fromEnv: true, interpolated: true, missing: [], malformed: []})
    assert.deepEqual(interpolate('${B}', env).missing, ['B'])
    assert.deepEqual(interpolate('${EMPTY}', env).missing, ['EMPTY'], 'empty is as bad as unset')
    assert.equal(interpolate('${EMPTY:-d}', env).value, 'd')
    assert.equal(interpolate('$${A}', env).value, '${A}')
    assert.equal(interpolate('$${A}', env).fromEnv, false)
    assert.deepEqual(interpolate('${A', env).malformed, ['${A'])
    assert.deepEqual(interpolate('${1A}', env).malformed, ['${1A}'])
    assert.equal(interpolate('plain $A text', env).value, 'plain $A text')
  })
  test('text without ${ is returned unchanged', () => {
    fc.assert(fc.property(fc.string().filter((s) => !s.includes('${')), (s) => interpolate(s, {}).value === s))
  })
})

describe('suggestions', () => {
  test('closest: typos, prefixes, and nothing when nothing is close', () => {
    assert.equal(closest('retension', ['retention', 'rpo', 'tags']), 'retention')
    assert.equal(closest('prod', ['dev', 'production']), 'production')
    assert.equal(closest('compresion', ['compression', 'encryption']), 'compression')
    assert.equal(closest('zzzz', ['retention', 'rpo']), undefined)
    assert.equal(closest('x', []), undefined)
  })
  test('formatPath quotes names that are not simple', () => {
    assert.equal(formatPath(['policies', 'orders', 'topics', 'include', 0]), 'policies.orders.topics.include[0]')
    assert.equal(formatPath(['restores', 'a b', 'to']), 'restores["a b"].to')
  })
  test('topic samples for the restore warning', () => {
    assert.equal(literalTopic('orders\\.created'), 'orders.created')
    assert.equal(literalTopic('orders\\..*'), undefined)
    assert.equal(sampleTopic('orders\\..*'), 'orders.x')
  })
})

describe('Secret', () => {
  test('prints as (sensitive) everywhere but reveal()', () => {
    const s = new Secret('hunter2', 'environment')
    assert.equal(s.reveal(), 'hunter2')
    assert.equal(String(s), '(sensitive)')
    assert.equal(`${s}`, '(sensitive)')
    assert.equal(JSON.stringify({s}), '{"s":"(sensitive)"}')
    assert.ok(!inspect({s}).includes('hunter2'))
  })
  test('isKey256 accepts exactly 32 bytes of base64', () => {
    assert.ok(isKey256(Buffer.alloc(32, 9).toString('base64')))
    assert.ok(!isKey256(Buffer.alloc(31).toString('base64')))
    assert.ok(!isKey256('not base64!'))
  })
})

describe('formatDiagnostic', () => {
  test('file:line:column: severity CODE: message, then the fix', () => {
    const d = {severity: 'warning' as const, code: 'KBK_CONFIG_TYPE' as const, message: 'm', file: 'a.yaml', line: 3, column: 5, path: 'p', suggestion: 'do this'}
    assert.equal(formatDiagnostic(d), 'a.yaml:3:5: warning KBK_CONFIG_TYPE: m\n    fix: do this')
    assert.equal(formatDiagnostic({...d, line: 0, column: 0, suggestion: undefined}), 'a.yaml: warning KBK_CONFIG_TYPE: m')
    assert.notEqual(formatDiagnostic(d, {color: true}), formatDiagnostic(d))
  })
})
