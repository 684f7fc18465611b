// Sockets for kbk's read connections (Fetch): every response is read by the kernel straight into
// a buffer of its own size. A plain Node socket reads into a fresh 64 KiB buffer per read, and
// kafkajs' connection then joins a response's chunks into one buffer (its processData): a copy of
// every byte a backup reads (~0.5 s of main thread per GiB on the bench machine), besides the short-
// lived read buffers that kept V8 collecting. Here the socket's reads (`onread`) go first into the
// 4-byte size of the next response, then into a buffer of exactly that response's size, so a read
// never crosses a response's end, and each response is emitted once, whole, in memory nobody else
// uses. kafkajs then takes it as it is, without a join (see patchProcessData). Plaintext only: a
// TLS socket decrypts into buffers of its own, and SASL hands raw reads to kafkajs'
// authenticators, so those connections use kafkajs' own socket factory.
import net from 'node:net'
import {createRequire} from 'node:module'
import {keepSpare, takeSpare} from '../spare-memory.js'

const require = createRequire(import.meta.url)

export interface SocketFactoryArgs {
  host: string
  port: number
  ssl: unknown
  onConnect: () => void
}
export type SocketFactory = (args: SocketFactoryArgs) => net.Socket

const KEEP_ALIVE_DELAY = 60_000
/**
 * The largest response kbk accepts (a Fetch asks for a few MiB; a broker returns one larger first
 * batch whole, up to the topic's max.message.bytes). A larger size is a broken stream.
 */
const MAX_RESPONSE_BYTES = 1024 * 1024 * 1024
/** Response buffers kept for reuse (recycleResponse): a response in flight and one being read, per leader. */
const MAX_SPARE_RESPONSES = 6

/** The memory of every response buffer a ResponseReader allocated: only those are ever reused. */
const ours = new WeakSet<ArrayBuffer>()
const spare: ArrayBuffer[] = []

/**
 * A buffer for a response of `size` bytes: memory a caller gave back (recycleResponse) when one
 * is large enough and not more than twice that, else new. Reused memory saves the kernel mapping
 * fresh pages for every response and V8 collecting ~1 GiB of dead buffers per GiB read.
 */
function responseBuffer(size: number): Buffer {
  return takeSpare(spare, size, 65_536, (memory) => ours.add(memory))
}

/**
 * Gives a response's memory back for a later response, once nothing reads it any more: `view` is
 * any view of it (the Fetch body kafkajs handed over). Memory a ResponseReader did not allocate
 * (a TLS or SASL connection's, kafkajs' own joins) is left alone.
 */
export function recycleResponse(view: Buffer): void {
  const ab = view.buffer as ArrayBuffer
  if (ours.has(ab)) keepSpare(spare, ab, MAX_SPARE_RESPONSES)
}

/** kafkajs' own factory (TLS, or whenever a connection must not use the pooled reader). */
export function kafkajsSocketFactory(): SocketFactory {
  return (require('kafkajs/src/network/socketFactory.js') as () => SocketFactory)()
}

/** Plaintext connections read each response into its own buffer (see above); TLS ones are kafkajs' own. */
export function pooledSocketFactory(): SocketFactory {
  patchProcessData()
  const fallback = kafkajsSocketFactory()
  return (args) => {
    if (args.ssl) return fallback(args)
    // Reads (and so emits) begin only after net.connect returned.
    const reader = new ResponseReader((response) => socket.emit('data', response))
    const socket = net.connect({
      host: args.host,
      port: args.port,
      onread: {
        buffer: () => reader.nextBuffer(),
        callback: (n: number) => {
          try {
            reader.received(n)
          } catch (e) {
            socket.destroy(e as Error)
            return false
          }
          return true
        },
      },
    }, args.onConnect)
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY)
    return socket
  }
}

/**
 * Splits a stream of Kafka responses (int32 size, then that many bytes) into whole responses, each
 * read straight into a buffer of its own: nextBuffer() hands out the part still to be read, so the
 * socket never reads past a response's end.
 */
export class ResponseReader {
  readonly #emit: (response: Buffer) => void
  readonly #size = Buffer.alloc(4)
  #sizeFill = 0
  /** The response being read (size prefix included), and how much of it has arrived. */
  #response: Buffer | undefined
  #fill = 0

  constructor(emit: (response: Buffer) => void) {
    this.#emit = emit
  }

  /** Where the next read goes: the rest of the size prefix, or the rest of the response. */
  nextBuffer(): Buffer {
    return this.#response ? this.#response.subarray(this.#fill) : this.#size.subarray(this.#sizeFill)
  }

  /** `n` bytes were read into the buffer nextBuffer() gave. */
  received(n: number): void {
    if (!this.#response) {
      this.#sizeFill += n
      if (this.#sizeFill < 4) return
      const size = this.#size.readInt32BE(0)
      if (size < 0 || size > MAX_RESPONSE_BYTES) throw new Error(`a Kafka response announced ${size} bytes: the connection's stream is broken`)
      // Memory of its own (never a shared slab): kafkajs keeps views of it until it is decoded.
      this.#response = responseBuffer(4 + size)
      this.#size.copy(this.#response, 0)
      this.#fill = 4
      this.#sizeFill = 0
    } else {
      this.#fill += n
    }
    if (this.#fill === this.#response.length) {
      const response = this.#response
      this.#response = undefined
      this.#emit(response)
    }
  }
}

let patched = false

/**
 * kafkajs' Connection.processData (2.2.4) joins the chunks it holds when it holds more than one, and
 * after each response it keeps the rest of the chunk, empty when the chunk ended with the response,
 * as the first of the next response's chunks: so a response that arrives as one chunk is joined
 * with that empty remainder, which copies all of it. Dropping an empty remainder before a chunk is
 * added changes nothing else (the join of nothing with a chunk is the chunk) and lets a whole
 * response through without a copy. Applied once, to kafkajs' Connection class; left alone if that
 * class is not shaped as expected (then kafkajs joins as before).
 */
export function patchProcessData(): void {
  if (patched) return
  patched = true
  const Connection = require('kafkajs/src/network/connection.js') as {prototype: {processData?: (raw: Buffer) => unknown}}
  const original = Connection.prototype.processData
  if (typeof original !== 'function' || !/this\.chunks/.test(original.toString())) return
  Connection.prototype.processData = function (this: {chunks?: unknown; bytesBuffered?: unknown}, raw: Buffer) {
    const chunks = this.chunks
    if (Array.isArray(chunks) && chunks.length === 1 && (chunks[0] as Buffer).length === 0 && this.bytesBuffered === 0) this.chunks = []
    return original.call(this, raw)
  }
}
