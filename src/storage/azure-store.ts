// The azure adapter: Blob Storage (and Azurite) through @azure/storage-blob. Conditional writes use
// If-None-Match / If-Match (the service answers 409 or 412: both mean "exists / condition failed");
// write-once uses the blob immutability policy when the container has version-level immutability.
// Large bodies are staged as blocks here (each block a retriable call) and committed with the
// conditions, so the SDK's own retries are off and retry.ts is the only retry loop.
import {DefaultAzureCredential} from '@azure/identity'
import {BlobServiceClient, StorageSharedKeyCredential, type ContainerClient, type StoragePipelineOptions} from '@azure/storage-blob'
import {randomBytes} from 'node:crypto'
import {Readable} from 'node:stream'
import {KbkError} from '../errors.js'
import {assertValidKey, assertValidRange, deletableKeys, mapLimit, parseRetainUntil, RETAIN_META} from './keys.js'
import {joinedBody, type ByteRange, type ListOptions, type ObjectInfo, type ObjectStore, type PutBody, type PutOptions, type StoreCapabilities} from './object-store.js'
import {httpStatusOf, isRetriable, networkErrorCode, withMappedRetry, type RetryOptions} from './retry.js'
import {revealSecret, type AzureStoreConfig, type StoreContext} from './store-config.js'
import {StoreErrors} from './store-errors.js'
import {azureConfigErrors, azureLocation} from './store-location.js'
import {ownWriteLanded} from './ambiguous-write.js'

/** Bodies up to this size go in one Put Blob; larger ones are staged in blocks of this size. */
const BLOCK_SIZE = 8 * 1024 * 1024
const BLOCKS_IN_FLIGHT = 4
const DELETE_CONCURRENCY = 16

/** 'cas' is a write with if-match: there a 404 means the condition failed, not a missing bucket. */
type Op = 'read' | 'write' | 'cas' | 'list' | 'delete' | 'probe'

function restCode(e: unknown): string | undefined {
  const l = e as {code?: unknown; details?: {errorCode?: unknown}; name?: unknown} | undefined
  if (typeof l?.details?.errorCode === 'string') return l.details.errorCode
  if (typeof l?.code === 'string') return l.code
  return typeof l?.name === 'string' ? l.name : undefined
}

export class AzureObjectStore implements ObjectStore {
  readonly kind = 'azure' as const
  readonly description: string
  private readonly container: ContainerClient
  private readonly prefix: string
  private readonly errors: StoreErrors
  private readonly credentialHint: string
  private readonly endpoint: string
  private readonly endpointKey: string
  private probe: Promise<StoreCapabilities> | undefined

  constructor(
    private readonly config: AzureStoreConfig,
    ctx: StoreContext,
    private readonly retry: RetryOptions = {},
  ) {
    const at = azureLocation(config, ctx)
    this.prefix = at.prefix
    const pipeline: StoragePipelineOptions = {retryOptions: {maxTries: 1}}
    let service: BlobServiceClient
    const connectionString = revealSecret(config.connectionString)
    const where = `stores.${ctx.name}`
    if (connectionString !== undefined) {
      service = BlobServiceClient.fromConnectionString(connectionString, pipeline)
      this.credentialHint = `the connection string behind ${where}.connectionString`
      this.endpointKey = 'connectionString'
    } else if (config.accountUrl !== undefined) {
      const accountKey = revealSecret(config.accountKey)
      const sas = revealSecret(config.sasToken)
      this.endpointKey = 'accountUrl'
      if (accountKey !== undefined) {
        if (!config.accountName) throw azureConfigErrors.keyWithoutName(ctx)
        service = new BlobServiceClient(config.accountUrl, new StorageSharedKeyCredential(config.accountName, accountKey), pipeline)
        this.credentialHint = `${where}.accountName and the key behind ${where}.accountKey`
      } else if (sas !== undefined) {
        const url = new URL(config.accountUrl)
        url.search = sas.startsWith('?') ? sas : `?${sas}`
        service = new BlobServiceClient(url.toString(), undefined, pipeline)
        this.credentialHint = `the SAS token behind ${where}.sasToken (permissions rwdl, expiry)`
      } else {
        service = new BlobServiceClient(config.accountUrl, new DefaultAzureCredential(), pipeline)
        this.credentialHint = 'DefaultAzureCredential: AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, workload or managed identity, or `az login`; the identity needs Storage Blob Data Contributor'
      }
    } else {
      throw azureConfigErrors.noEndpoint(ctx)
    }
    this.container = service.getContainerClient(config.container)
    // The URL without its query: a SAS token must never reach a message.
    const u = new URL(service.url)
    this.endpoint = `${u.protocol}//${u.host}${u.pathname}`.replace(/\/+$/, '')
    this.errors = new StoreErrors(ctx, at.errorLocation)
    this.description = at.description
  }

  private fullKey(key: string): string {
    return this.prefix + key
  }

  private mapError(e: unknown, op: Op, what: string, key?: string): KbkError {
    if (e instanceof KbkError) return e
    const status = httpStatusOf(e)
    const code = restCode(e)
    if (code === 'ContainerNotFound') return this.errors.noBucket('container', this.config.container, 'container', e)
    if ((op === 'write' || op === 'cas') && (status === 409 || status === 412)) {
      if (code && /Immutab|LegalHold/i.test(code)) return this.errors.io(`${what}: the blob is under an immutability policy`, e, false)
      return this.errors.precondition(key ?? '?', code ?? `HTTP ${status}`, e)
    }
    if (status === 404 && key !== undefined) {
      return op === 'cas' ? this.errors.precondition(key, 'if-match: the key does not exist', e) : this.errors.notFound(key, e)
    }
    if (status === 403 || status === 401 || code === 'CredentialUnavailableError' || code === 'AuthenticationRequiredError') {
      return this.errors.accessDenied(what, this.credentialHint, e)
    }
    const net = networkErrorCode(e)
    if (net === 'ECONNREFUSED' || net === 'ENOTFOUND' || net === 'EAI_FAIL') {
      return this.errors.unreachable(this.endpoint, this.endpointKey, net, e)
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
    const blob = this.container.getBlockBlobClient(this.fullKey(key))
    const what = `writing "${key}"`
    const op: Op = options.ifMatch !== undefined ? 'cas' : 'write'
    const common = {
      conditions: options.ifNoneMatch ? {ifNoneMatch: '*'} : options.ifMatch !== undefined ? {ifMatch: options.ifMatch} : {},
      ...(options.contentType ? {blobHTTPHeaders: {blobContentType: options.contentType}} : {}),
      ...(options.retainUntil ? {metadata: {[RETAIN_META]: options.retainUntil.toISOString()}} : {}),
      ...(options.retainUntil && (await this.capabilities()).enforcesRetention
        ? {immutabilityPolicy: {expiriesOn: options.retainUntil, policyMode: 'Locked' as const}}
        : {}),
    }
    const putBuffer = async (data: Buffer): Promise<{etag: string}> => {
      let tries = 0
      try {
        const out = await this.call(op, what, key, () => {
          tries++
          return blob.upload(data, data.length, common)
        })
        return {etag: out.etag ?? ''}
      } catch (e) {
        const landed = await ownWriteLanded(this, key, data, e, tries)
        if (landed) return landed
        throw e
      }
    }
    if (Buffer.isBuffer(body)) return putBuffer(body)
    // Stage blocks (uncommitted blocks are invisible and garbage-collected by the service), then
    // commit with the conditions: the commit is where a create-only race is decided.
    const blockIds: string[] = []
    const inFlight = new Set<Promise<void>>()
    let failure: unknown
    let index = 0
    let single: Buffer | undefined
    for await (const block of chunked(body, BLOCK_SIZE)) {
      if (index === 0 && block.last) {
        single = block.data
        break
      }
      const id = Buffer.from(`${randomBytes(6).toString('hex')}-${String(index).padStart(6, '0')}`).toString('base64')
      blockIds.push(id)
      index++
      const p: Promise<void> = this.call('write', `${what} (block ${index})`, key, async () => {
        await blob.stageBlock(id, block.data, block.data.length)
      }).then(
        () => void inFlight.delete(p),
        (e: unknown) => {
          inFlight.delete(p)
          failure ??= e
        },
      )
      inFlight.add(p)
      if (inFlight.size >= BLOCKS_IN_FLIGHT) await Promise.race(inFlight)
      if (failure !== undefined) break
    }
    if (single !== undefined) return putBuffer(single)
    await Promise.all(inFlight)
    if (failure !== undefined) throw failure
    const out = await this.call(op, what, key, () => blob.commitBlockList(blockIds, common))
    return {etag: out.etag ?? ''}
  }

  async get(key: string): Promise<Buffer> {
    const stream = await this.getStream(key)
    const chunks: Buffer[] = []
    try {
      for await (const c of stream) chunks.push(c as Buffer)
    } catch (e) {
      throw this.mapError(e, 'read', `reading "${key}"`, key)
    }
    return Buffer.concat(chunks)
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    assertValidKey(key)
    assertValidRange(range)
    const blob = this.container.getBlobClient(this.fullKey(key))
    return this.call('read', `reading "${key}"`, key, async () => {
      const out = range ? await blob.download(range.start, range.end - range.start + 1) : await blob.download()
      const body = out.readableStreamBody
      if (!body) return Readable.from([])
      return body instanceof Readable ? body : Readable.from(body as AsyncIterable<Buffer>)
    })
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key)
    const blob = this.container.getBlobClient(this.fullKey(key))
    try {
      const p = await this.call('read', `reading metadata of "${key}"`, key, () => blob.getProperties())
      const retainUntil = p.immutabilityPolicyExpiresOn ?? parseRetainUntil(p.metadata?.[RETAIN_META])
      return {
        key,
        size: p.contentLength ?? 0,
        etag: p.etag ?? '',
        ...(p.lastModified ? {lastModified: p.lastModified} : {}),
        ...(retainUntil ? {retainUntil} : {}),
      }
    } catch (e) {
      if (e instanceof KbkError && e.code === 'KBK_STORE_NOT_FOUND') return undefined
      throw e
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    // Blob listings have no "start after": the marker is opaque. Skip client-side.
    const startAfter = options.startAfter
    let token: string | undefined
    do {
      const page = await this.call('list', `listing "${prefix}"`, undefined, async () => {
        const it = this.container.listBlobsFlat({prefix: this.fullKey(prefix)}).byPage({maxPageSize: 1000, ...(token ? {continuationToken: token} : {})})
        const r = await it.next()
        return r.done ? undefined : r.value
      })
      if (!page) return
      for (const b of page.segment.blobItems) {
        if (!b.name.startsWith(this.prefix)) continue
        const key = b.name.slice(this.prefix.length)
        if (startAfter !== undefined && Buffer.compare(Buffer.from(key), Buffer.from(startAfter)) <= 0) continue
        yield {
          key,
          size: b.properties.contentLength ?? 0,
          etag: b.properties.etag ?? '',
          lastModified: b.properties.lastModified,
        }
      }
      token = page.continuationToken || undefined
    } while (token)
  }

  async delete(keys: string[]): Promise<void> {
    // kbk's own refusal of retained objects, on top of what the store enforces.
    const unique = await deletableKeys(keys, (k) => this.head(k), (k, until) => this.errors.retained(k, until), DELETE_CONCURRENCY)
    await mapLimit(unique, DELETE_CONCURRENCY, (k) =>
      this.call('delete', `deleting "${k}"`, undefined, async () => {
        await this.container.getBlobClient(this.fullKey(k)).deleteIfExists()
      }),
    )
  }

  capabilities(): Promise<StoreCapabilities> {
    this.probe ??= this.call('probe', `reading the properties of container "${this.config.container}"`, undefined, async () => {
      const p = await this.container.getProperties()
      return {enforcesRetention: p.isImmutableStorageWithVersioningEnabled === true}
    }).catch((e: unknown) => {
      this.probe = undefined
      throw e
    })
    return this.probe
  }

  async close(): Promise<void> {}
}

/** Re-chunks a stream into blocks of exactly `size` bytes (the last may be shorter), marking the last. */
async function* chunked(stream: Readable, size: number): AsyncGenerator<{data: Buffer; last: boolean}> {
  let pending: Buffer[] = []
  let pendingSize = 0
  let ready: Buffer | undefined
  for await (const c of stream) {
    const buf = typeof c === 'string' ? Buffer.from(c) : (c as Buffer)
    pending.push(buf)
    pendingSize += buf.length
    while (pendingSize >= size) {
      const all = Buffer.concat(pending, pendingSize)
      if (ready) yield {data: ready, last: false}
      ready = all.subarray(0, size)
      pending = [all.subarray(size)]
      pendingSize -= size
    }
  }
  if (pendingSize > 0) {
    if (ready) yield {data: ready, last: false}
    ready = Buffer.concat(pending, pendingSize)
  }
  yield {data: ready ?? Buffer.alloc(0), last: true}
}
