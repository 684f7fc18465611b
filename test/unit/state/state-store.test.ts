import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {StateStore, listUnreferencedStateObjects} from '../../../src/state/state-store.js'
import {canonicalJson} from '../../../src/state/canonical-json.js'
import {HEAD_KEY, CHUNK_PREFIX, TOPIC_INDEX_PREFIX} from '../../../src/state/layout.js'
import type {SegmentRef} from '../../../src/state/types.js'
import {isKbkError} from '../../../src/errors.js'
import {MemoryStore} from '../../helpers/memory-store.js'
import {segRef} from '../../helpers/segment-refs.js'

const fixedNow = () => new Date('2026-03-22T10:00:00.000Z')

function seg(partition: number, first: number, last: number, over: Partial<SegmentRef> = {}): SegmentRef {
  const key = `data/orders/orders.created/${partition}/${String(first).padStart(20, '0')}.kbk`
  return segRef(partition, first, last, {key, policy: 'orders', topic: 'orders.created', min_timestamp: 1000 + first, max_timestamp: 1000 + last, ...over})
}

function newState(store = new MemoryStore(), opts: {maxChunksPerTopic?: number} = {}) {
  return {store, state: new StateStore(store, {kbkVersion: '0.1.0', now: fixedNow, ...opts})}
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p
  } catch (error) {
    assert.ok(isKbkError(error), `expected a KbkError, got ${String(error)}`)
    assert.equal(error.code, code, error.message)
    return error
  }
  assert.fail(`expected ${code}, but it resolved`)
}

describe('StateStore', () => {
  it('starts empty with a new lineage, serial 0 and no etag, and writes nothing', async () => {
    const {store, state} = newState()
    const a = await state.read()
    const b = await state.read()
    assert.equal(a.snapshot.serial, 0)
    assert.equal(a.etag, undefined)
    assert.match(a.snapshot.lineage, /^[0-9a-f-]{36}$/)
    assert.notEqual(a.snapshot.lineage, b.snapshot.lineage)
    assert.equal(store.objects.size, 0)
  })

  it('sets the lineage once and adds one to the serial on every commit', async () => {
    const {state} = newState()
    const r0 = await state.read()
    const r1 = await state.commit(r0, {topics: [{policy: 'orders', topic: 'orders.created', partitionCount: 2, addSegments: [seg(0, 0, 9)]}]})
    const r2 = await state.commit(r1, {policies: {set: {orders: {name: 'orders', settings: {rpo: '1h'}, created_at: 'x', updated_at: 'x'}}}})
    const again = await state.read()
    assert.deepEqual([r1.snapshot.serial, r2.snapshot.serial, again.snapshot.serial], [1, 2, 2])
    assert.equal(r1.snapshot.lineage, r0.snapshot.lineage)
    assert.equal(again.snapshot.lineage, r0.snapshot.lineage)
    assert.equal(again.etag, r2.etag)
    assert.deepEqual(again.snapshot, r2.snapshot)
    assert.equal(again.snapshot.kbk_version, '0.1.0')
  })

  it('stores canonical JSON: re-encoding what it read gives the same bytes', async () => {
    const {store, state} = newState()
    await state.commit(await state.read(), {topics: [{policy: 'orders', topic: 'orders.created', configs: {'retention.ms': '1', 'cleanup.policy': 'delete'}, addSegments: [seg(1, 0, 4), seg(0, 0, 4)]}]})
    for (const [key, entry] of store.objects) {
      const text = entry.body.toString('utf8')
      assert.equal(canonicalJson(JSON.parse(text)), text, key)
      assert.ok(!text.includes('\n'), key)
    }
    assert.equal(canonicalJson({b: 1, a: [{d: undefined, c: 'é'}], e: null}), '{"a":[{"c":"é"}],"b":1,"e":null}')
    assert.throws(() => canonicalJson({a: Number.NaN}), /NaN/)
  })

  it('keeps segment lists out of the head', async () => {
    const {store, state} = newState()
    await state.commit(await state.read(), {topics: [{policy: 'orders', topic: 'orders.created', addSegments: [seg(0, 0, 9)]}]})
    const head = store.objects.get(HEAD_KEY)!.body.toString('utf8')
    assert.ok(!head.includes('data/orders'), head)
    assert.ok([...store.objects.keys()].some((k) => k.startsWith(CHUNK_PREFIX)))
    assert.ok([...store.objects.keys()].some((k) => k.startsWith(TOPIC_INDEX_PREFIX)))
  })

  it('detects a changed chunk or topic index by its sha256 and names the object', async () => {
    const {store, state} = newState()
    const r = await state.commit(await state.read(), {topics: [{policy: 'orders', topic: 'orders.created', addSegments: [seg(0, 0, 9)]}]})
    const chunk = r.snapshot.topics['orders/orders.created']!.chunks[0]!.key
    const original = store.objects.get(chunk)!.body.toString('utf8')
    store.tamper(chunk, original.replace('"records":10', '"records":11'))
    const e = await rejectsWith(state.loadSegments(r.snapshot, 'orders', 'orders.created'), 'KBK_STATE_CORRUPT')
    assert.ok(e.message.includes(chunk), e.message)

    const index = [...store.objects.keys()].find((k) => k.startsWith(TOPIC_INDEX_PREFIX))!
    store.tamper(index, store.objects.get(index)!.body.toString('utf8') + ' ')
    const e2 = await rejectsWith(state.read(), 'KBK_STATE_CORRUPT')
    assert.ok(e2.message.includes(index), e2.message)

    store.tamper(HEAD_KEY, '{not json')
    await rejectsWith(state.read(), 'KBK_STATE_CORRUPT')
  })

  it('reports a missing chunk as corrupt', async () => {
    const {store, state} = newState()
    const r = await state.commit(await state.read(), {topics: [{policy: 'orders', topic: 'orders.created', addSegments: [seg(0, 0, 9)]}]})
    store.objects.delete(r.snapshot.topics['orders/orders.created']!.chunks[0]!.key)
    await rejectsWith(state.loadSegments(r.snapshot, 'orders', 'orders.created'), 'KBK_STATE_CORRUPT')
  })

  it('keeps partition summaries right after appends and expiry', async () => {
    const {state} = newState()
    const a = seg(0, 0, 9, {written_at: '2026-03-01T00:00:00.000Z'})
    const b = seg(0, 10, 19, {written_at: '2026-03-02T00:00:00.000Z', bytes: 50})
    const c = seg(1, 5, 7, {written_at: '2026-03-03T00:00:00.000Z'})
    let r = await state.commit(await state.read(), {topics: [{policy: 'orders', topic: 'orders.created', addSegments: [a, c]}]})
    r = await state.commit(r, {topics: [{policy: 'orders', topic: 'orders.created', addSegments: [b], partitions: [{partition: 2, nextOffset: 40}]}]})
    let parts = r.snapshot.topics['orders/orders.created']!.partitions
    assert.deepEqual(parts.map((p) => p.partition), [0, 1, 2])
    assert.deepEqual(
      {first: parts[0]!.first_offset, next: parts[0]!.next_offset, n: parts[0]!.segment_count, records: parts[0]!.records, bytes: parts[0]!.bytes, minTs: parts[0]!.min_timestamp, maxTs: parts[0]!.max_timestamp, oldest: parts[0]!.oldest_written_at, newest: parts[0]!.newest_written_at},
      {first: 0, next: 20, n: 2, records: 20, bytes: 150, minTs: 1000, maxTs: 1019, oldest: '2026-03-01T00:00:00.000Z', newest: '2026-03-02T00:00:00.000Z'},
    )
    assert.deepEqual([parts[1]!.first_offset, parts[1]!.next_offset], [5, 8])
    assert.deepEqual([parts[2]!.first_offset, parts[2]!.next_offset, parts[2]!.segment_count], [40, 40, 0])

    r = await state.commit(r, {topics: [{policy: 'orders', topic: 'orders.created', removeSegments: [a, c]}]})
    parts = r.snapshot.topics['orders/orders.created']!.partitions
    assert.deepEqual(
      {first: parts[0]!.first_offset, next: parts[0]!.next_offset, n: parts[0]!.segment_count, records: parts[0]!.records, bytes: parts[0]!.bytes, minTs: parts[0]!.min_timestamp, oldest: parts[0]!.oldest_written_at},
      {first: 10, next: 20, n: 1, records: 10, bytes: 50, minTs: 1010, oldest: '2026-03-02T00:00:00.000Z'},
    )
    assert.deepEqual([parts[1]!.first_offset, parts[1]!.next_offset, parts[1]!.segment_count, parts[1]!.records, parts[1]!.min_timestamp], [8, 8, 0, 0, undefined])
    assert.deepEqual((await state.loadSegments(r.snapshot, 'orders', 'orders.created')).map((s) => s.key), [b.key])
    // A fresh read sees the same thing.
    const fresh = await state.read()
    assert.deepEqual(fresh.snapshot.topics, r.snapshot.topics)
  })

  it('returns segments sorted by partition then offset, optionally for some partitions', async () => {
    const {state} = newState()
    let r = await state.commit(await state.read(), {topics: [{policy: 'orders', topic: 'orders.created', addSegments: [seg(1, 10, 19), seg(0, 10, 19)]}]})
    r = await state.commit(r, {topics: [{policy: 'orders', topic: 'orders.created', addSegments: [seg(1, 0, 9), seg(0, 0, 9)]}]})
    const all = await state.loadSegments(r.snapshot, 'orders', 'orders.created')
    assert.deepEqual(all.map((s) => [s.partition, s.first_offset]), [[0, 0], [0, 10], [1, 0], [1, 10]])
    const one = await state.loadSegments(r.snapshot, 'orders', 'orders.created', {partitions: [1]})
    assert.deepEqual(one.map((s) => [s.partition, s.first_offset]), [[1, 0], [1, 10]])
    assert.deepEqual(await state.loadSegments(r.snapshot, 'orders', 'nope'), [])
  })

  it('merges chunks once a topic references more than the limit, keeping reads bounded', async () => {
    const {store, state} = newState(new MemoryStore(), {maxChunksPerTopic: 4})
    let r = await state.read()
    const added: SegmentRef[] = []
    for (let i = 0; i < 10; i++) {
      const s = seg(i % 2, i * 10, i * 10 + 9)
      added.push(s)
      r = await state.commit(r, {topics: [{policy: 'orders', topic: 'orders.created', addSegments: [s]}]})
      assert.ok(r.snapshot.topics['orders/orders.created']!.chunks.length <= 4)
    }
    r = await state.commit(r, {topics: [{policy: 'orders', topic: 'orders.created', removeSegments: [added[0]!, added[1]!]}]})
    for (let i = 0; i < 4; i++) r = await state.commit(r, {topics: [{policy: 'orders', topic: 'orders.created', partitions: [{partition: 0, nextOffset: 200}], addSegments: [seg(0, 100 + i * 10, 109 + i * 10)]}]})
    const chunks = r.snapshot.topics['orders/orders.created']!.chunks
    assert.ok(chunks.length <= 4, `${chunks.length} chunks`)
    const live = await state.loadSegments(r.snapshot, 'orders', 'orders.created')
    assert.equal(live.length, 8 + 4)
    assert.ok(!live.some((s) => s.key === added[0]!.key || s.key === added[1]!.key))
    const summary = r.snapshot.topics['orders/orders.created']!.partitions
    assert.equal(summary.reduce((n, p) => n + p.segment_count, 0), 12)
    const reread = await new StateStore(store, {kbkVersion: '0.1.0'}).read()
    assert.deepEqual(await state.loadSegments(reread.snapshot, 'orders', 'orders.created'), live)
  })

  it('refuses a commit based on a stale read: KBK_STATE_CONFLICT with both serials, nothing left behind', async () => {
    const {store, state} = newState()
    const r1 = await state.commit(await state.read(), {topics: [{policy: 'orders', topic: 'orders.created', addSegments: [seg(0, 0, 9)]}]})
    await state.commit(r1, {topics: [{policy: 'orders', topic: 'orders.created', addSegments: [seg(0, 10, 19)]}]})
    const before = new Set(store.objects.keys())
    const e = await rejectsWith(state.commit(r1, {topics: [{policy: 'orders', topic: 'orders.created', addSegments: [seg(0, 20, 29)]}]}), 'KBK_STATE_CONFLICT')
    assert.match(e.message, /serial 1 → 2/)
    assert.match((e as {suggestion?: string}).suggestion ?? '', /kbk plan/)
    assert.deepEqual(new Set(store.objects.keys()), before)
    assert.equal((await state.read()).snapshot.serial, 2)
  })

  it('lets only one of two first writers create the state', async () => {
    const {state} = newState()
    const a = await state.read()
    const b = await state.read()
    await state.commit(a, {})
    const e = await rejectsWith(state.commit(b, {}), 'KBK_STATE_CONFLICT')
    assert.match(e.message, /serial 0 → 1/)
    assert.equal((await state.read()).snapshot.lineage, a.snapshot.lineage)
  })

  it('accepts a copied snapshot only while the head is unchanged', async () => {
    const {state} = newState()
    const r1 = await state.commit(await state.read(), {topics: [{policy: 'orders', topic: 'orders.created', addSegments: [seg(0, 0, 9)]}]})
    const copy = {snapshot: structuredClone(r1.snapshot), etag: r1.etag}
    const r2 = await state.commit(copy, {topics: [{policy: 'orders', topic: 'other', partitionCount: 1}]})
    assert.equal(Object.keys(r2.snapshot.topics).length, 2)
    assert.equal((await state.loadSegments(r2.snapshot, 'orders', 'orders.created')).length, 1)
    await rejectsWith(state.commit({snapshot: structuredClone(r1.snapshot), etag: r1.etag}, {}), 'KBK_STATE_CONFLICT')
  })

  it('never mutates the snapshot it was given', async () => {
    const {state} = newState()
    const r1 = await state.commit(await state.read(), {topics: [{policy: 'orders', topic: 'orders.created', configs: {a: '1'}, addSegments: [seg(0, 0, 9)]}]})
    const frozen = structuredClone(r1.snapshot)
    await state.commit(r1, {
      policies: {set: {p: {name: 'p', settings: {}, created_at: 'x', updated_at: 'x'}}},
      topics: [{policy: 'orders', topic: 'orders.created', configs: {a: '2'}, removeSegments: [seg(0, 0, 9)], addSegments: [seg(0, 10, 19)], partitions: [{partition: 0, addGaps: [{from: 1, to: 2, reason: 'retention-loss', detected_at: 'x'}]}]}],
    })
    assert.deepEqual(r1.snapshot, frozen)
  })

  it('records gaps, configs, deletion and group offsets, and forgets a removed topic', async () => {
    const {state} = newState()
    const gap = {from: 0, to: 5, reason: 'retention-loss' as const, detected_at: '2026-03-22T10:00:00.000Z'}
    let r = await state.commit(await state.read(), {
      restores: {set: {drill: {name: 'drill', settings: {}, applied_at: 'x', point_in_time: 'y', records: 3, progress: {t: {0: 3}}, status: 'complete'}}},
      topics: [{policy: 'orders', topic: 'orders.created', partitionCount: 3, configs: {'cleanup.policy': 'delete'}, deletedAt: '2026-03-22T00:00:00.000Z', groupOffsets: {svc: {0: 5}}, lastBackupAt: '2026-03-22T10:00:00.000Z', partitions: [{partition: 0, nextOffset: 5, addGaps: [gap, gap]}]}],
    })
    let t = (await state.read()).snapshot.topics['orders/orders.created']!
    assert.equal(t.partition_count, 3)
    assert.deepEqual(t.partitions[0]!.gaps, [gap])
    assert.deepEqual(t.group_offsets, {svc: {0: 5}})
    assert.equal(t.deleted_at, '2026-03-22T00:00:00.000Z')
    r = await state.commit(r, {topics: [{policy: 'orders', topic: 'orders.created', deletedAt: null}]})
    t = r.snapshot.topics['orders/orders.created']!
    assert.equal(t.deleted_at, undefined)
    r = await state.commit(r, {restores: {remove: ['drill']}, topics: [{policy: 'orders', topic: 'orders.created', remove: true}]})
    const fresh = (await state.read()).snapshot
    assert.deepEqual(fresh.topics, {})
    assert.deepEqual(fresh.restores, {})
  })
})

describe('listUnreferencedStateObjects', () => {
  it('finds what a superseded index, a merged chunk or a lost commit left behind, and nothing else', async () => {
    const {store, state} = newState(new MemoryStore(), {maxChunksPerTopic: 2})
    assert.deepEqual(await listUnreferencedStateObjects(store), [])
    let r = await state.commit(await state.read(), {topics: [{policy: 'orders', topic: 'orders.created', addSegments: [seg(0, 0, 9)]}]})
    assert.deepEqual(await listUnreferencedStateObjects(store), [])
    for (let i = 1; i < 4; i++) r = await state.commit(r, {topics: [{policy: 'orders', topic: 'orders.created', addSegments: [seg(0, i * 10, i * 10 + 9)]}]})
    // A crashed commit: an orphan chunk that no head references.
    await store.put('_kbk/state/chunks/orders/orders.created/999-crashed.json', Buffer.from('{}'), {ifNoneMatch: '*'})
    const unreferenced = (await listUnreferencedStateObjects(store)).map((o) => o.key)
    const referenced = new Set([HEAD_KEY, ...r.snapshot.topics['orders/orders.created']!.chunks.map((c) => c.key)])
    assert.ok(unreferenced.includes('_kbk/state/chunks/orders/orders.created/999-crashed.json'))
    assert.ok(unreferenced.some((k) => k.startsWith(TOPIC_INDEX_PREFIX)), 'old topic indexes')
    for (const k of unreferenced) assert.ok(!referenced.has(k), k)
    // The live state still reads after deleting every unreferenced object.
    await store.delete(unreferenced)
    const fresh = await state.read()
    assert.equal((await state.loadSegments(fresh.snapshot, 'orders', 'orders.created')).length, 4)
    assert.deepEqual(await listUnreferencedStateObjects(store, {olderThan: new Date(0)}), [])
  })
})
