import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {KbkError} from '../../../src/errors.js'
import {ownWriteLanded} from '../../../src/storage/ambiguous-write.js'
import {MemoryStore} from '../../helpers/memory-store.js'

const lost = new KbkError('KBK_STORE_PRECONDITION', 'condition failed', {kind: 'conflict'})

describe('ownWriteLanded', () => {
  it('a retried create-only that finds our own bytes succeeded', async () => {
    const store = new MemoryStore()
    const {etag} = await store.put('seg', Buffer.from('ours'))
    assert.deepEqual(await ownWriteLanded(store, 'seg', Buffer.from('ours'), lost, 2), {etag})
  })
  it('someone else\'s bytes mean we really lost', async () => {
    const store = new MemoryStore()
    await store.put('seg', Buffer.from('them'))
    assert.equal(await ownWriteLanded(store, 'seg', Buffer.from('ours'), lost, 2), undefined)
    assert.equal(await ownWriteLanded(store, 'seg', Buffer.from('ours!'), lost, 2), undefined)
  })
  it('on the first try a failed condition is never reinterpreted', async () => {
    const store = new MemoryStore()
    await store.put('seg', Buffer.from('ours'))
    assert.equal(await ownWriteLanded(store, 'seg', Buffer.from('ours'), lost, 1), undefined)
  })
  it('only a failed condition is looked at', async () => {
    const store = new MemoryStore()
    await store.put('seg', Buffer.from('ours'))
    assert.equal(await ownWriteLanded(store, 'seg', Buffer.from('ours'), new KbkError('KBK_STORE_IO', 'x'), 3), undefined)
    assert.equal(await ownWriteLanded(new MemoryStore(), 'seg', Buffer.from('ours'), lost, 3), undefined)
  })
})
