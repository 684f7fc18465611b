import assert from 'node:assert/strict'
import {Readable} from 'node:stream'
import {describe, it} from 'node:test'
import {parseSegmentFooter, readSegment, readSegmentSummaryByRange} from '../../../src/segment/index.js'
import {KEY_A, chunked, record, writeSegment} from './helpers.js'

const keyring = new Map([['key-a', KEY_A]])

describe('segment streaming reader', () => {
  it('consumes the source incrementally: when block k is yielded, it has read at most one chunk past block k', async () => {
    const records = Array.from({length: 600}, (_, i) => record(i, `{"event":"page-view","user":${i % 41},"path":"/p/${i}"}`))
    const {bytes} = writeSegment(records, {codec: 'zstd', blockBytes: 1024, encryption: {keyId: 'key-a', masterKey: KEY_A}})
    const {blocks} = parseSegmentFooter(bytes, {objectName: 'x'})
    assert.ok(blocks.length >= 20, `many blocks (${blocks.length})`)
    const chunk = 100
    const src = chunked(bytes, chunk)
    let k = 0
    for await (const block of readSegment(src.source, {objectName: 'x', keyring})) {
      const end = blocks[k]!.offset + blocks[k]!.size
      assert.ok(src.pulled() <= end + chunk, `block ${k}: pulled ${src.pulled()} bytes, block ends at ${end}`)
      assert.ok(src.pulled() >= end)
      assert.equal(block[0]!.offset, blocks[k]!.firstOffset)
      k++
    }
    assert.equal(k, blocks.length)
    assert.equal(src.pulled(), bytes.length)
  })

  it('stopping early closes the source and reads no further', async () => {
    const records = Array.from({length: 200}, (_, i) => record(i, 'x'.repeat(100)))
    const {bytes} = writeSegment(records, {codec: 'none', blockBytes: 1000})
    const src = chunked(bytes, 64)
    for await (const block of readSegment(src.source, {objectName: 'x'})) {
      assert.ok(block.length > 0)
      break
    }
    assert.ok(src.closed(), 'the source generator was finished')
    assert.ok(src.pulled() < bytes.length / 5)
  })

  it('reads from a node Readable (as a store returns)', async () => {
    const records = Array.from({length: 100}, (_, i) => record(i, `v${i}`))
    const {bytes, fin} = writeSegment(records, {codec: 'zstd', blockBytes: 300})
    const gen = readSegment(Readable.from([bytes.subarray(0, 333), bytes.subarray(333)]), {objectName: 'x', expectedSha256: fin.sha256, expectedSize: fin.size})
    let n = 0
    for (;;) {
      const r = await gen.next()
      if (r.done) {
        assert.deepEqual(r.value, fin.summary, 'the generator returns the verified summary')
        break
      }
      n += r.value.length
    }
    assert.equal(n, 100)
  })

  it('gets the summary with range reads of the tail only', async () => {
    for (const count of [10, 3000]) {
      const records = Array.from({length: count}, (_, i) => record(i, `v${i}`))
      // blockBytes 1: one block per record, so 3000 blocks make a footer larger than the first guess.
      const {bytes, fin} = writeSegment(records, {codec: 'none', blockBytes: 1})
      const reads: Array<[number, number]> = []
      const footer = await readSegmentSummaryByRange(async (start, end) => {
        reads.push([start, end])
        return bytes.subarray(start, end + 1)
      }, bytes.length, 'x')
      assert.deepEqual(footer.summary, fin.summary)
      assert.equal(footer.blocks.length, count)
      const last = footer.blocks[count - 1]!
      if (count === 10) assert.deepEqual(reads, [[0, bytes.length - 1]], 'a small object is read in one go')
      else {
        assert.equal(reads.length, 2, 'a first guess, then exactly the footer')
        assert.ok(reads.every(([start, end]) => start >= last.offset + last.size && end === bytes.length - 1), 'never reads a block')
      }
    }
  })
})
