// The cloud adapters load on first use: openObjectStore describes the store from its config alone
// (store-location.ts), exactly as the adapter does, and the wrapper hands every call to the adapter.
import {BlobServiceClient} from '@azure/storage-blob'
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {KbkError} from '../../../src/errors.js'
import {openObjectStore, type AzureStoreConfig, type ObjectInfo, type ObjectStore, type StoreConfig} from '../../../src/storage/index.js'
import {AzureObjectStore} from '../../../src/storage/azure-store.js'
import {GcsObjectStore} from '../../../src/storage/gcs-store.js'
import {LazyObjectStore} from '../../../src/storage/lazy-store.js'
import {S3ObjectStore} from '../../../src/storage/s3-store.js'
import {azureLocation} from '../../../src/storage/store-location.js'

const ctx = {name: 'primary', position: {file: 'kbk.yaml', line: 3, column: 5}}
const KEY = Buffer.from('not-a-real-key-but-base64').toString('base64')

/** What the SDK itself takes the account name of a connection string or account URL to be. */
function sdkAccountName(build: () => BlobServiceClient): string | Error {
  try {
    return build().accountName
  } catch (e) {
    return e as Error
  }
}

function ourAccountName(config: AzureStoreConfig): string | Error {
  try {
    const m = /^store "primary" \(azure:\/\/(.*)\/c\/p\/\)$/.exec(azureLocation(config, ctx).description)
    assert.ok(m, 'description has the azure://account/container/prefix/ form')
    return m[1] ?? ''
  } catch (e) {
    return e as Error
  }
}

function sameOutcome(ours: string | Error, sdk: string | Error, what: string): void {
  if (sdk instanceof Error) {
    assert.ok(ours instanceof Error, `${what}: the SDK refuses it (${sdk.message}), so must kbk`)
    assert.equal(ours.message, sdk.message, what)
  } else {
    assert.equal(ours, sdk, what)
  }
}

describe('store-location: the azure account name is the SDK\'s', () => {
  it('for connection strings, good and malformed', () => {
    const strings = [
      `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:39300/devstoreaccount1;`,
      'UseDevelopmentStorage=true',
      'UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://proxy:8080',
      `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${KEY};EndpointSuffix=core.windows.net`,
      `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${KEY};EndpointSuffix=core.chinacloudapi.cn`,
      `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${KEY};BlobEndpoint=https://backups.example.com/`,
      `DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=${KEY};BlobEndpoint=http://localhost:10000/dev`,
      `DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=${KEY};BlobEndpoint=http://azurite:10000/dev/`,
      `DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=${KEY};BlobEndpoint=http://[::1]:39300/dev`,
      'BlobEndpoint=https://acme.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&sig=abc',
      'BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;SharedAccessSignature=?sv=x',
      'AccountName=named;BlobEndpoint=https://custom.example.com;SharedAccessSignature=sv=x',
      `DefaultEndpointsProtocol=ftp;AccountName=a;AccountKey=${KEY}`,
      `DefaultEndpointsProtocol=https;AccountName=a;AccountKey=${KEY}`,
      `DefaultEndpointsProtocol=https;AccountKey=${KEY};EndpointSuffix=core.windows.net`,
      'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=;EndpointSuffix=core.windows.net',
      'BlobEndpoint=https://acme.blob.core.windows.net',
      'SharedAccessSignature=sv=x',
      'nonsense',
    ]
    for (const cs of strings) {
      sameOutcome(ourAccountName({type: 'azure', container: 'c', prefix: 'p', connectionString: cs}), sdkAccountName(() => BlobServiceClient.fromConnectionString(cs)), cs)
    }
  })

  it('for account URLs', () => {
    const urls = [
      'https://acme.blob.core.windows.net',
      'https://acme.blob.core.windows.net/',
      'http://127.0.0.1:39300/devstoreaccount1',
      'http://localhost:10000/devstoreaccount1/',
      'http://host.docker.internal/acct',
      'http://[::1]:39300/devstoreaccount1',
      'http://azurite:10000/devstoreaccount1',
      'http://azurite:8080/devstoreaccount1',
      'https://storage.example.com/acct',
      'not a url',
    ]
    for (const url of urls) {
      sameOutcome(ourAccountName({type: 'azure', container: 'c', prefix: 'p', accountUrl: url}), sdkAccountName(() => new BlobServiceClient(url)), url)
    }
  })
})

describe('openObjectStore: cloud stores load their adapter on first use', () => {
  const configs: StoreConfig[] = [
    {type: 's3', bucket: 'bucket', region: 'eu-west-1', prefix: '/prod/kafka/', endpoint: 'http://127.0.0.1:9'},
    {type: 's3', bucket: 'bucket', region: 'eu-west-1'},
    {type: 'gcs', bucket: 'bucket', prefix: 'p', apiEndpoint: 'http://127.0.0.1:9'},
    {type: 'azure', container: 'backups', prefix: 'p', connectionString: `DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:9/dev;`},
    {type: 'azure', container: 'backups', accountUrl: 'https://acme.blob.core.windows.net', accountName: 'acme', accountKey: KEY},
    {type: 'azure', container: 'backups', accountUrl: 'https://acme.blob.core.windows.net', sasToken: 'sv=1&sig=2'},
  ]

  it('describes the store exactly as its adapter does, without loading it', async () => {
    for (const config of configs) {
      const store = openObjectStore(config, ctx)
      assert.ok(store instanceof LazyObjectStore)
      const adapter =
        config.type === 's3' ? new S3ObjectStore(config, ctx) : config.type === 'gcs' ? new GcsObjectStore(config, ctx) : config.type === 'azure' ? new AzureObjectStore(config, ctx) : undefined
      assert.ok(adapter)
      assert.equal(store.kind, adapter.kind)
      assert.equal(store.description, adapter.description)
      // The adapter behind it is the one for the config.
      const inner = await store.adapter()
      assert.equal(inner.constructor, adapter.constructor)
      assert.equal(inner.description, adapter.description)
      await store.close()
      await adapter.close()
    }
  })

  it('refuses a bad config at once, as the adapters do', () => {
    const refused = (config: StoreConfig, code: string): void => {
      assert.throws(() => openObjectStore(config, ctx), (e: unknown) => e instanceof KbkError && e.code === code)
    }
    refused({type: 'azure', container: 'backups'}, 'KBK_STORE_CONFIG')
    refused({type: 'azure', container: 'backups', accountUrl: 'https://acme.blob.core.windows.net', accountKey: KEY}, 'KBK_STORE_CONFIG')
    refused({type: 's3', bucket: 'bucket', region: 'r', prefix: 'a/../b'}, 'KBK_STORE_CONFIG')
    refused({type: 'gcs', bucket: 'bucket', prefix: './x'}, 'KBK_STORE_CONFIG')
    assert.throws(() => openObjectStore({type: 'azure', container: 'backups', connectionString: 'nonsense'}, ctx), /Invalid URL/)
  })
})

describe('LazyObjectStore', () => {
  function fake(): {store: ObjectStore; calls: string[]} {
    const calls: string[] = []
    const objects: ObjectInfo[] = [
      {key: 'a', size: 1, etag: '1'},
      {key: 'b', size: 2, etag: '2'},
    ]
    const store: ObjectStore = {
      kind: 's3',
      description: 'inner',
      put: async (key) => (calls.push(`put ${key}`), {etag: 'e'}),
      get: async (key) => (calls.push(`get ${key}`), Buffer.from(key)),
      getStream: async () => {
        throw new KbkError('KBK_STORE_NOT_FOUND', 'gone')
      },
      head: async (key) => (calls.push(`head ${key}`), undefined),
      async *list(prefix) {
        calls.push(`list ${prefix}`)
        yield* objects
      },
      delete: async (keys) => void calls.push(`delete ${keys.join(',')}`),
      capabilities: async () => ({enforcesRetention: true}),
      close: async () => void calls.push('close'),
    }
    return {store, calls}
  }

  it('loads once, on the first call, and delegates every method', async () => {
    const {store: inner, calls} = fake()
    let loads = 0
    const lazy = new LazyObjectStore('s3', 'store "x" (s3://b/)', async () => (loads++, inner))
    assert.equal(loads, 0)
    assert.equal(lazy.kind, 's3')
    assert.equal(lazy.description, 'store "x" (s3://b/)')
    const [put, got] = await Promise.all([lazy.put('k', Buffer.from('v')), lazy.get('k')])
    assert.equal(loads, 1)
    assert.deepEqual(put, {etag: 'e'})
    assert.equal(got.toString(), 'k')
    assert.equal(await lazy.head('h'), undefined)
    const listed: string[] = []
    for await (const o of lazy.list('pre/')) listed.push(o.key)
    assert.deepEqual(listed, ['a', 'b'])
    await lazy.delete(['x', 'y'])
    assert.deepEqual(await lazy.capabilities(), {enforcesRetention: true})
    await assert.rejects(lazy.getStream('k'), (e: unknown) => e instanceof KbkError && e.code === 'KBK_STORE_NOT_FOUND')
    await lazy.close()
    assert.equal(loads, 1)
    assert.deepEqual(calls, ['put k', 'get k', 'head h', 'list pre/', 'delete x,y', 'close'])
  })

  it('loads nothing to close a store never used, and a failed load fails every call alike', async () => {
    let loads = 0
    const never = new LazyObjectStore('gcs', 'd', async () => {
      loads++
      throw new Error('should not load')
    })
    await never.close()
    assert.equal(loads, 0)

    const broken = new LazyObjectStore('gcs', 'd', async () => {
      loads++
      throw new KbkError('KBK_STORE_CONFIG', 'bad')
    })
    await assert.rejects(broken.get('k'), {code: 'KBK_STORE_CONFIG'})
    await assert.rejects(async () => {
      for await (const _ of broken.list('')) assert.fail('nothing listed')
    }, {code: 'KBK_STORE_CONFIG'})
    await broken.close()
    assert.equal(loads, 1)
  })
})
