import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {keepSpare, takeSpare} from '../../src/spare-memory.js'

describe('spare memory', () => {
  it('hands kept memory out again for a size it fits, within twice the size plus the slack, and only once', () => {
    const spares: ArrayBuffer[] = []
    const made: ArrayBuffer[] = []
    const a = takeSpare(spares, 100_000, 4096, (m) => made.push(m))
    assert.equal(made.length, 1)
    assert.equal(a.length, 100_000)
    assert.equal(a.byteOffset, 0)
    keepSpare(spares, a.buffer as ArrayBuffer, 4)
    keepSpare(spares, a.buffer as ArrayBuffer, 4)
    assert.equal(spares.length, 1, 'kept once, however often given back')
    assert.notEqual(takeSpare(spares, 30_000, 4096).buffer, a.buffer, 'too small a request for it: new memory')
    const b = takeSpare(spares, 60_000, 4096)
    assert.equal(b.buffer, a.buffer)
    assert.equal(b.length, 60_000)
    assert.equal(spares.length, 0)
    assert.notEqual(takeSpare(spares, 60_000, 4096).buffer, a.buffer, 'handed out already: not again')
  })

  it('never hands out one of Node\'s shared slabs, and keeps at most `max`', () => {
    const tiny = takeSpare([], 10, 0)
    assert.ok(tiny.buffer.byteLength > Buffer.poolSize)
    const spares: ArrayBuffer[] = []
    for (let i = 0; i < 5; i++) keepSpare(spares, new ArrayBuffer(10_000), 3)
    assert.equal(spares.length, 3)
  })
})
