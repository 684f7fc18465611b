// The shard assignment is pure and computed by every worker on its own: it must cover each work
// item exactly once, be the same whatever the order of computation, balance planned bytes, and
// narrow changes so the ordinary applier runs a share unchanged.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {perProcessRateLimit} from '../../../src/apply/rate-limit.js'
import {assignWorkItems, parseShardSpec, remainingShare, shardPlan, shardWeights, workItemsOf} from '../../../src/apply/shard.js'
import type {BackupChange, ExpireChange, Plan, PolicyChange, ResourceChange} from '../../../src/plan/types.js'
import {isKbkError} from '../../../src/errors.js'

function backup(topic: string, sizes: number[], bytesPerRecord = 100): BackupChange {
  const ranges = sizes.map((n, partition) => ({partition, from: 10, to: 10 + n}))
  const records = sizes.reduce((a, b) => a + b, 0)
  return {
    type: 'backup',
    address: `backup.events["${topic}"]`,
    name: 'events',
    store: 'main',
    topic,
    actions: ['run'],
    before: {next_offsets: Object.fromEntries(ranges.map((r) => [r.partition, r.from]))},
    after: {next_offsets: Object.fromEntries(ranges.map((r) => [r.partition, r.to]))},
    backup: {policy: 'events', topic, cluster: 'source', store: 'main', partition_count: sizes.length, configs: {}, ranges, estimated_records: records, estimated_bytes: records * bytesPerRecord, first_backup: false},
  }
}

function expire(topic: string, n: number): ExpireChange {
  const segments = Array.from({length: n}, (_, i) => ({key: `data/events/${topic}/0/${i}.kbs`, partition: 0, first_offset: i * 10, last_offset: i * 10 + 9, records: 10, bytes: 1000, written_at: '2026-01-01T00:00:00.000Z', sha256: 'ab'}))
  return {type: 'expire', address: `expire.events["${topic}"]`, name: 'events', store: 'main', topic, actions: ['delete'], before: {segments: n, bytes: n * 1000}, after: null, expire: {policy: 'events', topic, store: 'main', tier: 't', segments, bytes: n * 1000, records: n * 10, written_from: '', written_to: '', kept: []}}
}

const policy: PolicyChange = {type: 'policy', address: 'policy.events', name: 'events', store: 'main', actions: ['create'], before: null, after: {x: 1}}

function plan(changes: ResourceChange[]): Plan {
  return {format_version: '1.0', kbk_version: 't', created_at: '2026-03-01T00:00:00.000Z', refresh_only: false, config_digest: 'd', states: {main: {lineage: 'l', serial: 3}}, resource_changes: changes, drift: [], diagnostics: [], summary: {create: 0, update: 0, delete: 0, run: 0, blocked: 0, drift: 0}, applyable: true}
}

/** 48 partitions of uneven size (a few hot ones), two topics, expiry and a policy change. */
const big = plan([policy, backup('orders', Array.from({length: 48}, (_, p) => (p % 11 === 0 ? 50_000 : 1000 + 37 * p))), backup('audit', [5, 0, 70_000, 3]), expire('orders', 40)])

describe('shard assignment', () => {
  it('gives every work item to exactly one shard, for every N', () => {
    const items = workItemsOf(big)
    for (const n of [1, 2, 3, 4, 7, 8, 64]) {
      const shards = assignWorkItems(items, n)
      assert.equal(shards.length, n)
      const ids = shards.flat().map((it) => it.id)
      assert.equal(ids.length, items.length)
      assert.deepEqual(new Set(ids), new Set(items.map((it) => it.id)))
    }
  })

  it('is the same whatever order the items come in (each worker computes it alone)', () => {
    const items = workItemsOf(big)
    const shuffled = [...items].reverse()
    const a = assignWorkItems(items, 4).map((s) => s.map((it) => it.id).sort())
    const b = assignWorkItems(shuffled, 4).map((s) => s.map((it) => it.id).sort())
    assert.deepEqual(a, b)
  })

  it('balances planned bytes, not partition counts: within 4/3 of the best and of the heaviest item', () => {
    for (const n of [2, 4, 8]) {
      const weights = shardWeights(big, n)
      const items = workItemsOf(big)
      const total = items.reduce((s, it) => s + it.weight, 0)
      const heaviest = Math.max(...items.map((it) => it.weight))
      const bound = Math.max(total / n, heaviest)
      assert.ok(Math.max(...weights) <= (4 / 3) * bound + 1, `N=${n}: ${weights.join(', ')} vs lower bound ${bound}`)
    }
    // Equal partition counts would put all the hot partitions (0, 11, 22, 33, 44) on few shards.
    const byCount = [0, 1, 2, 3].map((s) => workItemsOf(big).filter((it) => it.kind === 'backup' && it.id.includes('orders') && (it.part ?? 0) % 4 === s).reduce((n, it) => n + it.weight, 0))
    const lpt = shardWeights(big, 4)
    assert.ok(Math.max(...lpt) - Math.min(...lpt) < Math.max(...byCount) - Math.min(...byCount))
  })

  it('splits a backup by partition and narrows its estimates; the shares add up to the plan', () => {
    const shares = [1, 2, 3, 4].map((index) => shardPlan(big, {index, count: 4}))
    const partitions = shares.flatMap((p) => p.resource_changes.flatMap((c) => (c.type === 'backup' && c.backup ? c.backup.ranges.map((r) => `${c.topic}/${r.partition}`) : [])))
    assert.equal(partitions.length, 52)
    assert.equal(new Set(partitions).size, 52)
    const records = shares.flatMap((p) => p.resource_changes).filter((c): c is BackupChange => c.type === 'backup').reduce((n, c) => n + c.backup.estimated_records, 0)
    assert.equal(records, (big.resource_changes[1] as BackupChange).backup.estimated_records + (big.resource_changes[2] as BackupChange).backup.estimated_records)
    for (const p of shares) {
      assert.equal(p.config_digest, big.config_digest)
      assert.deepEqual(p.states, big.states)
      for (const c of p.resource_changes) if (c.type === 'backup' && c.backup) assert.deepEqual(Object.keys(c.after.next_offsets).map(Number), c.backup.ranges.map((r) => r.partition))
    }
    assert.equal(shares.flatMap((p) => p.resource_changes).filter((c) => c.type === 'policy').length, 1)
    assert.equal(shares.flatMap((p) => p.resource_changes).filter((c) => c.type === 'expire').length, 1)
  })

  it('gives an unknown kind of work (a later issue adds one) one item weighted by its estimated_bytes', () => {
    const copy = {type: 'replicate', address: 'replica.x', name: 'x', store: 'main', actions: ['run'], copy: {estimated_bytes: 9_000_000}} as unknown as ResourceChange
    const items = workItemsOf(plan([copy, backup('t', [10, 10])]))
    assert.deepEqual(items[0], {id: 'replica.x', kind: 'replicate', weight: 9_000_000, change: 0})
    const shares = [1, 2].map((index) => shardPlan(plan([copy, backup('t', [10, 10])]), {index, count: 2}))
    assert.equal(shares.filter((p) => p.resource_changes.some((c) => c.address === 'replica.x')).length, 1)
  })

  it('with more shards than items, the extra shards get nothing', () => {
    const shares = [1, 2, 3].map((index) => shardPlan(plan([backup('t', [10])]), {index, count: 3}))
    assert.deepEqual(shares.map((p) => p.resource_changes.length).sort(), [0, 0, 1])
  })

  it('splits a rate limit across the shards in one place', () => {
    assert.deepEqual(perProcessRateLimit({bytesPerSecond: 100, recordsPerSecond: 8}, 4), {bytesPerSecond: 25, recordsPerSecond: 2})
    assert.deepEqual(perProcessRateLimit({bytesPerSecond: 100}, 1), {bytesPerSecond: 100})
  })
})

describe('a rerun shard continues its share', () => {
  const progress = (offsets: Record<number, number>, recorded: string[] = []) => ({
    nextOffsets: () => new Map(Object.entries(offsets).map(([p, o]) => [Number(p), o] as [number, number])),
    recordedSegments: async () => new Set(recorded),
    restore: () => undefined,
  })

  it('from each partition checkpoint; a finished partition drops out; an untouched one stays as planned', async () => {
    const p = plan([backup('t', [100, 100, 100, 100])])
    const left = await remainingShare(p, progress({0: 10, 1: 60, 2: 110, 3: 10}))
    const c = left.resource_changes[0] as BackupChange
    assert.deepEqual(c.backup.ranges, [{partition: 0, from: 10, to: 110}, {partition: 1, from: 60, to: 110}, {partition: 3, from: 10, to: 110}])
    assert.equal(c.backup.estimated_records, 250)
    assert.equal((await remainingShare(p, progress({0: 110, 1: 110, 2: 110, 3: 110}))).resource_changes.length, 0)
  })

  it('leaves a checkpoint that does not fit the plan alone, so the applier refuses it as stale', async () => {
    const p = plan([backup('t', [100])])
    assert.deepEqual(((await remainingShare(p, progress({0: 5}))).resource_changes[0] as BackupChange).backup.ranges, [{partition: 0, from: 10, to: 110}])
    assert.deepEqual(((await remainingShare(p, progress({0: 500}))).resource_changes[0] as BackupChange).backup.ranges, [{partition: 0, from: 10, to: 110}])
  })

  it('expires only the segments still recorded', async () => {
    const p = plan([expire('t', 4)])
    const keys = (p.resource_changes[0] as ExpireChange).expire.segments.map((s) => s.key)
    const left = await remainingShare(p, progress({}, keys.slice(2)))
    assert.deepEqual((left.resource_changes[0] as ExpireChange).expire.segments.map((s) => s.key), keys.slice(2))
    assert.equal((await remainingShare(p, progress({}, []))).resource_changes.length, 0)
  })
})

describe('--shard', () => {
  const code = (fn: () => unknown): string => {
    try {
      fn()
      return 'ok'
    } catch (error) {
      return isKbkError(error) ? error.code : 'not-kbk'
    }
  }
  it('reads I/N from 1, and auto/N from JOB_COMPLETION_INDEX counted from 0', () => {
    assert.deepEqual(parseShardSpec('2/4', undefined), {index: 2, count: 4})
    assert.deepEqual(parseShardSpec('auto/4', '0'), {index: 1, count: 4})
    assert.deepEqual(parseShardSpec('auto/4', '3'), {index: 4, count: 4})
  })
  it('refuses what is not a shard, with the fix', () => {
    for (const [text, env] of [['0/4', undefined], ['5/4', undefined], ['2', undefined], ['a/b', undefined], ['1/0', undefined], ['auto/4', undefined], ['auto/4', ''], ['auto/4', '4'], ['auto/4', 'x']] as const) {
      assert.equal(code(() => parseShardSpec(text, env)), 'KBK_SHARD_INVALID', `${text} with JOB_COMPLETION_INDEX=${env}`)
    }
    try {
      parseShardSpec('auto/4', '4')
    } catch (error) {
      assert.match(String((error as Error).message), /JOB_COMPLETION_INDEX is 4.*0 to 3/)
    }
  })
})

