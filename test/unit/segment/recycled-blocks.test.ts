// A restore decompresses blocks on the worker pool into memory it recycles: each block is given back
// once the restore asked for the next one. Reused memory must never show a byte of an earlier block.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {compress} from 'zstd-napi'
import {readSegment, readSegmentBlocks} from '../../../src/segment/index.js'
import {decodeRecords} from '../../../src/segment/record-codec.js'
import {CompressPool} from '../../../src/segment/compress-pool.js'
import {KEY_A, record, writeSegment} from './helpers.js'

const pool = new CompressPool(2)

/** Blocks of different lengths and contents, so a stale byte from an earlier block would show. */
function block(i: number): Buffer {
  const size = 20_000 + ((i * 7919) % 60_000)
  const b = Buffer.allocUnsafe(size)
  for (let k = 0; k < size; k++) b[k] = (k * (i + 3) + (k >> 7) * i) & 0xff
  return b
}

describe('CompressPool: decompressing into recycled memory', () => {
  it('gives every block its own bytes exactly, however the memory was used before', async () => {
    for (let i = 0; i < 60; i++) {
      const plain = block(i)
      const got = await pool.decompress(compress(plain, {compressionLevel: 3}), plain.length)
      assert.deepEqual(got, plain, `block ${i}`)
      pool.recycle(got)
    }
  })

  it('rejects a frame larger than the length the block header gives', async () => {
    const plain = block(5)
    await assert.rejects(pool.decompress(compress(plain, {compressionLevel: 3}), plain.length - 1))
  })
})

describe('readSegmentBlocks with releaseBlock', () => {
  it('yields the same records as readSegment, block after block, while each block is given back', async () => {
    const records = Array.from({length: 400}, (_, i) => record(500 + i, JSON.stringify({id: i, note: 'x'.repeat(i % 97), n: i * 31}), {key: Buffer.from(`k${i % 13}`)}))
    for (const options of [{codec: 'zstd' as const, blockBytes: 2048}, {codec: 'zstd' as const, blockBytes: 2048, encryption: {keyId: 'key-a', masterKey: KEY_A}}]) {
      const {bytes} = writeSegment(records, options)
      const keyring = new Map([['key-a', KEY_A]])
      const expected: string[] = []
      for await (const objects of readSegment([bytes], {objectName: 'x', keyring})) expected.push(JSON.stringify(objects.map((r) => [r.offset, r.key?.toString('hex'), r.value?.toString('hex')])))
      assert.ok(expected.length > 10, 'many blocks')
      let released = 0
      const got: string[] = []
      const read = readSegmentBlocks([bytes], {objectName: 'x', keyring, decompress: (p, n) => pool.decompress(p, n), releaseBlock: (plain) => {
        released++
        pool.recycle(plain)
      }})
      for await (const b of read) {
        // What the restore does: read the block's records before asking for the next block.
        got.push(JSON.stringify(decodeRecords(b.plain.subarray(0, b.starts[b.count]), b.count).map((r) => [r.offset, r.key?.toString('hex'), r.value?.toString('hex')])))
      }
      assert.deepEqual(got, expected)
      assert.equal(released, expected.length, 'every block was given back')
    }
  })
})
