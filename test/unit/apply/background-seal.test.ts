// A full segment is sealed and stored while its partition (and every other) reads on: inline, each
// store write held up the whole fetch loop. What must not change: a partition's segments are
// committed in order, a segment is committed only once stored, a store failure fails the run with
// nothing of that partition committed past it, and nothing is still writing when the run ends.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {topicKey, type SegmentRef} from '../../../src/state/types.js'
import type {PutBody, PutOptions} from '../../../src/storage/object-store.js'
import {World, records} from '../../helpers/executor-world.js'
import {desired, policy} from '../plan/fixtures.js'

const T0 = Date.parse('2026-06-01T00:00:00Z')
/** World's segments hold 40 records: 100 records make 3 segments per partition. */
const RECORDS = 100

function seeded(world: World): void {
  world.cluster('prod').addTopic('orders.eu', 2)
  for (const p of [0, 1]) world.cluster('prod').seed('orders.eu', p, records(RECORDS, T0))
}

const isSegment = (key: string): boolean => key.startsWith('data/') && key.endsWith('.kbs')
const partitionOf = (key: string): number => Number(key.split('/').at(-2))

/**
 * Wraps the world's store: `hook` runs before each segment put and may hold or fail it. Records
 * the order in which segment writes started and finished, and both in one log.
 */
function interceptPuts(world: World, hook: (key: string) => Promise<void>): {started: string[]; finished: string[]; log: string[]} {
  const put = world.store.put.bind(world.store)
  const started: string[] = []
  const finished: string[] = []
  const log: string[] = []
  world.store.put = async (key: string, body: PutBody, options?: PutOptions) => {
    if (!isSegment(key)) return put(key, body, options)
    started.push(key)
    log.push(`start ${key}`)
    try {
      await hook(key)
      return await put(key, body, options)
    } finally {
      finished.push(key)
      log.push(`finish ${key}`)
    }
  }
  return {started, finished, log}
}

/** Resolves once `predicate` holds, checked now and on every put; a guard fails the test instead of hanging it. */
function when(predicate: () => boolean, check: Array<() => void>, what: string): Promise<void> {
  if (predicate()) return Promise.resolve()
  return new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`never happened: ${what}`)), 20_000)
    check.push(() => {
      if (predicate()) {
        clearTimeout(guard)
        resolve()
      }
    })
  })
}

/** What the state recorded of the topic: its partitions' checkpoints and its segments. */
async function committed(world: World): Promise<{partitions: Array<{partition: number; next_offset: number}>; segments: SegmentRef[]}> {
  const snapshot = await world.snapshot()
  const t = snapshot.topics[topicKey('orders', 'orders.eu')]
  return {partitions: t?.partitions ?? [], segments: t ? await world.state.loadSegments(snapshot, 'orders', 'orders.eu') : []}
}

/** Segment state of one partition: every record in order, each segment covering on from the last. */
function assertCommittedInOrder(t: {partitions: Array<{partition: number; next_offset: number}>; segments: SegmentRef[]}, partition: number, records: number): void {
  assert.equal(t.partitions.find((x) => x.partition === partition)?.next_offset, records)
  const segs = t.segments.filter((s) => s.partition === partition).sort((a, b) => a.first_offset - b.first_offset)
  assert.equal(segs.reduce((n, s) => n + s.records, 0), records)
  for (let i = 1; i < segs.length; i++) {
    assert.equal(segs[i]!.first_offset, segs[i - 1]!.last_offset + 1)
    assert.equal(segs[i]!.covers_from, segs[i - 1]!.covers_to)
  }
}

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

describe('segments sealed while the partitions read on', () => {
  it('a slow store write of one partition\'s segment does not hold up the other partition', async () => {
    const world = new World()
    world.cluster('prod').addTopic('orders.eu', 2)
    // 30 records: one segment per partition, sealed when its range ends.
    for (const p of [0, 1]) world.cluster('prod').seed('orders.eu', p, records(30, T0))
    const checks: Array<() => void> = []
    let held: string | undefined
    const puts = interceptPuts(world, async (key) => {
      for (const c of checks) c()
      if (held === undefined) {
        held = key
        // Stored only once the other partition's segment is on its way: with sealing in line,
        // that never happened (the read waited for this write).
        await when(() => puts.started.some((k) => partitionOf(k) !== partitionOf(key)), checks, 'the other partition stored while the first waits')
      }
    })
    const {outcome} = await world.planAndApply(desired([policy('orders')]))
    assert.equal(outcome.ok, true, JSON.stringify(outcome.changes))
    const t = await committed(world)
    for (const p of [0, 1]) assertCommittedInOrder(t, p, 30)
    assert.deepEqual([...puts.finished].sort(), [...puts.started].sort(), 'no write still running')
  })

  it('writes that finish in any order still commit every partition\'s segments in order', async () => {
    let outOfOrder = 0
    for (const seed of [1, 2, 3, 4, 5]) {
      const world = new World()
      seeded(world)
      // Each write takes a pseudo-random number of event-loop turns, partition 0's more (8-31)
      // than partition 1's (0-7), so a write of partition 1 that starts while one of partition 0
      // is running can finish first.
      let x = seed
      const puts = interceptPuts(world, async (key) => {
        x = (x * 1103515245 + 12345) % 2147483648
        await turns(partitionOf(key) === 0 ? 8 + (x % 24) : x % 8)
      })
      const {outcome} = await world.planAndApply(desired([policy('orders')]))
      assert.equal(outcome.ok, true, JSON.stringify(outcome.changes))
      const t = await committed(world)
      for (const p of [0, 1]) assertCommittedInOrder(t, p, RECORDS)
      assert.equal(t.segments.length, 6)
      assert.deepEqual([...puts.finished].sort(), [...puts.started].sort(), 'no write still running')
      // Within a partition, each segment's write started only after the one before had finished.
      for (const p of [0, 1]) {
        const mine = puts.started.filter((k) => partitionOf(k) === p)
        assert.deepEqual(mine, [...mine].sort(), `partition ${p} wrote its segments in order`)
        for (let i = 1; i < mine.length; i++) {
          assert.ok(puts.log.indexOf(`finish ${mine[i - 1]}`) < puts.log.indexOf(`start ${mine[i]}`), `${mine[i]} started after ${mine[i - 1]} had finished: ${puts.log.join(', ')}`)
        }
      }
      if (puts.finished.join() !== puts.started.join()) outOfOrder++
    }
    // The schedules did what they are for: writes of the two partitions overlapped and finished
    // in another order than they started.
    assert.ok(outOfOrder > 0, 'some seed finished writes out of their start order')
  })

  it('a segment the store refuses fails the run; nothing of that partition past it is committed, and no write outlives the run', async () => {
    const world = new World()
    seeded(world)
    const checks: Array<() => void> = []
    let refused: string | undefined
    const puts = interceptPuts(world, async (key) => {
      for (const c of checks) c()
      if (partitionOf(key) === 0 && puts.started.filter((k) => partitionOf(k) === 0).length === 2) {
        refused = key
        // Partition 1's write may be the last one waiting: let it see the refusal now.
        for (const c of checks) c()
        throw Object.assign(new Error('injected: disk full'), {code: 'ENOSPC'})
      }
      // Partition 1 writes slowly: the run must still wait for it before it ends.
      if (partitionOf(key) === 1) {
        await when(() => refused !== undefined, checks, 'partition 0 refused')
        await turns(20)
      }
    })
    const {outcome} = await world.planAndApply(desired([policy('orders')]))
    assert.equal(outcome.ok, false)
    assert.ok(refused)
    assert.match(JSON.stringify(outcome.changes), /disk full|ENOSPC/)
    // The refused segment starts at offset 40 (World's segments hold 40 records).
    const t = await committed(world)
    const p0 = t.segments.filter((s) => s.partition === 0)
    assert.ok(p0.every((s) => s.last_offset < 40), `nothing of partition 0 from offset 40 on: ${JSON.stringify(p0)}`)
    assert.ok((t.partitions.find((x) => x.partition === 0)?.next_offset ?? 0) <= 40)
    assert.ok(!puts.started.some((k) => partitionOf(k) === 0 && k > refused!), 'no later segment of partition 0 was written')
    assert.deepEqual([...puts.finished].sort(), [...puts.started].sort(), 'every write had finished when the apply returned')
  })

  it('segments on their way to the store hold at most 96 MiB: two of 40 MiB at once on fs, one where the store joins them', async () => {
    for (const [kind, most] of [['fs', 2], ['s3', 1]] as const) {
      // One 40 MiB record per partition, uncompressed (World's codec): each is a segment of ~40 MiB.
      const world = new World({runtime: {segmentMaxBytes: 64 * 1024 * 1024, segmentMaxRecords: 1}})
      // The memory double says 'fs'; as 's3', put() is taken to join a list into a copy of it.
      if (kind !== 'fs') Object.defineProperty(world.store, 'kind', {value: kind})
      world.cluster('prod').addTopic('orders.eu', 3)
      const big = 'x'.repeat(40 * 1024 * 1024)
      for (const p of [0, 1, 2]) world.cluster('prod').seed('orders.eu', p, [{key: 'k', value: big, timestamp: T0, headers: []}])
      const checks: Array<() => void> = []
      let inFlight = 0
      let peak = 0
      const puts = interceptPuts(world, async () => {
        inFlight++
        peak = Math.max(peak, inFlight)
        for (const c of checks) c()
        try {
          // On fs the first write waits for a second to start: two fit in the budget. Every write
          // then takes many event-loop turns, time enough for one more to start if it were let.
          if (kind === 'fs' && puts.started.length === 1) await when(() => inFlight === 2, checks, 'a second segment on its way')
          await turns(200)
        } finally {
          inFlight--
        }
      })
      const {outcome} = await world.planAndApply(desired([policy('orders')]))
      assert.equal(outcome.ok, true, JSON.stringify(outcome.changes))
      assert.equal(peak, most, `${kind}: at most ${most} segment(s) on their way at once`)
      const t = await committed(world)
      for (const p of [0, 1, 2]) assertCommittedInOrder(t, p, 1)
    }
  })
})
