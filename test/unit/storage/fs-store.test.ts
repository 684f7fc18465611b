// fs-only behaviour that the cross-adapter conformance suite does not cover: races between
// processes (not just promises), crash leftovers, and the fs store's own refusals.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtemp, readdir, rm, utimes, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import {openObjectStore} from '../../../src/storage/index.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))

describe('fs store', () => {
  let dir = ''
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kbk-fs-'))
  })
  after(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('resolves a relative path against the workspace directory', async () => {
    const store = openObjectStore({type: 'fs', path: './backups', prefix: 'p'}, {name: 'local', cwd: dir})
    await store.put('k', Buffer.from('v'))
    assert.deepEqual(await readdir(join(dir, 'backups', 'p')), ['k'])
    assert.equal(store.description, `store "local" (file://${dir}/backups/p/)`)
  })

  it('separate processes racing create-only and if-match on the same keys: exactly one wins each', async () => {
    const path = join(dir, 'race')
    const keys = 25
    // Each child loads first, says "ready", and starts only on "go", so the writes really overlap.
    const script = `
      import {openObjectStore} from ${JSON.stringify(join(root, 'src/storage/index.ts'))}
      const s = openObjectStore({type: 'fs', path: ${JSON.stringify(path)}}, {name: 'race'})
      console.log('ready')
      await new Promise((r) => process.stdin.once('data', r))
      const out = []
      for (let i = 0; i < ${keys}; i++) {
        try { await s.put('lock/' + i, Buffer.from(String(process.pid)), {ifNoneMatch: '*'}); out.push('won') }
        catch (e) { out.push(e.code) }
      }
      for (let i = 0; i < ${keys}; i++) {
        try { await s.put('cas/' + i, Buffer.from(String(process.pid)), {ifMatch: process.argv.at(-1).split(',')[i]}); out.push('won') }
        catch (e) { out.push(e.code) }
      }
      console.log(JSON.stringify(out))
      process.stdin.destroy()
    `
    const seed = openObjectStore({type: 'fs', path}, {name: 'race'})
    const tokens: string[] = []
    for (let i = 0; i < keys; i++) tokens.push((await seed.put(`cas/${i}`, Buffer.from('seed'))).etag)
    const children = Array.from({length: 3}, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, tokens.join(',')], {cwd: root, stdio: ['pipe', 'pipe', 'inherit']})
      let out = ''
      const ready = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        if (out.includes('ready')) resolve()
      }))
      const done = new Promise<string[]>((resolve, reject) => {
        child.on('error', reject)
        child.on('exit', () => resolve(JSON.parse(out.split('\n').find((l) => l.startsWith('[')) ?? '[]') as string[]))
      })
      return {child, ready, done}
    })
    await Promise.all(children.map((c) => c.ready))
    for (const c of children) c.child.stdin.write('go\n')
    const results = await Promise.all(children.map((c) => c.done))
    for (let i = 0; i < 2 * keys; i++) {
      const outcomes = results.map((r) => r[i])
      assert.equal(outcomes.filter((o) => o === 'won').length, 1, `write ${i}: ${outcomes.join(',')}`)
      assert.equal(outcomes.filter((o) => o === 'KBK_STORE_PRECONDITION').length, 2, `write ${i}: ${outcomes.join(',')}`)
    }
  })

  it('breaks a lock file left by a crashed writer', async () => {
    const store = openObjectStore({type: 'fs', path: join(dir, 'stale')}, {name: 'stale'})
    await store.put('a/k', Buffer.from('v1'))
    const lock = join(dir, 'stale', 'a', '.kbk-lock-k')
    await writeFile(lock, '')
    const old = new Date(Date.now() - 3600_000)
    await utimes(lock, old, old)
    await store.put('a/k', Buffer.from('v2'))
    assert.equal((await store.get('a/k')).toString(), 'v2')
    assert.deepEqual(await readdir(join(dir, 'stale', 'a')), ['k'])
  })

  it('refuses to overwrite an object under retention, and retention never shrinks', async () => {
    const store = openObjectStore({type: 'fs', path: join(dir, 'worm')}, {name: 'worm'})
    const until = new Date(Date.now() + 86_400_000)
    await store.put('seg', Buffer.from('v1'), {retainUntil: until})
    await assert.rejects(store.put('seg', Buffer.from('v2')), {code: 'KBK_STORE_RETAINED'})
    await assert.rejects(store.put('seg', Buffer.from('v2'), {retainUntil: new Date(Date.now() + 1000)}), {code: 'KBK_STORE_RETAINED'})
    assert.equal((await store.get('seg')).toString(), 'v1')
    assert.equal((await store.head('seg'))?.retainUntil?.toISOString(), until.toISOString())
  })

  it('a key that is both a file and a folder is a clear, non-retriable error', async () => {
    const store = openObjectStore({type: 'fs', path: join(dir, 'clash')}, {name: 'clash'})
    await store.put('a', Buffer.from('file'))
    await assert.rejects(store.put('a/b', Buffer.from('x')), (e: {code?: string; retriable?: boolean; message?: string}) => {
      assert.equal(e.code, 'KBK_STORE_IO')
      assert.equal(e.retriable, false)
      assert.match(e.message ?? '', /both a file and a folder/)
      return true
    })
  })

  it('refuses keys in its reserved namespace', async () => {
    const store = openObjectStore({type: 'fs', path: join(dir, 'reserved')}, {name: 'reserved'})
    await assert.rejects(store.put('.kbk-meta/x', Buffer.from('x')), {code: 'KBK_STORE_BAD_KEY'})
    await assert.rejects(store.get('a/.kbk-tmp-1'), {code: 'KBK_STORE_BAD_KEY'})
  })
})
