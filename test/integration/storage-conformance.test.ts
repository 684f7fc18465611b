// One list of tests, run against every ObjectStore adapter on the real servers (fs on a temp dir,
// s3 on the local S3 server, azure on Azurite, gcs on fake-gcs-server). Each run creates its own
// random bucket/container and each test its own random prefix, so runs never collide. The tests
// themselves are in test/helpers/storage-conformance.ts (the unit tests run them on the memory store).
import {CreateBucketCommand, DeleteObjectCommand, ListObjectVersionsCommand, S3Client} from '@aws-sdk/client-s3'
import {BlobServiceClient} from '@azure/storage-blob'
import {Storage} from '@google-cloud/storage'
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {randomName, testEnv} from '../helpers/env.js'
import {storageConformanceSuite, type Harness} from '../helpers/storage-conformance.js'

/** A port nothing listens on: "wrong endpoint". */
const DEAD_ENDPOINT = 'http://127.0.0.1:9'

function fsHarness(): Harness {
  let dir = ''
  return {
    kind: 'fs',
    async setup() {
      dir = await mkdtemp(join(tmpdir(), 'kbk-conformance-'))
    },
    config: (prefix) => ({type: 'fs', path: join(dir, 'store'), prefix}),
    missingBucket: () => ({type: 'fs', path: join(dir, 'no-such-parent', 'store')}),
    paginationKeys: 1105,
    async teardown() {
      await rm(dir, {recursive: true, force: true})
    },
  }
}

function s3Harness(): Harness {
  const env = testEnv().s3
  const bucket = randomName('kbk-conf')
  const lockBucket = randomName('kbk-conf-lock')
  const base = {type: 's3' as const, region: env.region, endpoint: env.endpoint, forcePathStyle: env.forcePathStyle, accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey}
  const raw = new S3Client({region: env.region, endpoint: env.endpoint, forcePathStyle: env.forcePathStyle, credentials: {accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey}})
  let lockReady: Promise<boolean> | undefined
  return {
    kind: 's3',
    async setup() {
      await raw.send(new CreateBucketCommand({Bucket: bucket}))
    },
    config: (prefix) => ({...base, bucket, prefix}),
    missingBucket: () => ({...base, bucket: randomName('kbk-missing')}),
    wrongEndpoint: () => ({...base, bucket, endpoint: DEAD_ENDPOINT}),
    badCredentials: () => {
      const secret = `wrong-${randomBytes(12).toString('hex')}`
      return {config: {...base, bucket, secretAccessKey: secret}, secret}
    },
    paginationKeys: 1105,
    async lockedConfig(prefix) {
      if (!env.objectLock) return undefined
      lockReady ??= raw.send(new CreateBucketCommand({Bucket: lockBucket, ObjectLockEnabledForBucket: true})).then(() => true)
      await lockReady
      return {...base, bucket: lockBucket, prefix}
    },
    async rawDeleteRetained(prefix, key) {
      const versions = await raw.send(new ListObjectVersionsCommand({Bucket: lockBucket, Prefix: `${prefix}/${key}`}))
      const v = versions.Versions?.find((x) => x.Key === `${prefix}/${key}`)
      assert.ok(v?.VersionId, 'the locked object has a version id')
      try {
        await raw.send(new DeleteObjectCommand({Bucket: lockBucket, Key: `${prefix}/${key}`, VersionId: v.VersionId}))
        return undefined
      } catch (e) {
        return e
      }
    },
    async teardown() {
      raw.destroy()
    },
  }
}

function azureHarness(): Harness {
  const env = testEnv().azure
  const container = randomName('kbk-conf')
  const service = BlobServiceClient.fromConnectionString(env.connectionString)
  const accountKey = /AccountKey=([^;]+)/.exec(env.connectionString)?.[1] ?? ''
  return {
    kind: 'azure',
    async setup() {
      await service.getContainerClient(container).create()
    },
    config: (prefix) => ({type: 'azure', container, prefix, connectionString: env.connectionString}),
    missingBucket: () => ({type: 'azure', container: randomName('kbk-missing'), connectionString: env.connectionString}),
    wrongEndpoint: () => ({type: 'azure', container, connectionString: env.connectionString.replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=${DEAD_ENDPOINT}/devstoreaccount1`)}),
    badCredentials: () => {
      const secret = Buffer.from(randomBytes(64)).toString('base64')
      assert.ok(accountKey !== '')
      return {config: {type: 'azure', container, connectionString: env.connectionString.replace(accountKey, secret)}, secret}
    },
    paginationKeys: 1105,
    async teardown() {
      await service.getContainerClient(container).deleteIfExists()
    },
  }
}

function gcsHarness(): Harness {
  const env = testEnv().gcs
  const bucket = randomName('kbk-conf')
  const storage = new Storage({apiEndpoint: env.endpoint, projectId: env.projectId})
  return {
    kind: 'gcs',
    async setup() {
      await storage.createBucket(bucket)
    },
    config: (prefix) => ({type: 'gcs', bucket, prefix, apiEndpoint: env.endpoint, projectId: env.projectId}),
    missingBucket: () => ({type: 'gcs', bucket: randomName('kbk-missing'), apiEndpoint: env.endpoint, projectId: env.projectId}),
    wrongEndpoint: () => ({type: 'gcs', bucket, apiEndpoint: DEAD_ENDPOINT, projectId: env.projectId}),
    paginationKeys: 1105,
    async teardown() {},
  }
}

const harnesses: Array<() => Harness> = [fsHarness, s3Harness, azureHarness, gcsHarness]

for (const make of harnesses) storageConformanceSuite(make())
