// Snapshots of consumer groups' committed offsets, kept in the store under _kbk/offsets/snapshots/:
// one immutable JSON object each, named so they sort by the time they were taken. Taken before
// every offset reset and rollback (so each can be undone) and with every backup of a policy that
// records consumer groups (so `to: timestamp` can go back to the offsets as of an instant).
import {randomBytes} from 'node:crypto'
import {KbkError} from '../errors.js'
import type {ObjectStore} from '../storage/object-store.js'

export const OFFSETS_PREFIX = '_kbk/offsets/'
export const SNAPSHOT_PREFIX = `${OFFSETS_PREFIX}snapshots/`
export const SNAPSHOT_FORMAT_VERSION = 1

export interface OffsetSnapshotGroup {
  /** The group's state when the snapshot was taken (Empty, Stable, ...). */
  state: string
  members: Array<{member_id: string; client_id: string; host: string}>
  /** topic -> partition -> committed offset (the next record the group reads). */
  offsets: Record<string, Record<number, number>>
}

export interface OffsetSnapshot {
  format_version: number
  /** `<UTC time, to the millisecond>-<random>`: sorts by the time it was taken. */
  id: string
  taken_at: string
  cluster: string
  /** Why it was taken: before a reset or a rollback (its plan address), or with a backup. */
  reason: {kind: 'reset' | 'rollback'; address: string} | {kind: 'backup'; policy: string; run_id: string}
  groups: Record<string, OffsetSnapshotGroup>
}

/** A snapshot as listed: everything but the offsets themselves. */
export interface OffsetSnapshotSummary {
  id: string
  taken_at: string
  cluster: string
  reason: OffsetSnapshot['reason']
  groups: string[]
  partitions: number
}

const ID = /^[0-9]{8}T[0-9]{9}Z-[0-9a-f]{8}$/

export function newSnapshotId(at: Date): string {
  return `${at.toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`
}

export function snapshotKey(id: string): string {
  return `${SNAPSHOT_PREFIX}${id}.json`
}

export function isSnapshotId(id: string): boolean {
  return ID.test(id)
}

/** Written once (create-only): a snapshot is evidence, never rewritten. */
export async function writeSnapshot(store: ObjectStore, snapshot: OffsetSnapshot): Promise<void> {
  await store.put(snapshotKey(snapshot.id), Buffer.from(`${JSON.stringify(snapshot, null, 2)}\n`), {ifNoneMatch: '*', contentType: 'application/json'})
}

export async function readSnapshot(store: ObjectStore, id: string, storeName: string): Promise<OffsetSnapshot> {
  if (!isSnapshotId(id)) throw unknownSnapshot(id, storeName, 'it is not a snapshot id (they look like 20260322T143000123Z-1a2b3c4d)')
  const info = await store.head(snapshotKey(id))
  if (!info) throw unknownSnapshot(id, storeName, 'no such snapshot')
  const parsed = JSON.parse((await store.get(snapshotKey(id))).toString('utf8')) as OffsetSnapshot
  if (parsed.format_version !== SNAPSHOT_FORMAT_VERSION || parsed.id !== id) {
    throw new KbkError('KBK_OFFSETS_SNAPSHOT_UNKNOWN', `Snapshot ${id} in store "${storeName}" is not one kbk can read (format ${String(parsed.format_version)}).`, {kind: 'environment'})
  }
  return parsed
}

function unknownSnapshot(id: string, storeName: string, why: string): KbkError {
  return new KbkError('KBK_OFFSETS_SNAPSHOT_UNKNOWN', `Snapshot "${id}" is not in store "${storeName}": ${why}.`, {
    suggestion: '`kbk offsets snapshots` lists the snapshots there are (--store picks another store).',
    kind: 'user',
    details: {snapshot: id, store: storeName},
  })
}

/** Every snapshot's id, oldest first (names sort by time). */
export async function listSnapshotIds(store: ObjectStore): Promise<string[]> {
  const ids: string[] = []
  for await (const o of store.list(SNAPSHOT_PREFIX)) {
    const id = o.key.slice(SNAPSHOT_PREFIX.length).replace(/\.json$/, '')
    if (isSnapshotId(id)) ids.push(id)
  }
  return ids.sort()
}

/** Snapshots read whole, oldest first; `filter` picks by id before reading (ids carry the time). */
export async function readSnapshots(store: ObjectStore, storeName: string, filter: (id: string) => boolean = () => true): Promise<OffsetSnapshot[]> {
  const out: OffsetSnapshot[] = []
  for (const id of (await listSnapshotIds(store)).filter(filter)) out.push(await readSnapshot(store, id, storeName))
  return out
}

export function summarizeSnapshot(s: OffsetSnapshot): OffsetSnapshotSummary {
  let partitions = 0
  for (const g of Object.values(s.groups)) for (const t of Object.values(g.offsets)) partitions += Object.keys(t).length
  return {id: s.id, taken_at: s.taken_at, cluster: s.cluster, reason: s.reason, groups: Object.keys(s.groups).sort(), partitions}
}

/** The time a snapshot id says it was taken (ids sort by it). */
export function snapshotIdTime(id: string): number {
  const m = /^([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{3})Z/.exec(id)
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7])) : Number.NaN
}
