// An in-memory ObjectStore for UNIT tests only. Integration tests use the real adapters against
// real servers; nothing that crosses a wire is tested with this. It passes the same conformance
// suite as the real adapters (test/helpers/storage-conformance.ts, run by
// test/unit/storage/memory-store-conformance.test.ts), so what a unit test learns from it holds
// for them: create-only and if-match writes, byte-order listings, retainUntil, the error codes.
import {Readable} from 'node:stream'
import {isBufferList, type ByteRange, type ListOptions, type ObjectInfo, type ObjectStore, type PutBody, type PutOptions, type StoreCapabilities} from '../../src/storage/object-store.js'
import type {StoreContext} from '../../src/storage/store-config.js'
import {StoreErrors} from '../../src/storage/store-errors.js'

interface Entry {
  body: Buffer
  etag: string
  lastModified: Date
  retainUntil?: Date
}

export interface MemoryStoreOptions {
  /** The store's name and config position, as the real adapters get them (default "memory"). */
  context?: StoreContext
  /** Shown in the description, e.g. `memory://test/`. */
  location?: string
  /** The clock for lastModified and retention checks (default: the real one). */
  now?: () => Date
}

export class MemoryStore implements ObjectStore {
  readonly kind = 'fs' as const
  readonly description: string
  readonly objects = new Map<string, Entry>()
  private version = 0
  private readonly errors: StoreErrors
  private readonly now: () => Date
  /** Counts of calls, for asserting how much a read touches. */
  readonly calls = {get: 0, put: 0, head: 0, list: 0, delete: 0}

  constructor(options: MemoryStoreOptions = {}) {
    const ctx = options.context ?? {name: 'memory'}
    const location = options.location ?? 'memory://test/'
    this.errors = new StoreErrors(ctx, location)
    this.description = `store "${ctx.name}" (${location})`
    this.now = options.now ?? (() => new Date())
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<{etag: string}> {
    this.calls.put++
    // A stream is read whole first: the condition is decided when the upload completes, as the
    // cloud stores decide a multipart upload's.
    const data = isBufferList(body) ? Buffer.concat(body) : Buffer.isBuffer(body) ? Buffer.from(body) : await collect(body)
    const existing = this.objects.get(key)
    if (options.ifNoneMatch === '*' && existing) throw this.errors.precondition(key, 'the object exists')
    if (options.ifMatch !== undefined && existing?.etag !== options.ifMatch) throw this.errors.precondition(key, existing ? 'the object changed' : 'the object is absent')
    if (existing?.retainUntil && existing.retainUntil.getTime() > this.now().getTime()) throw this.errors.retained(key, existing.retainUntil)
    const etag = `"v${++this.version}"`
    this.objects.set(key, {body: data, etag, lastModified: this.now(), ...(options.retainUntil ? {retainUntil: new Date(options.retainUntil)} : {})})
    return {etag}
  }

  async get(key: string): Promise<Buffer> {
    this.calls.get++
    const e = this.objects.get(key)
    if (!e) throw this.errors.notFound(key)
    return Buffer.from(e.body)
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    const body = await this.get(key)
    return Readable.from([range ? body.subarray(range.start, range.end + 1) : body])
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.calls.head++
    const e = this.objects.get(key)
    return e ? info(key, e) : undefined
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    this.calls.list++
    const after = options.startAfter === undefined ? undefined : Buffer.from(options.startAfter)
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix) && (after === undefined || Buffer.compare(Buffer.from(k), after) > 0))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    for (const key of keys) {
      const e = this.objects.get(key)
      if (e) yield info(key, e)
    }
  }

  async delete(keys: string[]): Promise<void> {
    this.calls.delete++
    // The whole batch is refused before anything is deleted, as the real adapters do.
    for (const k of keys) {
      const until = this.objects.get(k)?.retainUntil
      if (until && until.getTime() > this.now().getTime()) throw this.errors.retained(k, until)
    }
    for (const k of keys) this.objects.delete(k)
  }

  async capabilities(): Promise<StoreCapabilities> {
    return {enforcesRetention: false}
  }

  async close(): Promise<void> {}

  /** Test hook: replace an object's bytes behind kbk's back. */
  tamper(key: string, body: Buffer | string): void {
    const e = this.objects.get(key)
    if (!e) throw new Error(`no object ${key}`)
    this.objects.set(key, {...e, body: Buffer.from(body), etag: `"v${++this.version}"`, lastModified: this.now()})
  }
}

function info(key: string, e: Entry): ObjectInfo {
  return {key, size: e.body.length, etag: e.etag, lastModified: e.lastModified, ...(e.retainUntil ? {retainUntil: e.retainUntil} : {})}
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of stream) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string))
  return Buffer.concat(parts)
}
