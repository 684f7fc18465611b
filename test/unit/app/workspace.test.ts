// The application layer's small decisions: which store a store-only command reads, which
// consumer groups a policy records, and the test clock.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {chooseStore, validWorkspace} from '../../../src/app/workspace.js'
import {systemClock} from '../../../src/app/clock.js'
import {selectGroups} from '../../../src/config/consumer-groups.js'
import {isKbkError} from '../../../src/errors.js'
import {BASE, load} from '../config/helpers.js'

const TWO_STORES = BASE.replace('stores:\n', 'stores:\n  other:\n    type: fs\n    path: ./other\n')

describe('chooseStore', () => {
  test('the one store in use, else the flag; several and no flag is KBK_STORE_AMBIGUOUS', async () => {
    const {workspace} = validWorkspace(await load(TWO_STORES))
    assert.equal(chooseStore(workspace, undefined), 'primary')
    assert.equal(chooseStore(workspace, 'other'), 'other')
    const none = validWorkspace(await load(TWO_STORES.replace(/policies:[\s\S]*$/, ''))).workspace
    assert.throws(() => chooseStore(none, undefined), (e: unknown) => isKbkError(e) && e.code === 'KBK_STORE_AMBIGUOUS')
  })
})

describe('selectGroups', () => {
  test('include minus exclude, as regexes on the group id', async () => {
    const text = BASE + '    consumerGroups: {include: ["billing-.*"], exclude: [".*-test"]}\n'
    const {workspace} = validWorkspace(await load(text))
    assert.deepEqual(selectGroups(workspace.policies.orders!, ['billing-a', 'billing-test', 'shipping']), ['billing-a'])
  })
})

describe('systemClock', () => {
  test('an override moves the clock to that instant, and time still passes', () => {
    const now = systemClock('2026-03-22T14:30:00Z')()
    assert.ok(Math.abs(now.getTime() - Date.parse('2026-03-22T14:30:00Z')) < 60_000)
  })
  test('a malformed override fails when the clock is first read, with KBK_USAGE', () => {
    const clock = systemClock('yesterday')
    assert.throws(() => clock(), (e: unknown) => isKbkError(e) && e.code === 'KBK_USAGE')
  })
})
