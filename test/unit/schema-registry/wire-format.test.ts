// The schema-ID rewrite of restored records: Confluent wire format (magic 0 + 4-byte big-endian
// ID), Protobuf message indexes and payload untouched, anything else byte-identical.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {rewriteSchemaIds, rewriteSchemaIdsInPlace, schemaIdOf} from '../../../src/schema-registry/wire-format.js'

const wire = (id: number, payload: number[]): Buffer => {
  const b = Buffer.alloc(5 + payload.length)
  b[0] = 0
  b.writeUInt32BE(id, 1)
  Buffer.from(payload).copy(b, 5)
  return b
}

describe('rewriteSchemaIds', () => {
  const ids = new Map([
    [1, 101],
    [2, 102],
    [7, 7],
    [0x01020304, 5],
  ])

  it('rewrites the ID of key and value, leaving the rest of the bytes as they were', () => {
    const key = wire(2, [9, 9])
    const value = wire(1, [0x02, 0x02, 0x04, 0xaa, 0xbb]) // Protobuf: message indexes [1, 2], then the message
    const out = rewriteSchemaIds(key, value, ids)
    assert.equal(out.rewritten, true)
    assert.deepEqual([...out.key!], [...wire(102, [9, 9])])
    assert.deepEqual([...out.value!], [...wire(101, [0x02, 0x02, 0x04, 0xaa, 0xbb])])
    assert.equal(schemaIdOf(out.value), 101)
  })

  it('never modifies its input (decoded blocks may be shared)', () => {
    const value = wire(1, [1, 2, 3])
    const copy = Buffer.from(value)
    rewriteSchemaIds(null, value, ids)
    assert.ok(value.equals(copy))
  })

  it('returns buffers without the magic byte, shorter than the header, or null, as the same objects', () => {
    const text = Buffer.from('{"a":1}')
    const short = Buffer.from([0, 0, 0, 1])
    const out = rewriteSchemaIds(text, short, ids)
    assert.equal(out.key, text)
    assert.equal(out.value, short)
    assert.equal(out.rewritten, false)
    const none = rewriteSchemaIds(null, null, ids)
    assert.equal(none.key, null)
    assert.equal(none.value, null)
  })

  it('keeps an ID that maps to itself without copying', () => {
    const value = wire(7, [1])
    const out = rewriteSchemaIds(null, value, ids)
    assert.equal(out.value, value)
    assert.equal(out.rewritten, false)
  })

  it('reads the ID big-endian', () => {
    assert.equal(schemaIdOf(Buffer.from([0, 1, 2, 3, 4])), 0x01020304)
    assert.equal(rewriteSchemaIds(null, Buffer.from([0, 1, 2, 3, 4, 42]), ids).value!.readUInt32BE(1), 5)
  })

  it('reports an unknown ID with the part that carries it, and changes nothing', () => {
    const key = wire(1, [])
    const value = wire(999, [5])
    const out = rewriteSchemaIds(key, value, ids)
    assert.deepEqual(out.unknown, {part: 'value', id: 999})
    assert.equal(out.key, key)
    assert.equal(out.value, value)
    assert.deepEqual(rewriteSchemaIds(wire(998, []), null, ids).unknown, {part: 'key', id: 998})
  })
})

describe('rewriteSchemaIdsInPlace (the restore hot path)', () => {
  const ids = new Map([
    [1, 101],
    [2, 102],
  ])
  it('writes the target IDs into the same buffers, nothing else', () => {
    const key = wire(2, [9])
    const value = wire(1, [0x02, 0x02, 0x04, 7])
    assert.equal(rewriteSchemaIdsInPlace(key, value, ids), undefined)
    assert.deepEqual([...key], [...wire(102, [9])])
    assert.deepEqual([...value], [...wire(101, [0x02, 0x02, 0x04, 7])])
    const text = Buffer.from('plain')
    assert.equal(rewriteSchemaIdsInPlace(text, null, ids), undefined)
    assert.equal(text.toString(), 'plain')
  })
  it('changes nothing when an ID is unknown, and names it', () => {
    const key = wire(1, [])
    const value = wire(5, [])
    assert.deepEqual(rewriteSchemaIdsInPlace(key, value, ids), {part: 'value', id: 5})
    assert.equal(schemaIdOf(key), 1, 'the key was not rewritten either')
  })
})
