// Schema registries end to end, against two real registries (two Apicurio 2.4.2 processes started
// by env:up: one per cluster, so the target's IDs differ) and the two real Kafka clusters:
// back up records and their subjects' history, restore into the target registry, and decode every
// restored record with the TARGET registry's schemas; refusals happen before any record is produced.
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {SchemaRegistry, SchemaType} from '@kafkajs/confluent-schema-registry'
import kafkajs from 'kafkajs'
import {registerKafkaCodecs} from '../../src/kafka/kafkajs-codecs.js'
import {randomName, testEnv} from '../helpers/env.js'
import {createTestStore, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'

const {Kafka, logLevel} = kafkajs
// kbk produces restored records compressed; the test consumer must read them.
registerKafkaCodecs()
const T0 = Math.floor(Date.now() / 1000) * 1000 - 600_000

function registryUrls(): {source: string; target: string} {
  const source = process.env.KBK_TEST_SCHEMA_REGISTRY_URL
  const target = process.env.KBK_TEST_SCHEMA_REGISTRY_TARGET_URL
  if (!source || !target) throw new Error('KBK_TEST_SCHEMA_REGISTRY_URL / _TARGET_URL are not set: run `npm run env:up` (it starts the registries and writes .env.test).')
  return {source, target}
}

async function readAll(kafka: kafkajs.Kafka, topic: string): Promise<Array<{partition: number; offset: number; key: Buffer | null; value: Buffer | null}>> {
  const admin = kafka.admin()
  await admin.connect()
  const offsets = await admin.fetchTopicOffsets(topic)
  await admin.disconnect()
  const total = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
  const out: Array<{partition: number; offset: number; key: Buffer | null; value: Buffer | null}> = []
  if (total === 0) return out
  const consumer = kafka.consumer({groupId: randomName('sr-check'), allowAutoTopicCreation: false})
  await consumer.connect()
  await consumer.subscribe({topic, fromBeginning: true})
  await new Promise<void>((resolve, reject) => {
    consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error))
    consumer
      .run({
        eachMessage: async ({partition, message}) => {
          out.push({partition, offset: Number(message.offset), key: message.key, value: message.value})
          if (out.length >= total) resolve()
        },
      })
      .catch(reject)
  })
  await consumer.disconnect()
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
}

/** Decoded values as plain data: each registry client builds its own Avro record classes. */
function plainData(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v)) as unknown
}

async function topicExists(kafka: kafkajs.Kafka, topic: string): Promise<boolean> {
  const admin = kafka.admin()
  await admin.connect()
  const topics = await admin.listTopics()
  await admin.disconnect()
  return topics.includes(topic)
}

const avro = (fields: string): string => JSON.stringify({type: 'record', name: 'Order', namespace: 'kbk.test', fields: JSON.parse(fields) as unknown})
const AVRO_V1 = avro('[{"name":"id","type":"int"}]')
const AVRO_V2 = avro('[{"name":"id","type":"int"},{"name":"note","type":"string","default":""}]')
const AVRO_V3 = avro('[{"name":"id","type":"int"},{"name":"note","type":"string","default":""},{"name":"qty","type":"int","default":1}]')
const PROTO_COMMON = 'syntax = "proto3";\npackage kbk.common;\n\nmessage Money {\n  string currency = 1;\n  int64 units = 2;\n}\n'
const PROTO_PAYMENT = 'syntax = "proto3";\npackage kbk.pay;\n\nimport "common.proto";\n\nmessage Payment {\n  string id = 1;\n  kbk.common.Money amount = 2;\n}\n'
const JSON_SCHEMA = JSON.stringify({$schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: {sku: {type: 'string'}, n: {type: 'integer'}}, required: ['sku']})

describe('schema registry: back up subjects, restore into another registry, remap IDs', () => {
  const env = testEnv()
  const urls = registryUrls()
  const prefix = randomName('sr')
  const topics = {avro: `${prefix}.orders`, proto: `${prefix}.payments`, json: `${prefix}.items`}
  const source = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.bootstrap], logLevel: logLevel.NOTHING})
  const target = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.targetBootstrap], logLevel: logLevel.NOTHING})
  const srcRegistry = new SchemaRegistry({host: urls.source})
  const tgtRegistry = new SchemaRegistry({host: urls.target})
  const dir = tempDir()
  const decodedSource = new Map<string, unknown[]>()
  const sourceIds = new Set<number>()
  let plainValue: Buffer

  before(async () => {
    // The target registry already holds unrelated schemas, so the IDs it gives differ.
    for (let i = 0; i < 3; i++) await tgtRegistry.register({type: SchemaType.AVRO, schema: avro(`[{"name":"u${i}","type":"int"}]`)}, {subject: `${prefix}.unrelated${i}-value`})

    const ids = {
      v1: (await srcRegistry.register({type: SchemaType.AVRO, schema: AVRO_V1}, {subject: `${topics.avro}-value`})).id,
      v2: (await srcRegistry.register({type: SchemaType.AVRO, schema: AVRO_V2}, {subject: `${topics.avro}-value`})).id,
      v3: (await srcRegistry.register({type: SchemaType.AVRO, schema: AVRO_V3}, {subject: `${topics.avro}-value`})).id,
      common: (await srcRegistry.register({type: SchemaType.PROTOBUF, schema: PROTO_COMMON}, {subject: `${prefix}.common.proto`})).id,
      json: (await srcRegistry.register({type: SchemaType.JSON, schema: JSON_SCHEMA}, {subject: `${topics.json}-value`})).id,
    }
    const payment = (await srcRegistry.register({type: SchemaType.PROTOBUF, schema: PROTO_PAYMENT, references: [{name: 'common.proto', subject: `${prefix}.common.proto`, version: 1}]}, {subject: `${topics.proto}-value`})).id
    for (const id of [ids.v1, ids.v2, ids.v3, ids.common, ids.json, payment]) sourceIds.add(id)

    const admin = source.admin()
    await admin.connect()
    await admin.createTopics({waitForLeaders: true, topics: Object.values(topics).map((topic) => ({topic, numPartitions: 2}))})
    await admin.disconnect()
    const producer = source.producer({allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    const avroValues: Array<{id: number; value: Record<string, unknown>}> = []
    for (let i = 0; i < 30; i++) {
      if (i < 10) avroValues.push({id: ids.v1, value: {id: i}})
      else if (i < 20) avroValues.push({id: ids.v2, value: {id: i, note: `n${i}`}})
      else avroValues.push({id: ids.v3, value: {id: i, note: `n${i}`, qty: i}})
    }
    const avroMessages = await Promise.all(avroValues.map(async (v, i) => ({partition: i % 2, key: `o${i}`, value: await srcRegistry.encode(v.id, v.value), timestamp: String(T0 + i * 1000)})))
    // A record without the wire format: it must come back byte-identical.
    plainValue = Buffer.from('not-a-schema-record')
    avroMessages.push({partition: 0, key: 'plain', value: plainValue, timestamp: String(T0 + 40_000)})
    await producer.send({topic: topics.avro, messages: avroMessages})
    await producer.send({topic: topics.proto, messages: await Promise.all(Array.from({length: 12}, async (_, i) => ({partition: i % 2, key: `p${i}`, value: await srcRegistry.encode(payment, {id: `p${i}`, amount: {currency: 'EUR', units: i * 100}}), timestamp: String(T0 + i * 1000)})))})
    await producer.send({topic: topics.json, messages: await Promise.all(Array.from({length: 8}, async (_, i) => ({partition: i % 2, key: null, value: await srcRegistry.encode(ids.json, {sku: `s${i}`, n: i}), timestamp: String(T0 + i * 1000)})))})
    await producer.disconnect()

    for (const t of Object.values(topics)) {
      const recs = await readAll(source, t)
      decodedSource.set(t, await Promise.all(recs.map(async (r) => (r.value && r.value[0] === 0 ? await srcRegistry.decode(r.value) : r.value?.toString('hex')))))
    }

    const store = await createTestStore('fs', dir)
    writeWorkspace(
      dir,
      `version: 1
clusters:
  source: { brokers: ["${env.kafka.bootstrap}"] }
  target: { brokers: ["${env.kafka.targetBootstrap}"] }
stores:
  main:
    ${store.yaml}
schemaRegistries:
  src: { url: "${urls.source}" }
  tgt: { url: "${urls.target}" }
retention:
  production: { maxAge: 90d }
policies:
  shop:
    cluster: source
    store: main
    topics: { include: ["${prefix}\\\\..*"] }
    retention: production
    schemaRegistry: src
    encryption: { key: "\${SR_TEST_KEY}" }
restores:
  moved:
    from: { policy: shop }
    to: { cluster: target, topicSuffix: "-moved", schemaRegistry: tgt }
    topics: { include: ["${prefix}\\\\..*"] }
    createTopics: true
  same:
    from: { policy: shop }
    to: { cluster: target, topicSuffix: "-same", schemaRegistry: src }
    topics: { include: ["${prefix}\\\\..*"] }
    createTopics: true
`,
    )
  })

  after(async () => {
    for (const [k, list] of [
      [source, Object.values(topics)],
      [target, Object.values(topics).flatMap((t) => [`${t}-moved`, `${t}-same`])],
    ] as const) {
      const a = k.admin()
      await a.connect()
      await a.deleteTopics({topics: [...list]}).catch(() => undefined)
      await a.disconnect()
    }
  })

  const kenv = {SR_TEST_KEY: Buffer.alloc(32, 7).toString('base64')}

  it('snapshots every subject with its history, encrypted, and plans the ID rewrite per topic', async () => {
    const backup = await runKbk(['apply', '--auto-approve', '--target', 'policy.shop'], {cwd: dir, env: kenv})
    assert.equal(backup.code, 0, backup.stderr + backup.stdout)
    const snapDir = join(dir, 'backups', 'schemas', 'shop')
    const files = readdirSync(snapDir)
    assert.equal(files.length, 1, 'one snapshot per backup run')
    const envelope = JSON.parse(readFileSync(join(snapDir, files[0]!), 'utf8')) as {sha256: string; encryption: {key_id: string} | null; body: string}
    assert.ok(envelope.encryption, 'encrypted like the segments')
    assert.ok(!envelope.body.includes('Order'), 'no schema text in the clear')

    const planned = await runKbk(['plan', '--json'], {cwd: dir, env: kenv})
    assert.equal(planned.code, 0, planned.stderr)
    const plan = JSON.parse(planned.stdout) as {resource_changes: Array<{address: string; notes?: string[]}>}
    const notes = plan.resource_changes.find((c) => c.address === 'restore.moved')!.notes!.join('\n')
    assert.match(notes, new RegExp(`${topics.avro.replace('.', '\\.')}: 30 of 31 record\\(s\\) carry a schema ID`))
    assert.match(notes, new RegExp(`${topics.proto.replace('.', '\\.')}: 12 of 12`))
    assert.match(notes, new RegExp(`${topics.json.replace('.', '\\.')}: 8 of 8`))
  })

  it('restores into the target registry: IDs rewritten, every record decodes to the source value there', async () => {
    const apply = await runKbk(['apply', '--auto-approve', '--target', 'restore.moved'], {cwd: dir, env: kenv})
    assert.equal(apply.code, 0, apply.stderr + apply.stdout)

    // The subjects exist in the target with their history, in order.
    const versions = (await (await fetch(`${urls.target}/subjects/${encodeURIComponent(`${topics.avro}-value`)}/versions`)).json()) as number[]
    assert.deepEqual(versions, [1, 2, 3])

    const maps = readdirSync(join(dir, 'backups', 'restores', 'moved'))
    const map = JSON.parse(readFileSync(join(dir, 'backups', 'restores', 'moved', maps[0]!, 'schema-id-map.json'), 'utf8')) as {ids: Record<string, number>}
    assert.deepEqual(new Set(Object.keys(map.ids).map(Number)), sourceIds, 'the map covers every source ID the restored topics use, and the referenced one')
    assert.ok(Object.entries(map.ids).some(([s, t]) => Number(s) !== t), 'the target gave different IDs')

    for (const t of Object.values(topics)) {
      const restored = await readAll(target, `${t}-moved`)
      const decoded = await Promise.all(restored.map(async (r) => (r.value && r.value[0] === 0 ? await tgtRegistry.decode(r.value) : r.value?.toString('hex'))))
      assert.deepEqual(plainData(decoded), plainData(decodedSource.get(t)), `${t}: restored values decode to the source's values with the target's schemas`)
      for (const r of restored) if (r.value && r.value[0] === 0) assert.ok(Object.values(map.ids).includes(r.value.readUInt32BE(1)), 'every ID is a target ID')
    }
    const plain = (await readAll(target, `${topics.avro}-moved`)).find((r) => r.key?.toString() === 'plain')!
    assert.ok(plain.value!.equals(plainValue), 'a record without the magic byte is byte-identical')
  })

  it('restores into the source registry itself without registering anything: records byte-identical', async () => {
    const subjectsBefore = (await (await fetch(`${urls.source}/subjects`)).json()) as string[]
    const versionsBefore = (await (await fetch(`${urls.source}/subjects/${encodeURIComponent(`${topics.avro}-value`)}/versions`)).json()) as number[]
    const apply = await runKbk(['apply', '--auto-approve', '--target', 'restore.same'], {cwd: dir, env: kenv})
    assert.equal(apply.code, 0, apply.stderr + apply.stdout)
    for (const t of Object.values(topics)) {
      const src = await readAll(source, t)
      const restored = await readAll(target, `${t}-same`)
      assert.deepEqual(restored.map((r) => r.value?.toString('hex')), src.map((r) => r.value?.toString('hex')), `${t}: IDs unchanged`)
    }
    assert.deepEqual((await (await fetch(`${urls.source}/subjects`)).json()) as string[], subjectsBefore)
    assert.deepEqual((await (await fetch(`${urls.source}/subjects/${encodeURIComponent(`${topics.avro}-value`)}/versions`)).json()) as number[], versionsBefore)
    const maps = readdirSync(join(dir, 'backups', 'restores', 'same'))
    assert.ok(maps.every((m) => !readdirSync(join(dir, 'backups', 'restores', 'same', m)).includes('schema-id-map.json')), 'no ID map: nothing was mapped')
  })
})

describe('schema registry: refusals', () => {
  const env = testEnv()
  const urls = registryUrls()
  const prefix = randomName('srx')
  const conflicting = `${prefix}.conflict`
  const unknown = `${prefix}.unknown`
  const source = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.bootstrap], logLevel: logLevel.NOTHING})
  const target = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.targetBootstrap], logLevel: logLevel.NOTHING})
  const srcRegistry = new SchemaRegistry({host: urls.source})
  const tgtRegistry = new SchemaRegistry({host: urls.target})
  const dir = tempDir()
  let unknownOffset = -1

  before(async () => {
    const id = (await srcRegistry.register({type: SchemaType.AVRO, schema: AVRO_V1}, {subject: `${conflicting}-value`})).id
    const id2 = (await srcRegistry.register({type: SchemaType.AVRO, schema: AVRO_V2}, {subject: `${unknown}-value`})).id
    // The target already has the subject, with a schema the source's cannot follow under FULL.
    await tgtRegistry.register({type: SchemaType.AVRO, schema: JSON.stringify({type: 'record', name: 'Order', namespace: 'kbk.test', fields: [{name: 'id', type: 'string'}]})}, {subject: `${conflicting}-value`})
    const put = await fetch(`${urls.target}/config/${encodeURIComponent(`${conflicting}-value`)}`, {method: 'PUT', headers: {'content-type': 'application/json'}, body: JSON.stringify({compatibility: 'FULL'})})
    assert.equal(put.status, 200)

    const admin = source.admin()
    await admin.connect()
    await admin.createTopics({waitForLeaders: true, topics: [{topic: conflicting, numPartitions: 1}, {topic: unknown, numPartitions: 1}]})
    await admin.disconnect()
    const producer = source.producer({allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    await producer.send({topic: conflicting, messages: await Promise.all([1, 2, 3].map(async (i) => ({value: await srcRegistry.encode(id, {id: i}), timestamp: String(T0 + i)})))})
    const bogus = Buffer.from([0, 0x7f, 0xff, 0xff, 0x01, 1, 2, 3])
    const good = await srcRegistry.encode(id2, {id: 1, note: 'x'})
    const [meta] = await producer.send({topic: unknown, messages: [{value: good, timestamp: String(T0)}, {value: good, timestamp: String(T0 + 1)}]})
    const [meta2] = await producer.send({topic: unknown, messages: [{value: bogus, timestamp: String(T0 + 2)}]})
    unknownOffset = Number(meta2!.baseOffset)
    assert.ok(meta)
    await producer.disconnect()

    const store = await createTestStore('fs', dir)
    writeWorkspace(
      dir,
      `version: 1
clusters:
  source: { brokers: ["${env.kafka.bootstrap}"] }
  target: { brokers: ["${env.kafka.targetBootstrap}"] }
stores:
  main:
    ${store.yaml}
schemaRegistries:
  src: { url: "${urls.source}" }
  tgt: { url: "${urls.target}" }
retention:
  production: { maxAge: 90d }
policies:
  shop:
    cluster: source
    store: main
    topics: { include: ["${prefix}\\\\..*"] }
    retention: production
    schemaRegistry: src
restores:
  clash:
    from: { policy: shop }
    to: { cluster: target, topicSuffix: "-clash", schemaRegistry: tgt }
    topics: { include: ["${conflicting}"] }
    createTopics: true
  stray:
    from: { policy: shop }
    to: { cluster: target, topicSuffix: "-stray", schemaRegistry: tgt }
    topics: { include: ["${unknown}"] }
    createTopics: true
`,
    )
    const backup = await runKbk(['apply', '--auto-approve', '--target', 'policy.shop'], {cwd: dir})
    assert.equal(backup.code, 0, backup.stderr + backup.stdout)
  })

  after(async () => {
    for (const [k, list] of [
      [source, [conflicting, unknown]],
      [target, [`${conflicting}-clash`, `${unknown}-stray`]],
    ] as const) {
      const a = k.admin()
      await a.connect()
      await a.deleteTopics({topics: [...list]}).catch(() => undefined)
      await a.disconnect()
    }
  })

  it('refuses an incompatible target before any record is produced, naming the subject', async () => {
    const apply = await runKbk(['apply', '--auto-approve', '--target', 'restore.clash', '--json'], {cwd: dir})
    assert.notEqual(apply.code, 0)
    const out = apply.stdout + apply.stderr
    assert.match(out, /KBK_SCHEMA_INCOMPATIBLE/)
    assert.ok(out.includes(`${conflicting}-value`), out)
    assert.ok(!(await topicExists(target, `${conflicting}-clash`)) || (await readAll(target, `${conflicting}-clash`)).length === 0, 'no record was produced')
    const versions = (await (await fetch(`${urls.target}/subjects/${encodeURIComponent(`${conflicting}-value`)}/versions`)).json()) as number[]
    assert.deepEqual(versions, [1], 'nothing was registered')
  })

  it('stops at a record whose schema ID the snapshot lacks, naming topic, partition and offset', async () => {
    const apply = await runKbk(['apply', '--auto-approve', '--target', 'restore.stray', '--json'], {cwd: dir})
    assert.notEqual(apply.code, 0)
    const out = apply.stdout + apply.stderr
    assert.match(out, /KBK_SCHEMA_ID_UNKNOWN/)
    assert.ok(out.includes(`${unknown}/0@${unknownOffset}`), out)
    assert.ok(out.includes('2147483393'), 'names the ID')
  })
})
