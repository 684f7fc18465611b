// Read-only views of the recorded state and the lock for `kbk state …` and `kbk lock …`: pure
// functions from data to the --json result, and to text tables for people.
import {KbkError} from '../errors.js'
import {formatBytes as bytes, formatCount as count} from '../format/numbers.js'
import {renderTable} from '../format/table.js'
import type {LockInfo} from './lock.js'
import type {PartitionSummary, PolicyRecord, RestoreRecord, SegmentRef, StateSnapshot, TopicIndex} from './types.js'
import {topicKey} from './types.js'

export interface TopicRow {
  address: string
  policy: string
  topic: string
  partitions: number
  segments: number
  records: number
  bytes: number
  uncompressed_bytes: number
  last_backup_at: string | null
  deleted_at: string | null
  gaps: number
}

export interface StateList {
  store: string
  lineage: string
  serial: number
  kbk_version: string
  updated_at: string
  /** False when nothing was ever recorded in this store (serial 0). */
  exists: boolean
  policies: {address: string; name: string; updated_at: string; topics: number}[]
  topics: TopicRow[]
  restores: {address: string; name: string; status: RestoreRecord['status']; point_in_time: string; applied_at: string; records: number}[]
  totals: {topics: number; partitions: number; segments: number; records: number; bytes: number}
  /** Every recorded address, sorted: what `kbk state list` prints, one per line. */
  addresses: string[]
}

export function describeState(store: string, s: StateSnapshot, filter: {policy?: string} = {}): StateList {
  const topics = Object.values(s.topics)
    .filter((t) => !filter.policy || t.policy === filter.policy)
    .map(topicRow)
    .sort((a, b) => cmp(a.policy, b.policy) || cmp(a.topic, b.topic))
  const policies = Object.values(s.policies)
    .filter((p) => !filter.policy || p.name === filter.policy)
    .map((p) => ({address: `policy.${p.name}`, name: p.name, updated_at: p.updated_at, topics: topics.filter((t) => t.policy === p.name).length}))
    .sort((a, b) => cmp(a.name, b.name))
  const restores = Object.values(s.restores)
    .map((r) => ({address: `restore.${r.name}`, name: r.name, status: r.status, point_in_time: r.point_in_time, applied_at: r.applied_at, records: r.records}))
    .sort((a, b) => cmp(a.name, b.name))
  const totals = topics.reduce(
    (t, r) => ({topics: t.topics + 1, partitions: t.partitions + r.partitions, segments: t.segments + r.segments, records: t.records + r.records, bytes: t.bytes + r.bytes}),
    {topics: 0, partitions: 0, segments: 0, records: 0, bytes: 0},
  )
  const addresses = [...policies, ...topics, ...restores].map((r) => r.address).sort(cmp)
  return {store, lineage: s.lineage, serial: s.serial, kbk_version: s.kbk_version, updated_at: s.updated_at, exists: s.serial > 0, policies, topics, restores, totals, addresses}
}

function topicRow(t: TopicIndex): TopicRow {
  const sum = (f: (p: PartitionSummary) => number) => t.partitions.reduce((n, p) => n + f(p), 0)
  return {
    address: `backup.${t.policy}[${JSON.stringify(t.topic)}]`,
    policy: t.policy,
    topic: t.topic,
    partitions: Math.max(t.partition_count, t.partitions.length),
    segments: sum((p) => p.segment_count),
    records: sum((p) => p.records),
    bytes: sum((p) => p.bytes),
    uncompressed_bytes: sum((p) => p.uncompressed_bytes),
    last_backup_at: t.last_backup_at ?? null,
    deleted_at: t.deleted_at ?? null,
    gaps: sum((p) => p.gaps.length),
  }
}

/** What `kbk state show ADDRESS` can name: a policy, a topic of a policy, or a restore. */
export type StateTarget = {type: 'policy'; name: string} | {type: 'topic'; policy: string; topic: string} | {type: 'restore'; name: string}

export type StateItem =
  | {type: 'policy'; address: string; policy: PolicyRecord; topics: TopicRow[]}
  | {type: 'topic'; address: string; topic: TopicRow; index: TopicIndex; segments: SegmentRef[]}
  | {type: 'restore'; address: string; restore: RestoreRecord}

/**
 * Keeps the addresses `filters` name, and what is under them (`backup.orders` matches
 * `backup.orders["orders.created"]`), as `terraform state list ADDRESS…` does. No filter keeps all.
 */
export function filterStateAddresses(v: StateList, filters: readonly string[]): StateList {
  if (filters.length === 0) return v
  const keep = (r: {address: string}): boolean => filters.some((f) => r.address === f || r.address.startsWith(`${f}[`))
  const topics = v.topics.filter(keep)
  const totals = topics.reduce(
    (t, r) => ({topics: t.topics + 1, partitions: t.partitions + r.partitions, segments: t.segments + r.segments, records: t.records + r.records, bytes: t.bytes + r.bytes}),
    {topics: 0, partitions: 0, segments: 0, records: 0, bytes: 0},
  )
  return {...v, policies: v.policies.filter(keep), topics, restores: v.restores.filter(keep), totals, addresses: v.addresses.filter((address) => keep({address}))}
}

/** Finds what the target names, or says what exists instead. Segments are loaded by the caller. */
export function findStateItem(s: StateSnapshot, target: StateTarget, storeName: string): {type: StateItem['type']; address: string} {
  if (target.type === 'topic') {
    const address = `backup.${target.policy}[${JSON.stringify(target.topic)}]`
    if (!s.topics[topicKey(target.policy, target.topic)]) throw notRecorded(address, storeName, Object.values(s.topics).filter((t) => t.policy === target.policy).map((t) => topicRow(t).address))
    return {type: 'topic', address}
  }
  if (target.type === 'policy') {
    const address = `policy.${target.name}`
    if (!s.policies[target.name] && !Object.values(s.topics).some((t) => t.policy === target.name)) throw notRecorded(address, storeName, Object.keys(s.policies).map((n) => `policy.${n}`))
    return {type: 'policy', address}
  }
  const address = `restore.${target.name}`
  if (!s.restores[target.name]) throw notRecorded(address, storeName, Object.keys(s.restores).map((n) => `restore.${n}`))
  return {type: 'restore', address}
}

export function buildStateItem(s: StateSnapshot, target: StateTarget, segments: SegmentRef[], storeName: string): StateItem {
  const {address} = findStateItem(s, target, storeName)
  if (target.type === 'topic') {
    const index = s.topics[topicKey(target.policy, target.topic)]!
    return {type: 'topic', address, topic: topicRow(index), index, segments}
  }
  if (target.type === 'policy') {
    const policy = s.policies[target.name] ?? {name: target.name, settings: {}, created_at: '', updated_at: ''}
    return {type: 'policy', address, policy, topics: describeState(storeName, s, {policy: target.name}).topics}
  }
  return {type: 'restore', address, restore: s.restores[target.name]!}
}

function notRecorded(address: string, store: string, known: string[]): KbkError {
  const shown = known.slice(0, 10)
  return new KbkError('KBK_STATE_NOT_FOUND', `Nothing is recorded for ${address} in store "${store}".`, {
    kind: 'user',
    suggestion: shown.length > 0 ? `Recorded addresses include: ${shown.join(', ')}${known.length > shown.length ? ', …' : ''}. \`kbk state list\` shows them all.` : 'Run `kbk state list` to see what is recorded.',
    details: {address},
  })
}

// ---- text -------------------------------------------------------------------------------------

/** `kbk state list`: one address per line, like `terraform state list`, ready for grep and xargs. */
export function formatStateAddresses(v: StateList): string {
  return v.addresses.join('\n')
}

export function formatStateList(v: StateList): string {
  if (!v.exists) return `No state recorded in store "${v.store}" yet. Run kbk plan and kbk apply.`
  const lines = [`Store "${v.store}": lineage ${v.lineage}, serial ${v.serial}, written by kbk ${v.kbk_version} at ${v.updated_at}`, '']
  lines.push(`Policies (${v.policies.length})`)
  lines.push(v.policies.length === 0 ? '  (none)' : indent(renderTable(['ADDRESS', 'TOPICS', 'APPLIED'], v.policies.map((p) => [p.address, String(p.topics), p.updated_at]))))
  lines.push('', `Topics (${v.totals.topics}: ${count(v.totals.partitions)} partitions, ${count(v.totals.segments)} segments, ${count(v.totals.records)} records, ${bytes(v.totals.bytes)})`)
  lines.push(
    v.topics.length === 0
      ? '  (none)'
      : indent(
          renderTable(
            ['ADDRESS', 'PARTS', 'SEGMENTS', 'RECORDS', 'STORED', 'LAST BACKUP', 'NOTE'],
            v.topics.map((t) => [t.address, String(t.partitions), count(t.segments), count(t.records), bytes(t.bytes), t.last_backup_at ?? '-', [t.deleted_at ? `deleted ${t.deleted_at}` : '', t.gaps > 0 ? `${t.gaps} gap(s)` : ''].filter(Boolean).join('; ') || '-']),
          ),
        ),
  )
  if (v.restores.length > 0) {
    lines.push('', `Restores (${v.restores.length})`)
    lines.push(indent(renderTable(['ADDRESS', 'STATUS', 'POINT IN TIME', 'APPLIED', 'RECORDS'], v.restores.map((r) => [r.address, r.status, r.point_in_time, r.applied_at, count(r.records)]))))
  }
  return lines.join('\n')
}

export function formatStateItem(item: StateItem): string {
  if (item.type === 'restore') {
    const r = item.restore
    return [`${item.address}: ${r.status}, point in time ${r.point_in_time}, applied ${r.applied_at}, ${count(r.records)} records`, ...(r.offset_map_key ? [`offset map: ${r.offset_map_key}`] : []), 'settings:', indent(JSON.stringify(r.settings, null, 2))].join('\n')
  }
  if (item.type === 'policy') {
    const p = item.policy
    return [
      `${item.address}: applied ${p.updated_at || '(never)'}${p.created_at ? `, first applied ${p.created_at}` : ''}`,
      'settings:',
      indent(JSON.stringify(p.settings, null, 2)),
      `topics (${item.topics.length}):`,
      item.topics.length === 0 ? '  (none)' : indent(renderTable(['ADDRESS', 'PARTS', 'SEGMENTS', 'RECORDS', 'STORED', 'LAST BACKUP'], item.topics.map((t) => [t.address, String(t.partitions), count(t.segments), count(t.records), bytes(t.bytes), t.last_backup_at ?? '-']))),
    ].join('\n')
  }
  const t = item.index
  const lines = [
    `${item.address}: ${t.partition_count} partition(s), ${count(item.topic.segments)} segments, ${count(item.topic.records)} records, ${bytes(item.topic.bytes)} stored (${bytes(item.topic.uncompressed_bytes)} uncompressed)`,
    `last backup: ${t.last_backup_at ?? '(never)'}${t.deleted_at ? `; topic deleted from the cluster at ${t.deleted_at}` : ''}; ${t.chunks.length} state chunk(s)`,
    '',
    renderTable(
      ['PART', 'OFFSETS HELD', 'NEXT', 'SEGMENTS', 'RECORDS', 'STORED', 'TIMESTAMPS', 'GAPS'],
      t.partitions.map((p) => [
        String(p.partition),
        p.segment_count > 0 ? `${p.first_offset}..${p.next_offset - 1}` : '-',
        String(p.next_offset),
        count(p.segment_count),
        count(p.records),
        bytes(p.bytes),
        p.min_timestamp === undefined ? '-' : `${new Date(p.min_timestamp).toISOString()} .. ${new Date(p.max_timestamp ?? p.min_timestamp).toISOString()}`,
        p.gaps.length > 0 ? p.gaps.map((g) => `${g.from}..${g.to - 1} ${g.reason}`).join('; ') : '-',
      ]),
    ),
  ]
  if (item.segments.length > 0) {
    lines.push('', `segments (${item.segments.length}):`)
    lines.push(indent(renderTable(['PART', 'OFFSETS', 'RECORDS', 'STORED', 'WRITTEN', 'KEY'], item.segments.map((s) => [String(s.partition), `${s.first_offset}..${s.last_offset}`, count(s.records), bytes(s.bytes), s.written_at, s.key]))))
  }
  for (const [group, offsets] of Object.entries(t.group_offsets ?? {})) lines.push(`group ${group}: ${Object.entries(offsets).map(([p, o]) => `${p}:${o}`).join(' ')}`)
  return lines.join('\n')
}

export interface LockRow extends LockInfo {
  /** The holder stopped renewing it: `kbk apply` will break it; `kbk lock release` may. */
  expired: boolean
}

export function describeLocks(locks: LockInfo[], now: Date): LockRow[] {
  return locks.map((l) => ({...l, expired: now.getTime() >= Date.parse(l.expires)}))
}

export function formatLocks(store: string, rows: LockRow[]): string {
  if (rows.length === 0) return `No lock is held on store "${store}".`
  return renderTable(['ID', 'WHO', 'OPERATION', 'CREATED', 'HEARTBEAT', 'EXPIRES', 'STATUS'], rows.map((l) => [l.id, l.who, l.operation, l.created, l.heartbeat, l.expires, l.expired ? 'expired' : 'held']))
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => '  ' + l)
    .join('\n')
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
