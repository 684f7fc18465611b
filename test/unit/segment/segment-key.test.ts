import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import fc from 'fast-check'
import {parseSegmentKey, segmentKey} from '../../../src/segment/index.js'

describe('segment keys', () => {
  it('has the documented shape', () => {
    assert.equal(segmentKey('orders', 'orders.created', 3, 42, 1041), 'data/orders/orders.created/3/00000000000000000042-00000000000000001041.kbs')
  })

  it('parses what it writes, and sorts by first offset', () => {
    const topic = fc.stringMatching(/^[a-zA-Z0-9._-]{1,40}$/).filter((t) => t !== '.' && t !== '..')
    fc.assert(
      fc.property(topic, fc.nat(1000), fc.nat(Number.MAX_SAFE_INTEGER), fc.nat(Number.MAX_SAFE_INTEGER), fc.nat(Number.MAX_SAFE_INTEGER), (t, p, a, b, c) => {
        const [first, last] = a <= b ? [a, b] : [b, a]
        const key = segmentKey('orders-prod', t, p, first, last)
        assert.deepEqual(parseSegmentKey(key), {policy: 'orders-prod', topic: t, partition: p, firstOffset: first, lastOffset: last})
        const other = segmentKey('orders-prod', t, p, c, c)
        assert.equal(key < other, first < c || (first === c && last < c))
      }),
    )
  })

  it('rejects keys that are not segments', () => {
    for (const k of ['data/p/t/0/1-2.kbs', '_kbk/state/head.json', 'data/p/t/x/00000000000000000001-00000000000000000002.kbs', 'data/p/t/0/00000000000000000009-00000000000000000002.kbs', 'data/p/t/00/00000000000000000001-00000000000000000002.kbs', 'data/p/t/0/99999999999999999999-99999999999999999999.kbs']) {
      assert.equal(parseSegmentKey(k), undefined, k)
    }
    assert.throws(() => segmentKey('a/b', 't', 0, 0, 0), {code: 'KBK_INTERNAL'})
    assert.throws(() => segmentKey('p', 't', 0, -1, 0), {code: 'KBK_INTERNAL'})
  })
})
