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

/**
 * A whole body read into one buffer. With its length known (Content-Length) the chunks are copied
 * into one buffer of that size as they arrive, so a stored segment is in memory once, not twice
 * (chunks plus their join) or three times (and a copy of the join), as a restore read it before.
 * The buffer owns its memory (never a slab), so it can be handed to a worker whole. A body longer
 * or shorter than announced is returned as read: the caller's checksum says what is wrong.
 */
export async function readAll(stream: AsyncIterable<unknown>, length?: number): Promise<Buffer> {
  if (length === undefined || !Number.isSafeInteger(length) || length < 0) {
    const chunks: Buffer[] = []
    for await (const c of stream) chunks.push(toBuffer(c))
    return Buffer.concat(chunks)
  }
  let out = Buffer.allocUnsafeSlow(length)
  let fill = 0
  for await (const c of stream) {
    const buf = toBuffer(c)
    if (fill + buf.length > out.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(fill + buf.length, out.length * 2))
      out.copy(grown, 0, 0, fill)
      out = grown
    }
    buf.copy(out, fill)
    fill += buf.length
  }
  return fill === out.length ? out : out.subarray(0, fill)
}
