// The read socket's framing: responses cut at any read boundary come out whole, in order, each in
// memory of its own; and kafkajs' connection, patched, takes such a response without copying it
// (the consumer below is kafkajs' own buffering, step for step).
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import fc from 'fast-check'
import {createRequire} from 'node:module'
import {ResponseReader, patchProcessData, pooledSocketFactory, recycleResponse} from '../../../src/kafka/kafkajs-socket.js'

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4)
  size.writeInt32BE(body.length)
  return Buffer.concat([size, body])
}

/**
 * kafkajs' Connection.processData (kafkajs 2.2.4, src/network/connection.js), its buffering step
 * for step: it joins chunks only when it holds more than one, and keeps a view otherwise.
 */
class Consumer {
  chunks: Buffer[] = []
  bytesBuffered = 0
  bytesNeeded = 4
  responses: Buffer[] = []
  push(rawData: Buffer): void {
    this.chunks.push(rawData)
    this.bytesBuffered += rawData.length
    while (this.bytesNeeded <= this.bytesBuffered) {
      const buffer = this.chunks.length > 1 ? Buffer.concat(this.chunks) : this.chunks[0]!
      const size = buffer.readInt32BE(0)
      if (buffer.length < 4 + size) {
        this.chunks = [buffer]
        this.bytesBuffered = buffer.length
        this.bytesNeeded = 4 + size
        return
      }
      // Kept, as kafkajs hands it on to be decoded later: must never change afterwards.
      this.responses.push(buffer.subarray(4, 4 + size))
      const remainder = buffer.subarray(4 + size)
      this.chunks = [remainder]
      this.bytesBuffered = remainder.length
      this.bytesNeeded = 4
    }
  }
}

describe('ResponseReader', () => {
  it('emits each response whole, in memory of its own, however the reads are cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({maxLength: 300}), {minLength: 1, maxLength: 20}),
        fc.array(fc.integer({min: 1, max: 97}), {minLength: 1, maxLength: 30}),
        (bodies, cuts) => {
          const stream = Buffer.concat(bodies.map((b) => frame(Buffer.from(b))))
          const emitted: Buffer[] = []
          const reader = new ResponseReader((r) => emitted.push(r))
          let pos = 0
          for (let i = 0; pos < stream.length; i++) {
            // As the socket does: read at most what the buffer handed out holds, then report it.
            const buf = reader.nextBuffer()
            assert.ok(buf.length > 0)
            const n = Math.min(cuts[i % cuts.length]!, buf.length, stream.length - pos)
            stream.copy(buf, 0, pos, pos + n)
            pos += n
            reader.received(n)
          }
          assert.deepEqual(emitted.map((r) => r.toString('hex')), bodies.map((b) => frame(Buffer.from(b)).toString('hex')))
          assert.ok(emitted.every((r) => r.byteOffset === 0), 'each at the start of its memory')
          assert.equal(new Set(emitted.map((r) => r.buffer)).size, emitted.length, 'no two share memory (none was given back)')
        },
      ),
      {numRuns: 300},
    )
  })

  it('reuses the memory of a response given back, for a later response of about its size; never memory of its own making', () => {
    const emitted: Buffer[] = []
    const reader = new ResponseReader((r) => emitted.push(r))
    const feed = (body: Buffer): void => {
      const stream = frame(body)
      for (let pos = 0; pos < stream.length;) {
        const buf = reader.nextBuffer()
        const n = Math.min(buf.length, stream.length - pos)
        stream.copy(buf, 0, pos, pos + n)
        pos += n
        reader.received(n)
      }
    }
    feed(Buffer.alloc(100_000, 1))
    const first = emitted[0]!
    const memory = first.buffer
    recycleResponse(first.subarray(8))
    feed(Buffer.alloc(90_000, 2))
    assert.equal(emitted[1]!.buffer, memory, 'the same memory took the next response')
    assert.ok(emitted[1]!.equals(frame(Buffer.alloc(90_000, 2))))
    feed(Buffer.alloc(90_000, 3))
    assert.notEqual(emitted[2]!.buffer, memory, 'not given back again: not reused')
    recycleResponse(Buffer.alloc(200_000))
    feed(Buffer.alloc(150_000, 4))
    assert.ok(emitted[3]!.equals(frame(Buffer.alloc(150_000, 4))))
  })

  it('refuses an impossible size: the stream is broken', () => {
    const reader = new ResponseReader(() => assert.fail('nothing is emitted'))
    const buf = reader.nextBuffer()
    Buffer.from([0xff, 0xff, 0xff, 0xfe]).copy(buf)
    assert.throws(() => reader.received(4), /announced -2 bytes/)
  })
})

describe("kafkajs' processData, patched", () => {
  /** A kafkajs Connection as far as processData uses it, with the real (patched) method. */
  function connection(): {push(raw: Buffer): void; payloads: Buffer[]} {
    patchProcessData()
    const Connection = createRequire(import.meta.url)('kafkajs/src/network/connection.js') as {prototype: object}
    const payloads: Buffer[] = []
    const c = Object.assign(Object.create(Connection.prototype) as {processData(raw: Buffer): void}, {
      chunks: [] as Buffer[],
      bytesBuffered: 0,
      bytesNeeded: 4,
      authHandlers: null,
      requestQueue: {fulfillRequest: ({payload}: {payload: Buffer}) => payloads.push(payload)},
    })
    return {push: (raw) => c.processData(raw), payloads}
  }

  it('takes a whole response as it is, without copying it', () => {
    const conn = connection()
    const responses = [0, 1, 2].map((i) => frame(Buffer.concat([Buffer.alloc(4, i), Buffer.alloc(50_000 + i, i + 1)])))
    for (const r of responses) conn.push(r)
    assert.equal(conn.payloads.length, 3)
    conn.payloads.forEach((p, i) => {
      assert.equal(p.buffer, responses[i]!.buffer, `response ${i} is a view of the buffer it arrived in`)
      assert.ok(p.equals(responses[i]!.subarray(8)))
    })
  })

  it('still joins responses cut into chunks anywhere, as before', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({maxLength: 200}), {minLength: 1, maxLength: 10}), fc.array(fc.integer({min: 1, max: 50}), {minLength: 1, maxLength: 10}), (bodies, cuts) => {
        const conn = connection()
        // Each body gets a 4-byte correlation id in front, which kafkajs strips.
        const stream = Buffer.concat(bodies.map((b) => frame(Buffer.concat([Buffer.alloc(4), Buffer.from(b)]))))
        for (let pos = 0, i = 0; pos < stream.length; i++) {
          const n = Math.min(cuts[i % cuts.length]!, stream.length - pos)
          conn.push(Buffer.from(stream.subarray(pos, pos + n)))
          pos += n
        }
        assert.deepEqual(conn.payloads.map((p) => p.toString('hex')), bodies.map((b) => Buffer.from(b).toString('hex')))
      }),
      {numRuns: 200},
    )
  })
})

describe('pooledSocketFactory', () => {
  it('delivers a server\'s responses through a real socket as "data" events, whole', async () => {
    const bodies = Array.from({length: 50}, (_, i) => Buffer.alloc(1 + ((i * 7919) % 200_000), i))
    const server = net.createServer((s) => {
      s.end(Buffer.concat(bodies.map(frame)))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const port = (server.address() as net.AddressInfo).port
      const consumer = new Consumer()
      await new Promise<void>((resolve, reject) => {
        const socket = pooledSocketFactory()({host: '127.0.0.1', port, ssl: undefined, onConnect: () => undefined})
        socket.on('data', (c: Buffer) => consumer.push(c))
        socket.on('end', () => resolve())
        socket.on('error', reject)
      })
      assert.equal(consumer.responses.length, bodies.length)
      consumer.responses.forEach((r, i) => assert.ok(r.equals(bodies[i]!), `response ${i}`))
    } finally {
      server.close()
    }
  })
})
