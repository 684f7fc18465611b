// Replicas end to end on the real servers: a policy backs up to S3 (versitygw) and replicates to
// Azure (Azurite) and GCS (fake-gcs-server). Copies are byte-identical and the next plan is
// empty; a replication killed with SIGKILL mid-way records only verified copies and converges;
// with the primary cut off (its endpoint a closed port) a restore from the Azure copy restores
// every record exactly; a corrupted copy is caught by verify --deep and copied again by apply.
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {after, before, describe, it} from 'node:test'
import {BlobServiceClient} from '@azure/storage-blob'
import kafkajs from 'kafkajs'
import {openWorkspaceStore} from '../../src/cli/context.js'
import {registerKafkaCodecs} from '../../src/kafka/kafkajs-codecs.js'
import type {Plan} from '../../src/plan/types.js'
import type {SegmentRef} from '../../src/state/types.js'
import {randomName, testEnv} from '../helpers/env.js'
import {createTestStore, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'
import type {TestStore} from '../helpers/workspace.js'
import {planSchemaErrors} from '../unit/plan/json-schemas.js'

const {Kafka, logLevel} = kafkajs
registerKafkaCodecs()
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000

interface Rec {
  partition: number
  key: string | null
  value: string | null
  timestamp: number
  headers: string
}

async function consumeAll(kafka: kafkajs.Kafka, topic: string): Promise<Rec[]> {
  const admin = kafka.admin()
  await admin.connect()
  const offsets = await admin.fetchTopicOffsets(topic)
  const total = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
  const out: Array<Rec & {offset: number}> = []
  if (total > 0) {
    const groupId = randomName('check')
    const consumer = kafka.consumer({groupId, allowAutoTopicCreation: false})
    await consumer.connect()
    await consumer.subscribe({topic, fromBeginning: true})
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({partition, message}) => {
          out.push({
            partition,
            offset: Number(message.offset),
            key: message.key === null ? null : message.key.toString(),
            value: message.value === null ? null : message.value.toString(),
            timestamp: Number(message.timestamp),
            headers: JSON.stringify(Object.entries(message.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)])),
          })
          if (out.length >= total) resolve()
        },
      })
    })
    await consumer.disconnect()
    await admin.deleteGroups([groupId]).catch(() => undefined)
  }
  await admin.disconnect()
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset).map(({offset: _o, ...r}) => r)
}

/** Every segment a store's state records, with the sha256 of the object really there (null: absent). */
async function copiesIn(config: string, store: string): Promise<Array<{ref: SegmentRef; actual: string | null; bytes: Buffer | null}>> {
  const s = await openWorkspaceStore({config, store})
  try {
    const {snapshot} = await s.state.read()
    const out: Array<{ref: SegmentRef; actual: string | null; bytes: Buffer | null}> = []
    for (const index of Object.values(snapshot.topics)) {
      for (const ref of await s.state.loadSegments(snapshot, index.policy, index.topic)) {
        const body = await s.store.get(ref.key).catch(() => null)
        out.push({ref, actual: body ? createHash('sha256').update(body).digest('hex') : null, bytes: body})
      }
    }
    return out
  } finally {
    await s.close()
  }
}

async function releaseLocks(dir: string, env: Record<string, string>, stores: string[]): Promise<void> {
  for (const store of stores) {
    const listed = await runKbk(['lock', 'list', '--store', store, '--json'], {cwd: dir, env})
    const locks = (JSON.parse(listed.stdout) as {locks: Array<{id: string}>}).locks
    for (const l of locks) assert.equal((await runKbk(['lock', 'release', l.id, '--force', '--store', store], {cwd: dir, env})).code, 0)
  }
}

describe('replicas: S3 primary, Azure and GCS copies', () => {
  const env = testEnv()
  const prefix = randomName('rp')
  const topic = `${prefix}.orders`
  const source = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.bootstrap], logLevel: logLevel.NOTHING})
  const target = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.targetBootstrap], logLevel: logLevel.NOTHING})
  const dir = tempDir()
  let config = ''
  let storeEnv: Record<string, string> = {}
  let azure: TestStore
  let yaml = ''
  let produced = 0

  async function produce(n: number): Promise<void> {
    const producer = source.producer({allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    const messages = Array.from({length: n}, (_, j) => {
      const i = produced + j
      return {partition: i % 3, key: i % 11 === 0 ? null : `k${i % 40}`, value: JSON.stringify({i, pad: 'x'.repeat(i % 50)}), timestamp: String(T0 + i * 100), headers: i % 2 === 0 ? {h: `v${i}`} : undefined}
    })
    await producer.send({topic, messages})
    await producer.disconnect()
    produced += n
  }

  const kbk = (args: string[], extra: Record<string, string> = {}) => runKbk(args, {cwd: dir, env: {...storeEnv, ...extra}})

  before(async () => {
    const admin = source.admin()
    await admin.connect()
    await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: 3, configEntries: [{name: 'retention.ms', value: '604800000'}]}]})
    await admin.disconnect()
    await produce(900)
    const s3 = await createTestStore('s3', dir)
    azure = await createTestStore('azure', dir)
    const gcs = await createTestStore('gcs', dir)
    storeEnv = {...s3.env, ...azure.env, ...gcs.env}
    // copiesIn opens the workspace in this process: it interpolates the same variables.
    Object.assign(process.env, storeEnv)
    yaml = `version: 1
clusters:
  source: { brokers: ["${env.kafka.bootstrap}"] }
  target: { brokers: ["${env.kafka.targetBootstrap}"] }
stores:
  main:
    ${s3.yaml}
  dr-azure:
    ${azure.yaml}
  dr-gcs:
    ${gcs.yaml}
retention:
  production: { maxAge: 90d, minKeep: 2 }
  archive: { maxAge: 7y, minKeep: 2 }
policies:
  events:
    cluster: source
    store: main
    topics: { include: ["${prefix}\\\\..*"] }
    retention: production
    rpo: 1h
    segment: { maxRecords: 40 }
    replicas:
      - { store: dr-azure, retention: archive }
      - { store: dr-gcs }
`
    config = writeWorkspace(dir, yaml)
  })

  after(async () => {
    for (const [k, topics] of [
      [source, [topic]],
      [target, [`${topic}-dr`]],
    ] as const) {
      const a = k.admin()
      await a.connect()
      await a.deleteTopics({topics: [...topics]}).catch(() => undefined)
      await a.disconnect()
    }
  })

  it('copies a real backup to Azure and GCS byte for byte, then plans no changes', async () => {
    const first = await kbk(['apply', '--auto-approve'])
    assert.equal(first.code, 0, first.stderr + first.stdout)

    const planned = await kbk(['plan'])
    assert.equal(planned.code, 0, planned.stderr)
    assert.match(planned.stdout, /replicate\.events@dr-azure\["[^"]+"\] will be copied to the replica/)
    assert.match(planned.stdout, /replicate\.events@dr-gcs\["[^"]+"\] will be copied to the replica/)
    assert.match(planned.stdout, /partition +0: offsets 0\.\.\d+ +\(\d+ segment\(s\), /)
    assert.match(planned.stdout, /Egress estimate: .* read out of store "main" for "dr-azure", "dr-gcs", [<~]\$[0-9.]+ at s3's list price/)
    const json = JSON.parse((await kbk(['plan', '--json'])).stdout) as Plan
    const copy = json.resource_changes.find((c) => c.address === `replicate.events@dr-azure[${JSON.stringify(topic)}]`)!
    assert.ok(copy.replicate && copy.replicate.segments.length > 0)
    assert.deepEqual(planSchemaErrors(json), [], 'the plan matches schemas/plan.schema.json')

    const applied = await kbk(['apply', '--auto-approve'])
    assert.equal(applied.code, 0, applied.stderr + applied.stdout)

    const primary = await copiesIn(config, 'main')
    assert.ok(primary.length >= 900 / 40)
    for (const store of ['dr-azure', 'dr-gcs']) {
      const copies = await copiesIn(config, store)
      assert.equal(copies.length, primary.length, `${store} records every segment`)
      const byKey = new Map(copies.map((c) => [c.ref.key, c]))
      for (const p of primary) {
        const c = byKey.get(p.ref.key)
        assert.ok(c, `${p.ref.key} on ${store}`)
        assert.ok(c.bytes && p.bytes && c.bytes.equals(p.bytes), `${p.ref.key} is byte-identical on ${store}`)
        assert.equal(c.ref.sha256, p.ref.sha256)
        assert.ok(c.ref.replica_etag, 'the verified version is recorded')
      }
    }
    const again = await kbk(['plan', '--detailed-exitcode'])
    assert.equal(again.code, 0, again.stdout + again.stderr)
    assert.match(again.stdout, /No changes/)
    // Without --store, verify reads the primary and every copy.
    const verified = await kbk(['verify', '--deep'])
    assert.equal(verified.code, 0, verified.stdout + verified.stderr)
    assert.match(verified.stdout, /store "dr-azure": OK: \d+ segment/)
    assert.match(verified.stdout, /store "dr-gcs": OK: \d+ segment/)
  })

  it('a replication killed with SIGKILL records only verified copies, and a rerun converges', async () => {
    await produce(600)
    const backup = await kbk(['apply', '--auto-approve', '--target', 'backup.events'])
    assert.equal(backup.code, 0, backup.stderr + backup.stdout)
    const killed = await kbk(['apply', '--auto-approve'], {KBK_TEST_KILL_AFTER_REPLICA_COPIES: '5'})
    assert.equal(killed.signal, 'SIGKILL', killed.stdout + killed.stderr)

    for (const store of ['dr-azure', 'dr-gcs']) {
      for (const c of await copiesIn(config, store)) assert.equal(c.actual, c.ref.sha256, `${c.ref.key} on ${store} is recorded only as the verified copy`)
    }
    await releaseLocks(dir, storeEnv, ['main', 'dr-azure', 'dr-gcs'])
    const rerun = await kbk(['apply', '--auto-approve'])
    assert.equal(rerun.code, 0, rerun.stderr + rerun.stdout)
    const primary = await copiesIn(config, 'main')
    for (const store of ['dr-azure', 'dr-gcs']) {
      const copies = await copiesIn(config, store)
      assert.deepEqual(copies.map((c) => c.ref.key).sort(), primary.map((c) => c.ref.key).sort())
      for (const c of copies) assert.equal(c.actual, c.ref.sha256)
    }
    const again = await kbk(['plan', '--detailed-exitcode'])
    assert.equal(again.code, 0, again.stdout + again.stderr)
  })

  it('restores from the Azure copy, record for record, when the primary store is unreachable', async () => {
    writeWorkspace(
      dir,
      yaml +
        `restores:
  dr:
    from: { policy: events, store: dr-azure }
    to: { cluster: target, topicSuffix: "-dr" }
    createTopics: true
  fromprimary:
    from: { policy: events }
    to: { cluster: target, topicSuffix: "-never" }
    createTopics: true
`,
    )
    const cut = {S3_ENDPOINT: 'http://127.0.0.1:1'}
    // Reading the primary fails: the plan says so, and points a restore at the replica.
    const planned = await kbk(['plan'], cut)
    assert.equal(planned.code, 1, planned.stdout)
    assert.match(planned.stdout + planned.stderr, /KBK_STORE_UNREADABLE: Restore "fromprimary" reads policy "events" from store "main", which could not be read/)
    assert.match(planned.stdout + planned.stderr, /set restores\.fromprimary\.from\.store: dr-azure/)

    const applied = await kbk(['apply', '--auto-approve', '--target', 'restore.dr'], cut)
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    const src = await consumeAll(source, topic)
    const restored = await consumeAll(target, `${topic}-dr`)
    assert.equal(src.length, produced)
    assert.deepEqual(restored, src)
    writeWorkspace(dir, yaml)
  })

  it('a corrupted copy is caught by verify --deep and copied again by the next apply', async () => {
    const copies = await copiesIn(config, 'dr-azure')
    const victim = copies[Math.floor(copies.length / 2)]!
    const bad = Buffer.from(victim.bytes!)
    bad[Math.floor(bad.length / 2)] = bad[Math.floor(bad.length / 2)]! ^ 0xff
    const container = /container: (\S+)/.exec(azure.yaml)![1]!
    await BlobServiceClient.fromConnectionString(env.azure.connectionString).getContainerClient(container).getBlockBlobClient(`team-a/${victim.ref.key}`).uploadData(bad)

    const verify = await kbk(['verify', '--deep', '--store', 'dr-azure'])
    assert.equal(verify.code, 1, verify.stdout)
    assert.ok(verify.stdout.includes(victim.ref.key), verify.stdout)

    const planned = JSON.parse((await kbk(['plan', '--json'])).stdout) as Plan
    assert.ok(planned.drift.some((d) => d.kind === 'replica-changed' && JSON.stringify(d.found).includes(victim.ref.key)), JSON.stringify(planned.drift))
    const recopy = planned.resource_changes.find((c) => c.replicate?.store === 'dr-azure')
    assert.deepEqual(recopy?.replicate?.segments.map((s) => [s.key, s.reason]), [[victim.ref.key, 'changed']])

    const applied = await kbk(['apply', '--auto-approve'])
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    const ok = await kbk(['verify', '--deep', '--store', 'dr-azure'])
    assert.equal(ok.code, 0, ok.stdout + ok.stderr)
    const again = await kbk(['plan', '--detailed-exitcode'])
    assert.equal(again.code, 0, again.stdout + again.stderr)
  })
})
