// Offset snapshots in a store: ids sort by time, create-only, and `to: timestamp` reads the
// newest snapshot of each group taken at or before the instant, on the right cluster.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {snapshotAsOf} from '../../../src/offsets/read-offsets.js'
import {listSnapshotIds, newSnapshotId, readSnapshot, snapshotIdTime, writeSnapshot, type OffsetSnapshot} from '../../../src/offsets/snapshots.js'
import {MemoryStore} from '../../helpers/memory-store.js'

function snap(at: string, cluster: string, groups: Record<string, Record<number, number>>): OffsetSnapshot {
  return {
    format_version: 1,
    id: newSnapshotId(new Date(at)),
    taken_at: at,
    cluster,
    reason: {kind: 'backup', policy: 'orders', run_id: 'r'},
    groups: Object.fromEntries(Object.entries(groups).map(([g, o]) => [g, {state: 'Unknown', members: [], offsets: {orders: o}}])),
  }
}

describe('offset snapshots', () => {
  test('ids carry the time they were taken and sort by it', () => {
    const id = newSnapshotId(new Date('2026-03-22T14:30:00.123Z'))
    assert.match(id, /^20260322T143000123Z-[0-9a-f]{8}$/)
    assert.equal(snapshotIdTime(id), Date.parse('2026-03-22T14:30:00.123Z'))
  })

  test('to: timestamp takes, per group, the newest snapshot at or before the instant on that cluster', async () => {
    const store = new MemoryStore()
    await writeSnapshot(store, snap('2026-03-22T10:00:00Z', 'prod', {a: {0: 10}, b: {0: 100}}))
    await writeSnapshot(store, snap('2026-03-22T12:00:00Z', 'prod', {a: {0: 20}}))
    await writeSnapshot(store, snap('2026-03-22T12:30:00Z', 'staging', {a: {0: 999}}))
    await writeSnapshot(store, snap('2026-03-22T14:00:00Z', 'prod', {a: {0: 30}, b: {0: 300}}))
    const got = await snapshotAsOf(store, 'primary', 'prod', Date.parse('2026-03-22T13:00:00Z'), ['a', 'b'])
    assert.deepEqual(got?.groups, {a: {orders: {0: 20}}, b: {orders: {0: 100}}})
    assert.equal(got?.taken_at, '2026-03-22T12:00:00Z')
    assert.equal(await snapshotAsOf(store, 'primary', 'prod', Date.parse('2026-03-22T09:00:00Z'), ['a']), undefined)
    assert.equal((await listSnapshotIds(store)).length, 4)
  })

  test('a snapshot is never overwritten, and an unknown id is a user error naming the command that lists them', async () => {
    const store = new MemoryStore()
    const s = snap('2026-03-22T10:00:00Z', 'prod', {a: {0: 1}})
    await writeSnapshot(store, s)
    await assert.rejects(writeSnapshot(store, s))
    assert.deepEqual((await readSnapshot(store, s.id, 'primary')).groups.a?.offsets, {orders: {0: 1}})
    await assert.rejects(readSnapshot(store, '20990101T000000000Z-00000000', 'primary'), (e: Error & {code?: string; suggestion?: string}) => e.code === 'KBK_OFFSETS_SNAPSHOT_UNKNOWN' && /kbk offsets snapshots/.test(e.suggestion ?? ''))
  })
})
