// An ObjectStore decorator that counts operations, errors and retries and times writes, so every
// command that touches a store feeds the store metrics without the adapters knowing about them.
// The retry loop (storage/retry.ts) reports a retry through onRetry; which operation it belongs
// to is carried by AsyncLocalStorage, since the loop runs inside the decorated call.
import {AsyncLocalStorage} from 'node:async_hooks'
import type {Readable} from 'node:stream'
import type {ByteRange, ListOptions, ObjectInfo, ObjectStore, PutBody, PutOptions, StoreCapabilities} from '../storage/object-store.js'
import type {KbkMetrics} from './registry.js'

const current = new AsyncLocalStorage<string>()

/** For openObjectStore's retry.onRetry: counts a retry against the operation that is running. */
export function countRetries(metrics: KbkMetrics, store: string): () => void {
  return () => metrics.counter('kbk_store_retries_total').inc({store, operation: current.getStore() ?? 'unknown'})
}

const WRITES = new Set(['put', 'delete'])

export class InstrumentedStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly name: string,
    private readonly metrics: KbkMetrics,
  ) {}

  get kind(): ObjectStore['kind'] {
    return this.inner.kind
  }

  get description(): string {
    return this.inner.description
  }

  private async timed<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const labels = {store: this.name, operation}
    this.metrics.counter('kbk_store_operations_total').inc(labels)
    const end = WRITES.has(operation) ? this.metrics.histogram('kafka_backup_storage_write_latency_seconds').startTimer(labels) : undefined
    try {
      return await current.run(operation, fn)
    } catch (error) {
      this.metrics.counter('kbk_store_errors_total').inc(labels)
      throw error
    } finally {
      end?.()
    }
  }

  put(key: string, body: PutBody, options?: PutOptions): Promise<{etag: string}> {
    return this.timed('put', () => this.inner.put(key, body, options))
  }

  get(key: string): Promise<Buffer> {
    return this.timed('get', () => this.inner.get(key))
  }

  getStream(key: string, range?: ByteRange): Promise<Readable> {
    return this.timed('get_stream', () => this.inner.getStream(key, range))
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.timed('head', () => this.inner.head(key))
  }

  async *list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    const labels = {store: this.name, operation: 'list'}
    this.metrics.counter('kbk_store_operations_total').inc(labels)
    try {
      yield* this.inner.list(prefix, options)
    } catch (error) {
      this.metrics.counter('kbk_store_errors_total').inc(labels)
      throw error
    }
  }

  delete(keys: string[]): Promise<void> {
    return this.timed('delete', () => this.inner.delete(keys))
  }

  capabilities(): Promise<StoreCapabilities> {
    return this.inner.capabilities()
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
