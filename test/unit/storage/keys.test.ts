import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import fc from 'fast-check'
import {assertValidKey, compareKeys, mapLimit, normalizePrefix} from '../../../src/storage/keys.js'

describe('normalizePrefix', () => {
  it('makes a folder of it', () => {
    assert.equal(normalizePrefix(undefined), '')
    assert.equal(normalizePrefix(''), '')
    assert.equal(normalizePrefix('/'), '')
    assert.equal(normalizePrefix('prod'), 'prod/')
    assert.equal(normalizePrefix('/prod/kafka/'), 'prod/kafka/')
  })
  it('refuses dot segments and empty segments', () => {
    for (const bad of ['a/../b', './a', 'a//b']) assert.throws(() => normalizePrefix(bad), {code: 'KBK_STORE_CONFIG'})
  })
})

describe('assertValidKey', () => {
  it('accepts relative paths', () => {
    for (const k of ['a', 'a/b', 'seg/00001.kbk', 'weird name/ü']) assertValidKey(k)
  })
  it('refuses what would escape or be ambiguous', () => {
    for (const k of ['', '/a', 'a/', 'a//b', '../a', 'a/./b', 'a\0b']) assert.throws(() => assertValidKey(k), {code: 'KBK_STORE_BAD_KEY'})
  })
})

describe('compareKeys', () => {
  it('is UTF-8 byte order, as object stores list', () => {
    assert.ok(compareKeys('a-c', 'a/b') < 0)
    assert.ok(compareKeys('a/b', 'a0') < 0)
    // U+FF5E (3 UTF-8 bytes, EF BD 9E) sorts before U+1F600 (4 bytes, F0 …) in bytes, after it in UTF-16 units.
    assert.ok(compareKeys('\uff5e', '\u{1f600}') < 0)
    assert.ok('\uff5e' > '\u{1f600}')
  })
  it('agrees with Buffer.compare on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({unit: 'grapheme'}), fc.string({unit: 'grapheme'}), (a, b) => {
        assert.equal(Math.sign(compareKeys(a, b)), Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))))
      }),
    )
  })
})

describe('mapLimit', () => {
  it('keeps order and never exceeds the limit', async () => {
    let inFlight = 0
    let peak = 0
    const out = await mapLimit([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      inFlight++
      peak = Math.max(peak, inFlight)
      await new Promise((r) => setImmediate(r))
      inFlight--
      return n * 2
    })
    assert.deepEqual(out, [10, 2, 8, 4, 6, 0, 12])
    assert.ok(peak <= 3)
  })
  it('rejects with the first failure', async () => {
    await assert.rejects(mapLimit([1, 2, 3], 2, async (n) => {
      if (n === 2) throw new Error('two')
      return n
    }), /two/)
  })
})
