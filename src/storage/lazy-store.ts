// An ObjectStore whose adapter (and SDK) is loaded on first use. The cloud SDKs take 100–400 ms
// each to import; a command that never touches such a store must not pay for it. kind and
// description are known up front (store-location.ts); every method waits for the adapter once,
// then delegates, so its errors, retries and capabilities are exactly the adapter's.
import type {Readable} from 'node:stream'
import type {ByteRange, ListOptions, ObjectInfo, ObjectStore, PutBody, PutOptions, StoreCapabilities, StoreKind} from './object-store.js'

export class LazyObjectStore implements ObjectStore {
  private loaded: Promise<ObjectStore> | undefined

  constructor(
    readonly kind: StoreKind,
    readonly description: string,
    private readonly load: () => Promise<ObjectStore>,
  ) {}

  /** The adapter, loaded and built on the first call; a failure to load fails every call alike. */
  adapter(): Promise<ObjectStore> {
    return (this.loaded ??= this.load())
  }

  async put(key: string, body: PutBody, options?: PutOptions): Promise<{etag: string}> {
    return (await this.adapter()).put(key, body, options)
  }

  async get(key: string): Promise<Buffer> {
    return (await this.adapter()).get(key)
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    return (await this.adapter()).getStream(key, range)
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    return (await this.adapter()).head(key)
  }

  async *list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    yield* (await this.adapter()).list(prefix, options)
  }

  async delete(keys: string[]): Promise<void> {
    return (await this.adapter()).delete(keys)
  }

  async capabilities(): Promise<StoreCapabilities> {
    return (await this.adapter()).capabilities()
  }

  /** Closes the adapter if it was ever loaded; a store never used has nothing open. */
  async close(): Promise<void> {
    if (this.loaded === undefined) return
    const store = await this.loaded.catch(() => undefined)
    await store?.close()
  }
}
