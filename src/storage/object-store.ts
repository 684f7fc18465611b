// The ObjectStore port: the one interface every backend (fs, s3, azure, gcs) implements.
// Adapters are dumb: keys are relative to the store's prefix, and the adapter adds the prefix.
// Business rules (state, locking, retention) live above this port, never in an adapter.
import type {Readable} from 'node:stream'

export type StoreKind = 'fs' | 's3' | 'azure' | 'gcs'

/**
 * An object's bytes: one buffer, a list of buffers (the object is their concatenation, in order),
 * or a stream. A list spares the caller joining parts it holds anyway (a segment's compressed
 * blocks): the fs store writes it as it is (writev); the cloud stores join it first, since a
 * single retriable request needs one body.
 */
export type PutBody = Buffer | readonly Buffer[] | Readable

/** A list of buffers (PutBody), as opposed to one buffer or a stream. */
export function isBufferList(body: PutBody): body is readonly Buffer[] {
  return Array.isArray(body)
}

/** One buffer or a stream: a list joined (for backends that send one body per request). */
export function joinedBody(body: PutBody): Buffer | Readable {
  return isBufferList(body) ? Buffer.concat(body) : body
}

/** Whether put() joins a list of buffers into one copy before writing it (every store but fs). */
export function joinsBufferLists(kind: StoreKind): boolean {
  return kind !== 'fs'
}

export interface ObjectInfo {
  /** Key relative to the store's prefix. */
  key: string
  size: number
  /** Opaque version token for conditional writes (ETag, generation, mtime+size for fs). */
  etag: string
  lastModified?: Date
  /** Write-once protection: the object cannot be deleted or overwritten before this time. */
  retainUntil?: Date
}

export interface PutOptions {
  /** Create-only: fail with KBK_STORE_PRECONDITION when the key exists. */
  ifNoneMatch?: '*'
  /** Replace only when the current version token equals this one. */
  ifMatch?: string
  contentType?: string
  /** Ask the store for write-once protection until this time (object lock / immutability / retention). */
  retainUntil?: Date
}

export interface ListOptions {
  /** Start listing after this key (exclusive), for resumable, sorted listings. */
  startAfter?: string
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number
  /** Last byte, inclusive. */
  end: number
}

export interface StoreCapabilities {
  /** The store itself refuses deletes before retainUntil (S3 Object Lock, Azure immutability, GCS retention). */
  enforcesRetention: boolean
}

export interface ObjectStore {
  readonly kind: StoreKind
  /** Human description for errors, e.g. `store "primary" (s3://bucket/prefix/)`. Never contains secrets. */
  readonly description: string
  /** Write a whole object. Large bodies (streams) are uploaded in parts where the backend needs it. */
  put(key: string, body: PutBody, options?: PutOptions): Promise<{etag: string}>
  /** Read a whole object. Throws KbkError KBK_STORE_NOT_FOUND when absent. */
  get(key: string): Promise<Buffer>
  /** Read an object, or a byte range of it, as a stream. */
  getStream(key: string, range?: ByteRange): Promise<Readable>
  /** Metadata, or undefined when absent. */
  head(key: string): Promise<ObjectInfo | undefined>
  /** Every object under the prefix, in lexicographic key order, fetched page by page. */
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>
  /** Delete keys (batched where the backend can). Absent keys are not an error. */
  delete(keys: string[]): Promise<void>
  capabilities(): Promise<StoreCapabilities>
  close(): Promise<void>
}

/** Codes thrown by adapters, as KbkError codes. */
export const StoreErrorCode = {
  notFound: 'KBK_STORE_NOT_FOUND',
  precondition: 'KBK_STORE_PRECONDITION',
  retained: 'KBK_STORE_RETAINED',
  accessDenied: 'KBK_STORE_ACCESS_DENIED',
  noBucket: 'KBK_STORE_NO_BUCKET',
  unreachable: 'KBK_STORE_UNREACHABLE',
  io: 'KBK_STORE_IO',
} as const
