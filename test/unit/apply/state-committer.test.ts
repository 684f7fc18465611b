// What an apply reports as committed is counted by the committer's onDurable callbacks: they run
// once the commit holding their checkpoint is durable, never before, and never for a commit that failed.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {StateCommitter} from '../../../src/apply/state-committer.js'
import {StateStore} from '../../../src/state/state-store.js'
import type {PutOptions} from '../../../src/storage/object-store.js'
import type {SegmentRef} from '../../../src/state/types.js'
import {MemoryStore} from '../../helpers/memory-store.js'

function seg(partition: number, first: number, last: number): SegmentRef {
  return {
    key: `data/p/t/${partition}/${String(first).padStart(20, '0')}-${String(last).padStart(20, '0')}.kbs`,
    policy: 'p',
    topic: 't',
    partition,
    first_offset: first,
    last_offset: last,
    records: last - first + 1,
    bytes: 100,
    uncompressed_bytes: 400,
    min_timestamp: 0,
    max_timestamp: 0,
    sha256: 'ab'.repeat(32),
    run_id: 'run-1',
    written_at: '2026-03-01T00:00:00.000Z',
  }
}

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
