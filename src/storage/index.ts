// Storage: the ObjectStore port and its fs, s3, azure and gcs adapters. openObjectStore is the one
// way in: it picks the adapter for a store's config and labels every error with the store's name
// and position, e.g. `store "primary" (kbk.yaml:12:5)`. The cloud adapters and their SDKs are
// imported when such a store is first used (lazy-store.ts), so commands that use none — or only a
// local directory — start without them.
import {KbkError} from '../errors.js'
import {FsObjectStore} from './fs-store.js'
import {LazyObjectStore} from './lazy-store.js'
import type {ObjectStore} from './object-store.js'
import type {RetryOptions} from './retry.js'
import type {StoreConfig, StoreContext} from './store-config.js'
import {azureLocation, gcsLocation, s3Location} from './store-location.js'

export type {ObjectStore, ObjectInfo, PutBody, PutOptions, ListOptions, ByteRange, StoreCapabilities, StoreKind} from './object-store.js'
export {StoreErrorCode, joinsBufferLists} from './object-store.js'
export type {StoreConfig, StoreContext, FsStoreConfig, S3StoreConfig, AzureStoreConfig, GcsStoreConfig, SecretValue} from './store-config.js'
export {withRetry, isRetriable, type RetryOptions} from './retry.js'

export interface OpenOptions {
  /** Retry policy for retriable store failures; tests shorten it. */
  retry?: RetryOptions
}

/**
 * Builds the adapter; no network call happens until the first operation. Config mistakes the
 * adapter would refuse (a bad prefix, an azure store without an endpoint) are thrown here, as
 * before; a cloud adapter itself is loaded on the first operation.
 */
export function openObjectStore(config: StoreConfig, ctx: StoreContext, options: OpenOptions = {}): ObjectStore {
  switch (config.type) {
    case 'fs':
      return new FsObjectStore(config, ctx)
    case 's3':
      return new LazyObjectStore('s3', s3Location(config, ctx).description, async () => {
        const {S3ObjectStore} = await import('./s3-store.js')
        return new S3ObjectStore(config, ctx, options.retry)
      })
    case 'azure':
      return new LazyObjectStore('azure', azureLocation(config, ctx).description, async () => {
        const {AzureObjectStore} = await import('./azure-store.js')
        return new AzureObjectStore(config, ctx, options.retry)
      })
    case 'gcs':
      return new LazyObjectStore('gcs', gcsLocation(config, ctx).description, async () => {
        const {GcsObjectStore} = await import('./gcs-store.js')
        return new GcsObjectStore(config, ctx, options.retry)
      })
    default: {
      const type = (config as {type?: unknown}).type
      throw new KbkError('KBK_STORE_CONFIG', `store "${ctx.name}": unknown store type ${JSON.stringify(type)}.`, {
        suggestion: `Set stores.${ctx.name}.type to one of fs, s3, azure, gcs.`,
      })
    }
  }
}
