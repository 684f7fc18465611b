// Storage: the ObjectStore port and its fs, s3, azure and gcs adapters. openObjectStore is the one
// way in: it picks the adapter for a store's config and labels every error with the store's name
// and position, e.g. `store "primary" (kbk.yaml:12:5)`.
import {KbkError} from '../errors.js'
import {AzureObjectStore} from './azure-store.js'
import {FsObjectStore} from './fs-store.js'
import {GcsObjectStore} from './gcs-store.js'
import type {ObjectStore} from './object-store.js'
import type {RetryOptions} from './retry.js'
import {S3ObjectStore} from './s3-store.js'
import type {StoreConfig, StoreContext} from './store-config.js'

export type {ObjectStore, ObjectInfo, PutOptions, ListOptions, ByteRange, StoreCapabilities, StoreKind} from './object-store.js'
export {StoreErrorCode} from './object-store.js'
export type {StoreConfig, StoreContext, FsStoreConfig, S3StoreConfig, AzureStoreConfig, GcsStoreConfig, SecretValue} from './store-config.js'
export {withRetry, isRetriable, type RetryOptions} from './retry.js'

export interface OpenOptions {
  /** Retry policy for retriable store failures; tests shorten it. */
  retry?: RetryOptions
}

/** Builds the adapter; no network call happens until the first operation. */
export function openObjectStore(config: StoreConfig, ctx: StoreContext, options: OpenOptions = {}): ObjectStore {
  switch (config.type) {
    case 'fs':
      return new FsObjectStore(config, ctx)
    case 's3':
      return new S3ObjectStore(config, ctx, options.retry)
    case 'azure':
      return new AzureObjectStore(config, ctx, options.retry)
    case 'gcs':
      return new GcsObjectStore(config, ctx, options.retry)
    default: {
      const type = (config as {type?: unknown}).type
      throw new KbkError('KBK_STORE_CONFIG', `store "${ctx.name}": unknown store type ${JSON.stringify(type)}.`, {
        suggestion: `Set stores.${ctx.name}.type to one of fs, s3, azure, gcs.`,
      })
    }
  }
}
