// The run lock of a sharded apply: N workers of one plan share the store lock, each with its own
// heartbeat; anything else (another plan, another N, a plain apply) is refused naming the run.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {acquireLock, acquireRunLock, readLocks} from '../../../src/state/lock.js'
import {LOCK_KEY} from '../../../src/state/layout.js'
import {isKbkError} from '../../../src/errors.js'
import type {KbkError} from '../../../src/errors.js'
import {MemoryStore} from '../../helpers/memory-store.js'

function clock(start = '2026-03-22T10:00:00.000Z') {
  let t = Date.parse(start)
  return {now: () => new Date(t), advance: (ms: number) => (t += ms)}
}

async function rejection(p: Promise<unknown>): Promise<KbkError> {
  try {
    await p
  } catch (error) {
    assert.ok(isKbkError(error), String(error))
    return error
  }
  assert.fail('expected a rejection')
}

const PLAN = 'sha256:' + 'a'.repeat(64)
const OTHER = 'sha256:' + 'b'.repeat(64)

describe('run lock (sharded apply)', () => {
  it('is shared by the workers of one plan; a plain apply and another plan are refused, naming the run', async () => {
    const store = new MemoryStore()
    const c = clock()
    const opts = {planDigest: PLAN, shards: 3, now: c.now, heartbeatMs: 60_000}
    const w1 = await acquireRunLock(store, {...opts, shard: 1, who: 'kbk@pod-0'})
    const w2 = await acquireRunLock(store, {...opts, shard: 2, who: 'kbk@pod-1'})
    assert.equal(w1.info.id, w2.info.id, 'one run, one lock id')
    assert.equal(w1.continued, false, 'the first worker found no run of this plan')
    assert.equal(w2.continued, true)
    const plain = await rejection(acquireLock(store, {operation: 'apply', who: 'bob@laptop', now: c.now}))
    assert.equal(plain.code, 'KBK_LOCKED')
    assert.match(plain.message, /kbk@pod-0 \(shard 1\/3\), kbk@pod-1 \(shard 2\/3\)/)
    assert.match(plain.message, /in 3 shard\(s\)/)
    const other = await rejection(acquireRunLock(store, {planDigest: OTHER, shards: 3, shard: 3, now: c.now, who: 'kbk@pod-9'}))
    assert.equal(other.code, 'KBK_LOCKED')
    const otherN = await rejection(acquireRunLock(store, {planDigest: PLAN, shards: 4, shard: 3, now: c.now}))
    assert.equal(otherN.code, 'KBK_LOCKED', 'another N assigns differently: not the same run')
    assert.equal((await readLocks(store)).length, 1)

    // The first worker out leaves the lock held by the other; the last one releases it.
    await w1.release()
    assert.equal((await readLocks(store))[0]!.who, 'kbk@pod-1 (shard 2/3)')
    w2.assertHeld()
    await w2.release()
    assert.equal((await readLocks(store)).length, 0)
    // A rerun shard of the same plan finds the run was the last holder.
    const again = await acquireRunLock(store, {...opts, shard: 3})
    assert.equal(again.continued, true)
    await again.release()
    // After a foreign apply, it does not.
    const foreign = await acquireLock(store, {operation: 'apply', now: c.now})
    await foreign.release()
    const late = await acquireRunLock(store, {...opts, shard: 3})
    assert.equal(late.continued, false)
    await late.release()
  })

  it('keeps one heartbeat per worker, and all of them survive each other (no lost update)', async () => {
    const store = new MemoryStore()
    const workers = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((shard) => acquireRunLock(store, {planDigest: PLAN, shards: 8, shard, heartbeatMs: 5, ttlMs: 60_000})))
    type Workers = {run: {workers: Record<string, {id: string; heartbeat: string}>}}
    const read = async (): Promise<Workers> => JSON.parse((await store.get(LOCK_KEY)).toString()) as Workers
    // Wait for the condition, not a time: every worker has renewed its own entry at least once,
    // each a read-modify-write racing seven siblings.
    const first = (await read()).run.workers
    for (let i = 0; ; i++) {
      const now = (await read()).run.workers
      if (Object.keys(first).every((k) => now[k] && now[k].heartbeat !== first[k]!.heartbeat)) break
      assert.ok(i < 2000, 'not every worker renewed its heartbeat')
      await new Promise((r) => setTimeout(r, 5))
    }
    const file = await read()
    assert.deepEqual(Object.keys(file.run.workers).sort(), ['1', '2', '3', '4', '5', '6', '7', '8'])
    for (const w of workers) {
      assert.equal(file.run.workers[String(workers.indexOf(w) + 1)]!.id, w.workerId)
      w.assertHeld()
    }
    await Promise.all(workers.map((w) => w.release()))
    assert.equal((await readLocks(store)).length, 0)
  })

  it('a dead worker keeps the lock for its TTL; its shard rerun on another host waits for it, then takes over', async () => {
    const store = new MemoryStore()
    const c = clock()
    const ttlMs = 60_000
    // A worker on another host that stops heartbeating (its timer never fires in this test).
    const dead = await acquireRunLock(store, {planDigest: PLAN, shards: 2, shard: 1, who: 'kbk@pod-0', now: c.now, ttlMs, heartbeatMs: 3_600_000 - 1, pollMs: 5})
    const raw = JSON.parse((await store.get(LOCK_KEY)).toString()) as {run: {workers: Record<string, {host: string}>}}
    raw.run.workers['1']!.host = 'another-node'
    await store.put(LOCK_KEY, Buffer.from(JSON.stringify(raw)))
    void dead
    // Other applies stay refused while it may be alive.
    assert.equal((await rejection(acquireLock(store, {operation: 'apply', now: c.now}))).code, 'KBK_LOCKED')
    const waits: string[] = []
    const rerun = acquireRunLock(store, {planDigest: PLAN, shards: 2, shard: 1, who: 'kbk@pod-0b', now: c.now, ttlMs, pollMs: 5, onWait: (_h, why) => waits.push(why)})
    // Wait for the rerun to have looked (and been told to wait), not for a time.
    for (let i = 0; waits.length === 0; i++) {
      assert.ok(i < 2000, 'the rerun never reported waiting')
      await new Promise((r) => setTimeout(r, 5))
    }
    assert.match(waits[0] ?? '', /shard 1\/2 is still held by kbk@pod-0/)
    c.advance(ttlMs + 1)
    const held = await rerun
    assert.equal(held.continued, true)
    held.assertHeld()
    await held.release()
  })

  it('a worker whose entry is gone (lock broken) learns it at its next heartbeat', async () => {
    const store = new MemoryStore()
    const w = await acquireRunLock(store, {planDigest: PLAN, shards: 2, shard: 1, heartbeatMs: 5})
    await store.put(LOCK_KEY, Buffer.from(JSON.stringify({id: 'x', who: 'y', operation: 'apply', created: '', heartbeat: '', expires: '2099-01-01T00:00:00.000Z', kbk_version: '1'})))
    for (let i = 0; i < 200; i++) {
      try {
        w.assertHeld()
      } catch (error) {
        assert.equal((error as KbkError).code, 'KBK_LOCK_LOST')
        await w.release()
        return
      }
      await new Promise((r) => setTimeout(r, 5))
    }
    assert.fail('the loss was never noticed')
  })
})
