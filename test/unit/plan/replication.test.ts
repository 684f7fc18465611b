// The replication planner on its own (pure): what is copied and why, what is in sync, the
// copy's own expiry, replica drift, and restores reading a replica or refusing an unreadable store.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {planChanges} from '../../../src/plan/plan-changes.js'
import {replicaSettings} from '../../../src/plan/planners/replication.js'
import type {DesiredPolicy, Observed, ReplicaView} from '../../../src/plan/types.js'
import type {SegmentRef, StateSnapshot} from '../../../src/state/types.js'
import {DAY, NOW, desired, emptyState, observed, partitionSummary, policy, restore, segment, topicIndex, topicView} from './fixtures.js'

const T = 'orders.created'
const replicated = (over: Partial<DesiredPolicy> = {}): DesiredPolicy =>
  policy('orders', {replicas: [{store: 'dr', sourceKind: 's3', retention: {tier: 'archive', maxAgeMs: 365 * DAY, minKeep: 1, immutable: false, allowDestroy: true}}], ...over})

function primaryWith(segments: SegmentRef[]): StateSnapshot {
  const s = emptyState()
  s.policies.orders = {name: 'orders', settings: {}, created_at: NOW.toISOString(), updated_at: NOW.toISOString()}
  s.topics[`orders/${T}`] = topicIndex('orders', T, [partitionSummary(0, 200, {segment_count: segments.length})])
  return s
}

function replicaWith(p: DesiredPolicy, segments: SegmentRef[], objects: ReplicaView['objects'] = Object.fromEntries(segments.map((s) => [s.key, {size: s.bytes, etag: s.replica_etag ?? 'e1'}]))): ReplicaView {
  const s = emptyState()
  s.policies.orders = {name: 'orders', settings: replicaSettings(p, p.replicas![0]!), created_at: NOW.toISOString(), updated_at: NOW.toISOString()}
  if (segments.length > 0) s.topics[`orders/${T}`] = topicIndex('orders', T, [partitionSummary(0, 200, {segment_count: segments.length, oldest_written_at: segments.map((x) => x.written_at).sort()[0]!})])
  return {state: s, segments: segments.length > 0 ? {[`orders/${T}`]: segments} : {}, objects, extra: []}
}

function plan(p: DesiredPolicy, primary: SegmentRef[], replica: ReplicaView, over: Partial<Observed> = {}, restores = [] as ReturnType<typeof restore>[], targets?: string[]) {
  const obs = observed(primaryWith(primary), {[T]: topicView([[0, 200]])}, {segments: {[`orders/${T}`]: primary}, replicas: {dr: replica}, ...over})
  return planChanges(desired([p], restores), obs, {now: NOW, kbkVersion: 'test', ...(targets ? {targets} : {})})
}

const recent = new Date(NOW.getTime() - DAY)
const a = segment('orders', T, 0, 0, 99, recent, {sha256: 'aa'.repeat(32), replica_etag: 'e1'})
const b = segment('orders', T, 0, 100, 199, recent, {sha256: 'bb'.repeat(32), replica_etag: 'e1'})

describe('replication planner', () => {
  test('segments on the primary and not on the replica are copied, by partition range, with the replica store as the change store', () => {
    const p = replicated()
    const result = plan(p, [a, b], replicaWith(p, [a]))
    const ch = result.resource_changes.find((c) => c.type === 'replicate')!
    assert.equal(ch.address, `replicate.orders@dr[${JSON.stringify(T)}]`)
    assert.equal(ch.store, 'dr')
    assert.deepEqual(ch.replicate!.segments.map((s) => [s.key, s.reason]), [[b.key, 'missing']])
    assert.deepEqual(ch.replicate!.ranges, [{partition: 0, from: 100, to: 199, segments: 1, bytes: b.bytes}])
    assert.equal(ch.replicate!.source_store, 'primary')
    assert.deepEqual(result.states.dr, {lineage: result.states.dr!.lineage, serial: 0}, 'apply locks and pins the replica store')
  })

  test('a replica holding every segment with the primary\'s checkpoints plans nothing', () => {
    const p = replicated()
    const result = plan(p, [a, b], replicaWith(p, [a, b]))
    assert.deepEqual(result.resource_changes.filter((c) => c.type === 'replicate'), [])
    assert.deepEqual(result.drift, [])
  })

  test('a copy whose object was replaced (another version token) or deleted is drift and is copied again', () => {
    const p = replicated()
    const replaced = plan(p, [a, b], replicaWith(p, [a, b], {[a.key]: {size: a.bytes, etag: '"e2"'}, [b.key]: {size: b.bytes, etag: '"e1"'}}))
    assert.deepEqual(replaced.drift.map((d) => d.kind), ['replica-changed'])
    assert.deepEqual(replaced.resource_changes.find((c) => c.type === 'replicate')!.replicate!.segments.map((s) => [s.key, s.reason]), [[a.key, 'changed']])
    const gone = plan(p, [a, b], replicaWith(p, [a, b], {[b.key]: {size: b.bytes, etag: 'e1'}}))
    assert.deepEqual(gone.drift.map((d) => d.kind), ['replica-missing'])
  })

  test('a replica behind by more than the rpo is critical drift; the first replication records the copy\'s settings', () => {
    const old = segment('orders', T, 0, 0, 99, new Date(NOW.getTime() - 3 * 3_600_000), {sha256: 'cc'.repeat(32)})
    const p = replicated({rpoMs: 3_600_000})
    const fresh: ReplicaView = {state: emptyState(), segments: {}, objects: {}, extra: []}
    const result = plan(p, [old], fresh)
    assert.deepEqual(result.drift.map((d) => [d.kind, d.severity]), [['replica-behind', 'critical']])
    assert.deepEqual(result.resource_changes.filter((c) => c.type === 'replicate').map((c) => [c.address, c.actions[0]]), [
      ['replicate.orders@dr', 'create'],
      [`replicate.orders@dr[${JSON.stringify(T)}]`, 'run'],
    ])
  })

  test('each copy expires by its own tier under its own address; a segment the copy would expire at once is not copied', () => {
    const ancient = segment('orders', T, 0, 0, 99, new Date(NOW.getTime() - 400 * DAY), {run_id: 'r-old', replica_etag: 'e1'})
    const newer = segment('orders', T, 0, 100, 199, recent, {run_id: 'r-new', replica_etag: 'e1'})
    const p = replicated()
    const result = plan(p, [ancient, newer], replicaWith(p, [ancient, newer]))
    const expire = result.resource_changes.find((c) => c.address === `expire.orders@dr[${JSON.stringify(T)}]`)!
    assert.equal(expire.store, 'dr')
    assert.deepEqual(expire.expire!.segments.map((s) => s.key), [ancient.key])
    const notYet = plan(p, [ancient, newer], replicaWith(p, [newer]))
    assert.deepEqual(notYet.resource_changes.filter((c) => c.type === 'replicate'), [], 'the 400-day-old segment is past the 365-day replica tier')
  })

  test('a restore reads the replica it names; an unreadable primary stops the policy and points restores at the replica', () => {
    const p = replicated()
    const fromReplica = restore('dr-drill', {store: 'dr'})
    const ok = plan(p, [a, b], replicaWith(p, [a, b]), {}, [fromReplica])
    const run = ok.resource_changes.find((c) => c.type === 'restore')!
    assert.equal(run.store, 'dr')
    assert.equal(run.restore!.store, 'dr')

    const down: Partial<Observed> = {states: {}, store_errors: {primary: {code: 'KBK_STORE_UNREACHABLE', message: 'cannot reach http://127.0.0.1:1'}}}
    const fromPrimary = restore('drill')
    const blocked = plan(p, [a, b], replicaWith(p, [a, b]), down, [fromPrimary, fromReplica])
    assert.equal(blocked.applyable, false)
    const restoreError = blocked.diagnostics.find((d) => d.severity === 'error' && d.message.includes('Restore "drill"'))!
    assert.equal(restoreError.code, 'KBK_STORE_UNREADABLE')
    assert.match(restoreError.suggestion!, /from\.store: dr/)
    const targeted = plan(p, [a, b], replicaWith(p, [a, b]), down, [fromPrimary, fromReplica], ['restore.dr-drill'])
    assert.equal(targeted.applyable, true, JSON.stringify(targeted.diagnostics))
    assert.deepEqual(targeted.resource_changes.map((c) => c.address), ['restore.dr-drill'])
  })
})
