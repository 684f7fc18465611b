// The restore engine, driven fast: back up into an in-memory store, then restore into an
// in-memory target cluster through the real planner and applier. Real brokers are covered by
// test/integration/restore*.test.ts.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {KafkaRecord} from '../../../src/kafka/port.js'
import {World, records} from '../../helpers/executor-world.js'
import {desired, policy, restore} from '../plan/fixtures.js'

const T0 = Date.parse('2026-05-31T00:00:00Z')

/** What a consumer compares: everything but the offset. */
function content(r: KafkaRecord): unknown[] {
  return [r.timestamp, r.key?.toString() ?? null, r.value?.toString() ?? null, r.headers.map((h) => [h.key, h.value?.toString() ?? null])]
}

async function backedUp(perPartition = 90): Promise<World> {
  const world = new World()
  const prod = world.cluster('prod')
  prod.addTopic('orders.eu', 3)
  for (const p of [0, 1, 2]) prod.seed('orders.eu', p, records(perPartition, T0 + p * 7))
  // A tombstone and an empty key: kept distinct from each other and from empty values.
  prod.seed('orders.eu', 0, [{key: null, value: null, timestamp: T0 + 500_000}, {key: '', value: '', timestamp: T0 + 500_001}])
  const {outcome} = await world.planAndApply(desired([policy('orders')]))
  assert.equal(outcome.ok, true, JSON.stringify(outcome.changes))
  world.advance(60_000)
  return world
}

describe('restore: records into the target cluster', () => {
  it('restores every record with key, value, headers, timestamp and partition intact, once', async () => {
    const world = await backedUp()
    const d = desired([policy('orders')], [restore('drill', {policy: 'orders', cluster: 'staging'})])
    const plan = await world.plan(d)
    const change = plan.resource_changes.find((c) => c.type === 'restore')
    assert.ok(change?.restore, plan.resource_changes.map((c) => c.address).join(', '))
    assert.equal(change.restore.topics[0]?.target_topic, 'orders.eu-restored')
    const outcome = await world.apply(plan, d)
    assert.equal(outcome.ok, true, JSON.stringify(outcome.changes))
    assert.equal(outcome.summary.restored_records, 272)

    const source = world.cluster('prod').records('orders.eu')
    const target = world.cluster('staging').records('orders.eu-restored')
    assert.equal(target.length, 3)
    for (const p of [0, 1, 2]) assert.deepEqual(target[p]!.map(content), source[p]!.map(content), `partition ${p}`)
    assert.equal(target[0]!.at(-2)?.value, null, 'the tombstone stays a tombstone')
    assert.equal(target[0]!.at(-2)?.key, null)
    assert.deepEqual(target[0]!.at(-1)?.key, Buffer.alloc(0))

    const snap = await world.snapshot()
    assert.equal(snap.restores.drill?.status, 'complete')
    // Done is done: the next plan does not restore again.
    assert.equal((await world.plan(d)).resource_changes.filter((c) => c.type === 'restore').length, 0)
  })

  it('stops at the point in time: no record newer than it is produced', async () => {
    const world = await backedUp()
    // Records are 1 s apart from T0: 40.5 s in keeps 41 records (0..40) of each partition
    // (partition p starts p*7 ms later, still inside).
    const pit = new Date(T0 + 40_500).toISOString()
    const d = desired([policy('orders')], [restore('pitr', {policy: 'orders', cluster: 'staging', pointInTime: pit, settings: {}})])
    const plan = await world.plan(d)
    const change = plan.resource_changes.find((c) => c.type === 'restore')
    assert.equal(change?.restore?.point_in_time, pit)
    const outcome = await world.apply(plan, d)
    assert.equal(outcome.ok, true, JSON.stringify(outcome.changes))
    const target = world.cluster('staging').records('orders.eu-restored')
    for (const p of [0, 1, 2]) {
      assert.equal(target[p]!.length, 41, `partition ${p}`)
      assert.ok(target[p]!.every((r) => r.timestamp <= Date.parse(pit)))
    }
    assert.equal(outcome.summary.restored_records, 123)
  })

  it('resumes after an interruption without duplicates or gaps', async () => {
    const world = await backedUp()
    const d = desired([policy('orders')], [restore('drill', {policy: 'orders', cluster: 'staging'})])
    const staging = world.cluster('staging')
    let requests = 0
    staging.beforeProduce = () => {
      // The third produce request fails before anything of it lands (the broker went away).
      if (++requests === 3) throw Object.assign(new Error('connection reset'), {retriable: false})
    }
    const first = await world.planAndApply(d)
    assert.equal(first.outcome.ok, false)
    const failed = first.outcome.changes.find((c) => c.address.startsWith('restore.'))
    assert.equal(failed?.status, 'failed')
    const producedBefore = staging.records('orders.eu-restored').reduce((n, p) => n + p.length, 0)
    assert.ok(producedBefore > 0 && producedBefore < 272, `part-way: ${producedBefore}`)
    assert.equal(failed?.records, producedBefore, 'the outcome says what was produced')
    assert.equal((await world.snapshot()).restores.drill?.status, 'in-progress')

    staging.beforeProduce = undefined
    world.advance(60_000)
    const second = await world.planAndApply(d)
    const change = second.plan.resource_changes.find((c) => c.type === 'restore')
    assert.ok(change?.notes?.some((n) => /resumes/.test(n)), 'the plan says it resumes')
    assert.equal(second.outcome.ok, true, JSON.stringify(second.outcome.changes))
    const done = second.outcome.changes.find((c) => c.address.startsWith('restore.'))
    assert.equal(done?.records, 272 - producedBefore)
    assert.match(done?.message ?? '', /272 in all/)

    const source = world.cluster('prod').records('orders.eu')
    const target = staging.records('orders.eu-restored')
    for (const p of [0, 1, 2]) assert.deepEqual(target[p]!.map(content), source[p]!.map(content), `partition ${p}: every record once, in order`)
    assert.equal((await world.snapshot()).restores.drill?.status, 'complete')
  })

  it('refuses a target that is not empty (ifTargetNotEmpty: fail) at plan time, producing nothing', async () => {
    const world = await backedUp()
    world.cluster('staging').addTopic('orders.eu-restored', 3).seed('orders.eu-restored', 0, records(1, T0))
    const d = desired([policy('orders')], [restore('drill', {policy: 'orders', cluster: 'staging'})])
    const plan = await world.plan(d)
    assert.equal(plan.applyable, false, 'a non-empty target makes the plan unapplyable')
    assert.ok(plan.diagnostics.some((x) => x.severity === 'error'), JSON.stringify(plan.diagnostics))
    assert.equal(world.cluster('staging').calls.produce, 0)
  })
})
