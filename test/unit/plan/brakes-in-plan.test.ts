// The brakes are part of what a plan promises: a backup's rateLimit, and how a restore produces
// (its rateLimit and the codec of its batches), are in the plan's JSON and in its text.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {planChanges} from '../../../src/plan/plan-changes.js'
import {formatPlanText} from '../../../src/format/plan-text.js'
import {planSchemaErrors} from './json-schemas.js'
import {DAY, NOW, desired, emptyState, observed, partitionSummary, policy, restore, segment, topicIndex, topicView} from './fixtures.js'

const opts = {now: NOW, kbkVersion: '0.1.0'}
const MiB = 1024 * 1024

function withSettings(extra: Record<string, unknown>): ReturnType<typeof policy> {
  const p = policy('orders')
  return policy('orders', {settings: {...p.settings, ...extra}})
}

describe('rate limits and codecs in the plan', () => {
  it("a backup's run carries its policy's rateLimit, and the text says it under the run", () => {
    const p = withSettings({rateLimit: {bytesPerSecond: 10 * MiB, recordsPerSecond: 5000}})
    const plan = planChanges(desired([p]), observed(emptyState(), {'orders.created': topicView([[0, 100]])}), opts)
    const run = plan.resource_changes.find((c) => c.type === 'backup')!.backup!
    assert.deepEqual(run.rate_limit, {bytesPerSecond: 10 * MiB, recordsPerSecond: 5000})
    assert.match(formatPlanText(plan), /100 record\(s\), [^\n]*\n\s+read at most 10(\.0)? MiB\/s and 5,000 records\/s over all partitions \(rateLimit\)\n/)
    assert.deepEqual(planSchemaErrors(JSON.parse(JSON.stringify(plan))), [])
  })

  it('without a rateLimit a backup run says nothing of one', () => {
    const plan = planChanges(desired([policy('orders')]), observed(emptyState(), {'orders.created': topicView([[0, 100]])}), opts)
    assert.equal(plan.resource_changes.find((c) => c.type === 'backup')!.backup!.rate_limit, undefined)
    assert.doesNotMatch(formatPlanText(plan), /rateLimit/)
  })

  it("a restore's rateLimit and compression are in one `produced` line", () => {
    const state = emptyState()
    state.policies = {orders: {name: 'orders', settings: policy('orders').settings, created_at: NOW.toISOString(), updated_at: NOW.toISOString()}}
    state.topics['orders/orders.created'] = topicIndex('orders', 'orders.created', [partitionSummary(0, 20, {max_timestamp: NOW.getTime() - 1000})])
    const segs = [segment('orders', 'orders.created', 0, 0, 19, new Date(NOW.getTime() - DAY))]
    const r0 = restore('again')
    for (const [compression, text] of [['zstd', 'batches zstd-compressed \\(compression: zstd\\)'], ['none', 'batches uncompressed \\(compression: none\\)'], ['auto', 'batches uncompressed to a loopback broker, lz4 otherwise \\(compression: auto\\)']] as const) {
      const r = restore('again', {settings: {...r0.settings, rateLimit: {bytesPerSecond: 2 * MiB}, compression}})
      const plan = planChanges(desired([policy('orders')], [r]), observed(state, {'orders.created': topicView([[0, 20]])}, {segments: {'orders/orders.created': segs}}), opts)
      assert.match(formatPlanText(plan), new RegExp(`produced at most 2(\\.0)? MiB/s over all partitions \\(rateLimit\\); ${text}`), compression)
    }
  })
})
