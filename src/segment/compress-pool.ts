// zstd compression on worker threads. The backup's main thread also decodes Kafka fetches; with
// compression there too, a 2-core machine used one core and backups ran at about 70 MB/s
// (docs/performance.md). Workers take whole blocks (1 MiB) and give back one zstd frame each,
// byte-identical to compress() on the main thread.
import {availableParallelism} from 'node:os'
import {createRequire} from 'node:module'
import {Worker} from 'node:worker_threads'
import {KbkError} from '../errors.js'
import {keepSpare, takeSpare} from '../spare-memory.js'

// Inline (eval) so it works from dist/ and from the TypeScript sources under tsx alike.
const WORKER_SOURCE = `
const {parentPort, workerData} = require('node:worker_threads')
const zstd = require(workerData.zstd)
// zstd-napi's compress() allocates a compressBound-sized (~1 MiB) buffer per call and returns a
// trimmed copy; thousands of those dead buffers waited here for this thread's GC and made a
// backup's RSS grow with the topic. One destination buffer, reused, through the same context
// call compress() makes (so frames are byte-identical); compress() itself if that ever moves.
const cmp = new zstd.Compressor()
const cctx = cmp.cctx
let level = null
let dest = Buffer.alloc(0)
function compress(src, compressionLevel) {
  if (!cctx || typeof cctx.compress2 !== 'function') return zstd.compress(src, {compressionLevel})
  if (level !== compressionLevel) {
    cmp.setParameters({compressionLevel})
    level = compressionLevel
  }
  const n = src.length
  // ZSTD_COMPRESSBOUND, plus a little slack.
  const bound = n + (n >>> 8) + (n < 131072 ? (131072 - n) >>> 11 : 0) + 64
  if (dest.length < bound) dest = Buffer.allocUnsafeSlow(bound)
  const len = cctx.compress2(dest, src)
  const out = Buffer.allocUnsafeSlow(len)
  dest.copy(out, 0, 0, len)
  return out
}
const {createHash} = require('node:crypto')
const dctx = new zstd.Decompressor().dctx
parentPort.on('message', ({id, buf, level, op, split, dst}) => {
  try {
    const src = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
    if (op === 'decompress' && dst && dctx && typeof dctx.decompress === 'function') {
      // Into the buffer the caller sent (recycled), and the compressed copy goes back for reuse too.
      const n = dctx.decompress(dst, src)
      parentPort.postMessage({id, out: new Uint8Array(dst.buffer, dst.byteOffset, n), back: buf}, [dst.buffer, buf.buffer])
      return
    }
    if (op === 'sha256') {
      // The digest of the first split bytes, then of all of them: one pass.
      const h = createHash('sha256')
      h.update(src.subarray(0, split))
      const before = h.copy().digest()
      h.update(src.subarray(split))
      // The bytes go back too (the caller handed over its memory, not a copy).
      parentPort.postMessage({id, out: Buffer.concat([before, h.digest()]), back: buf}, [buf.buffer])
      return
    }
    const out = op === 'decompress' ? zstd.decompress(src) : compress(src, level)
    // Hand the frame back without a copy when it owns its memory (never a shared slab), and the
    // block's memory too, for reuse: dead blocks piling up here until this thread's GC ran were
    // a good part of a backup's peak RSS.
    const own = out.byteOffset === 0 && out.buffer.byteLength === out.length
    // A stored block's memory is not worth recycling (its size varies): only compress returns it.
    if (op === 'decompress') parentPort.postMessage({id, out}, own ? [out.buffer] : [])
    else parentPort.postMessage({id, out, buf}, own ? [out.buffer, buf.buffer] : [buf.buffer])
  } catch (e) {
    parentPort.postMessage({id, error: String(e && e.message || e)})
  }
})
`

/** Recycled block buffers kept at most: a few blocks per worker. */
const MAX_SPARE_BUFFERS = 16
/**
 * Recycled decompression buffers kept at most, of each kind (decompressed blocks, compressed
 * copies): a restore's 16 lanes each hold about one of each at a time.
 */
const MAX_SPARE_DECOMPRESS = 24

interface Job {
  resolve: (b: Buffer, back?: Buffer) => void
  reject: (e: unknown) => void
  op?: 'decompress' | 'sha256'
}

export class CompressPool {
  readonly #workers: Worker[] = []
  readonly #size: number
  readonly #jobs = new Map<number, Job>()
  readonly #load = new Map<Worker, number>()
  readonly #waiters: Array<{below: number; resolve: () => void}> = []
  /** Block memory the workers gave back, ready for the next block (see takeBuffer). */
  readonly #spare: ArrayBuffer[] = []
  /** Memory of decompressed blocks given back (recycle) and of compressed copies the workers returned. */
  readonly #sparePlain: ArrayBuffer[] = []
  readonly #sparePacked: ArrayBuffer[] = []
  #next = 0

  constructor(size: number) {
    this.#size = Math.max(1, size)
  }

  /**
   * Compresses `plain` into one zstd frame. When `plain` starts its own memory (offset 0, not one of
   * Node's shared 8 KiB slabs) that whole memory is handed to the worker without a copy: the caller
   * must not touch it, or any other view of it, again.
   */
  compress(plain: Buffer, level: number): Promise<Buffer> {
    const worker = this.#pick()
    const id = this.#next++
    const own = plain.byteOffset === 0 && plain.buffer.byteLength > Buffer.poolSize ? plain : ownCopy(plain)
    return new Promise<Buffer>((resolve, reject) => {
      this.#jobs.set(id, {resolve, reject})
      this.#load.set(worker, (this.#load.get(worker) ?? 0) + 1)
      worker.ref()
      const u8 = new Uint8Array(own.buffer, own.byteOffset, own.length)
      worker.postMessage({id, buf: u8, level}, [own.buffer as ArrayBuffer])
    })
  }

  /**
   * Decompresses one zstd frame on a worker (a restore's segment blocks: in line they were ~15 %
   * of its main thread). `packed` is always copied (compressed, so the copy is small): the caller
   * keeps its buffer, typically the whole stored segment. With `plainLength` (the block header's)
   * the frame is decompressed into memory of at most that many bytes, recycled when the caller gives
   * blocks back (recycle): a restore decompressed ~1,000 fresh 1 MiB blocks per GiB, and that
   * external memory kept V8 collecting. A frame larger than `plainLength` fails.
   */
  decompress(packed: Buffer, plainLength?: number): Promise<Buffer> {
    const worker = this.#pick()
    const id = this.#next++
    const own = takeSpare(this.#sparePacked, packed.length, 4096)
    packed.copy(own)
    const dst = plainLength === undefined ? undefined : takeSpare(this.#sparePlain, plainLength, 4096)
    return new Promise<Buffer>((resolve, reject) => {
      this.#jobs.set(id, {resolve, reject, op: 'decompress'})
      this.#load.set(worker, (this.#load.get(worker) ?? 0) + 1)
      worker.ref()
      const u8 = new Uint8Array(own.buffer, own.byteOffset, own.length)
      if (dst) worker.postMessage({id, buf: u8, op: 'decompress', dst: new Uint8Array(dst.buffer, 0, dst.length)}, [own.buffer as ArrayBuffer, dst.buffer as ArrayBuffer])
      else worker.postMessage({id, buf: u8, op: 'decompress'}, [own.buffer as ArrayBuffer])
    })
  }

  /**
   * Gives back a block decompress() returned, once nothing reads it any more (no view of it may be
   * kept: its memory is reused for a later block).
   */
  recycle(plain: Buffer): void {
    if (plain.byteOffset === 0 && plain.buffer.byteLength > Buffer.poolSize) keepSpare(this.#sparePlain, plain.buffer as ArrayBuffer, MAX_SPARE_DECOMPRESS)
  }

  /**
   * The sha256 of `bytes[0, split)` and of all of `bytes`, on a worker (a restore checks every
   * stored segment against the state before producing any of it: on the main thread that was
   * ~5 % of a restore, 0.6 s per GiB on the bench machine). When `bytes` is its memory's only view
   * (offset 0, the whole ArrayBuffer: a stored segment as read) the memory itself travels to the
   * worker and back, and `bytes` is detached: use the returned `bytes`. Otherwise it is copied. A
   * copy per segment, freed whenever the worker's GC ran, was what pushed a restore from S3 past
   * 512 MiB of peak RSS.
   */
  async sha256(bytes: Buffer, split: number): Promise<{before: Buffer; whole: Buffer; bytes: Buffer}> {
    const worker = this.#pick()
    const id = this.#next++
    const own = ownsMemory(bytes) ? bytes : ownCopy(bytes)
    const {out, back} = await new Promise<{out: Buffer; back: Buffer}>((resolve, reject) => {
      this.#jobs.set(id, {resolve: (out, back) => resolve({out, back: back ?? Buffer.alloc(0)}), reject, op: 'sha256'})
      this.#load.set(worker, (this.#load.get(worker) ?? 0) + 1)
      worker.ref()
      const u8 = new Uint8Array(own.buffer, own.byteOffset, own.length)
      worker.postMessage({id, buf: u8, op: 'sha256', split}, [own.buffer as ArrayBuffer])
    })
    return {before: out.subarray(0, 32), whole: out.subarray(32, 64), bytes: own === bytes ? back : bytes}
  }

  /** Blocks handed to the workers and not finished yet. */
  get inFlight(): number {
    return this.#jobs.size
  }

  /** The number of workers this pool runs at most. */
  get size(): number {
    return this.#size
  }

  /** Resolves once fewer than `below` blocks are in flight: backpressure across all writers. */
  whenBelow(below: number): Promise<void> {
    if (this.#jobs.size < below) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push({below, resolve}))
  }

  #wake(): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!
      if (this.#jobs.size < w.below) {
        this.#waiters.splice(i, 1)
        w.resolve()
      }
    }
  }

  /**
   * A buffer of exactly `size` bytes (contents undefined) of its own memory, recycled from a block
   * a worker finished with when one of that size is at hand.
   */
  takeBuffer(size: number): Buffer {
    const i = this.#spare.findIndex((ab) => ab.byteLength === size)
    if (i < 0) return Buffer.allocUnsafeSlow(size)
    const [ab] = this.#spare.splice(i, 1)
    return Buffer.from(ab as ArrayBuffer, 0, size)
  }

  #pick(): Worker {
    if (this.#workers.length < this.#size) {
      const zstd = createRequire(import.meta.url).resolve('zstd-napi')
      const w = new Worker(WORKER_SOURCE, {eval: true, workerData: {zstd}})
      w.on('message', (m: {id: number; out?: Uint8Array; buf?: Uint8Array; back?: Uint8Array; error?: string}) => {
        if (m.buf && this.#spare.length < MAX_SPARE_BUFFERS) this.#spare.push(m.buf.buffer as ArrayBuffer)
        const job = this.#jobs.get(m.id)
        // A decompression's compressed copy, back for the next one.
        if (m.back && job?.op === 'decompress') keepSpare(this.#sparePacked, m.back.buffer as ArrayBuffer, MAX_SPARE_DECOMPRESS)
        this.#jobs.delete(m.id)
        const load = (this.#load.get(w) ?? 1) - 1
        this.#load.set(w, load)
        // An idle worker must not keep the process alive.
        if (load === 0) w.unref()
        if (job) {
          if (m.error !== undefined || !m.out) {
            // A frame that does not decompress is damaged data, which the caller reports as such.
            job.reject(job.op === 'decompress' ? new Error(m.error) : new KbkError('KBK_INTERNAL', `${job.op === 'sha256' ? 'sha256' : 'zstd compression'} failed on a worker thread: ${m.error}`, {kind: 'internal'}))
          }
          else job.resolve(Buffer.from(m.out.buffer, m.out.byteOffset, m.out.byteLength), m.back ? Buffer.from(m.back.buffer, m.back.byteOffset, m.back.byteLength) : undefined)
        }
        this.#wake()
      })
      w.on('error', (e) => this.#failAll(e))
      w.unref()
      this.#workers.push(w)
      this.#load.set(w, 0)
      return w
    }
    let best = this.#workers[0] as Worker
    for (const w of this.#workers) if ((this.#load.get(w) ?? 0) < (this.#load.get(best) ?? 0)) best = w
    return best
  }

  #failAll(e: unknown): void {
    for (const job of this.#jobs.values()) job.reject(e)
    this.#jobs.clear()
    this.#wake()
  }
}

/** Whether `b` is the only view of its memory, so the memory can be transferred whole. */
function ownsMemory(b: Buffer): boolean {
  return b.byteOffset === 0 && b.buffer.byteLength === b.length && b.length > Buffer.poolSize
}

/** A copy in memory of its own (Buffer.from may share one of Node's slabs, which must never be transferred). */
function ownCopy(b: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(b.length)
  b.copy(out)
  return out
}

let shared: CompressPool | undefined

/** One pool per process, sized to the machine: workers start on first use. */
export function sharedCompressPool(): CompressPool {
  shared ??= new CompressPool(availableParallelism())
  return shared
}
