// Pull-based byte reader over an async iterator of chunks: hands out exactly the bytes asked for,
// pulls a chunk only when it needs one (so memory stays at what the caller asked for plus one
// chunk), and feeds every byte it hands out to the running whole-object hash.
import type {Hash} from 'node:crypto'
import {KbkError} from '../errors.js'
import {corrupt} from './layout.js'

export class ByteSource {
  private readonly chunks: Buffer[] = []
  private available = 0
  private ended = false
  /** Bytes handed out so far: the object offset of the next byte. */
  consumed = 0

  constructor(
    private readonly it: AsyncIterator<unknown> | Iterator<unknown>,
    private readonly hash: Hash,
    private readonly name: string,
  ) {}

  /** Exactly n bytes, or KBK_SEGMENT_CORRUPT (truncated) naming `what` was being read. */
  async take(n: number, what: string): Promise<Buffer> {
    while (this.available < n && (await this.pull())) {
      // pull() appended a chunk
    }
    if (this.available < n) {
      throw corrupt(this.name, `truncated: the object ends at byte ${this.consumed + this.available}, inside ${what}`, {byteOffset: this.consumed + this.available})
    }
    let out: Buffer
    const first = this.chunks[0]!
    if (first.length >= n) {
      // The common case for big blocks read from big chunks: no copy.
      out = first.subarray(0, n)
      if (first.length === n) this.chunks.shift()
      else this.chunks[0] = first.subarray(n)
    } else {
      out = Buffer.allocUnsafe(n)
      let pos = 0
      while (pos < n) {
        const c = this.chunks[0]!
        const k = Math.min(c.length, n - pos)
        c.copy(out, pos, 0, k)
        pos += k
        if (k === c.length) this.chunks.shift()
        else this.chunks[0] = c.subarray(k)
      }
    }
    this.available -= n
    this.consumed += n
    this.hash.update(out)
    return out
  }

  /** True when no byte is left, pulling as needed to find out. */
  async atEnd(): Promise<boolean> {
    while (this.available === 0) if (!(await this.pull())) return true
    return false
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false
    const r = await this.it.next()
    if (r.done) {
      this.ended = true
      return false
    }
    const chunk = r.value
    if (!Buffer.isBuffer(chunk)) {
      if (chunk instanceof Uint8Array) return this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
      throw new KbkError('KBK_INTERNAL', `Segment ${this.name}: the source gave a ${typeof chunk}, not bytes. This is a bug in kbk (a stream with an encoding set?).`, {kind: 'internal'})
    }
    return this.push(chunk)
  }

  private push(chunk: Buffer): boolean {
    if (chunk.length > 0) {
      this.chunks.push(chunk)
      this.available += chunk.length
    }
    return true
  }
}
