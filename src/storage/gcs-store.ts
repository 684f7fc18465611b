// The gcs adapter: Google Cloud Storage (and fake-gcs-server via apiEndpoint) through
// @google-cloud/storage. The version token is the object generation; conditional writes use
// ifGenerationMatch (0 = create-only). Write-once uses object retention where the bucket enables it.
// The library's own retries are off except for resumable (streamed) uploads, which resume chunks
// themselves; everything else retries through retry.ts.
import {Storage, type Bucket, type File, type StorageOptions} from '@google-cloud/storage'
import {PassThrough, Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {KbkError} from '../errors.js'
import {assertValidKey, assertValidRange, deletableKeys, mapLimit, parseRetainUntil, RETAIN_META} from './keys.js'
import {joinedBody, type ByteRange, type ListOptions, type ObjectInfo, type ObjectStore, type PutBody, type PutOptions, type StoreCapabilities} from './object-store.js'
import {httpStatusOf, isRetriable, networkErrorCode, withRetry, type RetryOptions} from './retry.js'
import type {GcsStoreConfig, StoreContext} from './store-config.js'
import {StoreErrors} from './store-errors.js'
import {gcsLocation} from './store-location.js'
import {readUpTo, rejoin} from './streams.js'
import {ownWriteLanded} from './ambiguous-write.js'

const DELETE_CONCURRENCY = 16
/** Streams up to this size are buffered and sent in one (retriable) simple upload. */
const SIMPLE_UPLOAD_MAX = 8 * 1024 * 1024

/** 'cas' is a write with if-match: there a 404 means the condition failed, not a missing bucket. */
type Op = 'read' | 'write' | 'cas' | 'list' | 'delete' | 'probe'

interface GcsMeta {
  name?: string
  size?: string | number
  generation?: string | number
  updated?: string
  metadata?: Record<string, string | null | undefined | number | boolean>
  retention?: {mode?: string; retainUntilTime?: string}
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

export class GcsObjectStore implements ObjectStore {
  readonly kind = 'gcs' as const
  readonly description: string
  private readonly bucket: Bucket
  private readonly streamBucket: Bucket
  private readonly prefix: string
  private readonly errors: StoreErrors
  private probe: Promise<StoreCapabilities> | undefined
  private bucketChecked = false

  constructor(
    private readonly config: GcsStoreConfig,
    ctx: StoreContext,
    private readonly retry: RetryOptions = {},
  ) {
    const at = gcsLocation(config, ctx)
    this.prefix = at.prefix
    const base: StorageOptions = {
      ...(config.projectId ? {projectId: config.projectId} : {}),
      ...(config.apiEndpoint ? {apiEndpoint: config.apiEndpoint} : {}),
      ...(config.keyFilename ? {keyFilename: config.keyFilename} : {}),
    }
    this.bucket = new Storage({...base, retryOptions: {autoRetry: false, maxRetries: 0}}).bucket(config.bucket)
    this.streamBucket = new Storage({...base, retryOptions: {autoRetry: true, maxRetries: 3}}).bucket(config.bucket)
    this.errors = new StoreErrors(ctx, at.errorLocation)
    this.description = at.description
  }

  private fullKey(key: string): string {
    return this.prefix + key
  }

  private get credentialHint(): string {
    return this.config.keyFilename
      ? `the service-account key file in ${this.errors.configKey('keyFilename')}`
      : 'Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, workload identity, or `gcloud auth application-default login`'
  }

  private mapError(e: unknown, op: Op, what: string, key?: string): KbkError {
    if (e instanceof KbkError) return e
    // A 412 arrives as `code` from the JSON API and as `status` from a resumable upload: httpStatusOf reads both.
    const status = httpStatusOf(e)
    const msg = messageOf(e)
    if (status === 404 && /bucket/i.test(msg) && /not exist|not found/i.test(msg)) return this.errors.noBucket('bucket', this.config.bucket, 'bucket', e)
    if ((op === 'write' || op === 'cas') && (status === 412 || status === 409)) return this.errors.precondition(key ?? '?', `HTTP ${status}`, e)
    if (status === 404 && key !== undefined) {
      return op === 'cas' ? this.errors.precondition(key, 'if-match: the key does not exist', e) : this.errors.notFound(key, e)
    }
    if (status === 401 || status === 403 || /Could not load the default credentials|invalid_grant/i.test(msg)) {
      return this.errors.accessDenied(what, this.credentialHint, e)
    }
    const net = networkErrorCode(e)
    if (net === 'ECONNREFUSED' || net === 'ENOTFOUND' || net === 'EAI_FAIL') {
      return this.errors.unreachable(this.config.apiEndpoint ?? 'storage.googleapis.com', this.config.apiEndpoint ? 'apiEndpoint' : undefined, net, e)
    }
    return this.errors.io(what, e, isRetriable(e))
  }

  private call<T>(op: Op, what: string, key: string | undefined, fn: () => Promise<T>): Promise<T> {
    return withRetry(async () => {
      try {
        return await fn()
      } catch (e) {
        // Emulators answer a bare "Not Found" for a missing bucket too: ask once which it is.
        if (op !== 'probe' && httpStatusOf(e) === 404 && !(e instanceof KbkError)) await this.checkBucket()
        throw this.mapError(e, op, what, key)
      }
    }, this.retry)
  }

  private toInfo(key: string, m: GcsMeta): ObjectInfo {
    const retainUntil = parseRetainUntil(m.retention?.retainUntilTime) ?? parseRetainUntil(typeof m.metadata?.[RETAIN_META] === 'string' ? (m.metadata[RETAIN_META] as string) : undefined)
    return {
      key,
      size: Number(m.size ?? 0),
      etag: String(m.generation ?? ''),
      ...(m.updated ? {lastModified: new Date(m.updated)} : {}),
      ...(retainUntil ? {retainUntil} : {}),
    }
  }

  async put(key: string, putBody: PutBody, options: PutOptions = {}): Promise<{etag: string}> {
    assertValidKey(key)
    const body = joinedBody(putBody)
    if (options.ifNoneMatch !== undefined && options.ifMatch !== undefined) {
      throw new KbkError('KBK_STORE_BAD_CONDITION', 'put: ifNoneMatch and ifMatch cannot be combined.', {kind: 'internal'})
    }
    if (options.ifMatch !== undefined && !/^\d+$/.test(options.ifMatch)) throw this.errors.precondition(key, 'if-match: not a generation of this store')
    const preconditionOpts = options.ifNoneMatch ? {ifGenerationMatch: 0} : options.ifMatch !== undefined ? {ifGenerationMatch: Number(options.ifMatch)} : undefined
    const metadata: Record<string, unknown> = {
      ...(options.contentType ? {contentType: options.contentType} : {}),
      ...(options.retainUntil ? {metadata: {[RETAIN_META]: options.retainUntil.toISOString()}} : {}),
    }
    if (options.retainUntil && (await this.capabilities()).enforcesRetention) {
      metadata.retention = {mode: 'Locked', retainUntilTime: options.retainUntil.toISOString()}
    }
    const what = `writing "${key}"`
    const op: Op = options.ifMatch !== undefined ? 'cas' : 'write'
    let data: Buffer | undefined = Buffer.isBuffer(body) ? body : undefined
    let rest: Readable | undefined
    if (!data) {
      const first = await readUpTo(body as Readable, SIMPLE_UPLOAD_MAX)
      if (first.rest === undefined) data = first.head
      else rest = rejoin(first.head, first.rest)
    }
    if (data) {
      const buf = data
      let tries = 0
      try {
        return await this.call(op, what, key, async () => {
          tries++
          const file = this.bucket.file(this.fullKey(key))
          await file.save(buf, {resumable: false, validation: 'crc32c', metadata, ...(preconditionOpts ? {preconditionOpts} : {})})
          return {etag: String((file.metadata as GcsMeta).generation ?? '')}
        })
      } catch (e) {
        const landed = await ownWriteLanded(this, key, buf, e, tries)
        if (landed) return landed
        throw e
      }
    }
    try {
      const file = this.streamBucket.file(this.fullKey(key))
      await pipeline(rest!, file.createWriteStream({resumable: true, metadata, ...(preconditionOpts ? {preconditionOpts} : {})}))
      return {etag: String((file.metadata as GcsMeta).generation ?? '')}
    } catch (e) {
      if (httpStatusOf(e) === 404) await this.checkBucket()
      throw this.mapError(e, op, what, key)
    }
  }

  async get(key: string): Promise<Buffer> {
    assertValidKey(key)
    return this.call('read', `reading "${key}"`, key, async () => {
      const [buf] = await this.bucket.file(this.fullKey(key)).download()
      return buf
    })
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    assertValidKey(key)
    assertValidRange(range)
    return this.call('read', `reading "${key}"`, key, async () => {
      const src = this.bucket.file(this.fullKey(key)).createReadStream(range ? {start: range.start, end: range.end, validation: false} : {})
      const out = new PassThrough()
      // The request starts on the first read; wait for its answer so "absent" throws here, not later.
      let settled = false
      await new Promise<void>((resolve, reject) => {
        src.on('error', (e) => {
          if (settled) out.destroy(this.mapError(e, 'read', `reading "${key}"`, key))
          else {
            settled = true
            reject(e)
          }
        })
        const ok = (): void => {
          if (settled) return
          settled = true
          resolve()
        }
        // A 4xx/5xx response is followed by the error event.
        src.once('response', (res: {statusCode?: number}) => ((res.statusCode ?? 200) < 400 ? ok() : undefined))
        src.once('end', ok)
        src.pipe(out)
      })
      return out
    })
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key)
    try {
      const [m] = await this.call('read', `reading metadata of "${key}"`, key, () => this.bucket.file(this.fullKey(key)).getMetadata())
      return this.toInfo(key, m as GcsMeta)
    } catch (e) {
      if (e instanceof KbkError && e.code === 'KBK_STORE_NOT_FOUND') return undefined
      throw e
    }
  }

  private async checkBucket(): Promise<void> {
    if (this.bucketChecked) return
    await this.call('probe', `checking bucket "${this.config.bucket}"`, undefined, async () => {
      try {
        await this.bucket.getMetadata()
      } catch (e) {
        if (httpStatusOf(e) === 404) throw this.errors.noBucket('bucket', this.config.bucket, 'bucket', e)
        throw e
      }
    })
    this.bucketChecked = true
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const startAfter = options.startAfter
    let pageToken: string | undefined
    do {
      const [files, next] = await this.call('list', `listing "${prefix}"`, undefined, () =>
        this.bucket.getFiles({
          prefix: this.fullKey(prefix),
          autoPaginate: false,
          maxResults: 1000,
          ...(pageToken ? {pageToken} : {}),
          // startOffset is inclusive; the equal key is skipped below.
          ...(startAfter !== undefined ? {startOffset: this.fullKey(startAfter)} : {}),
        }),
      )
      for (const f of files as File[]) {
        if (!f.name.startsWith(this.prefix)) continue
        const key = f.name.slice(this.prefix.length)
        if (startAfter !== undefined && Buffer.compare(Buffer.from(key), Buffer.from(startAfter)) <= 0) continue
        yield this.toInfo(key, f.metadata as GcsMeta)
      }
      pageToken = (next as {pageToken?: string} | null | undefined)?.pageToken
    } while (pageToken)
  }

  async delete(keys: string[]): Promise<void> {
    // kbk's own refusal of retained objects, on top of what the store enforces.
    const unique = await deletableKeys(keys, (k) => this.head(k), (k, until) => this.errors.retained(k, until), DELETE_CONCURRENCY)
    await mapLimit(unique, DELETE_CONCURRENCY, (k) =>
      this.call('delete', `deleting "${k}"`, undefined, async () => {
        await this.bucket.file(this.fullKey(k)).delete({ignoreNotFound: true})
      }),
    )
  }

  capabilities(): Promise<StoreCapabilities> {
    this.probe ??= this.call('probe', `reading bucket "${this.config.bucket}"`, undefined, async () => {
      try {
        const [m] = await this.bucket.getMetadata()
        const retention = (m as {objectRetention?: {mode?: string}}).objectRetention
        return {enforcesRetention: retention?.mode === 'Enabled'}
      } catch (e) {
        if (httpStatusOf(e) === 404) throw this.errors.noBucket('bucket', this.config.bucket, 'bucket', e)
        throw e
      }
    }).catch((e: unknown) => {
      this.probe = undefined
      throw e
    })
    return this.probe
  }

  async close(): Promise<void> {}
}
