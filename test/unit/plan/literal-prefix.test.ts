// The planner tests only the topics that share a pattern's literal prefix: that prefix must be
// certain (a superset of matches), or empty.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {compilePattern} from '../../../src/config/normalize.js'
import {literalPrefix} from '../../../src/plan/topic-selection.js'

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
