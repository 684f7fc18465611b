// The planner tests only the topics that share a pattern's literal prefix: that prefix must be
// certain (a superset of matches), or empty.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {compilePattern} from '../../../src/config/normalize.js'
import {literalPrefix, policiesByTopic, topicMatches} from '../../../src/plan/topic-selection.js'
import type {DesiredPolicy} from '../../../src/plan/types.js'

test('literal prefixes of topic patterns', () => {
  const cases: Array<[string, string]> = [
    ['orders\\..*', 'orders.'],
    ['orders', 'orders'],
    ['team1\\.p000001\\..*', 'team1.p000001.'],
    ['ab*c', 'a'],
    ['ab?c', 'a'],
    ['ab{2}', 'a'],
    ['ab+c', 'ab'],
    ['a|b', ''],
    ['(orders|payments)\\..*', ''],
    ['.*\\.tmp', ''],
    ['[ab]c', ''],
    ['\\d+x', ''],
    ['a\\\\b', 'a\\b'],
  ]
  for (const [pattern, prefix] of cases) {
    const re = compilePattern(pattern).regex
    assert.equal(literalPrefix(re), prefix, pattern)
    // Whatever the prefix, every name the pattern matches starts with it.
    for (const name of ['orders.x', 'orders', 'team1.p000001.a', 'ac', 'abbc', 'abc', 'abb', 'a', 'b', 'x.tmp', 'bc', '7x', 'a\\b']) {
      if (re.test(name)) assert.ok(name.startsWith(prefix), `${pattern} matches ${name}`)
    }
  }
  assert.equal(literalPrefix(/orders/i), '')
})

test('policiesByTopic finds, for every topic, exactly the policies topicMatches selects', () => {
  const policy = (name: string, include: string[], exclude: string[] = [], internalTopics = false): DesiredPolicy =>
    ({name, include: include.map((p) => compilePattern(p).regex), exclude: exclude.map((p) => compilePattern(p).regex), internalTopics}) as unknown as DesiredPolicy
  const policies = [
    policy('orders', ['orders\\..*'], ['orders\\.tmp']),
    policy('all', ['.*']),
    policy('internal', ['__.*'], [], true),
    policy('exact', ['payments', 'orders\\.eu']),
    policy('none', ['nothing']),
  ]
  const names = ['orders.eu', 'orders.tmp', 'orders', 'payments', '__consumer_offsets', 'x', 'payments.v2']
  const got = policiesByTopic(policies, names)
  for (const t of names) {
    const want = policies.filter((p) => topicMatches(p, t)).map((p) => p.name)
    assert.deepEqual((got.get(t) ?? []).map((p) => p.name), want, t)
  }
  assert.deepEqual([...got.keys()].sort(), names.filter((t) => policies.some((p) => topicMatches(p, t))).sort())
})
