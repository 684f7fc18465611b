// Sharded apply: N workers commit to one state at once. Each commit is a compare-and-swap of the
// head; the loser re-reads and commits again on top, so no worker's update is ever lost.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {StateCommitter} from '../../../src/apply/state-committer.js'
import {StateStore} from '../../../src/state/state-store.js'
import {isKbkError} from '../../../src/errors.js'
import {MemoryStore} from '../../helpers/memory-store.js'
import {seg} from '../../helpers/segment-refs.js'

/** A store whose writes yield to the event loop first, so concurrent commits really interleave. */
class SlowStore extends MemoryStore {
  override async put(...args: Parameters<MemoryStore['put']>): ReturnType<MemoryStore['put']> {
    await new Promise((r) => setImmediate(r))
    return super.put(...args)
  }
}

async function race(shared: boolean, workers: number, rounds: number): Promise<{store: MemoryStore; committers: StateCommitter[]; errors: unknown[]}> {
  const store = new SlowStore()
  const state = new StateStore(store, {kbkVersion: '0.1.0'})
  const base = await state.commit(await state.read(), {})
  const committers = Array.from({length: workers}, () => new StateCommitter(new StateStore(store, {kbkVersion: '0.1.0'}), base, {maxPendingSegments: 1, shared}))
  const errors: unknown[] = []
  await Promise.all(
    committers.map(async (c, w) => {
      try {
        for (let i = 0; i < rounds; i++) await c.checkpoint('p', 't', w, (i + 1) * 10, seg(w, i * 10, i * 10 + 9))
        await c.flush()
      } catch (error) {
        errors.push(error)
      }
    }),
  )
  return {store, committers, errors}
}

describe('concurrent commits of N shard workers', () => {
  it('lose no update: every segment and every checkpoint of 8 workers is recorded', async () => {
    const {store, committers, errors} = await race(true, 8, 6)
    assert.deepEqual(errors, [])
    const state = new StateStore(store, {kbkVersion: '0.1.0'})
    const {snapshot} = await state.read()
    const segments = await state.loadSegments(snapshot, 'p', 't')
    assert.equal(segments.length, 8 * 6)
    const index = snapshot.topics['p/t']!
    assert.deepEqual(index.partitions.map((p) => [p.partition, p.next_offset, p.segment_count]), Array.from({length: 8}, (_, w) => [w, 60, 6]))
    assert.equal(snapshot.serial, 1 + 8 * 6, 'one serial per commit, none overwritten')
    const conflicts = committers.reduce((n, c) => n + c.stats.conflicts, 0)
    assert.ok(conflicts > 0, 'the workers really raced (else this test proves nothing)')
  })

  it('without the shared mode, a lost race is a KBK_STATE_CONFLICT (one writer is the rule)', async () => {
    const {errors} = await race(false, 4, 3)
    assert.ok(errors.length > 0)
    for (const e of errors) assert.ok(isKbkError(e) && e.code === 'KBK_STATE_CONFLICT', String(e))
  })
})
