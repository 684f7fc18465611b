// An in-memory ObjectStore for UNIT tests of pure state logic only. Integration tests use the
// real adapters against real servers; nothing that crosses a wire is tested with this.
import {Readable} from 'node:stream'
import {KbkError} from '../../src/errors.js'
import type {ByteRange, ListOptions, ObjectInfo, ObjectStore, PutOptions, StoreCapabilities} from '../../src/storage/object-store.js'
import {StoreErrorCode} from '../../src/storage/object-store.js'

interface Entry {
  body: Buffer
  etag: string
  lastModified: Date
}

export class MemoryStore implements ObjectStore {
  readonly kind = 'fs' as const
  readonly description = 'store "memory" (memory://test/)'
  readonly objects = new Map<string, Entry>()
  private version = 0
  /** Counts of calls, for asserting how much a read touches. */
  readonly calls = {get: 0, put: 0, head: 0, list: 0, delete: 0}

  async put(key: string, body: Buffer | Readable, options: PutOptions = {}): Promise<{etag: string}> {
    this.calls.put++
    const data = Buffer.isBuffer(body) ? Buffer.from(body) : await collect(body)
    const existing = this.objects.get(key)
    if (options.ifNoneMatch === '*' && existing) throw precondition(key, 'exists')
    if (options.ifMatch !== undefined && existing?.etag !== options.ifMatch) throw precondition(key, existing ? 'changed' : 'is absent')
    const etag = `"v${++this.version}"`
    this.objects.set(key, {body: data, etag, lastModified: new Date()})
    return {etag}
  }

  async get(key: string): Promise<Buffer> {
    this.calls.get++
    const e = this.objects.get(key)
    if (!e) throw new KbkError(StoreErrorCode.notFound, `Object ${key} not found in ${this.description}.`, {kind: 'environment'})
    return Buffer.from(e.body)
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    const body = await this.get(key)
    return Readable.from([range ? body.subarray(range.start, range.end + 1) : body])
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.calls.head++
    const e = this.objects.get(key)
    return e ? {key, size: e.body.length, etag: e.etag, lastModified: e.lastModified} : undefined
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    this.calls.list++
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && (options.startAfter === undefined || k > options.startAfter)).sort()
    for (const key of keys) {
      const e = this.objects.get(key)
      if (e) yield {key, size: e.body.length, etag: e.etag, lastModified: e.lastModified}
    }
  }

  async delete(keys: string[]): Promise<void> {
    this.calls.delete++
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
    this.objects.set(key, {...e, body: Buffer.from(body), etag: `"v${++this.version}"`})
  }
}

function precondition(key: string, why: string): KbkError {
  return new KbkError(StoreErrorCode.precondition, `Conditional write of ${key} failed: the object ${why}.`, {kind: 'conflict'})
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of stream) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string))
  return Buffer.concat(parts)
}
