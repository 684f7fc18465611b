import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {RangeProgress} from '../../../src/kafka/range-progress.js'
import type {RecordCursor} from '../../../src/kafka/port.js'

const recs = (...offsets: number[]) => offsets.map((offset) => ({offset}))

describe('RangeProgress', () => {
  it('advance (a cursor\'s fetch) moves the position as take does with the same batch ends', () => {
    const cursor = {} as RecordCursor
    const p = new RangeProgress([{partition: 1, from: 0, to: 20}])
    assert.deepEqual(p.advance(1, 3, cursor), {records: cursor, nextOffset: 3})
    assert.equal(p.advance(1, 3, cursor), null, 'a repeated fetch moves nothing')
    assert.equal(p.advance(1, 2, cursor), null, 'nor does an older one')
    assert.equal(p.advance(2, 5, cursor), null, 'nor a partition not read')
    assert.deepEqual(p.advance(1, 25, cursor), {records: cursor, nextOffset: 20})
    assert.equal(p.advance(1, 30, cursor), null, 'done')
    assert.equal(p.allDone(), true)
  })

  it('delivers only [position, to) and trims at to', () => {
    const p = new RangeProgress([{partition: 0, from: 5, to: 8}])
    const step = p.take(0, recs(3, 4, 5, 6, 7, 8, 9), 10)
    assert.deepEqual(step, {records: recs(5, 6, 7), nextOffset: 8})
    assert.equal(p.isDone(0), true)
    assert.equal(p.take(0, recs(8), 9), null)
  })

  it('moves past control records and compaction gaps using the batch end', () => {
    const p = new RangeProgress([{partition: 1, from: 0, to: 20}])
    assert.deepEqual(p.take(1, recs(0, 1), 3), {records: recs(0, 1), nextOffset: 3}) // marker at 2
    assert.deepEqual(p.take(1, [], 7), {records: [], nextOffset: 7}) // aborted 3..5 + marker 6
    assert.deepEqual(p.take(1, recs(12), 13), {records: recs(12), nextOffset: 13}) // 7..11 compacted away
    assert.equal(p.take(1, recs(12), 13), null, 'a repeated fetch moves nothing')
    assert.deepEqual(p.take(1, [], 25), {records: [], nextOffset: 20})
    assert.equal(p.allDone(), true)
  })

  it('ignores partitions it was not asked for, and empty ranges are done from the start', () => {
    const p = new RangeProgress([{partition: 0, from: 4, to: 4}])
    assert.equal(p.allDone(), true)
    assert.equal(p.take(3, recs(1), 2), null)
  })

  it('rejects malformed or duplicate ranges as internal errors', () => {
    assert.throws(() => new RangeProgress([{partition: 0, from: 5, to: 4}]), /Invalid read range/)
    assert.throws(() => new RangeProgress([{partition: 0, from: 0, to: 1}, {partition: 0, from: 1, to: 2}]), /twice/)
  })
})
