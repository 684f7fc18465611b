// What an apply reports as committed is counted by the committer's onDurable callbacks: they run
// once the commit holding their checkpoint is durable, never before, and never for a commit that failed.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {StateCommitter} from '../../../src/apply/state-committer.js'
import {StateStore} from '../../../src/state/state-store.js'
import type {PutOptions} from '../../../src/storage/object-store.js'
import {MemoryStore} from '../../helpers/memory-store.js'
import {seg} from '../../helpers/segment-refs.js'

class FailingStore extends MemoryStore {
  failing = false
  override async put(key: string, body: Parameters<MemoryStore['put']>[1], options?: PutOptions): Promise<{etag: string}> {
    if (this.failing) throw new Error('injected')
    return super.put(key, body, options)
  }
}

async function committer(store: MemoryStore): Promise<StateCommitter> {
  const state = new StateStore(store, {kbkVersion: '0.1.0'})
  const read = await state.commit(await state.read(), {})
  return new StateCommitter(state, read, {maxPendingSegments: 1000, maxDelayMs: 1e9})
}

describe('StateCommitter onDurable', () => {
  it('runs once the checkpoint is committed, not when it is queued', async () => {
    const c = await committer(new MemoryStore())
    let durable = 0
    await c.checkpoint('p', 't', 0, 10, seg(0, 0, 9), () => durable++)
    await c.checkpoint('p', 't', 0, 20, seg(0, 10, 19), () => durable++)
    assert.equal(durable, 0, 'queued, not yet committed')
    await c.flush()
    assert.equal(durable, 2)
    await c.flush()
    assert.equal(durable, 2, 'each runs once')
  })

  it('never runs for a commit that failed', async () => {
    const store = new FailingStore()
    const c = await committer(store)
    let durable = 0
    await c.checkpoint('p', 't', 0, 10, seg(0, 0, 9), () => durable++)
    store.failing = true
    await assert.rejects(c.flush())
    assert.equal(durable, 0)
    store.failing = false
    await c.flush()
    assert.equal(durable, 0, 'the failed change was not committed later either')
  })
})
