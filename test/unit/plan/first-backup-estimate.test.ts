// A first backup has no bytes-per-record history: its size comes from the partitions' log sizes
// on the brokers, scaled to the share of offsets the run copies. Without them it stays unknown.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {planChanges} from '../../../src/plan/plan-changes.js'
import {formatPlanMarkdown, formatPlanText} from '../../../src/format/plan-text.js'
import {NOW, desired, emptyState, observed, partitionSummary, policy, topicIndex, topicView} from './fixtures.js'

const opts = {now: NOW, kbkVersion: '0.1.0'}

describe('first backup size estimate', () => {
  it('sums the brokers\' log sizes of the planned partitions', () => {
    const view = {...topicView([[0, 100], [50, 150]]), log_bytes: {0: 40_000, 1: 10_000}}
    const plan = planChanges(desired([policy('orders')]), observed(emptyState(), {'orders.created': view}), opts)
    const backup = plan.resource_changes.find((c) => c.type === 'backup')!.backup!
    assert.equal(backup.estimated_bytes, 50_000)
    assert.match(formatPlanText(plan), /200 record\(s\), ~48\.8 KiB \(the brokers' log size\)/)
    assert.match(formatPlanMarkdown(plan), /\| 200 record\(s\) in 2 partition\(s\), ~48\.8 KiB \|/)
  })

  it('is unknown, and says why, when a planned partition has no reported size', () => {
    const view = {...topicView([[0, 100], [0, 10]]), log_bytes: {0: 40_000}}
    const plan = planChanges(desired([policy('orders')]), observed(emptyState(), {'orders.created': view}), opts)
    assert.equal(plan.resource_changes.find((c) => c.type === 'backup')!.backup!.estimated_bytes, undefined)
    assert.match(formatPlanText(plan), /110 record\(s\), size unknown \(the brokers did not report their log sizes\)/)
  })

  it('later runs keep estimating from what kbk recorded', () => {
    const state = {...emptyState(), serial: 1}
    state.topics['orders/orders.created'] = topicIndex('orders', 'orders.created', [partitionSummary(0, 10)])
    const view = {...topicView([[0, 15]]), log_bytes: {0: 1_000_000}}
    const plan = planChanges(desired([policy('orders')]), observed(state, {'orders.created': view}), opts)
    assert.equal(plan.resource_changes.find((c) => c.type === 'backup')!.backup!.estimated_bytes, 500)
  })
})
