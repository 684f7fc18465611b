// Sockets for kbk's read connections (Fetch), with recycled read buffers. A plain Node socket
// allocates a fresh buffer for every read (64 KiB): a backup reads every byte of the topic that
// way, and those short-lived buffers were most of the external memory that kept V8 running full
// garbage collections (about a quarter of a backup's CPU went to GC threads). kafkajs joins each
// response's chunks into one buffer (its connection's processData), after which it holds none of
// them: so the socket reads into buffers of its own pool, hands kafkajs views of them, and takes a
// buffer back once every response with bytes in it is complete. Plaintext only: a TLS socket
// decrypts into buffers of its own, and SASL hands raw reads to kafkajs' authenticators, so those
// connections use kafkajs' own socket factory.
import net from 'node:net'
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)

export interface SocketFactoryArgs {
  host: string
  port: number
  ssl: unknown
  onConnect: () => void
}
export type SocketFactory = (args: SocketFactoryArgs) => net.Socket

const KEEP_ALIVE_DELAY = 60_000
/** Bytes per read. */
const CHUNK_BYTES = 64 * 1024
/** Spare buffers kept per connection (more are left to the GC): 8 MiB, two 4 MiB responses. */
const MAX_SPARE = 128
/** Buffers tracked per connection at most (256 MiB of 64 KiB reads). */
const MAX_TRACKED = 4096

/** kafkajs' own factory (TLS, or whenever a connection must not use the pooled reader). */
export function kafkajsSocketFactory(): SocketFactory {
  return (require('kafkajs/src/network/socketFactory.js') as () => SocketFactory)()
}

/** Plaintext connections read into recycled buffers (see above); TLS ones are kafkajs' own. */
export function pooledSocketFactory(): SocketFactory {
  const fallback = kafkajsSocketFactory()
  return (args) => {
    if (args.ssl) return fallback(args)
    // Reads (and so emits) begin only after net.connect returned.
    const reader = new FrameReader((chunk) => socket.emit('data', chunk))
    const socket = net.connect({
      host: args.host,
      port: args.port,
      onread: {
        buffer: () => reader.nextBuffer(),
        callback: (n: number, buf: Uint8Array) => {
          reader.received(buf as Buffer, n)
          return true
        },
      },
    }, args.onConnect)
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY)
    return socket
  }
}

/**
 * Splits a stream of Kafka responses (int32 size, then that many bytes) at response ends, so no
 * chunk it emits holds bytes of two responses, and recycles a read buffer once every response
 * with bytes in it has been emitted whole (the consumer has then joined and released them).
 */
export class FrameReader {
  readonly #emit: (chunk: Buffer) => void
  readonly #chunkBytes: number
  readonly #spare: Buffer[] = []
  /** Buffers handed out, each with the number of the last response that has bytes in it. */
  readonly #inUse: Array<{buf: Buffer; last: number}> = []
  /** Number of the response being received (0, 1, ...). */
  #frame = 0
  #headerBytes = 0
  #size = 0
  /** Bytes of the current response's body still to come (once its size is read). */
  #left = 0
  #started = false

  constructor(emit: (chunk: Buffer) => void, chunkBytes = CHUNK_BYTES) {
    this.#emit = emit
    this.#chunkBytes = chunkBytes
  }

  /** A buffer for the next read. */
  nextBuffer(): Buffer {
    const buf = this.#spare.pop() ?? Buffer.allocUnsafeSlow(this.#chunkBytes)
    this.#inUse.push({buf, last: Number.MAX_SAFE_INTEGER})
    // Never more than a few responses' worth tracked: forgetting a buffer only means it is not
    // recycled (the GC takes it), never that it is reused early.
    if (this.#inUse.length > MAX_TRACKED) this.#inUse.shift()
    return buf
  }

  /** `n` bytes were read into `buf`. */
  received(buf: Buffer, n: number): void {
    if (!this.#started) {
      // kafkajs joins a response's chunks only when it holds more than one: its connection's very
      // first response, arriving in one read, would stay a view of a buffer this pool reuses. An
      // empty chunk first means it always holds two (its later remainders are its own memory).
      this.#started = true
      this.#emit(Buffer.alloc(0))
    }
    let start = 0
    let pos = 0
    while (pos < n) {
      if (this.#headerBytes < 4) {
        this.#size = this.#size * 256 + buf[pos]!
        pos++
        if (++this.#headerBytes < 4) continue
        this.#left = this.#size
      } else {
        const take = Math.min(this.#left, n - pos)
        pos += take
        this.#left -= take
      }
      if (this.#headerBytes === 4 && this.#left === 0) {
        // A response ends here: emit it whole before the next begins, then recycle what it used.
        this.#mark(buf, pos < n ? this.#frame + 1 : this.#frame)
        this.#emit(buf.subarray(start, pos))
        start = pos
        this.#release(this.#frame)
        this.#frame++
        this.#headerBytes = 0
        this.#size = 0
      }
    }
    if (start < n) {
      this.#mark(buf, this.#frame)
      this.#emit(buf.subarray(start, n))
    }
  }

  #mark(buf: Buffer, last: number): void {
    for (let i = this.#inUse.length - 1; i >= 0; i--) {
      if (this.#inUse[i]!.buf === buf) {
        this.#inUse[i]!.last = last
        return
      }
    }
  }

  /** Buffers whose responses all ended (up to `frame`) go back to the pool, oldest first. */
  #release(frame: number): void {
    while (this.#inUse.length > 0 && this.#inUse[0]!.last <= frame) {
      const {buf} = this.#inUse.shift()!
      if (this.#spare.length < MAX_SPARE) this.#spare.push(buf)
    }
  }
}
