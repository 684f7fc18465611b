// Proves each local test server does what kbk's integration tests rely on, with real traffic:
// both Kafka clusters carry records, kafkajs 2.2.4 speaks every API kbk uses to this broker
// version, and each object store refuses a conditional create of an existing key.
// When this file fails, other integration failures are probably the environment's, not kbk's.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {
  CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand,
  S3Client, S3ServiceException,
} from '@aws-sdk/client-s3'
import {BlobServiceClient, RestError} from '@azure/storage-blob'
import {Storage} from '@google-cloud/storage'
import kafkajs from 'kafkajs'
import type {Admin, Consumer, Kafka as KafkaClient, Producer} from 'kafkajs'
import {randomName, testEnv} from '../helpers/env.js'

const {Kafka, logLevel, ConfigResourceTypes} = kafkajs
const env = testEnv()

function kafkaClient(bootstrap: string): KafkaClient {
  return new Kafka({clientId: 'kbk-services-test', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: {retries: 5}})
}

interface Seen {
  key: string | null
  value: string | null
  offset: string
}

/** Consume `topic` from the beginning until `done` says so; returns what arrived, in order. */
async function consumeUntil(client: KafkaClient, topic: string, groupId: string, done: (seen: Seen[]) => boolean, opts: {readUncommitted?: boolean} = {}): Promise<Seen[]> {
  const consumer: Consumer = client.consumer({groupId, readUncommitted: opts.readUncommitted ?? false, maxWaitTimeInMs: 200})
  const seen: Seen[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({topic, fromBeginning: true})
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({message}) => {
            seen.push({key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, offset: message.offset})
            if (done(seen)) resolve()
          },
        })
        .catch(reject)
    })
  } finally {
    await consumer.disconnect()
  }
  return seen
}

for (const [cluster, bootstrap] of [['source', env.kafka.bootstrap], ['target', env.kafka.targetBootstrap]] as const) {
  test(`kafka ${cluster} (${bootstrap}): produce and consume on a new topic`, {timeout: 60_000}, async () => {
    const client = kafkaClient(bootstrap)
    const admin = client.admin()
    const topic = randomName(`svc-${cluster}`)
    await admin.connect()
    try {
      assert.equal(await admin.createTopics({topics: [{topic, numPartitions: 1}], waitForLeaders: true}), true)
      const producer = client.producer({idempotent: true, maxInFlightRequests: 1})
      await producer.connect()
      await producer.send({topic, messages: [{key: 'a', value: 'one'}, {key: null, value: 'two'}, {key: 'c', value: null}]})
      await producer.disconnect()
      const seen = await consumeUntil(client, topic, randomName('svc-group'), (s) => s.length >= 3)
      assert.deepEqual(seen, [
        {key: 'a', value: 'one', offset: '0'},
        {key: null, value: 'two', offset: '1'},
        {key: 'c', value: null, offset: '2'},
      ])
    } finally {
      await admin.deleteTopics({topics: [topic]}).catch(() => {})
      await admin.disconnect()
    }
  })
}

describe(`kafkajs 2.2.4 against Kafka ${env.kafka.version}: the APIs kbk uses`, () => {
  const client = kafkaClient(env.kafka.bootstrap)
  let admin: Admin
  const topic = randomName('svc-compat')
  before(async () => {
    admin = client.admin()
    await admin.connect()
    await admin.createTopics({
      topics: [{topic, numPartitions: 2, configEntries: [{name: 'retention.ms', value: '123456789'}, {name: 'max.message.bytes', value: String(12 * 1024 * 1024)}]}],
      waitForLeaders: true,
    })
  })
  after(async () => {
    await admin.deleteTopics({topics: [topic]}).catch(() => {})
    await admin.disconnect()
  })

  test('auto topic creation is off: metadata for a missing topic fails instead of creating it', async () => {
    const missing = randomName('svc-missing')
    await assert.rejects(admin.fetchTopicMetadata({topics: [missing]}), /does not host this topic-partition|UNKNOWN_TOPIC/i)
    assert.equal((await admin.listTopics()).includes(missing), false)
  })

  test('describeConfigs returns the topic config it was created with', async () => {
    const res = await admin.describeConfigs({resources: [{type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms']}], includeSynonyms: false})
    const entry = res.resources[0]?.configEntries.find((e) => e.configName === 'retention.ms')
    assert.equal(entry?.configValue, '123456789')
  })

  test('a 10 MiB record round-trips (broker message.max.bytes and fetch sizes allow it)', {timeout: 60_000}, async () => {
    const big = Buffer.alloc(10 * 1024 * 1024, 'k')
    const producer = client.producer({idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    await producer.send({topic, messages: [{partition: 1, key: 'big', value: big}]})
    await producer.disconnect()
    const offsets = await admin.fetchTopicOffsets(topic)
    const p1 = offsets.find((o) => o.partition === 1)
    assert.deepEqual({low: p1?.low, high: p1?.high}, {low: '0', high: '1'})
    const consumer = client.consumer({groupId: randomName('svc-big'), maxBytesPerPartition: 1024 * 1024, maxWaitTimeInMs: 200})
    await consumer.connect()
    try {
      await consumer.subscribe({topic, fromBeginning: true})
      const got = await new Promise<Buffer | null>((resolve, reject) => {
        consumer.run({eachMessage: async ({message}) => resolve(message.value)}).catch(reject)
      })
      assert.equal(got?.length, big.length)
      assert.ok(got?.equals(big))
    } finally {
      await consumer.disconnect()
    }
  })

  test('consumer group: join, commit, fetchOffsets, setOffsets, deleteGroups', {timeout: 60_000}, async () => {
    const groupId = randomName('svc-group')
    const producer = client.producer({idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    await producer.send({topic, messages: [{partition: 0, value: 'g0'}, {partition: 0, value: 'g1'}, {partition: 0, value: 'g2'}]})
    await producer.disconnect()
    const seen = await consumeUntil(client, topic, groupId, (s) => s.filter((m) => m.value?.startsWith('g')).length >= 3)
    assert.deepEqual(seen.filter((m) => m.value?.startsWith('g')).map((m) => m.value), ['g0', 'g1', 'g2'])

    const committed = await admin.fetchOffsets({groupId, topics: [topic]})
    const p0 = committed[0]?.partitions.find((p) => p.partition === 0)
    assert.equal(p0?.offset, '3')

    await admin.setOffsets({groupId, topic, partitions: [{partition: 0, offset: '1'}]})
    const moved = await admin.fetchOffsets({groupId, topics: [topic]})
    assert.equal(moved[0]?.partitions.find((p) => p.partition === 0)?.offset, '1')

    const groups = await admin.describeGroups([groupId])
    assert.equal(groups.groups[0]?.state, 'Empty')
    const deleted = await admin.deleteGroups([groupId])
    assert.equal(deleted[0]?.errorCode, 0)
    const after = await admin.listGroups()
    assert.equal(after.groups.some((g) => g.groupId === groupId), false)
  })

  test('idempotent transactional producer: committed records are read, aborted ones are not', {timeout: 60_000}, async () => {
    const txTopic = randomName('svc-tx')
    await admin.createTopics({topics: [{topic: txTopic, numPartitions: 1}], waitForLeaders: true})
    const producer: Producer = client.producer({transactionalId: randomName('svc-txid'), idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    try {
      const committed = await producer.transaction()
      await committed.send({topic: txTopic, messages: [{value: 'c1'}, {value: 'c2'}]})
      await committed.commit()
      const aborted = await producer.transaction()
      await aborted.send({topic: txTopic, messages: [{value: 'a1'}]})
      await aborted.abort()
      const last = await producer.transaction()
      await last.send({topic: txTopic, messages: [{value: 'end'}]})
      await last.commit()
    } finally {
      await producer.disconnect()
    }
    const seen = await consumeUntil(client, txTopic, randomName('svc-txread'), (s) => s.some((m) => m.value === 'end'))
    assert.deepEqual(seen.map((m) => m.value), ['c1', 'c2', 'end'])
    // Offsets show the gaps the transaction markers and the aborted record leave behind.
    assert.deepEqual(seen.map((m) => m.offset), ['0', '1', '5'])
    const dirty = await consumeUntil(client, txTopic, randomName('svc-txdirty'), (s) => s.some((m) => m.value === 'end'), {readUncommitted: true})
    assert.deepEqual(dirty.map((m) => m.value), ['c1', 'c2', 'a1', 'end'])
    await admin.deleteTopics({topics: [txTopic]}).catch(() => {})
  })
})

function s3Client(): S3Client {
  return new S3Client({
    endpoint: env.s3.endpoint,
    region: env.s3.region,
    forcePathStyle: env.s3.forcePathStyle,
    credentials: {accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey},
  })
}

async function s3Status(p: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await p
    return 'ok'
  } catch (error) {
    if (error instanceof S3ServiceException) return error.$metadata.httpStatusCode ?? -1
    throw error
  }
}

describe(`s3 (${env.s3.server} at ${env.s3.endpoint})`, () => {
  const s3 = s3Client()
  after(() => s3.destroy())

  test('bucket, put, get, list, and conditional writes (If-None-Match: *, If-Match)', async () => {
    const Bucket = randomName('svc-s3')
    await s3.send(new CreateBucketCommand({Bucket}))
    const put = await s3.send(new PutObjectCommand({Bucket, Key: 'a/one.txt', Body: 'first', IfNoneMatch: '*'}))
    assert.ok(put.ETag)
    const got = await s3.send(new GetObjectCommand({Bucket, Key: 'a/one.txt'}))
    assert.equal(await got.Body?.transformToString(), 'first')
    const listed = await s3.send(new ListObjectsV2Command({Bucket, Prefix: 'a/'}))
    assert.deepEqual(listed.Contents?.map((o) => o.Key), ['a/one.txt'])

    // The create-only write kbk's lock and segments rely on: refused on an existing key.
    assert.equal(await s3Status(s3.send(new PutObjectCommand({Bucket, Key: 'a/one.txt', Body: 'second', IfNoneMatch: '*'}))), 412)
    // Compare-and-swap, as kbk's state writes do it: a stale ETag is refused, the current one wins.
    assert.equal(await s3Status(s3.send(new PutObjectCommand({Bucket, Key: 'a/one.txt', Body: 'stale', IfMatch: '"0123456789abcdef0123456789abcdef"'}))), 412)
    assert.equal(await s3Status(s3.send(new PutObjectCommand({Bucket, Key: 'a/one.txt', Body: 'third', IfMatch: put.ETag}))), 'ok')
    const again = await s3.send(new GetObjectCommand({Bucket, Key: 'a/one.txt'}))
    assert.equal(await again.Body?.transformToString(), 'third')

    await s3.send(new DeleteObjectCommand({Bucket, Key: 'a/one.txt'}))
    await s3.send(new DeleteBucketCommand({Bucket}))
  })

  test('object lock: a COMPLIANCE-retained version cannot be deleted', {skip: !env.s3.objectLock && 'KBK_TEST_S3_OBJECT_LOCK is not true'}, async () => {
    const Bucket = randomName('svc-lock')
    await s3.send(new CreateBucketCommand({Bucket, ObjectLockEnabledForBucket: true}))
    const retainUntil = new Date(Date.now() + 10 * 60 * 1000)
    const put = await s3.send(
      new PutObjectCommand({Bucket, Key: 'seg', Body: 'immutable', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: retainUntil, ChecksumAlgorithm: 'CRC32'}),
    )
    assert.ok(put.VersionId, 'an object-lock bucket is versioned, so the put returns a version id')
    // Deleting the version itself is what retention forbids (a plain delete only adds a marker).
    // AWS and versitygw answer 403 AccessDenied, MinIO 400 InvalidRequest ("WORM protected").
    const status = await s3Status(s3.send(new DeleteObjectCommand({Bucket, Key: 'seg', VersionId: put.VersionId})))
    assert.ok(status === 403 || status === 400, `deleting a locked version must be refused, got ${status}`)
    const got = await s3.send(new GetObjectCommand({Bucket, Key: 'seg', VersionId: put.VersionId}))
    assert.equal(await got.Body?.transformToString(), 'immutable')
    // The bucket is left behind on purpose: its object stays locked for ten minutes.
  })
})

describe(`gcs (fake-gcs-server at ${env.gcs.endpoint})`, () => {
  test('bucket, save (simple and resumable), download, list, and ifGenerationMatch: 0 refused on an existing object', async () => {
    const storage = new Storage({apiEndpoint: env.gcs.endpoint, projectId: env.gcs.projectId})
    const name = randomName('svc-gcs')
    const [bucket] = await storage.createBucket(name)
    const file = bucket.file('a/one.txt')
    await file.save('first', {resumable: false, preconditionOpts: {ifGenerationMatch: 0}})
    // Resumable uploads follow the server's Location header: this proves -external-url is right.
    await bucket.file('a/two.txt').save(Buffer.alloc(300 * 1024, 'r'), {resumable: true})
    const [content] = await file.download()
    assert.equal(content.toString(), 'first')
    const [files] = await bucket.getFiles({prefix: 'a/'})
    assert.deepEqual(files.map((f) => f.name).sort(), ['a/one.txt', 'a/two.txt'])

    await assert.rejects(file.save('second', {resumable: false, preconditionOpts: {ifGenerationMatch: 0}}), (error: {code?: number}) => {
      assert.equal(error.code, 412)
      return true
    })
    const [still] = await file.download()
    assert.equal(still.toString(), 'first')
    await bucket.deleteFiles({force: true})
    await bucket.delete()
  })
})

describe('azure (Azurite blob)', () => {
  test('container, upload, download, list, and ifNoneMatch: * refused on an existing blob', async () => {
    const service = BlobServiceClient.fromConnectionString(env.azure.connectionString)
    const container = service.getContainerClient(randomName('svc-az'))
    await container.create()
    const blob = container.getBlockBlobClient('a/one.txt')
    await blob.upload('first', 5, {conditions: {ifNoneMatch: '*'}})
    const downloaded = await blob.downloadToBuffer()
    assert.equal(downloaded.toString(), 'first')
    const names: string[] = []
    for await (const item of container.listBlobsFlat({prefix: 'a/'})) names.push(item.name)
    assert.deepEqual(names, ['a/one.txt'])

    await assert.rejects(blob.upload('second', 6, {conditions: {ifNoneMatch: '*'}}), (error: unknown) => {
      assert.ok(error instanceof RestError)
      assert.equal(error.statusCode, 409)
      return true
    })
    assert.equal((await blob.downloadToBuffer()).toString(), 'first')
    await container.delete()
  })
})
