// The pooled read socket's framing: responses cut at any read boundary come out whole and in
// order, and no read buffer is reused while anything kafkajs' connection keeps still views it
// (the consumer below is kafkajs' own buffering, step for step).
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import fc from 'fast-check'
import {FrameReader, pooledSocketFactory} from '../../../src/kafka/kafkajs-socket.js'

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

describe('FrameReader', () => {
  it('emits each response whole and never reuses a buffer a pending response still uses', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({maxLength: 300}), {minLength: 1, maxLength: 20}),
        fc.array(fc.integer({min: 1, max: 97}), {minLength: 1, maxLength: 30}),
        fc.integer({min: 8, max: 64}),
        (bodies, cuts, chunkBytes) => {
          const stream = Buffer.concat(bodies.map((b) => frame(Buffer.from(b))))
          const consumer = new Consumer()
          const reader = new FrameReader((c) => consumer.push(c), chunkBytes)
          let pos = 0
          for (let i = 0; pos < stream.length; i++) {
            // As the socket does: read into the buffer the reader hands out, then report it.
            const buf = reader.nextBuffer()
            buf.fill(0xee) // a reused buffer still viewed by the consumer would corrupt its response
            const n = Math.min(cuts[i % cuts.length]!, chunkBytes, stream.length - pos)
            stream.copy(buf, 0, pos, pos + n)
            pos += n
            reader.received(buf, n)
          }
          assert.equal(consumer.bytesBuffered, 0)
          // Checked only now, after every buffer was refilled: a response that were a view of a
          // recycled buffer would have changed.
          assert.deepEqual(consumer.responses.map((r) => r.toString('hex')), bodies.map((b) => Buffer.from(b).toString('hex')))
        },
      ),
      {numRuns: 300},
    )
  })

  it('recycles its buffers: a long stream of small responses needs only a few', () => {
    const allocated = new Set<Buffer>()
    const consumer = new Consumer()
    const reader = new FrameReader((c) => consumer.push(c), 64)
    const stream = Buffer.concat(Array.from({length: 200}, (_, i) => frame(Buffer.alloc(i % 50, i))))
    for (let pos = 0; pos < stream.length; pos += 40) {
      const buf = reader.nextBuffer()
      allocated.add(buf)
      const n = Math.min(40, stream.length - pos)
      stream.copy(buf, 0, pos, pos + n)
      reader.received(buf, n)
    }
    assert.equal(consumer.responses.length, 200)
    assert.ok(allocated.size <= 4, `${allocated.size} buffers`)
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
