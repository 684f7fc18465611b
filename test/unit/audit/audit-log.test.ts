// The audit trail on a real fs store: appends chain and number records create-only, and verify
// names exactly the record that was altered, removed, reordered, replaced with a fresh hash, or
// made unreadable.
import assert from 'node:assert/strict'
import {mkdtemp, readFile, rename, rm, unlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, it} from 'node:test'
import {AUDIT_PREFIX, appendAuditEntry, auditKey, hashEntry, readAuditEntries, verifyAuditEntries} from '../../../src/audit/audit-log.js'
import type {AuditEntry} from '../../../src/audit/audit-log.js'
import {openObjectStore} from '../../../src/storage/index.js'
import type {ObjectStore} from '../../../src/storage/object-store.js'

function fields(i: number): Omit<AuditEntry, 'seq' | 'prev_hash' | 'hash'> {
  return {
    at: `2026-03-0${i}T10:00:00.000Z`,
    who: 'ci@runner',
    kbk_version: '0.1.0',
    run_id: `run-${i}`,
    plan_digest: `sha256:${String(i).repeat(64)}`,
    config_digest: 'sha256:cfg',
    outcome: 'success',
    actions: [{address: 'backup.orders["orders.created"]', action: 'run', status: 'done'}],
    counts: {records: 10 * i, segments: i},
  }
}

describe('audit trail', () => {
  let dir = ''
  let store: ObjectStore
  const file = (seq: number) => join(dir, 'store', auditKey(seq))
  const verify = async () => verifyAuditEntries(await readAuditEntries(store))

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kbk-audit-'))
    store = openObjectStore({type: 'fs', path: join(dir, 'store'), prefix: ''}, {name: 'local', cwd: dir})
    for (let i = 1; i <= 4; i++) await appendAuditEntry(store, fields(i))
  })
  afterEach(async () => {
    await store.close()
    await rm(dir, {recursive: true, force: true})
  })

  it('numbers and chains records, one object each, and an intact trail verifies', async () => {
    const entries = await readAuditEntries(store)
    assert.deepEqual(entries.map((e) => e.key), [1, 2, 3, 4].map(auditKey))
    assert.ok(auditKey(1).startsWith(AUDIT_PREFIX))
    assert.equal(entries[0]!.entry!.prev_hash, '0'.repeat(64))
    for (let i = 1; i < 4; i++) assert.equal(entries[i]!.entry!.prev_hash, entries[i - 1]!.entry!.hash)
    for (const {entry} of entries) {
      const {hash, ...body} = entry!
      assert.equal(hashEntry(body), hash)
    }
    assert.deepEqual(entries[2]!.entry!.counts, {records: 30, segments: 3})
    assert.deepEqual(await verify(), [])
  })

  it('names an altered record', async () => {
    const e = JSON.parse(await readFile(file(2), 'utf8')) as AuditEntry
    await writeFile(file(2), JSON.stringify({...e, outcome: 'failed'}))
    const problems = await verify()
    assert.deepEqual(problems.map((p) => [p.seq, p.kind]), [[2, 'altered']])
    assert.match(problems[0]!.message, /record 2 was altered after it was written/)
    assert.equal(problems[0]!.key, auditKey(2))
  })

  it('names a record rewritten with a fresh, self-consistent hash: its successor no longer chains to it', async () => {
    const e = JSON.parse(await readFile(file(2), 'utf8')) as AuditEntry
    const {hash: _h, ...body} = {...e, counts: {records: 0, segments: 0}}
    await writeFile(file(2), JSON.stringify({...body, hash: hashEntry(body)}))
    const problems = await verify()
    assert.deepEqual(problems.map((p) => [p.seq, p.kind]), [[3, 'altered']])
    assert.match(problems[0]!.message, /record 3 does not chain to record 2: record 2 was replaced/)
  })

  it('names a removed record', async () => {
    await unlink(file(3))
    const problems = await verify()
    assert.deepEqual(problems.map((p) => [p.seq, p.kind, p.message]), [[4, 'removed', 'record(s) 3..3 are missing before record 4']])
  })

  it('names reordered records (two files swapped)', async () => {
    await rename(file(2), join(dir, 'tmp'))
    await rename(file(3), file(2))
    await rename(join(dir, 'tmp'), file(3))
    const problems = await verify()
    assert.deepEqual(problems.map((p) => [p.key, p.seq, p.kind]).sort(), [
      [auditKey(2), 3, 'reordered'],
      [auditKey(3), 2, 'reordered'],
    ])
  })

  it('names an unreadable record, and refuses to continue a chain from one', async () => {
    await writeFile(file(4), '{not json')
    const problems = await verify()
    assert.deepEqual(problems.map((p) => [p.key, p.kind]), [[auditKey(4), 'unreadable']])
    await assert.rejects(appendAuditEntry(store, fields(5)), (e: {code?: string; message?: string}) => e.code === 'KBK_AUDIT_CORRUPT' && (e.message ?? '').includes(auditKey(4)))
  })

  it('writes create-only: a record someone else wrote meanwhile is never overwritten', async () => {
    // Another writer appended record 5 after our listing: a store whose listing is one record stale.
    const theirs = await appendAuditEntry(store, fields(5))
    const stale: ObjectStore = Object.create(store, {
      list: {value: (prefix: string) => filterList(store.list(prefix), (k) => k !== auditKey(5))},
    }) as ObjectStore
    await assert.rejects(appendAuditEntry(stale, fields(6)), (e: {code?: string}) => e.code === 'KBK_AUDIT_CONFLICT')
    const kept = JSON.parse(await readFile(file(5), 'utf8')) as AuditEntry
    assert.equal(kept.hash, theirs.hash)
    assert.deepEqual(await verify(), [])
  })
})

async function* filterList<T extends {key: string}>(items: AsyncIterable<T>, keep: (key: string) => boolean): AsyncIterable<T> {
  for await (const o of items) if (keep(o.key)) yield o
}
