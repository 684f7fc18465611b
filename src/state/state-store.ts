// Persistence of the recorded state over the ObjectStore port: lineage, serial, canonical JSON,
// and writes conditional on what was read, so two writers can never both succeed.
//
// A commit writes new chunks and topic indexes create-only FIRST (fresh names, never
// overwritten), then the head with a conditional write. A crash or a lost race leaves only
// unreferenced objects, which listUnreferencedStateObjects finds; the recorded state is never
// half-written. The head is O(topics); read() loads it plus one index per topic, in parallel.
import {randomUUID} from 'node:crypto'
import {KbkError, isKbkError} from '../errors.js'
import type {ObjectInfo, ObjectStore} from '../storage/object-store.js'
import {StoreErrorCode} from '../storage/object-store.js'
import {mapLimit} from '../storage/keys.js'
import {sleep} from '../sleep.js'
import {canonicalBytes, sha256Hex} from './canonical-json.js'
import {HEAD_KEY, STATE_PREFIX, chunkKey, newObjectId, topicIndexKey} from './layout.js'
import {addSegmentsToSummary, compareSegments, emptyPartition, mergeGaps, summarizePartition, withNextOffset} from './summaries.js'
import type {
  ChunkFile,
  ChunkRef,
  Gap,
  PartitionSummary,
  PolicyRecord,
  OffsetResetRecord, RestoreRecord,
  SegmentRef,
  StateHeadFile,
  StateSnapshot,
  TopicIndex,
  TopicIndexFile,
  TopicIndexRef,
} from './types.js'
import {STATE_FORMAT_VERSION, topicKey} from './types.js'

export interface StateRead {
  snapshot: StateSnapshot
  /** Version token of head.json as read; undefined: no state yet. */
  etag?: string
  /**
   * The read handle: the head's topic index references as read with `etag`. commit builds the
   * next head on them, and listUnreferencedStateObjects counts them as referenced, so neither
   * reads the state again. Absent on a read assembled elsewhere: commit then re-reads the head
   * and insists its etag is still `etag`.
   */
  refs?: Record<string, TopicIndexRef>
}

export interface StateChange {
  policies?: {set?: Record<string, PolicyRecord>; remove?: string[]}
  restores?: {set?: Record<string, RestoreRecord>; remove?: string[]}
  offsetResets?: {set?: Record<string, OffsetResetRecord>; remove?: string[]}
  topics?: TopicChange[]
}

export interface TopicChange {
  policy: string
  topic: string
  partitionCount?: number
  configs?: Record<string, string>
  /** null clears it (the topic is back). */
  deletedAt?: string | null
  groupOffsets?: Record<string, Record<number, number>>
  lastBackupAt?: string
  lastVerify?: TopicIndex['last_verify']
  /** Appended in a new chunk; summaries updated incrementally. */
  addSegments?: SegmentRef[]
  /** Expiry: recorded as removals (chunks stay immutable); summaries of those partitions recomputed. */
  removeSegments?: SegmentRef[]
  /** Checkpoint moves (also with no segments: empty partitions, control records). */
  partitions?: {partition: number; nextOffset?: number; addGaps?: Gap[]}[]
  /** Forget the topic entirely (its objects become unreferenced). */
  remove?: boolean
}

export interface StateStoreOptions {
  kbkVersion: string
  now?: () => Date
  /** Parallel object reads while loading (default 32). */
  concurrency?: number
  /** A topic index referencing more chunks than this has them merged into one (default 32). */
  maxChunksPerTopic?: number
}

/** Head reads a patient reader (a sharded worker, among committing siblings) makes before giving up. */
const PATIENT_HEAD_READS = 100

export class StateStore {
  private readonly now: () => Date
  private readonly concurrency: number
  private readonly maxChunks: number

  constructor(
    private readonly store: ObjectStore,
    private readonly opts: StateStoreOptions,
  ) {
    this.now = opts.now ?? (() => new Date())
    this.concurrency = Math.max(1, opts.concurrency ?? 32)
    this.maxChunks = Math.max(2, opts.maxChunksPerTopic ?? 32)
  }

  /**
   * No state yet → an empty snapshot with a NEW lineage and serial 0 (nothing is written).
   * `reuse`: a read held already; topic indexes it has unchanged are not fetched again.
   */
  async read(opts: {reuse?: StateRead; patient?: boolean} = {}): Promise<StateRead> {
    const got = await this.readHead(opts.patient ? PATIENT_HEAD_READS : 5)
    if (!got) {
      return {snapshot: emptySnapshot(this.opts.kbkVersion, this.now()), refs: {}}
    }
    const {head, etag} = got
    const refs = Object.values(head.topics)
    const indexes = new Array<TopicIndex>(refs.length)
    // Re-reading after a lost commit race (sharded apply): topic indexes are immutable objects
    // under fresh names, so one whose key and digest are unchanged is the one already held.
    const held = opts.reuse?.refs
    await mapLimit(refs, this.concurrency, async (ref, i) => {
      const k = topicKey(ref.policy, ref.topic)
      const same = held?.[k]
      const known = same && same.key === ref.key && same.sha256 === ref.sha256 ? opts.reuse!.snapshot.topics[k] : undefined
      indexes[i] = known ?? (await this.readTopicIndex(ref))
    })
    const topics: Record<string, TopicIndex> = {}
    for (const index of indexes) topics[topicKey(index.policy, index.topic)] = index
    const snapshot: StateSnapshot = {
      format_version: head.format_version,
      lineage: head.lineage,
      serial: head.serial,
      kbk_version: head.kbk_version,
      updated_at: head.updated_at,
      policies: head.policies,
      restores: head.restores,
      ...(head.offset_resets ? {offset_resets: head.offset_resets} : {}),
      topics,
    }
    return {snapshot, etag, refs: head.topics}
  }

  /** A topic's live segments, sorted by partition then first_offset; removed ones excluded. */
  async loadSegments(snapshot: StateSnapshot, policy: string, topic: string, opts: {partitions?: number[]} = {}): Promise<SegmentRef[]> {
    const index = snapshot.topics[topicKey(policy, topic)]
    if (!index) return []
    const wanted = opts.partitions ? new Set(opts.partitions) : undefined
    // Removals sit in later chunks that list the removed segments' partitions, so pruning by
    // partition never skips a tombstone that matters.
    const chunks = wanted ? index.chunks.filter((c) => c.partitions.some((p) => wanted.has(p))) : index.chunks
    const live = await this.liveSegments(chunks, new Map())
    return live.filter((s) => !wanted || wanted.has(s.partition))
  }

  /**
   * serial+1, conditional on base.etag; a lost race → KBK_STATE_CONFLICT and nothing recorded.
   * `retrying`: the caller retries a lost race itself, so the error need not say more.
   */
  async commit(base: StateRead, change: StateChange, opts: {retrying?: boolean} = {}): Promise<StateRead> {
    const baseRefs = await this.refsFor(base)
    const serial = base.snapshot.serial + 1
    const now = this.now().toISOString()
    const written: string[] = []
    try {
      const topics: Record<string, TopicIndex> = {...base.snapshot.topics}
      const refs: Record<string, TopicIndexRef> = {...baseRefs}
      // Topics are independent objects: write them in parallel (a run may touch thousands).
      await mapLimit(groupTopicChanges(change.topics ?? []), this.concurrency, async (group) => {
        const key = topicKey(group.policy, group.topic)
        if (group.changes.some((c) => c.remove)) {
          delete topics[key]
          delete refs[key]
          return
        }
        const current = base.snapshot.topics[key] ?? newTopicIndex(group.policy, group.topic)
        const next = await this.applyTopicChanges(base.snapshot, current, group.changes, serial, written)
        const file: TopicIndexFile = {format_version: STATE_FORMAT_VERSION, ...next}
        const body = canonicalBytes(file)
        const indexKey = topicIndexKey(group.policy, group.topic, newObjectId(serial))
        written.push(indexKey)
        await this.store.put(indexKey, body, {ifNoneMatch: '*', contentType: 'application/json'})
        topics[key] = next
        refs[key] = {policy: group.policy, topic: group.topic, key: indexKey, sha256: sha256Hex(body)}
      })

      const policies = applyRecordChange(base.snapshot.policies, change.policies)
      const restores = applyRecordChange(base.snapshot.restores, change.restores)
      const resets = applyRecordChange(base.snapshot.offset_resets ?? {}, change.offsetResets)
      const offsetResets = Object.keys(resets).length > 0 ? {offset_resets: resets} : {}
      const head: StateHeadFile = {
        format_version: STATE_FORMAT_VERSION,
        lineage: base.snapshot.lineage,
        serial,
        kbk_version: this.opts.kbkVersion,
        updated_at: now,
        policies,
        restores,
        ...offsetResets,
        topics: sortedRecord(refs),
      }
      const condition = base.etag === undefined ? {ifNoneMatch: '*' as const} : {ifMatch: base.etag}
      let etag: string
      try {
        etag = (await this.store.put(HEAD_KEY, canonicalBytes(head), {...condition, contentType: 'application/json'})).etag
      } catch (error) {
        if (isKbkError(error) && error.code === StoreErrorCode.precondition) {
          // A caller that retries (sharded apply) re-reads the state anyway: spare it the reads
          // that only make the message say where the state went.
          if (opts.retrying) throw new KbkError('KBK_STATE_CONFLICT', `The state in ${this.store.description} was changed by another writer.`, {kind: 'conflict', cause: error})
          throw await this.conflict(base, error)
        }
        // The head may or may not have landed (a cut connection): what it would reference must stay.
        written.length = 0
        throw error
      }
      written.length = 0
      const snapshot: StateSnapshot = {
        format_version: STATE_FORMAT_VERSION,
        lineage: head.lineage,
        serial,
        kbk_version: head.kbk_version,
        updated_at: now,
        policies,
        restores,
        ...offsetResets,
        topics: sortedRecord(topics),
      }
      return {snapshot, etag, refs: head.topics}
    } finally {
      // Nothing references what a failed commit wrote (fresh random names): tidy up, best effort.
      // A retrying caller does not wait for it: its next attempt matters more than the tidying.
      if (written.length > 0) {
        const tidy = this.store.delete([...written]).catch(() => undefined)
        if (!opts.retrying) await tidy
      }
    }
  }

  private async applyTopicChanges(base: StateSnapshot, current: TopicIndex, changes: TopicChange[], serial: number, written: string[]): Promise<TopicIndex> {
    // Never mutate the caller's snapshot: everything below works on copies.
    const t: TopicIndex = {...current, configs: {...current.configs}, chunks: [...current.chunks]}
    const partitions = new Map<number, PartitionSummary>(current.partitions.map((p) => [p.partition, p]))
    const adds: SegmentRef[] = []
    const removes = new Map<string, SegmentRef>()

    for (const c of changes) {
      if (c.partitionCount !== undefined) t.partition_count = c.partitionCount
      if (c.configs !== undefined) t.configs = {...c.configs}
      if (c.deletedAt === null) delete t.deleted_at
      else if (c.deletedAt !== undefined) t.deleted_at = c.deletedAt
      if (c.groupOffsets !== undefined) t.group_offsets = structuredClone(c.groupOffsets)
      if (c.lastBackupAt !== undefined) t.last_backup_at = c.lastBackupAt
      if (c.lastVerify !== undefined) t.last_verify = c.lastVerify
      for (const s of c.addSegments ?? []) {
        if (s.policy !== t.policy || s.topic !== t.topic) throw mismatchedSegment(s, t)
        adds.push(s)
      }
      for (const s of c.removeSegments ?? []) removes.set(s.key, s)
    }
    dedupeByKey(adds)

    // Expiry recomputes the affected partitions from what really remains.
    const recompute = new Set<number>()
    let removedKeys: string[] = []
    if (removes.size > 0) {
      const held = await this.loadSegments(base, t.policy, t.topic, {partitions: [...new Set([...removes.values()].map((s) => s.partition))]})
      const present = held.filter((s) => removes.has(s.key))
      removedKeys = present.map((s) => s.key).sort()
      for (const s of present) recompute.add(s.partition)
      const gone = new Set(removedKeys)
      const byPartition = groupBy(held.filter((s) => !gone.has(s.key)), (s) => s.partition)
      for (const p of recompute) {
        const old = partitions.get(p) ?? emptyPartition(p)
        partitions.set(p, summarizePartition(p, old.next_offset, old.gaps, byPartition.get(p) ?? [], old.covered_to))
      }
    }

    for (const [p, segs] of groupBy(adds, (s) => s.partition)) {
      partitions.set(p, addSegmentsToSummary(partitions.get(p) ?? emptyPartition(p, Math.min(...segs.map((s) => s.first_offset))), segs))
    }
    for (const c of changes) {
      for (const pc of c.partitions ?? []) {
        let p = partitions.get(pc.partition) ?? emptyPartition(pc.partition, pc.nextOffset ?? 0)
        if (pc.nextOffset !== undefined) p = withNextOffset(p, pc.nextOffset)
        if (pc.addGaps && pc.addGaps.length > 0) p = {...p, gaps: mergeGaps(p.gaps, pc.addGaps)}
        partitions.set(pc.partition, p)
      }
    }
    t.partitions = [...partitions.values()].sort((a, b) => a.partition - b.partition)

    const pending = new Map<string, ChunkFile>()
    if (adds.length > 0 || removedKeys.length > 0) {
      const chunk: ChunkFile = {format_version: STATE_FORMAT_VERSION, policy: t.policy, topic: t.topic, segments: [...adds].sort(compareSegments)}
      if (removedKeys.length > 0) chunk.removed = removedKeys
      const touched = [...adds.map((s) => s.partition), ...[...removes.values()].filter((s) => removedKeys.includes(s.key)).map((s) => s.partition)]
      const ref = await this.writeChunk(chunk, serial, touched, written)
      pending.set(ref.key, chunk)
      t.chunks.push(ref)
    }
    if (t.chunks.length > this.maxChunks) {
      // Bounded read cost: one chunk holding every live segment replaces the many small ones.
      const live = await this.liveSegments(t.chunks, pending)
      const merged: ChunkFile = {format_version: STATE_FORMAT_VERSION, policy: t.policy, topic: t.topic, segments: live}
      t.chunks = [await this.writeChunk(merged, serial, live.map((s) => s.partition), written)]
    }
    return t
  }

  private async writeChunk(chunk: ChunkFile, serial: number, partitions: number[], written: string[]): Promise<ChunkRef> {
    const body = canonicalBytes(chunk)
    const key = chunkKey(chunk.policy, chunk.topic, newObjectId(serial))
    written.push(key)
    await this.store.put(key, body, {ifNoneMatch: '*', contentType: 'application/json'})
    return {key, sha256: sha256Hex(body), segments: chunk.segments.length, partitions: [...new Set(partitions)].sort((a, b) => a - b)}
  }

  /** Applies chunks in order: a chunk's removals drop earlier segments, then its own are added. */
  private async liveSegments(chunks: ChunkRef[], inMemory: Map<string, ChunkFile>): Promise<SegmentRef[]> {
    const files = new Array<ChunkFile>(chunks.length)
    await mapLimit(chunks, this.concurrency, async (ref, i) => {
      files[i] = inMemory.get(ref.key) ?? (await this.readChunk(ref))
    })
    const live = new Map<string, SegmentRef>()
    for (const f of files) {
      for (const k of f.removed ?? []) live.delete(k)
      for (const s of f.segments) live.set(s.key, s)
    }
    return [...live.values()].sort(compareSegments)
  }

  private async refsFor(base: StateRead): Promise<Record<string, TopicIndexRef>> {
    if (base.refs) return base.refs
    if (base.etag === undefined) return {}
    // A read assembled elsewhere, without its handle: the head must still be the one it was read from.
    const got = await this.readHead()
    if (!got || got.etag !== base.etag) throw await this.conflict(base, undefined)
    return got.head.topics
  }

  private async conflict(base: StateRead, cause: unknown): Promise<KbkError> {
    const current = await this.readHead().catch(() => undefined)
    const now = current ? String(current.head.serial) : base.etag === undefined ? 'unknown' : 'none (deleted)'
    const lineageNote = current && current.head.lineage !== base.snapshot.lineage ? `, a different lineage ${current.head.lineage}` : ''
    return new KbkError(
      'KBK_STATE_CONFLICT',
      `The state in ${this.store.description} was changed by another operation (serial ${base.snapshot.serial} → ${now}${lineageNote}) while this one ran; this change was not recorded.`,
      {
        kind: 'conflict',
        suggestion: 'Run `kbk plan` again to see the current state, then apply the new plan.',
        cause,
        details: {lineage: base.snapshot.lineage, base_serial: base.snapshot.serial, current_serial: current?.head.serial ?? null},
      },
    )
  }

  /**
   * head → get → head: returns a body and the etag that really belongs to it. `retries`: how often
   * to look again when the head changed meanwhile (sharded workers commit all the time: patient).
   */
  private async readHead(retries = 5): Promise<{head: StateHeadFile; etag: string} | undefined> {
    for (let attempt = 0; ; attempt++) {
      const before = await this.store.head(HEAD_KEY)
      if (!before) return undefined
      let body: Buffer
      try {
        body = await this.store.get(HEAD_KEY)
      } catch (error) {
        if (isKbkError(error) && error.code === StoreErrorCode.notFound && attempt < retries) continue
        throw error
      }
      const after = await this.store.head(HEAD_KEY)
      if (after?.etag !== before.etag) {
        if (attempt < retries) {
          // Writers commit back to back: step out of their rhythm a little before looking again.
          if (attempt >= 5) await sleep(Math.floor(Math.random() * Math.min(200, 10 * attempt)))
          continue
        }
        throw new KbkError('KBK_STATE_BUSY', `The state in ${this.store.description} kept changing while it was read.`, {
          kind: 'conflict',
          retriable: true,
          suggestion: 'Another kbk is writing the state right now; run the command again when it is done (see `kbk lock list`).',
        })
      }
      const head = parseStateObject<StateHeadFile>(body, HEAD_KEY, this.store)
      checkFormat(head, HEAD_KEY, this.store)
      if (typeof head.lineage !== 'string' || typeof head.serial !== 'number' || typeof head.topics !== 'object' || head.topics === null) {
        throw corrupt(this.store, HEAD_KEY, 'it is not a kbk state head (lineage, serial or topics missing)')
      }
      return {head, etag: before.etag}
    }
  }

  private async readTopicIndex(ref: TopicIndexRef): Promise<TopicIndex> {
    const body = await this.readVerified(ref.key, ref.sha256, HEAD_KEY)
    const file = parseStateObject<TopicIndexFile>(body, ref.key, this.store)
    checkFormat(file, ref.key, this.store)
    const {format_version: _v, ...index} = file
    void _v
    return index
  }

  private async readChunk(ref: ChunkRef): Promise<ChunkFile> {
    const body = await this.readVerified(ref.key, ref.sha256, 'its topic index')
    const file = parseStateObject<ChunkFile>(body, ref.key, this.store)
    checkFormat(file, ref.key, this.store)
    return file
  }

  private async readVerified(key: string, sha256: string, parent: string): Promise<Buffer> {
    let body: Buffer
    try {
      body = await this.store.get(key)
    } catch (error) {
      if (isKbkError(error) && error.code === StoreErrorCode.notFound) throw corrupt(this.store, key, `it is missing, but ${parent} references it`, error)
      throw error
    }
    const actual = sha256Hex(body)
    if (actual !== sha256) throw corrupt(this.store, key, `its sha256 is ${actual}, but ${parent} recorded ${sha256}: it was changed or damaged after kbk wrote it`)
    return body
  }
}

/**
 * State objects nothing references: leftovers of crashed or lost commits, merged chunks, old
 * topic indexes. A commit in progress also has unreferenced objects for a moment, so a cleanup
 * must only delete those older than `olderThan` (and should hold the lock). `read`: a state read
 * the caller already holds (with its handle), so the state is not read twice; without it, this
 * reads the state itself.
 */
export async function listUnreferencedStateObjects(store: ObjectStore, opts: {olderThan?: Date; concurrency?: number; read?: StateRead} = {}): Promise<ObjectInfo[]> {
  const read = opts.read?.refs ? opts.read : await new StateStore(store, {kbkVersion: 'n/a', concurrency: opts.concurrency}).read()
  const {snapshot} = read
  const referenced = new Set<string>([HEAD_KEY])
  for (const ref of Object.values(read.refs ?? {})) referenced.add(ref.key)
  for (const index of Object.values(snapshot.topics)) for (const c of index.chunks) referenced.add(c.key)
  const out: ObjectInfo[] = []
  for await (const o of store.list(STATE_PREFIX)) {
    if (referenced.has(o.key)) continue
    if (opts.olderThan && (!o.lastModified || o.lastModified >= opts.olderThan)) continue
    out.push(o)
  }
  return out
}

function emptySnapshot(kbkVersion: string, now: Date): StateSnapshot {
  return {format_version: STATE_FORMAT_VERSION, lineage: randomUUID(), serial: 0, kbk_version: kbkVersion, updated_at: now.toISOString(), policies: {}, restores: {}, topics: {}}
}

function newTopicIndex(policy: string, topic: string): TopicIndex {
  return {policy, topic, partition_count: 0, configs: {}, partitions: [], chunks: []}
}

function groupTopicChanges(changes: TopicChange[]): {policy: string; topic: string; changes: TopicChange[]}[] {
  const groups = new Map<string, {policy: string; topic: string; changes: TopicChange[]}>()
  for (const c of changes) {
    const key = topicKey(c.policy, c.topic)
    const g = groups.get(key) ?? {policy: c.policy, topic: c.topic, changes: []}
    g.changes.push(c)
    groups.set(key, g)
  }
  return [...groups.values()]
}

function applyRecordChange<T>(base: Record<string, T>, change: {set?: Record<string, T>; remove?: string[]} | undefined): Record<string, T> {
  if (!change) return base
  const out = {...base, ...change.set}
  for (const name of change.remove ?? []) delete out[name]
  return sortedRecord(out)
}

function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

function dedupeByKey(segments: SegmentRef[]): void {
  const seen = new Set<string>()
  let w = 0
  for (const s of segments) {
    if (seen.has(s.key)) continue
    seen.add(s.key)
    segments[w++] = s
  }
  segments.length = w
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>()
  for (const item of items) {
    const k = key(item)
    const list = m.get(k)
    if (list) list.push(item)
    else m.set(k, [item])
  }
  return m
}

function mismatchedSegment(s: SegmentRef, t: TopicIndex): KbkError {
  return new KbkError('KBK_INTERNAL', `Internal error: segment ${s.key} (${s.policy}/${s.topic}) was recorded under ${t.policy}/${t.topic}.`, {
    kind: 'internal',
    suggestion: 'This is a bug in kbk. Report it with the command you ran.',
  })
}

function corrupt(store: ObjectStore, key: string, why: string, cause?: unknown): KbkError {
  return new KbkError('KBK_STATE_CORRUPT', `State object ${key} in ${store.description} is corrupt: ${why}.`, {
    kind: 'environment',
    cause,
    suggestion: `Restore ${key} from the store's versioning or a copy; do not run \`kbk apply\` until \`kbk state list\` reads cleanly.`,
    details: {key},
  })
}

function parseStateObject<T>(body: Buffer, key: string, store: ObjectStore): T {
  try {
    return JSON.parse(body.toString('utf8')) as T
  } catch (error) {
    throw corrupt(store, key, 'it is not valid JSON', error)
  }
}

function checkFormat(file: {format_version?: unknown; kbk_version?: unknown}, key: string, store: ObjectStore): void {
  if (typeof file.format_version !== 'number') throw corrupt(store, key, 'it has no format_version')
  if (file.format_version > STATE_FORMAT_VERSION) {
    throw new KbkError(
      'KBK_STATE_TOO_NEW',
      `State object ${key} in ${store.description} has format ${file.format_version}${typeof file.kbk_version === 'string' ? ` (written by kbk ${file.kbk_version})` : ''}; this kbk reads format ${STATE_FORMAT_VERSION} at most.`,
      {kind: 'user', suggestion: 'Upgrade kbk to the version that wrote this state.'},
    )
  }
}

/** Runs fn over items with at most `limit` in flight; the first failure rejects. */
// One bounded-concurrency helper for the whole code base (src/storage/keys.ts); re-exported here.
export {mapLimit}
