// The ObjectStore conformance suite: one list of tests every adapter must pass (OpenTofu's
// remote.TestClient). test/integration/storage-conformance.test.ts runs it against fs, s3, azure
// and gcs on the real servers; test/unit/storage/memory-store-conformance.test.ts runs it against
// the in-memory test double, so unit tests that use that double rely on the same contract.
import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {after, before, describe, it} from 'node:test'
import {KbkError} from '../../src/errors.js'
import {openObjectStore, type ObjectInfo, type ObjectStore, type StoreConfig} from '../../src/storage/index.js'
import {randomName} from './env.js'

export const POSITION = {file: 'kbk.yaml', line: 12, column: 5}
const RETRY = {attempts: 3, baseMs: 20, maxMs: 200}

export interface Harness {
  kind: 'fs' | 's3' | 'azure' | 'gcs' | 'memory'
  /** The store's `kind` when it differs from the harness's (the memory store says 'fs'). */
  storeKind?: ObjectStore['kind']
  /** What the description looks like, when not a real adapter's. */
  descriptionPattern?: RegExp
  /** Open a store; default: openObjectStore, as kbk does. */
  open?(config: StoreConfig): ObjectStore
  /** Create the run's bucket/container (or directory). */
  setup(): Promise<void>
  /** A store config for a fresh random prefix in the run's bucket. */
  config(prefix: string): StoreConfig
  /** A config whose bucket/container/directory does not exist. */
  missingBucket?(): StoreConfig
  /** A config pointing at an endpoint where nothing listens; undefined when the store has none. */
  wrongEndpoint?(): StoreConfig
  /** A config with a wrong secret, and that secret (it must appear in no message). */
  badCredentials?(): {config: StoreConfig; secret: string}
  /** Keys to write for the pagination test: more than one page (1000) where it is affordable. */
  paginationKeys: number
  /** Try to remove a retained object behind kbk's back (a specific version); resolves to the error, or undefined if the store allowed it. */
  rawDeleteRetained?(prefix: string, key: string): Promise<unknown>
  /** A store config whose bucket has the store's own write-once protection, when the server offers it. */
  lockedConfig?(prefix: string): Promise<StoreConfig | undefined>
  teardown(): Promise<void>
}

// --- helpers ----------------------------------------------------------------------------------

export async function collect(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of s) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array))
  return Buffer.concat(chunks)
}

async function listAll(store: ObjectStore, prefix: string, startAfter?: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = []
  for await (const o of store.list(prefix, startAfter === undefined ? {} : {startAfter})) out.push(o)
  return out
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}

/** A stream of `size` pseudo-random bytes in uneven chunks, and its digest. */
function randomStream(size: number): {stream: Readable; digest: string} {
  const data = randomBytes(size)
  const chunks: Buffer[] = []
  for (let off = 0; off < size; ) {
    const n = Math.min(size - off, 65_536 + (off % 7919))
    chunks.push(data.subarray(off, off + n))
    off += n
  }
  return {stream: Readable.from(chunks), digest: sha(data)}
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<KbkError> {
  try {
    await p
  } catch (e) {
    assert.ok(e instanceof KbkError, `expected a KbkError ${code}, got ${String(e)}`)
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`)
    return e
  }
  assert.fail(`expected ${code}, but it succeeded`)
}

function isCode(e: unknown, code: string): boolean {
  return e instanceof KbkError && e.code === code
}

// --- the suite ---------------------------------------------------------------------------------

export function storageConformanceSuite(h: Harness): void {
  describe(`ObjectStore conformance: ${h.kind}`, () => {
    const opened: ObjectStore[] = []
    const open = (config: StoreConfig): ObjectStore => {
      const s = h.open ? h.open(config) : openObjectStore(config, {name: 'conformance', position: POSITION}, {retry: RETRY})
      opened.push(s)
      return s
    }
    const fresh = (): {store: ObjectStore; prefix: string} => {
      const prefix = randomName('t')
      return {store: open(h.config(prefix)), prefix}
    }

    before(async () => {
      await h.setup()
    })
    after(async () => {
      for (const s of opened) await s.close()
      await h.teardown()
    })

    it('describes itself without secrets', () => {
      const {store} = fresh()
      assert.equal(store.kind, h.storeKind ?? h.kind)
      assert.match(store.description, h.descriptionPattern ?? /^store "conformance" \((file|s3|azure|gs):\/\/.+\/\)$/)
      assert.doesNotMatch(store.description, /AccountKey|secret|kbktestsecret/i)
    })

    it('round-trips an empty object, one byte, a buffer and a multi-part stream', async () => {
      const {store} = fresh()
      await store.put('empty', Buffer.alloc(0))
      assert.equal((await store.get('empty')).length, 0)
      assert.equal((await store.head('empty'))?.size, 0)
      assert.equal((await collect(await store.getStream('empty'))).length, 0)

      await store.put('one', Buffer.from([0xab]))
      assert.deepEqual(await store.get('one'), Buffer.from([0xab]))

      const buf = randomBytes(300_000)
      await store.put('dir/buffer.bin', buf, {contentType: 'application/octet-stream'})
      assert.equal(sha(await store.get('dir/buffer.bin')), sha(buf))

      // 20 MiB crosses the 8 MiB part/block size of every cloud adapter: the multipart path.
      const size = 20 * 1024 * 1024 + 12_345
      const {stream, digest} = randomStream(size)
      const {etag} = await store.put('dir/big.bin', stream)
      const head = await store.head('dir/big.bin')
      assert.equal(head?.size, size)
      assert.equal(head?.etag, etag, 'head reports the version token put returned')
      assert.equal(sha(await store.get('dir/big.bin')), digest)
      assert.equal(sha(await collect(await store.getStream('dir/big.bin'))), digest)

      const small = randomStream(1000)
      await store.put('dir/small-stream.bin', small.stream)
      assert.equal(sha(await store.get('dir/small-stream.bin')), small.digest)
    })

    it('a list of buffers is stored as their concatenation: empty parts, many parts, create-only', async () => {
      const {store} = fresh()
      // 3,000 parts: more than a writev takes at once (IOV_MAX, 1024 on Linux), with empty ones
      // between; 12 MiB in all, larger than one part of the cloud adapters' multipart uploads.
      const parts: Buffer[] = []
      for (let i = 0; i < 3000; i++) parts.push(i % 7 === 0 ? Buffer.alloc(0) : randomBytes(i % 3 === 0 ? 12 : 5000 + (i % 11)))
      parts.push(randomBytes(12 * 1024 * 1024 - parts.reduce((n, b) => n + b.length, 0)))
      const whole = Buffer.concat(parts)
      const {etag} = await store.put('seg/list.bin', parts, {ifNoneMatch: '*'})
      assert.equal((await store.head('seg/list.bin'))?.size, whole.length)
      assert.equal((await store.head('seg/list.bin'))?.etag, etag)
      assert.equal(sha(await store.get('seg/list.bin')), sha(whole))
      assert.equal(parts.length, 3001, 'the caller\'s list is left as it was')
      await rejectsWith(store.put('seg/list.bin', [Buffer.from('again')], {ifNoneMatch: '*'}), 'KBK_STORE_PRECONDITION')
      await store.put('seg/empty-list.bin', [])
      assert.equal((await store.get('seg/empty-list.bin')).length, 0)
    })

    it('create-only succeeds once, then fails with KBK_STORE_PRECONDITION naming the store', async () => {
      const {store} = fresh()
      await store.put('lock', Buffer.from('first'), {ifNoneMatch: '*'})
      const err = await rejectsWith(store.put('lock', Buffer.from('second'), {ifNoneMatch: '*'}), 'KBK_STORE_PRECONDITION')
      assert.match(err.message, /store "conformance" \(kbk\.yaml:12:5\)/)
      assert.equal(err.retriable, false)
      assert.equal((await store.get('lock')).toString(), 'first')
    })

    it('create-only of a multi-part stream fails when the key exists', async () => {
      const {store} = fresh()
      await store.put('seg', Buffer.from('first'), {ifNoneMatch: '*'})
      await rejectsWith(store.put('seg', randomStream(9 * 1024 * 1024 + 7).stream, {ifNoneMatch: '*'}), 'KBK_STORE_PRECONDITION')
      assert.equal((await store.get('seg')).toString(), 'first')
    })

    it('concurrent create-only of one key: exactly one writer wins', async () => {
      const {store} = fresh()
      const n = 8
      const results = await Promise.allSettled(Array.from({length: n}, (_, i) => store.put('race', Buffer.from(`writer-${i}`), {ifNoneMatch: '*'})))
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []))
      assert.equal(winners.length, 1, `exactly one winner, got ${winners.length}`)
      for (const r of results) if (r.status === 'rejected') assert.ok(isCode(r.reason, 'KBK_STORE_PRECONDITION'), String(r.reason))
      assert.equal((await store.get('race')).toString(), `writer-${winners[0]}`)
    })

    it('concurrent create-only of multi-part streams: exactly one wins, decided at completion', async () => {
      const {store} = fresh()
      const bodies = [randomStream(9 * 1024 * 1024 + 1), randomStream(9 * 1024 * 1024 + 2), randomStream(9 * 1024 * 1024 + 3)]
      const results = await Promise.allSettled(bodies.map((b) => store.put('big-race', b.stream, {ifNoneMatch: '*'})))
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []))
      assert.equal(winners.length, 1, `exactly one winner: ${results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')).join('; ')}`)
      for (const r of results) if (r.status === 'rejected') assert.ok(isCode(r.reason, 'KBK_STORE_PRECONDITION'), String(r.reason))
      assert.equal(sha(await store.get('big-race')), bodies[winners[0]!]!.digest)
    })

    it('if-match: the current token wins, a stale or absent one fails', async () => {
      const {store} = fresh()
      const v1 = await store.put('state', Buffer.from('v1'))
      assert.equal((await store.head('state'))?.etag, v1.etag)
      const v2 = await store.put('state', Buffer.from('v2'), {ifMatch: v1.etag})
      assert.notEqual(v2.etag, v1.etag)
      await rejectsWith(store.put('state', Buffer.from('v3'), {ifMatch: v1.etag}), 'KBK_STORE_PRECONDITION')
      assert.equal((await store.get('state')).toString(), 'v2')
      await rejectsWith(store.put('absent', Buffer.from('x'), {ifMatch: v1.etag}), 'KBK_STORE_PRECONDITION')
      assert.equal(await store.head('absent'), undefined)
    })

    it('concurrent if-match with the same token: exactly one writer wins', async () => {
      const {store} = fresh()
      const {etag} = await store.put('state', Buffer.from('base'))
      const n = 6
      const results = await Promise.allSettled(Array.from({length: n}, (_, i) => store.put('state', Buffer.from(`w${i}`), {ifMatch: etag})))
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []))
      assert.equal(winners.length, 1, `exactly one winner, got ${winners.length}: ${results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')).join('; ')}`)
      assert.equal((await store.get('state')).toString(), `w${winners[0]}`)
    })

    it('absent keys: head gives undefined, get and getStream KBK_STORE_NOT_FOUND', async () => {
      const {store} = fresh()
      assert.equal(await store.head('nope/nothing'), undefined)
      const err = await rejectsWith(store.get('nope/nothing'), 'KBK_STORE_NOT_FOUND')
      assert.match(err.message, /nope\/nothing/)
      await rejectsWith(store.getStream('nope/nothing'), 'KBK_STORE_NOT_FOUND')
      await rejectsWith(store.getStream('nope/nothing', {start: 0, end: 3}), 'KBK_STORE_NOT_FOUND')
    })

    it('getStream reads byte ranges (inclusive ends)', async () => {
      const {store} = fresh()
      const data = Buffer.from('0123456789abcdefghij')
      await store.put('r', data)
      assert.equal((await collect(await store.getStream('r', {start: 0, end: 0}))).toString(), '0')
      assert.equal((await collect(await store.getStream('r', {start: 5, end: 9}))).toString(), '56789')
      assert.equal((await collect(await store.getStream('r', {start: 10, end: 19}))).toString(), 'abcdefghij')
      assert.equal((await collect(await store.getStream('r'))).toString(), data.toString())
    })

    it('lists in byte order, by prefix, after a key, and only its own prefix', async () => {
      const {store} = fresh()
      const other = fresh().store
      await other.put('a/b', Buffer.from('other store'))
      // '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f): a folder-walking store must still get this right.
      const keys = ['b', 'a/c/d', 'a-c', 'a/b', 'a.b', 'aa', 'a/c0', 'a/c/e', 'z/y/x']
      for (const k of keys) await store.put(k, Buffer.from(k))
      const sorted = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
      const all = await listAll(store, '')
      assert.deepEqual(all.map((o) => o.key), sorted)
      for (const o of all) {
        assert.equal(o.size, Buffer.byteLength(o.key))
        assert.ok(o.etag !== '')
      }
      assert.deepEqual((await listAll(store, 'a/')).map((o) => o.key), ['a/b', 'a/c/d', 'a/c/e', 'a/c0'])
      assert.deepEqual((await listAll(store, 'a/c')).map((o) => o.key), ['a/c/d', 'a/c/e', 'a/c0'])
      assert.deepEqual((await listAll(store, 'a')).map((o) => o.key), sorted.filter((k) => k.startsWith('a')))
      assert.deepEqual((await listAll(store, 'nothing/')).map((o) => o.key), [])
      assert.deepEqual((await listAll(store, '', 'a/c/d')).map((o) => o.key), sorted.filter((k) => Buffer.compare(Buffer.from(k), Buffer.from('a/c/d')) > 0))
      assert.deepEqual((await listAll(store, 'a/', 'a/b')).map((o) => o.key), ['a/c/d', 'a/c/e', 'a/c0'])
      assert.deepEqual((await listAll(store, '', 'a/bzz')).map((o) => o.key)[0], 'a/c/d')
    })

    it(`lists across pages (${h.paginationKeys} keys) in order, and resumes with startAfter`, async () => {
      const {store} = fresh()
      const keys = Array.from({length: h.paginationKeys}, (_, i) => `seg/${String(i).padStart(5, '0')}`)
      const queue = [...keys]
      await Promise.all(
        Array.from({length: 16}, async () => {
          for (let k = queue.pop(); k !== undefined; k = queue.pop()) await store.put(k, Buffer.from('x'))
        }),
      )
      const listed = (await listAll(store, 'seg/')).map((o) => o.key)
      assert.equal(listed.length, keys.length)
      assert.deepEqual(listed, keys)
      const resumed = (await listAll(store, 'seg/', keys[999])).map((o) => o.key)
      assert.deepEqual(resumed, keys.slice(1000))
    })

    it('deletes a batch that includes absent keys', async () => {
      const {store} = fresh()
      for (const k of ['d/1', 'd/2', 'd/3', 'keep']) await store.put(k, Buffer.from(k))
      await store.delete(['d/1', 'd/2', 'never/existed', 'd/3', 'd/2'])
      assert.deepEqual((await listAll(store, '')).map((o) => o.key), ['keep'])
      assert.equal(await store.head('d/1'), undefined)
      await store.delete([])
      await store.delete(['never/existed'])
    })

    it('retainUntil: head reports it and kbk refuses to delete before it, whole batch', async () => {
      const {store} = fresh()
      const until = new Date(Date.now() + 24 * 3600_000)
      await store.put('locked/seg', Buffer.from('keep me'), {ifNoneMatch: '*', retainUntil: until})
      await store.put('free', Buffer.from('x'))
      const head = await store.head('locked/seg')
      assert.ok(head?.retainUntil, 'head reports retainUntil')
      assert.ok(Math.abs(head.retainUntil.getTime() - until.getTime()) < 1000, `${head.retainUntil.toISOString()} vs ${until.toISOString()}`)
      const err = await rejectsWith(store.delete(['free', 'locked/seg']), 'KBK_STORE_RETAINED')
      assert.match(err.message, /locked\/seg/)
      assert.match(err.message, new RegExp(until.toISOString().slice(0, 16)))
      assert.match(err.message, /store "conformance"/)
      assert.equal((await store.get('locked/seg')).toString(), 'keep me')
      assert.ok(await store.head('free'), 'a refused batch deletes nothing')
      // The sidecar/metadata is never listed as an object.
      assert.deepEqual((await listAll(store, '')).map((o) => o.key), ['free', 'locked/seg'])
      // A past date does not block.
      await store.put('expired', Buffer.from('x'), {retainUntil: new Date(Date.now() - 1000)})
      await store.delete(['expired'])
      assert.equal(await store.head('expired'), undefined)
    })

    it('store-enforced retention where the store has it', async (t) => {
      const plain = fresh().store
      if (h.kind !== 's3') {
        const caps = await plain.capabilities()
        t.diagnostic(`${h.kind}: enforcesRetention=${caps.enforcesRetention} (the emulator here offers no store-side write-once)`)
        if (h.kind === 'fs' || h.kind === 'memory') assert.equal(caps.enforcesRetention, false)
        return
      }
      assert.equal((await plain.capabilities()).enforcesRetention, false, 'a bucket without Object Lock does not enforce')
      const prefix = randomName('t')
      const cfg = await h.lockedConfig?.(prefix)
      if (!cfg) {
        t.skip('the S3 server here has no Object Lock (KBK_TEST_S3_OBJECT_LOCK)')
        return
      }
      const store = open(cfg)
      assert.equal((await store.capabilities()).enforcesRetention, true)
      const until = new Date(Date.now() + 24 * 3600_000)
      await store.put('seg', Buffer.from('worm'), {ifNoneMatch: '*', retainUntil: until})
      await store.put('seg-stream', randomStream(9 * 1024 * 1024).stream, {ifNoneMatch: '*', retainUntil: until})
      const head = await store.head('seg')
      assert.ok(head?.retainUntil && Math.abs(head.retainUntil.getTime() - until.getTime()) < 1000)
      await rejectsWith(store.delete(['seg']), 'KBK_STORE_RETAINED')
      // Behind kbk's back: deleting the locked version itself is refused by the server.
      const refused = await h.rawDeleteRetained!(prefix, 'seg')
      assert.ok(refused, 'the S3 server refused to delete a version under COMPLIANCE retention')
      const refusedStream = await h.rawDeleteRetained!(prefix, 'seg-stream')
      assert.ok(refusedStream, 'the multipart upload got the same protection')
      assert.equal((await store.get('seg')).toString(), 'worm')
    })

    it('a missing bucket gives KBK_STORE_NO_BUCKET naming the store', async (t) => {
      if (!h.missingBucket) {
        t.skip(`${h.kind} has no bucket`)
        return
      }
      const store = open(h.missingBucket())
      const err = await rejectsWith(store.put('k', Buffer.from('x')), 'KBK_STORE_NO_BUCKET')
      assert.match(err.message, /store "conformance" \(kbk\.yaml:12:5\)/)
      assert.match(err.suggestion ?? '', /stores\.conformance\.(bucket|container|path)/)
      if (h.kind !== 'fs') {
        await rejectsWith(store.get('k'), 'KBK_STORE_NO_BUCKET')
        await rejectsWith(store.head('k'), 'KBK_STORE_NO_BUCKET')
        await rejectsWith(listAll(store, ''), 'KBK_STORE_NO_BUCKET')
      } else {
        assert.equal(await store.head('k'), undefined)
        assert.deepEqual(await listAll(store, ''), [])
      }
    })

    it('a wrong endpoint gives KBK_STORE_UNREACHABLE naming the store and the endpoint key', async (t) => {
      if (!h.wrongEndpoint) {
        t.skip(`${h.kind} has no endpoint`)
        return
      }
      const store = open(h.wrongEndpoint())
      const err = await rejectsWith(store.get('k'), 'KBK_STORE_UNREACHABLE')
      assert.match(err.message, /store "conformance" \(kbk\.yaml:12:5\)/)
      assert.match(err.message, /127\.0\.0\.1:9/)
      assert.match(err.suggestion ?? '', /stores\.conformance\.(endpoint|apiEndpoint|connectionString|accountUrl)/)
      assert.doesNotMatch(`${err.message} ${err.suggestion}`, /AccountKey=|kbktestsecret/)
      await rejectsWith(store.put('k', Buffer.from('x')), 'KBK_STORE_UNREACHABLE')
    })

    it('bad credentials give KBK_STORE_ACCESS_DENIED without the secret', async (t) => {
      if (!h.badCredentials) {
        t.skip(`${h.kind}: the emulator here does not check credentials`)
        return
      }
      const {config, secret} = h.badCredentials()
      const store = open(config)
      const err = await rejectsWith(store.put('k', Buffer.from('x')), 'KBK_STORE_ACCESS_DENIED')
      const shown = JSON.stringify({m: err.message, s: err.suggestion, d: err.details, desc: store.description})
      assert.ok(!shown.includes(secret), 'the secret appears in no message')
      assert.match(err.message, /store "conformance"/)
      await rejectsWith(store.get('k'), 'KBK_STORE_ACCESS_DENIED')
    })

    if (h.kind === 'fs') {
      it('fs: leaves no temp or lock files and hides its metadata tree', async () => {
        const {store, prefix} = fresh()
        await store.put('a/b', Buffer.from('x'), {retainUntil: new Date(Date.now() + 60_000)})
        await Promise.allSettled(Array.from({length: 5}, () => store.put('a/c', Buffer.from('y'), {ifNoneMatch: '*'})))
        const cfg = h.config(prefix) as {path: string}
        const names = await readdir(join(cfg.path, prefix, 'a'))
        assert.deepEqual(names.sort(), ['b', 'c'])
        assert.deepEqual((await listAll(store, '')).map((o) => o.key), ['a/b', 'a/c'])
      })
    }
  })
}
