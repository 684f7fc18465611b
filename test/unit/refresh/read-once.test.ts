// `kbk plan --refresh-only` lists the store's objects to find drift, and needs to know which
// state objects the head references. It must take that from the state read it already holds
// (the read handle), not read the whole state a second time.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readObserved} from '../../../src/refresh/read-observed.js'
import {StateStore} from '../../../src/state/state-store.js'
import {HEAD_KEY, TOPIC_INDEX_PREFIX} from '../../../src/state/layout.js'
import type {KafkaPort} from '../../../src/kafka/port.js'
import type {Desired} from '../../../src/plan/types.js'
import {MemoryStore} from '../../helpers/memory-store.js'

/** Counts GETs per key. */
class CountingStore extends MemoryStore {
  gets = new Map<string, number>()
  override async get(key: string): Promise<Buffer> {
    this.gets.set(key, (this.gets.get(key) ?? 0) + 1)
    return super.get(key)
  }
}

// No cluster is reachable: the refresh reports it and goes on, which is all this test needs.
const noKafka = new Proxy({}, {get: () => async () => Promise.reject(new Error('no cluster in this test'))}) as unknown as KafkaPort

describe('refresh with listObjects (plan --refresh-only)', () => {
  it('reads the state head and each topic index once', async () => {
    const store = new CountingStore()
    const state = new StateStore(store, {kbkVersion: '0.1.0'})
    let r = await state.commit(await state.read(), {})
    r = await state.commit(r, {topics: [{policy: 'orders', topic: 'a', partitionCount: 1}, {policy: 'orders', topic: 'b', partitionCount: 1}]})
    assert.equal(Object.keys(r.snapshot.topics).length, 2)
    store.gets.clear()
    const desired = {
      policies: {orders: {name: 'orders', store: 'main', cluster: 'prod', topics: {include: [], exclude: []}, retention: {maxAgeMs: null}}},
      restores: {},
      drillWithinMs: {},
      configDigest: 'x',
      diagnostics: [],
    } as unknown as Desired
    const {observed} = await readObserved(desired, {store: () => ({store, state}), kafka: () => noKafka}, {now: new Date(), listObjects: true})
    assert.ok(observed.objects?.main, 'the store was listed')
    assert.equal(store.gets.get(HEAD_KEY), 1, 'head.json read once')
    const indexReads = [...store.gets].filter(([k]) => k.startsWith(TOPIC_INDEX_PREFIX))
    assert.equal(indexReads.length, 2)
    for (const [key, n] of indexReads) assert.equal(n, 1, `${key} read once`)
  })
})
