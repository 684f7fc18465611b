// The offsets planner on its own (pure): exact per-partition moves for each `to`, active groups
// refused with their members, one-off semantics, resume to pinned offsets, and the plan text.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {formatChange} from '../../../src/format/plan-text.js'
import {planOffsetReset, planOffsetRollback} from '../../../src/plan/planners/offsets.js'
import type {DesiredOffsetReset, OffsetResetView, PlanDiagnostic} from '../../../src/plan/types.js'
import type {StateSnapshot} from '../../../src/state/types.js'

const state = (extra: Partial<StateSnapshot> = {}): StateSnapshot => ({format_version: 1, lineage: 'l', serial: 3, kbk_version: '0', updated_at: '2026-01-01T00:00:00Z', policies: {}, restores: {}, topics: {}, ...extra})

const reset = (over: Partial<DesiredOffsetReset> = {}): DesiredOffsetReset => ({
  name: 'replay',
  cluster: 'prod',
  store: 'primary',
  groups: [/^(?:billing)$/],
  topics: [],
  to: 'earliest',
  ifActive: 'fail',
  waitTimeoutMs: 300_000,
  settings: {to: over.to ?? 'earliest'},
  ...over,
})

const view = (over: Partial<OffsetResetView> = {}): OffsetResetView => ({
  groups: [{group: 'billing', state: 'Empty', members: [], offsets: {orders: {0: 1204, 1: 50, 2: 7}}}],
  watermarks: {orders: [{partition: 0, low: 100, high: 2000}, {partition: 1, low: 50, high: 60}, {partition: 2, low: 0, high: 9}]},
  ...over,
})

describe('offsets planner', () => {
  test('earliest: every partition that moves, with before and after, and the text line per partition', () => {
    const d: PlanDiagnostic[] = []
    const ch = planOffsetReset(reset(), state(), view(), d)!
    assert.deepEqual(d, [])
    assert.deepEqual(ch.offsets.groups[0]!.topics, {orders: [{partition: 0, before: 1204, after: 100}, {partition: 2, before: 7, after: 0}]})
    const text = formatChange(ch).join('\n')
    assert.match(text, /~ offsets\.replay\["billing"\] orders\/0: 1,204 -> 100/)
    assert.doesNotMatch(text, /orders\/1:/)
  })

  test('timestamp: offsets of the snapshot as of then, clamped into the log, and said so', () => {
    const d: PlanDiagnostic[] = []
    const ch = planOffsetReset(reset({to: 'timestamp', timestamp: '2026-03-22T14:30:00Z'}), state(), view({snapshot: {id: 's1', taken_at: '2026-03-22T14:00:00Z', groups: {billing: {orders: {0: 980, 1: 55, 2: 3}}}}}), d)!
    assert.deepEqual(ch.offsets.groups[0]!.topics.orders, [{partition: 0, before: 1204, after: 980}, {partition: 1, before: 50, after: 55}, {partition: 2, before: 7, after: 3}])
    const missing = planOffsetReset(reset({to: 'timestamp', timestamp: '2026-03-22T14:30:00Z'}), state(), view(), d)
    assert.equal(missing, undefined)
    assert.equal(d[0]?.code, 'KBK_OFFSETS_NO_SOURCE')
  })

  test('a group with members is refused, naming each member; ifActive: wait plans it with a note', () => {
    const members = [{member_id: 'consumer-1-abc', client_id: 'billing-worker', host: '/10.0.0.7'}]
    const active = view({groups: [{group: 'billing', state: 'Stable', members, offsets: {orders: {0: 1204}}}]})
    const d: PlanDiagnostic[] = []
    const ch = planOffsetReset(reset(), state(), active, d)!
    assert.equal(d[0]?.code, 'KBK_KAFKA_GROUP_ACTIVE')
    assert.match(d[0]!.message, /consumer-1-abc \(client billing-worker, \/10\.0\.0\.7\)/)
    assert.ok(ch.blocked)
    const w: PlanDiagnostic[] = []
    const waiting = planOffsetReset(reset({ifActive: 'wait'}), state(), active, w)!
    assert.deepEqual(w, [])
    assert.ok(!waiting.blocked)
    assert.ok(waiting.notes!.some((n) => /waits up to 5m/.test(n)))
  })

  test('applied with the same settings: no change; in-progress: the pinned offsets again, reusing the snapshot', () => {
    const r = reset()
    const done = state({offset_resets: {replay: {name: 'replay', settings: r.settings, applied_at: 'x', cluster: 'prod', status: 'complete', snapshot_id: 's0', offsets: {}}}})
    assert.equal(planOffsetReset(r, done, view(), []), undefined)
    const interrupted = state({offset_resets: {replay: {name: 'replay', settings: r.settings, applied_at: 'x', cluster: 'prod', status: 'in-progress', snapshot_id: 's0', offsets: {billing: {orders: {0: 1500}}}}}})
    const ch = planOffsetReset(r, interrupted, view(), [])!
    assert.equal(ch.offsets.resume_snapshot, 's0')
    assert.deepEqual(ch.offsets.groups[0]!.topics, {orders: [{partition: 0, before: 1204, after: 1500}]})
    // Settings changed since: planned afresh.
    assert.equal(planOffsetReset(reset({settings: {to: 'latest'}, to: 'latest'}), done, view(), [])!.offsets.resume_snapshot, undefined)
  })

  test('no matching group is a warning and no change', () => {
    const d: PlanDiagnostic[] = []
    assert.equal(planOffsetReset(reset(), state(), view({groups: []}), d), undefined)
    assert.deepEqual(d.map((x) => [x.severity, x.code]), [['warning', 'KBK_OFFSETS_NO_GROUP']])
    assert.match(d[0]!.message, /"billing"/)
  })

  test('a rollback plans exactly the snapshot offsets and names partitions it cannot uncommit', () => {
    const ch = planOffsetRollback({id: 'snap', taken_at: 't', cluster: 'prod', groups: {billing: {orders: {0: 300, 1: 50}}}}, 'primary', view(), [])!
    assert.equal(ch.address, 'offsets.rollback-snap')
    assert.deepEqual(ch.offsets.groups[0]!.topics, {orders: [{partition: 0, before: 1204, after: 300}]})
    assert.ok(ch.notes!.some((n) => /orders\/2: no committed offset in the snapshot/.test(n)))
  })
})
