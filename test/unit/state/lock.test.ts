import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {acquireLock, readLocks, releaseLock} from '../../../src/state/lock.js'
import type {LockInfo} from '../../../src/state/lock.js'
import {LOCK_KEY} from '../../../src/state/layout.js'
import {isKbkError, KbkError} from '../../../src/errors.js'
import {MemoryStore} from '../../helpers/memory-store.js'
import {pollUntil} from '../../helpers/poll.js'

function clock(start = '2026-03-22T10:00:00.000Z') {
  let t = Date.parse(start)
  return {now: () => new Date(t), advance: (ms: number) => (t += ms)}
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return isKbkError(error) ? error.code : 'not-kbk'
  }
  return undefined
}

/** Polls until cond holds (the heartbeat runs on a timer); fails only if it never does. */
async function eventually(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  assert.ok(await pollUntil(cond, (held) => held, {ms: 30_000, every: 10}), `never happened: ${what}`)
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

describe('store lock', () => {
  it('is taken once; a second taker fails at once with the holder details', async () => {
    const store = new MemoryStore()
    const c = clock()
    const a = await acquireLock(store, {operation: 'apply', who: 'alice@ci-1', now: c.now, heartbeatMs: 60_000})
    const e = await rejection(acquireLock(store, {operation: 'apply', who: 'bob@ci-2', now: c.now}))
    assert.equal(e.code, 'KBK_LOCKED')
    for (const part of [a.info.id, 'alice@ci-1', 'apply', a.info.created, a.info.expires]) assert.ok(e.message.includes(part), `${part} in ${e.message}`)
    assert.ok(e.suggestion?.includes(`kbk lock release ${a.info.id}`))
    assert.deepEqual(await readLocks(store), [a.info])
    await a.release()
    assert.deepEqual(await readLocks(store), [])
    const b = await acquireLock(store, {operation: 'apply', who: 'bob@ci-2', now: c.now})
    assert.notEqual(b.info.id, a.info.id)
    await b.release()
  })

  it('lets the next taker break an expired lock, and the old holder learns it lost it', async () => {
    const store = new MemoryStore()
    const c = clock()
    const a = await acquireLock(store, {operation: 'apply', who: 'a@h', ttlMs: 1000, heartbeatMs: 999_000 - 1, now: c.now}).catch(() => undefined)
    assert.equal(a, undefined, 'a heartbeat longer than the TTL is refused')
    const held = await acquireLock(store, {operation: 'apply', who: 'a@h', ttlMs: 1000, heartbeatMs: 500, now: c.now})
    held.assertHeld()
    c.advance(999)
    assert.equal((await rejection(acquireLock(store, {operation: 'apply', now: c.now}))).code, 'KBK_LOCKED')
    c.advance(1)
    assert.equal(codeOf(() => held.assertHeld()), 'KBK_LOCK_LOST')
    const breaker = await acquireLock(store, {operation: 'apply', who: 'b@h', now: c.now})
    assert.equal((await readLocks(store))[0]!.who, 'b@h')
    // The old holder's release must not undo the breaker's lock.
    await held.release()
    assert.equal((await readLocks(store))[0]!.id, breaker.info.id)
    await breaker.release()
  })

  it('waits up to the timeout, telling who it waits for, then takes the released lock', async () => {
    const store = new MemoryStore()
    const a = await acquireLock(store, {operation: 'apply', who: 'a@h'})
    const waitedFor: LockInfo[] = []
    const pending = acquireLock(store, {operation: 'apply', who: 'b@h', timeoutMs: 60_000, pollMs: 5, onWait: (h) => waitedFor.push(h)})
    await new Promise((r) => setTimeout(r, 30))
    await a.release()
    const b = await pending
    assert.equal(b.info.who, 'b@h')
    assert.deepEqual(waitedFor.map((h) => h.id), [a.info.id])
    await b.release()
  })

  it('gives up after the timeout with KBK_LOCKED', async () => {
    const store = new MemoryStore()
    const a = await acquireLock(store, {operation: 'apply'})
    const e = await rejection(acquireLock(store, {operation: 'apply', timeoutMs: 20, pollMs: 5}))
    assert.equal(e.code, 'KBK_LOCKED')
    assert.equal(e.retriable, true)
    await a.release()
  })

  it('renews with a heartbeat; a lock released by someone else is reported lost', async () => {
    const store = new MemoryStore()
    const c = clock()
    const a = await acquireLock(store, {operation: 'apply', ttlMs: 1000, heartbeatMs: 5, now: c.now})
    const firstExpiry = a.info.expires
    c.advance(800)
    await eventually(() => Date.parse(a.info.expires) > Date.parse(firstExpiry), 'heartbeat moved the expiry')
    assert.equal((await readLocks(store))[0]!.expires, a.info.expires)
    c.advance(800)
    a.assertHeld()
    const released = await releaseLock(store, a.info.id, {now: c.now})
    assert.equal(released.id, a.info.id)
    await eventually(() => codeOf(() => a.assertHeld()) !== undefined, 'the holder noticed')
    assert.equal(codeOf(() => a.assertHeld()), 'KBK_LOCK_LOST')
    await a.release()
    assert.deepEqual(await readLocks(store), [])
  })

  it('releaseLock: an unknown id is KBK_LOCK_NOT_FOUND naming the lock held now', async () => {
    const store = new MemoryStore()
    assert.equal((await rejection(releaseLock(store, 'nope'))).code, 'KBK_LOCK_NOT_FOUND')
    const a = await acquireLock(store, {operation: 'apply'})
    const e = await rejection(releaseLock(store, 'nope'))
    assert.equal(e.code, 'KBK_LOCK_NOT_FOUND')
    assert.ok(e.message.includes(a.info.id))
    await a.release()
    assert.equal((await rejection(releaseLock(store, a.info.id))).code, 'KBK_LOCK_NOT_FOUND')
  })

  it('treats an unreadable lock object as breakable', async () => {
    const store = new MemoryStore()
    await store.put(LOCK_KEY, Buffer.from('garbage'))
    const a = await acquireLock(store, {operation: 'apply'})
    assert.equal((await readLocks(store))[0]!.id, a.info.id)
    await a.release()
  })
})
