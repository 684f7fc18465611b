// GDPR masking of record values: declared JSON paths are redacted or hashed (irreversibly), other
// fields, keys, headers and offsets are untouched, and values that are not JSON are left alone
// and counted.
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {describe, it} from 'node:test'
import {REDACTED, createMasker, parseMaskPath} from '../../../src/apply/masking.js'
import type {MaskingStats} from '../../../src/apply/masking.js'
import type {KafkaRecord} from '../../../src/kafka/port.js'

function rec(value: string | null, over: Partial<KafkaRecord> = {}): KafkaRecord {
  return {offset: 7, timestamp: 1_700_000_000_000, key: Buffer.from('k'), value: value === null ? null : Buffer.from(value), headers: [{key: 'h', value: Buffer.from('v')}], ...over} as KafkaRecord
}

function mask(fields: string[], mode: 'redact' | 'hash', values: Array<string | null>): {out: Array<unknown>; stats: MaskingStats} {
  const stats: MaskingStats = {masked: 0, notJson: 0}
  const m = createMasker(fields, mode, stats)
  const out = values.map((v) => {
    const r = m(rec(v))
    if (r.value === null) return null
    const text = r.value.toString('utf8')
    try {
      return JSON.parse(text) as unknown
    } catch {
      return text
    }
  })
  return {out, stats}
}

describe('masking', () => {
  it('parses paths with dots, array wildcards, indexes and quoted names', () => {
    assert.deepEqual(parseMaskPath('$.customer.email'), ['customer', 'email'])
    assert.deepEqual(parseMaskPath('$.items[*].card'), ['items', '*', 'card'])
    assert.deepEqual(parseMaskPath("$.a['b'].c[0]"), ['a', 'b', 'c', '0'])
    assert.deepEqual(parseMaskPath('$.*.ssn'), ['*', 'ssn'])
  })

  it('redacts the declared fields, at any depth and in every array item, and nothing else', () => {
    const doc = {customer: {email: 'a@x.io', name: 'Ann', address: {zip: '1234'}}, items: [{card: '4111', sku: 1}, {card: '5500', sku: 2}, {sku: 3}], total: 9}
    const {out, stats} = mask(['$.customer.email', '$.items[*].card', '$.customer.address.zip'], 'redact', [JSON.stringify(doc)])
    assert.deepEqual(out[0], {customer: {email: REDACTED, name: 'Ann', address: {zip: REDACTED}}, items: [{card: REDACTED, sku: 1}, {card: REDACTED, sku: 2}, {sku: 3}], total: 9})
    assert.deepEqual(stats, {masked: 1, notJson: 0})
  })

  it('hashes with sha256 of the JSON value: equal inputs stay joinable, the value is gone', () => {
    const {out} = mask(['$.email', '$.n'], 'hash', [JSON.stringify({email: 'a@x.io', n: 42}), JSON.stringify({email: 'a@x.io', n: {deep: true}})])
    const h = (v: unknown) => `sha256:${createHash('sha256').update(JSON.stringify(v)).digest('hex')}`
    assert.deepEqual(out[0], {email: h('a@x.io'), n: h(42)})
    assert.deepEqual(out[1], {email: h('a@x.io'), n: h({deep: true})})
    assert.doesNotMatch(JSON.stringify(out), /a@x\.io/)
  })

  it('leaves non-JSON values alone and counts them; null and empty values are neither', () => {
    const {out, stats} = mask(['$.email'], 'redact', ['plain text a@x.io', '{broken json a@x.io', '42', null, '', JSON.stringify({email: 'a@x.io'})])
    assert.deepEqual(out, ['plain text a@x.io', '{broken json a@x.io', 42, null, '', {email: REDACTED}])
    assert.deepEqual(stats, {masked: 1, notJson: 3})
  })

  it('keeps a record without the declared fields byte for byte (no re-serialization)', () => {
    const stats: MaskingStats = {masked: 0, notJson: 0}
    const original = rec('{ "other" : 1 }')
    const out = createMasker(['$.email'], 'redact', stats)(original)
    assert.equal(out, original)
    assert.deepEqual(stats, {masked: 0, notJson: 0})
  })

  it('changes only the value: key, headers, offset and timestamp are the same', () => {
    const stats: MaskingStats = {masked: 0, notJson: 0}
    const original = rec(JSON.stringify({email: 'a@x.io'}))
    const out = createMasker(['$.email'], 'redact', stats)(original)
    assert.deepEqual({...out, value: null}, {...original, value: null})
    assert.deepEqual(JSON.parse(out.value!.toString()), {email: REDACTED})
    assert.deepEqual(JSON.parse(original.value!.toString()), {email: 'a@x.io'}, 'the input record is not mutated')
  })

  it('treats a JSON array at the top as JSON and masks through a wildcard', () => {
    const {out, stats} = mask(['$[*].email'], 'redact', [JSON.stringify([{email: 'a'}, {email: 'b', x: 1}])])
    assert.deepEqual(out[0], [{email: REDACTED}, {email: REDACTED, x: 1}])
    assert.equal(stats.masked, 1)
  })
})
