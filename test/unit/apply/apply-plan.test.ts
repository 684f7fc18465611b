// The applier, driven fast: plans come from the real refresh and planner over an in-memory
// cluster and store (test/helpers/executor-world.ts), and are applied by the real applier.
// The integration tests run the same flows against real brokers and object stores.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {decodeSegment} from '../../../src/segment/index.js'
import {topicKey} from '../../../src/state/types.js'
import {World, records} from '../../helpers/executor-world.js'
import {DAY, desired, policy} from '../plan/fixtures.js'

const T0 = Date.parse('2026-06-01T00:00:00Z')

function seeded(world: World, perPartition = 100): void {
  world.cluster('prod').addTopic('orders.eu', 2).addTopic('other', 1)
  for (const p of [0, 1]) world.cluster('prod').seed('orders.eu', p, records(perPartition, T0))
  world.cluster('prod').seed('other', 0, records(5, T0))
}

async function committedOffsets(world: World, topic: string): Promise<number[]> {
  const snap = await world.snapshot()
  return (snap.topics[topicKey('orders', topic)]?.partitions ?? []).map((p) => p.next_offset)
}

describe('applyPlan: backups', () => {
  it('writes segments, commits the state and offsets, and a second plan is empty', async () => {
    const world = new World()
    seeded(world)
    const d = desired([policy('orders')])
    const {plan, outcome} = await world.planAndApply(d)
    assert.deepEqual(plan.resource_changes.map((c) => c.address).sort(), ['backup.orders["orders.eu"]', 'policy.orders'].sort())
    assert.equal(outcome.ok, true, JSON.stringify(outcome.changes))
    assert.deepEqual(outcome.summary.records, 200)
    // 100 records a partition in 40-record segments: 3 a partition.
    assert.equal(outcome.summary.segments, 6)
    assert.equal(world.segmentKeys().length, 6)
    assert.deepEqual(await committedOffsets(world, 'orders.eu'), [100, 100])
    const snap = await world.snapshot()
    assert.ok(snap.policies.orders, 'the policy is recorded')
    assert.equal(snap.topics[topicKey('orders', 'other')], undefined, 'a topic the policy does not include is not backed up')

    // What the segments hold is what the topic holds, byte for byte, headers and timestamps too.
    const keys = world.segmentKeys().filter((k) => k.includes('/orders.eu/0/'))
    const got = []
    for (const k of keys) got.push(...(await decodeSegment(await world.store.get(k), {objectName: k})).records)
    const want = world.cluster('prod').records('orders.eu')[0]!
    assert.deepEqual(got.map((r) => [r.offset, r.timestamp, r.key?.toString(), r.value?.toString(), r.headers.map((h) => [h.key, h.value?.toString() ?? null])]), want.map((r) => [r.offset, r.timestamp, r.key?.toString(), r.value?.toString(), r.headers.map((h) => [h.key, h.value?.toString() ?? null])]))

    const segEvents = world.reporter.events.filter((e) => e.type === 'segment.written')
    assert.equal(segEvents.length, 6)
    assert.equal(world.reporter.events.at(-1)?.type, 'apply.done')

    const again = await world.plan(d)
    assert.deepEqual(again.resource_changes, [], 'apply-then-plan gives an empty plan')
  })

  it('backs up only what is new on the next run, from the committed offsets', async () => {
    const world = new World()
    seeded(world)
    const d = desired([policy('orders')])
    await world.planAndApply(d)
    world.cluster('prod').seed('orders.eu', 1, records(30, T0, 1000, 100))
    world.advance(3_600_000)
    const {plan, outcome} = await world.planAndApply(d)
    const backup = plan.resource_changes.find((c) => c.type === 'backup')
    assert.deepEqual(backup?.backup?.ranges.filter((r) => r.to > r.from).map((r) => [r.partition, r.from, r.to]), [[1, 100, 130]])
    assert.equal(outcome.summary.records, 30)
    assert.deepEqual(await committedOffsets(world, 'orders.eu'), [100, 130])
  })

  it('stops at the last stable offset while a transaction is open', async () => {
    const world = new World()
    seeded(world)
    world.cluster('prod').openTransaction('orders.eu', 0)
    world.cluster('prod').seed('orders.eu', 0, records(10, T0, 1000, 100))
    const {outcome} = await world.planAndApply(desired([policy('orders')]))
    assert.equal(outcome.ok, true)
    assert.deepEqual(await committedOffsets(world, 'orders.eu'), [100, 100])
  })

  it('a failed change is reported with what it had committed, and the rerun continues without duplicates', async () => {
    const world = new World()
    seeded(world)
    const d = desired([policy('orders')])
    let batches = 0
    world.cluster('prod').beforeBatch = (_topic, partition) => {
      // Partition 1 dies after 2 batches (50 records): its first 40-record segment is durable.
      if (partition === 1 && ++batches > 2) throw Object.assign(new Error('broker went away'), {retriable: false})
    }
    const {outcome} = await world.planAndApply(d)
    assert.equal(outcome.ok, false)
    const o = outcome.changes.find((c) => c.address === 'backup.orders["orders.eu"]')
    assert.equal(o?.status, 'failed')
    assert.ok((o?.records ?? 0) > 0, 'committed records are reported')
    assert.match(o?.message ?? '', /record\(s\) in \d+ segment\(s\) were committed before it stopped/)
    assert.equal(outcome.summary.failed, 1)
    assert.equal(outcome.summary.records, o?.records)
    const after = await committedOffsets(world, 'orders.eu')
    assert.equal(after[0], 100)
    assert.ok(after[1]! < 100 && after[1]! > 0, `partition 1 got part-way: ${after[1]}`)
    assert.equal(o?.records, after[0]! + after[1]!, 'the reported count is what the state has')

    world.cluster('prod').beforeBatch = undefined
    const rerun = await world.planAndApply(d)
    assert.equal(rerun.outcome.ok, true)
    assert.deepEqual(await committedOffsets(world, 'orders.eu'), [100, 100])
    // Every offset is in exactly one segment.
    const offsets: number[] = []
    for (const k of world.segmentKeys().filter((x) => x.includes('/orders.eu/1/'))) offsets.push(...(await decodeSegment(await world.store.get(k), {objectName: k})).records.map((r) => r.offset))
    assert.deepEqual(offsets, Array.from({length: 100}, (_, i) => i))
  })

  it('an interrupting signal stops the run, commits what is durable and marks the change interrupted', async () => {
    const world = new World()
    seeded(world)
    const ac = new AbortController()
    let batches = 0
    world.cluster('prod').beforeBatch = () => {
      if (++batches === 3) ac.abort('SIGINT')
    }
    const d = desired([policy('orders')])
    const plan = await world.plan(d)
    const outcome = await world.apply(plan, d, {signal: ac.signal})
    assert.equal(outcome.interrupted, 'SIGINT')
    assert.equal(outcome.ok, false)
    const o = outcome.changes.find((c) => c.address === 'backup.orders["orders.eu"]')
    assert.equal(o?.status, 'interrupted')
    const snapRecords = (await committedOffsets(world, 'orders.eu')).reduce((a, b) => a + b, 0)
    assert.equal(o?.records ?? 0, snapRecords)
  })
})

describe('applyPlan: expiry and blocked changes', () => {
  async function aged(allowDestroy: boolean): Promise<{world: World; d: ReturnType<typeof desired>}> {
    const world = new World()
    seeded(world)
    const d = desired([policy('orders', {retention: {tier: 'short', maxAgeMs: 7 * DAY, minKeep: 1, immutable: false, allowDestroy}})])
    await world.planAndApply(d)
    world.advance(30 * DAY)
    // A newer backup, so the old segments are not the only copy.
    for (const p of [0, 1]) world.cluster('prod').seed('orders.eu', p, records(10, world.clock.getTime(), 1000, 100))
    await world.planAndApply(d)
    world.advance(1000)
    return {world, d}
  }

  it('expires old segments: forgotten by the state, deleted from the store', async () => {
    const {world, d} = await aged(true)
    const before = world.segmentKeys()
    const plan = await world.plan(d)
    const expire = plan.resource_changes.find((c) => c.type === 'expire')
    assert.ok(expire?.expire, `an expire change: ${plan.resource_changes.map((c) => c.address).join(', ')}`)
    assert.equal(expire.blocked, undefined)
    const doomed = expire.expire.segments.map((s) => s.key)
    assert.ok(doomed.length > 0)
    const outcome = await world.apply(plan, d)
    assert.equal(outcome.ok, true, JSON.stringify(outcome.changes))
    assert.equal(outcome.summary.deleted_segments, doomed.length)
    assert.deepEqual(world.segmentKeys(), before.filter((k) => !doomed.includes(k)))
    const recorded = await world.state.loadSegments(await world.snapshot(), 'orders', 'orders.eu')
    assert.ok(recorded.every((s) => !doomed.includes(s.key)), 'the state no longer lists them')
    assert.deepEqual((await world.plan(d)).resource_changes, [])
  })

  it('skips a blocked change and deletes nothing', async () => {
    const {world, d} = await aged(false)
    const before = world.segmentKeys()
    const plan = await world.plan(d)
    const expire = plan.resource_changes.find((c) => c.type === 'expire')
    assert.ok(expire?.blocked, 'the expiry is blocked (allowDestroy: false)')
    const outcome = await world.apply(plan, d)
    const o = outcome.changes.find((c) => c.address === expire.address)
    assert.equal(o?.status, 'skipped')
    assert.equal(o?.message, expire.blocked)
    assert.equal(outcome.summary.skipped, 1)
    assert.equal(outcome.summary.deleted_segments, 0)
    assert.deepEqual(world.segmentKeys(), before)
  })
})

describe('applyPlan: refusals', () => {
  it('refuses a plan made before someone else changed the state', async () => {
    const world = new World()
    seeded(world)
    const d = desired([policy('orders')])
    const stale = await world.plan(d)
    await world.planAndApply(d)
    await assert.rejects(world.apply(stale, d), (e: {code?: string}) => e.code === 'KBK_PLAN_STALE')
  })

  it('refuses a plan made from another config', async () => {
    const world = new World()
    seeded(world)
    const d = desired([policy('orders')])
    const plan = await world.plan(d)
    await assert.rejects(world.apply(plan, {...d, configDigest: 'sha256:other'}), (e: {code?: string}) => e.code === 'KBK_PLAN_STALE')
    assert.deepEqual(world.segmentKeys(), [])
  })
})
