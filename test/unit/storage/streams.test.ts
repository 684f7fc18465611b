import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {Readable} from 'node:stream'
import {readAll} from '../../../src/storage/streams.js'

const body = (sizes: number[]): {stream: Readable; all: Buffer} => {
  const chunks = sizes.map((n, i) => Buffer.alloc(n, i + 1))
  return {stream: Readable.from(chunks), all: Buffer.concat(chunks)}
}

describe('readAll', () => {
  it('reads a body of announced length into one buffer that owns its memory', async () => {
    const {stream, all} = body([10_000, 1, 65_536, 7])
    const out = await readAll(stream, all.length)
    assert.deepEqual(out, all)
    assert.ok(out.byteOffset === 0 && out.buffer.byteLength === out.length, 'transferable whole')
  })

  it('returns what arrived when the body is shorter or longer than announced (the checksum judges it)', async () => {
    const short = body([100, 50])
    assert.deepEqual(await readAll(short.stream, 1000), short.all)
    const long = body([100, 5000, 3])
    assert.deepEqual(await readAll(long.stream, 200), long.all)
  })

  it('joins the chunks when no length is known', async () => {
    const {stream, all} = body([3, 0, 40_000])
    assert.deepEqual(await readAll(stream), all)
    assert.deepEqual(await readAll(Readable.from([]), 0), Buffer.alloc(0))
  })

  it('passes a stream error on', async () => {
    const failing = new Readable({read() { this.destroy(new Error('connection reset')) }})
    await assert.rejects(readAll(failing, 10), /connection reset/)
  })
})
