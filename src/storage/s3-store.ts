// The s3 adapter: AWS S3 and S3-compatible servers (MinIO, versitygw…) through @aws-sdk/client-s3.
// Conditional writes use If-None-Match / If-Match; write-once uses Object Lock (COMPLIANCE) when the
// bucket has it. The SDK's own retries are off (maxAttempts 1) except for streamed multipart
// uploads, whose parts cannot be replayed from here; everything else retries through retry.ts.
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import {Upload} from '@aws-sdk/lib-storage'
import {Readable} from 'node:stream'
import {KbkError} from '../errors.js'
import {assertValidKey, assertValidRange, deletableKeys, parseRetainUntil, RETAIN_META} from './keys.js'
import {joinedBody, type ByteRange, type ListOptions, type ObjectInfo, type ObjectStore, type PutBody, type PutOptions, type StoreCapabilities} from './object-store.js'
import {httpStatusOf, isRetriable, networkErrorCode, withMappedRetry, type RetryOptions} from './retry.js'
import {revealSecret, type S3StoreConfig, type StoreContext} from './store-config.js'
import {StoreErrors} from './store-errors.js'
import {s3Location} from './store-location.js'
import {readAll, readUpTo, rejoin} from './streams.js'
import {ownWriteLanded} from './ambiguous-write.js'

/** Below this a stream is read into memory and sent with one PutObject; above it, multipart. */
const PART_SIZE = 8 * 1024 * 1024
const DELETE_BATCH = 1000
const HEAD_CONCURRENCY = 16

/** 'cas' is a write with if-match: there a 404 means the condition failed, not a missing bucket. */
type Op = 'read' | 'write' | 'cas' | 'list' | 'delete' | 'probe'

function errName(e: unknown): string | undefined {
  const l = e as {name?: unknown; Code?: unknown; code?: unknown} | undefined
  if (typeof l?.Code === 'string') return l.Code
  if (typeof l?.name === 'string' && l.name !== 'Error') return l.name
  return typeof l?.code === 'string' ? l.code : undefined
}

/**
 * The AWS SDK prints a NodeVersionSupportWarning (future SDK versions will need Node 22) in every
 * process under Node 20, so on every S3 command. kbk supports Node 20 (package.json engines) with
 * the SDK versions it installs, so for kbk's users it is noise. The SDK reads its own switch for
 * exactly this warning when a client is created; every other warning still prints, and a value
 * the user set (either way) is kept.
 */
function silenceSdkNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
}

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const
  readonly description: string
  private readonly client: S3Client
  /** Separate client with the SDK's retries on, used only for multipart uploads of streams. */
  private readonly uploadClient: S3Client
  private readonly prefix: string
  private readonly errors: StoreErrors
  private readonly credentialHint: string
  private lockProbe: Promise<StoreCapabilities> | undefined
  private bucketChecked = false

  constructor(
    private readonly config: S3StoreConfig,
    ctx: StoreContext,
    private readonly retry: RetryOptions = {},
  ) {
    const at = s3Location(config, ctx)
    this.prefix = at.prefix
    this.errors = new StoreErrors(ctx, at.errorLocation)
    this.description = at.description
    const accessKeyId = revealSecret(config.accessKeyId)
    const secretAccessKey = revealSecret(config.secretAccessKey)
    this.credentialHint =
      accessKeyId !== undefined
        ? `the values behind ${`stores.${ctx.name}.accessKeyId`} and secretAccessKey`
        : 'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE — the AWS SDK default chain'
    const base: S3ClientConfig = {
      region: config.region,
      ...(config.endpoint ? {endpoint: config.endpoint} : {}),
      forcePathStyle: config.forcePathStyle ?? false,
      ...(accessKeyId !== undefined && secretAccessKey !== undefined
        ? {credentials: {accessKeyId, secretAccessKey, ...(config.sessionToken ? {sessionToken: revealSecret(config.sessionToken)} : {})}}
        : {}),
      requestHandler: {connectionTimeout: 10_000, requestTimeout: 120_000},
    }
    silenceSdkNodeVersionWarning()
    this.client = new S3Client({...base, maxAttempts: 1})
    this.uploadClient = new S3Client({...base, maxAttempts: 3})
  }

  private fullKey(key: string): string {
    return this.prefix + key
  }

  /** Which KbkError a raw SDK error is. `key` set: a per-object call (404 means "no such object"). */
  private mapError(e: unknown, op: Op, what: string, key?: string): KbkError {
    if (e instanceof KbkError) return e
    const name = errName(e)
    const status = httpStatusOf(e)
    if (name === 'NoSuchBucket') return this.errors.noBucket('bucket', this.config.bucket, 'bucket', e)
    if ((op === 'write' || op === 'cas') && (status === 412 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || (status === 409 && name !== 'OperationAborted'))) {
      return this.errors.precondition(key ?? '?', 'the object changed or already exists', e)
    }
    if (key !== undefined && (name === 'NoSuchKey' || name === 'NotFound' || status === 404)) {
      return op === 'cas' ? this.errors.precondition(key, 'if-match: the key does not exist', e) : this.errors.notFound(key, e)
    }
    if (
      status === 403 ||
      name === 'AccessDenied' ||
      name === 'InvalidAccessKeyId' ||
      name === 'SignatureDoesNotMatch' ||
      name === 'ExpiredToken' ||
      name === 'InvalidToken' ||
      name === 'CredentialsProviderError'
    ) {
      return this.errors.accessDenied(what, this.credentialHint, e)
    }
    const net = networkErrorCode(e)
    if (net === 'ECONNREFUSED' || net === 'ENOTFOUND' || net === 'EAI_FAIL' || net === 'ERR_INVALID_URL') {
      return this.errors.unreachable(this.config.endpoint ?? `S3 in ${this.config.region}`, this.config.endpoint ? 'endpoint' : 'region', net, e)
    }
    if (status === 301 || name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed') {
      return new KbkError('KBK_STORE_WRONG_REGION', `${this.errors.where}: bucket "${this.config.bucket}" is not in region ${this.config.region}.`, {
        kind: 'user',
        cause: e,
        suggestion: `Fix ${this.errors.configKey('region')} to the bucket's region.`,
      })
    }
    return this.errors.io(what, e, isRetriable(e))
  }

  private call<T>(op: Op, what: string, key: string | undefined, fn: () => Promise<T>): Promise<T> {
    return withMappedRetry(fn, (e) => this.mapError(e, op, what, key), this.retry)
  }

  async put(key: string, putBody: PutBody, options: PutOptions = {}): Promise<{etag: string}> {
    assertValidKey(key)
    const body = joinedBody(putBody)
    if (options.ifNoneMatch !== undefined && options.ifMatch !== undefined) {
      throw new KbkError('KBK_STORE_BAD_CONDITION', 'put: ifNoneMatch and ifMatch cannot be combined.', {kind: 'internal'})
    }
    const params: PutObjectCommandInput = {
      Bucket: this.config.bucket,
      Key: this.fullKey(key),
      ...(options.ifNoneMatch ? {IfNoneMatch: '*'} : {}),
      ...(options.ifMatch !== undefined ? {IfMatch: options.ifMatch} : {}),
      ...(options.contentType ? {ContentType: options.contentType} : {}),
    }
    if (options.retainUntil) {
      params.Metadata = {[RETAIN_META]: options.retainUntil.toISOString()}
      if ((await this.capabilities()).enforcesRetention) {
        params.ObjectLockMode = 'COMPLIANCE'
        params.ObjectLockRetainUntilDate = options.retainUntil
      }
    }
    const what = `writing "${key}"`
    const op: Op = options.ifMatch !== undefined ? 'cas' : 'write'
    const putBuffer = async (data: Buffer): Promise<{etag: string}> => {
      let tries = 0
      try {
        const out = await this.call(op, what, key, () => {
          tries++
          return this.client.send(new PutObjectCommand({...params, Body: data, ContentLength: data.length}))
        })
        return {etag: out.ETag ?? ''}
      } catch (e) {
        const landed = await ownWriteLanded(this, key, data, e, tries)
        if (landed) return landed
        throw e
      }
    }
    if (Buffer.isBuffer(body)) return putBuffer(body)
    // A stream: read the first part; a small object goes as one (retriable) PutObject.
    const {head, rest} = await readUpTo(body, PART_SIZE)
    if (rest === undefined) return putBuffer(head)
    // Multipart: lib-storage passes IfNoneMatch/IfMatch on to CompleteMultipartUpload, where S3
    // evaluates them, so a create-only race is still decided by the server at completion.
    try {
      const upload = new Upload({
        client: this.uploadClient,
        params: {...params, Body: rejoin(head, rest)},
        partSize: PART_SIZE,
        queueSize: 4,
        leavePartsOnError: false,
      })
      const out = await upload.done()
      return {etag: out.ETag ?? ''}
    } catch (e) {
      throw this.mapError(e, op, what, key)
    }
  }

  async get(key: string): Promise<Buffer> {
    assertValidKey(key)
    return this.call('read', `reading "${key}"`, key, async () => {
      const out = await this.client.send(new GetObjectCommand({Bucket: this.config.bucket, Key: this.fullKey(key)}))
      if (!out.Body) return Buffer.alloc(0)
      return readAll(out.Body as AsyncIterable<unknown>, out.ContentLength)
    })
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    assertValidKey(key)
    assertValidRange(range)
    return this.call('read', `reading "${key}"`, key, async () => {
      const out = await this.client.send(
        new GetObjectCommand({Bucket: this.config.bucket, Key: this.fullKey(key), ...(range ? {Range: `bytes=${range.start}-${range.end}`} : {})}),
      )
      if (!out.Body) return Readable.from([])
      return out.Body instanceof Readable ? out.Body : Readable.fromWeb(out.Body.transformToWebStream() as import('node:stream/web').ReadableStream)
    })
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key)
    const what = `reading metadata of "${key}"`
    const out = await this.call('read', what, key, () => this.client.send(new HeadObjectCommand({Bucket: this.config.bucket, Key: this.fullKey(key)}))).catch(
      (e: unknown) => {
        if (e instanceof KbkError && e.code === 'KBK_STORE_NOT_FOUND') return undefined
        throw e
      },
    )
    if (!out) {
      // HEAD has no error body: a missing bucket looks like a missing key. Ask once.
      await this.checkBucket()
      return undefined
    }
    const retainUntil = out.ObjectLockRetainUntilDate ?? parseRetainUntil(out.Metadata?.[RETAIN_META])
    return {
      key,
      size: out.ContentLength ?? 0,
      etag: out.ETag ?? '',
      ...(out.LastModified ? {lastModified: out.LastModified} : {}),
      ...(retainUntil ? {retainUntil} : {}),
    }
  }

  private async checkBucket(): Promise<void> {
    if (this.bucketChecked) return
    await this.call('probe', `checking bucket "${this.config.bucket}"`, undefined, async () => {
      try {
        await this.client.send(new HeadBucketCommand({Bucket: this.config.bucket}))
      } catch (e) {
        if (httpStatusOf(e) === 404) throw this.errors.noBucket('bucket', this.config.bucket, 'bucket', e)
        throw e
      }
    })
    this.bucketChecked = true
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    let token: string | undefined
    let startAfter = options.startAfter === undefined ? undefined : this.fullKey(options.startAfter)
    do {
      const page = await this.call('list', `listing "${prefix}"`, undefined, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.config.bucket,
            Prefix: this.fullKey(prefix),
            MaxKeys: 1000,
            ...(token ? {ContinuationToken: token} : startAfter ? {StartAfter: startAfter} : {}),
          }),
        ),
      )
      for (const o of page.Contents ?? []) {
        if (!o.Key?.startsWith(this.prefix)) continue
        yield {
          key: o.Key.slice(this.prefix.length),
          size: o.Size ?? 0,
          etag: o.ETag ?? '',
          ...(o.LastModified ? {lastModified: o.LastModified} : {}),
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
      startAfter = undefined
    } while (token)
  }

  async delete(keys: string[]): Promise<void> {
    // kbk's own refusal of retained objects, on top of what the store enforces.
    const unique = await deletableKeys(keys, (k) => this.head(k), (k, until) => this.errors.retained(k, until), HEAD_CONCURRENCY)
    for (let i = 0; i < unique.length; i += DELETE_BATCH) {
      const batch = unique.slice(i, i + DELETE_BATCH)
      const out = await this.call('delete', `deleting ${batch.length} objects`, undefined, () =>
        this.client.send(
          new DeleteObjectsCommand({Bucket: this.config.bucket, Delete: {Quiet: true, Objects: batch.map((k) => ({Key: this.fullKey(k)}))}}),
        ),
      )
      const failures = (out.Errors ?? []).filter((er) => er.Code !== 'NoSuchKey')
      if (failures.length > 0) {
        const first = failures[0]!
        const key = (first.Key ?? '').slice(this.prefix.length)
        const err = Object.assign(new Error(`${first.Code ?? 'Error'}: ${first.Message ?? ''} (${failures.length} of ${batch.length} keys failed, first "${key}")`), {
          name: first.Code ?? 'Error',
        })
        throw this.mapError(err, 'delete', `deleting "${key}"`)
      }
    }
  }

  capabilities(): Promise<StoreCapabilities> {
    this.lockProbe ??= this.probeObjectLock().catch((e) => {
      this.lockProbe = undefined
      throw e
    })
    return this.lockProbe
  }

  private async probeObjectLock(): Promise<StoreCapabilities> {
    if (this.config.objectLock === false) return {enforcesRetention: false}
    let enabled = false
    try {
      const out = await this.call('probe', `reading the Object Lock configuration of bucket "${this.config.bucket}"`, undefined, () =>
        this.client.send(new GetObjectLockConfigurationCommand({Bucket: this.config.bucket})),
      )
      enabled = out.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled'
    } catch (e) {
      // "no configuration", "not implemented" (some S3-compatible servers) and "not allowed to ask"
      // all mean: do not rely on it. A missing bucket or unreachable endpoint is still an error.
      if (e instanceof KbkError && (e.code === 'KBK_STORE_NO_BUCKET' || e.code === 'KBK_STORE_UNREACHABLE')) throw e
      enabled = false
    }
    if (!enabled && this.config.objectLock === true) {
      throw new KbkError('KBK_STORE_NO_OBJECT_LOCK', `${this.errors.where}: bucket "${this.config.bucket}" does not have Object Lock enabled, but the store sets objectLock: true.`, {
        kind: 'user',
        suggestion: `Use a bucket created with Object Lock enabled, or remove ${this.errors.configKey('objectLock')}.`,
      })
    }
    return {enforcesRetention: enabled}
  }

  async close(): Promise<void> {
    this.client.destroy()
    this.uploadClient.destroy()
  }
}

/** Read up to `limit` bytes; `rest` is undefined when the stream ended within them. */
