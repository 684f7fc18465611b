// Stream helpers the cloud adapters share: peek at the start of a body to choose between a single
// (retriable) upload and a multipart one without reading the whole stream into memory.
import {Readable} from 'node:stream'

function toBuffer(v: unknown): Buffer {
  return typeof v === 'string' ? Buffer.from(v) : Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array)
}

/** Read a little over `limit` bytes at most; `rest` is undefined when the stream ended within them. */
export async function readUpTo(stream: Readable, limit: number): Promise<{head: Buffer; rest: AsyncIterator<unknown> | undefined}> {
  const it = stream[Symbol.asyncIterator]()
  const chunks: Buffer[] = []
  let size = 0
  while (size <= limit) {
    const r = await it.next()
    if (r.done) return {head: Buffer.concat(chunks, size), rest: undefined}
    const buf = toBuffer(r.value)
    chunks.push(buf)
    size += buf.length
  }
  return {head: Buffer.concat(chunks, size), rest: it}
}

/** The bytes already read followed by the rest of the stream, as one stream again. */
export function rejoin(head: Buffer, rest: AsyncIterator<unknown>): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    yield head
    for (;;) {
      const r = await rest.next()
      if (r.done) return
      yield toBuffer(r.value)
    }
  }
  return Readable.from(gen())
}
