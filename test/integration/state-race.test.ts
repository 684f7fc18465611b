// Two real processes racing on one real store: for the state, exactly one commit wins and the
// other gets KBK_STATE_CONFLICT; for the lock, exactly one proceeds. Run with KBK_RACE_WORKER
// set, this same file is the worker: it reads JSON commands on stdin and answers on stdout.
import {describe, it, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {isKbkError} from '../../src/errors.js'
import {canonicalBytes} from '../../src/state/canonical-json.js'
import {LOCK_KEY} from '../../src/state/layout.js'
import {acquireLock, readLocks, type HeldLock} from '../../src/state/lock.js'
import {StateStore, listUnreferencedStateObjects, type StateRead} from '../../src/state/state-store.js'
import type {SegmentRef} from '../../src/state/types.js'
import type {ObjectStore} from '../../src/storage/object-store.js'
import {openObjectStore, type StoreConfig} from '../../src/storage/index.js'
import {CreateBucketCommand, S3Client} from '@aws-sdk/client-s3'
import {BlobServiceClient} from '@azure/storage-blob'
import {Storage} from '@google-cloud/storage'
import {randomName, testEnv} from '../helpers/env.js'

const here = fileURLToPath(import.meta.url)

/** Where the race runs; credentials are filled in from the test environment, never passed around. */
type RaceTarget = {type: 'fs'; path: string} | {type: 's3' | 'azure' | 'gcs'; bucket: string; prefix: string}

function storeConfig(t: RaceTarget): StoreConfig {
  if (t.type === 'fs') return {type: 'fs', path: t.path}
  const env = testEnv()
  if (t.type === 's3') return {type: 's3', bucket: t.bucket, prefix: t.prefix, region: env.s3.region, endpoint: env.s3.endpoint, forcePathStyle: env.s3.forcePathStyle, accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey}
  if (t.type === 'azure') return {type: 'azure', container: t.bucket, prefix: t.prefix, connectionString: env.azure.connectionString}
  return {type: 'gcs', bucket: t.bucket, prefix: t.prefix, apiEndpoint: env.gcs.endpoint, projectId: env.gcs.projectId}
}

async function openStore(t: RaceTarget): Promise<ObjectStore> {
  return openObjectStore(storeConfig(t), {name: 'race'})
}

function segment(worker: string, n: number): SegmentRef {
  return {
    key: `data/race/t/0/${worker}-${n}.kbk`,
    policy: 'race',
    topic: 't',
    partition: 0,
    first_offset: n * 10,
    last_offset: n * 10 + 9,
    records: 10,
    bytes: 1,
    uncompressed_bytes: 1,
    min_timestamp: 0,
    max_timestamp: 0,
    sha256: '00'.repeat(32),
    run_id: worker,
    written_at: new Date().toISOString(),
  }
}

// ---- worker ------------------------------------------------------------------------------------

type Command =
  | {cmd: 'read'}
  | {cmd: 'commit'; n: number}
  | {cmd: 'lock'; ttlMs?: number; heartbeatMs?: number}
  | {cmd: 'assert'}
  | {cmd: 'release'}

async function runWorker(): Promise<void> {
  const name = process.env.KBK_RACE_WORKER!
  const store = await openStore(JSON.parse(process.env.KBK_RACE_STORE!) as RaceTarget)
  const state = new StateStore(store, {kbkVersion: 'race'})
  let base: StateRead | undefined
  let lock: HeldLock | undefined
  const reply = (v: unknown) => process.stdout.write(JSON.stringify(v) + '\n')
  for await (const line of createInterface({input: process.stdin})) {
    const c = JSON.parse(line) as Command
    try {
      if (c.cmd === 'read') {
        base = await state.read()
        reply({ok: true, serial: base.snapshot.serial})
      } else if (c.cmd === 'commit') {
        const r = await state.commit(base!, {topics: [{policy: 'race', topic: 't', addSegments: [segment(name, c.n)]}]})
        reply({ok: true, serial: r.snapshot.serial})
      } else if (c.cmd === 'lock') {
        lock = await acquireLock(store, {operation: `race-${name}`, who: name, ttlMs: c.ttlMs, heartbeatMs: c.heartbeatMs})
        reply({ok: true, id: lock.info.id})
      } else if (c.cmd === 'assert') {
        lock!.assertHeld()
        reply({ok: true})
      } else {
        await lock?.release()
        lock = undefined
        reply({ok: true})
      }
    } catch (error) {
      reply(isKbkError(error) ? {ok: false, code: error.code, message: error.message} : {ok: false, code: 'THROWN', message: String(error)})
    }
  }
  await lock?.release()
  await store.close()
}

// ---- parent ------------------------------------------------------------------------------------

interface Reply {
  ok: boolean
  code?: string
  message?: string
  serial?: number
  id?: string
}

class Worker {
  private readonly child: ChildProcessWithoutNullStreams
  private readonly waiting: ((r: Reply) => void)[] = []
  private stderr = ''

  constructor(
    readonly name: string,
    store: RaceTarget,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', here], {env: {...process.env, KBK_RACE_WORKER: name, KBK_RACE_STORE: JSON.stringify(store)}})
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()))
    createInterface({input: this.child.stdout}).on('line', (line) => this.waiting.shift()?.(JSON.parse(line) as Reply))
    this.child.on('exit', (code) => {
      for (const w of this.waiting.splice(0)) w({ok: false, code: 'EXITED', message: `worker ${name} exited ${code}: ${this.stderr}`})
    })
  }

  send(c: Command): Promise<Reply> {
    return new Promise((resolve) => {
      this.waiting.push(resolve)
      this.child.stdin.write(JSON.stringify(c) + '\n')
    })
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return
    const exited = new Promise((r) => this.child.once('exit', r))
    this.child.stdin.end()
    await exited
  }
}

function raceSuite(label: string, makeConfig: () => Promise<{config: RaceTarget; cleanup(): Promise<void>}>): void {
  describe(`state and lock races on ${label} (two real processes)`, () => {
    let config: RaceTarget
    let cleanup: () => Promise<void>
    let a: Worker
    let b: Worker
    let store: ObjectStore

    before(async () => {
      ;({config, cleanup} = await makeConfig())
      store = await openStore(config)
      a = new Worker('a', config)
      b = new Worker('b', config)
    })

    after(async () => {
      await Promise.all([a?.stop(), b?.stop()])
      await store?.close()
      await cleanup?.()
    })

    it('racing commits from the same read: exactly one wins, the other gets KBK_STATE_CONFLICT', async () => {
      for (let round = 0; round < 6; round++) {
        const [ra, rb] = await Promise.all([a.send({cmd: 'read'}), b.send({cmd: 'read'})])
        assert.ok(ra.ok && rb.ok, JSON.stringify([ra, rb]))
        assert.equal(ra.serial, rb.serial)
        const results = await Promise.all([a.send({cmd: 'commit', n: round}), b.send({cmd: 'commit', n: round})])
        const winners = results.filter((r) => r.ok)
        const losers = results.filter((r) => !r.ok)
        assert.equal(winners.length, 1, JSON.stringify(results))
        assert.equal(winners[0]!.serial, ra.serial! + 1)
        assert.equal(losers[0]!.code, 'KBK_STATE_CONFLICT', JSON.stringify(losers))
        assert.match(losers[0]!.message!, new RegExp(`serial ${ra.serial} → ${ra.serial! + 1}`))
      }
      const state = new StateStore(store, {kbkVersion: 'check'})
      const read = await state.read()
      assert.equal(read.snapshot.serial, 6)
      const segments = await state.loadSegments(read.snapshot, 'race', 't')
      assert.equal(segments.length, 6, 'one segment per round: the winner’s')
      assert.equal(read.snapshot.topics['race/t']!.partitions[0]!.segment_count, 6)
      // The losers tidied up what they wrote; only superseded topic indexes remain unreferenced.
      const leftovers = (await listUnreferencedStateObjects(store)).map((o) => o.key)
      assert.ok(leftovers.every((k) => k.startsWith('_kbk/state/topics/')), leftovers.join('\n'))
      assert.equal(leftovers.length, 5)
    })

    it('racing for the lock: exactly one proceeds, the other sees the holder', async () => {
      for (let round = 0; round < 4; round++) {
        const results = await Promise.all([a.send({cmd: 'lock'}), b.send({cmd: 'lock'})])
        const winners = results.filter((r) => r.ok)
        assert.equal(winners.length, 1, JSON.stringify(results))
        const loser = results.find((r) => !r.ok)!
        assert.equal(loser.code, 'KBK_LOCKED')
        assert.ok(loser.message!.includes(winners[0]!.id!), loser.message)
        const holder = results[0]!.ok ? a : b
        assert.deepEqual((await readLocks(store)).map((l) => l.id), [winners[0]!.id])
        assert.ok((await holder.send({cmd: 'release'})).ok)
        assert.deepEqual(await readLocks(store), [])
      }
    })

    it('an expired lock is broken by exactly one of two racing breakers', async () => {
      for (let round = 0; round < 3; round++) {
        const past = Date.now() - 60_000
        await store.put(
          LOCK_KEY,
          canonicalBytes({id: `dead-${round}`, who: 'ghost@gone', operation: 'apply', created: new Date(past - 120_000).toISOString(), heartbeat: new Date(past - 120_000).toISOString(), expires: new Date(past).toISOString(), kbk_version: 'old'}),
        )
        const results = await Promise.all([a.send({cmd: 'lock'}), b.send({cmd: 'lock'})])
        const winners = results.filter((r) => r.ok)
        assert.equal(winners.length, 1, JSON.stringify(results))
        assert.equal(results.find((r) => !r.ok)!.code, 'KBK_LOCKED')
        assert.equal((await readLocks(store))[0]!.id, winners[0]!.id)
        assert.ok((await (results[0]!.ok ? a : b).send({cmd: 'release'})).ok)
      }
    })

    it('a heartbeat keeps the lock alive past its TTL; a released lock is free again', async () => {
      // A TTL of 20 heartbeats: a heartbeat held up for a few seconds on a loaded machine is no expiry.
      const ttlMs = 4000
      const got = await a.send({cmd: 'lock', ttlMs, heartbeatMs: 200})
      assert.ok(got.ok, JSON.stringify(got))
      const firstExpiry = Date.parse((await readLocks(store))[0]!.expires)
      // Wait (real time) until the first lease has run out: without the heartbeat the lock would be
      // breakable by now.
      await new Promise((r) => setTimeout(r, Math.max(0, firstExpiry + 200 - Date.now())))
      assert.ok(Date.parse((await readLocks(store))[0]!.expires) > firstExpiry, 'a heartbeat renewed the lease')
      const other = await b.send({cmd: 'lock', ttlMs})
      assert.equal(other.code, 'KBK_LOCKED', JSON.stringify(other))
      assert.ok(other.message!.includes(got.id!))
      assert.ok((await a.send({cmd: 'assert'})).ok)
      assert.ok((await a.send({cmd: 'release'})).ok)
      const next = await b.send({cmd: 'lock', ttlMs})
      assert.ok(next.ok, JSON.stringify(next))
      assert.ok((await b.send({cmd: 'release'})).ok)
    })
  })
}

if (process.env.KBK_RACE_WORKER) {
  await runWorker()
} else {
  raceSuite('the fs store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kbk-state-race-'))
    return {config: {type: 'fs', path: dir}, cleanup: () => rm(dir, {recursive: true, force: true})}
  })
  raceSuite('S3', async () => {
    const env = testEnv().s3
    const bucket = randomName('kbk-race')
    const client = new S3Client({endpoint: env.endpoint, region: env.region, forcePathStyle: env.forcePathStyle, credentials: {accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey}})
    await client.send(new CreateBucketCommand({Bucket: bucket}))
    client.destroy()
    return {config: {type: 's3', bucket, prefix: randomName('p') + '/'}, cleanup: async () => {}}
  })
  raceSuite('Azure Blob (Azurite)', async () => {
    const container = randomName('kbk-race')
    const service = BlobServiceClient.fromConnectionString(testEnv().azure.connectionString)
    await service.getContainerClient(container).create()
    return {config: {type: 'azure', bucket: container, prefix: randomName('p') + '/'}, cleanup: async () => void (await service.getContainerClient(container).deleteIfExists())}
  })
  raceSuite('GCS (fake-gcs-server)', async () => {
    const env = testEnv().gcs
    const bucket = randomName('kbk-race')
    await new Storage({apiEndpoint: env.endpoint, projectId: env.projectId}).createBucket(bucket)
    return {config: {type: 'gcs', bucket, prefix: randomName('p') + '/'}, cleanup: async () => {}}
  })
}
