import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {compress, decompress} from 'zstd-napi'
import {CompressPool} from '../../../src/segment/compress-pool.js'

/** JSON-ish bytes that compress like records do. */
function block(size: number, seed: number): Buffer {
  const parts: string[] = []
  let n = seed
  // A running length: joining on every step made this quadratic (minutes for 1 MiB on a busy machine).
  for (let length = 0; length < size; length += parts[parts.length - 1]!.length) {
    n = (n * 1103515245 + 12345) % 2 ** 31
    parts.push(`{"id":${n},"sku":"SKU-${n % 9973}","qty":${n % 7},"note":"${'word '.repeat(n % 13)}"}\n`)
  }
  return Buffer.from(parts.join('').slice(0, size))
}

describe('CompressPool', () => {
  const pool = new CompressPool(2)

  it('gives byte-identical frames to zstd-napi compress(), for small and block-sized inputs and any level', async () => {
    for (const [size, level] of [[100, 3], [70_000, 3], [1 << 20, 3], [(1 << 20) - 17, 1], [300_000, 9]] as const) {
      const plain = block(size, size + level)
      const want = compress(plain, {compressionLevel: level})
      const mine = Buffer.allocUnsafeSlow(plain.length)
      plain.copy(mine)
      const got = await pool.compress(mine, level)
      assert.deepEqual(got, want, `size ${size} level ${level}`)
      assert.deepEqual(decompress(got), plain)
    }
  })

  it('never transfers memory it does not own: a slab-backed Buffer is copied, its neighbours stay usable', async () => {
    // One explicit slab, as Node's 8 KiB pool gives small Buffers (whether two land on the same pool
    // slab depends on every allocation before them).
    const slab = Buffer.alloc(64)
    const a = slab.subarray(0, 26)
    a.write('neighbour on the same slab')
    const b = slab.subarray(32, 50)
    b.write('{"small":"record"}')
    assert.equal(a.buffer, b.buffer, 'both on one slab')
    const frame = await pool.compress(b, 3)
    assert.deepEqual(decompress(frame), Buffer.from('{"small":"record"}'))
    assert.equal(a.toString(), 'neighbour on the same slab')
  })

  it('decompresses frames on a worker to the same bytes as in line, and rejects a damaged frame', async () => {
    for (const size of [100, 70_000, 1 << 20]) {
      const plain = block(size, size)
      const frame = compress(plain, {compressionLevel: 3})
      assert.deepEqual(await pool.decompress(frame), plain)
      assert.deepEqual(await pool.decompress(Buffer.concat([Buffer.from('x'), frame]).subarray(1)), plain, 'a view into a larger buffer (copied, not transferred)')
    }
    const damaged = Buffer.from(compress(block(5000, 1), {compressionLevel: 3}))
    damaged[damaged.length - 3]! ^= 0xff
    await assert.rejects(pool.decompress(damaged.subarray(0, damaged.length - 8)))
  })

  it('recycles block memory the workers hand back, and holds callers back while too many blocks are in flight', async () => {
    const size = 256 * 1024
    const jobs = Array.from({length: 6}, (_, i) => {
      const buf = Buffer.allocUnsafeSlow(size)
      block(size, i).copy(buf)
      return pool.compress(buf, 3)
    })
    assert.equal(pool.inFlight, 6)
    let released = false
    const gate = pool.whenBelow(2).then(() => (released = true))
    await Promise.all(jobs)
    await gate
    assert.ok(released)
    assert.equal(pool.inFlight, 0)
    const reused = pool.takeBuffer(size)
    assert.equal(reused.length, size)
    assert.ok(reused.buffer.byteLength === size && reused.byteOffset === 0, 'a whole buffer of its own, transferable again')
  })

  it('hashes on a worker: the sha256 of the first split bytes and of all, as createHash gives', async () => {
    const shared = Buffer.concat([Buffer.alloc(1), block(300_000, 7)]).subarray(1)
    const copy = Buffer.from(shared)
    for (const split of [0, 1, 299_936, 300_000]) {
      const {before, whole, bytes} = await pool.sha256(shared, split)
      assert.deepEqual(before, createHash('sha256').update(copy.subarray(0, split)).digest(), `before ${split}`)
      assert.deepEqual(whole, createHash('sha256').update(copy).digest(), `whole ${split}`)
      assert.equal(bytes, shared, 'a view of shared memory is copied, not moved: the caller keeps it')
    }
    assert.deepEqual(shared, copy, 'not changed')
  })

  it('moves a buffer that owns its memory to the worker and back, without a copy', async () => {
    let own = Buffer.allocUnsafeSlow(300_000)
    block(300_000, 9).copy(own)
    const copy = Buffer.from(own)
    for (let i = 0; i < 3; i++) {
      const sent = own
      const {whole, bytes} = await pool.sha256(sent, 1000)
      assert.deepEqual(whole, createHash('sha256').update(copy).digest())
      assert.equal(sent.length, 0, 'the caller\'s view is detached: the memory went to the worker')
      assert.deepEqual(bytes, copy, 'the same bytes come back')
      own = bytes
    }
  })
})
