// Executes a restore intent: reads the policy's segments (verifying each whole object before any
// of its records is produced), keeps records with timestamp <= the pinned point in time, and
// produces them to the target topics with key, value, headers, timestamp and partition intact.
//
// Exactly once across crashes, without transactions: before producing anything the restore
// records each target partition's high watermark (the base). Records go to a target partition
// in one deterministic order (source partitions ascending, offsets ascending), so after a crash
// `high watermark - base` says exactly how many of that sequence are already there; the rerun
// skips them. This requires that nothing else writes to the target topics during a restore.
import {createHash} from 'node:crypto'
import {KbkError} from '../errors.js'
import type {KafkaPort, KafkaRecord, ProduceRecord} from '../kafka/port.js'
import type {RestoreRun, RestoreTopicPlan} from '../plan/types.js'
import {readSegment} from '../segment/index.js'
import type {ObjectStore} from '../storage/object-store.js'
import type {RestoreRecord, SegmentRef, TopicIndex} from '../state/types.js'
import {topicKey} from '../state/types.js'
import type {Reporter} from '../apply/events.js'
import type {StateCommitter} from '../apply/state-committer.js'

export interface RestoreDeps {
  store: ObjectStore
  state: StateCommitter
  reporter: Reporter
  now: () => Date
  kafka: KafkaPort
  loadSegments: (policy: string, topic: string) => Promise<SegmentRef[]>
  keyring: Map<string, Buffer>
  /** Records per produce call. */
  batchRecords?: number
  /** The intent's settings as the plan saw them: recorded so the next plan shows no change. */
  settings: Record<string, unknown>
}

export interface OffsetMapEntry {
  /** Source offsets [from, from+count) map to target offsets [target, target+count). */
  from: number
  count: number
  target_partition: number
  target: number
}

export interface OffsetMapFile {
  restore: string
  point_in_time: string
  topics: Record<string, {target_topic: string; partitions: Record<number, OffsetMapEntry[]>}>
}

export async function applyRestoreRun(run: RestoreRun, address: string, deps: RestoreDeps): Promise<{records: number; bytes: number}> {
  const pitMs = Date.parse(run.point_in_time)
  const prior = deps.state.current.snapshot.restores[run.name]
  const resuming = prior?.status === 'in-progress' && prior.point_in_time === run.point_in_time
  const base: Record<string, Record<number, number>> = resuming && prior.target_base ? structuredClone(prior.target_base) : {}

  // 1. Targets exist, and their starting offsets are recorded before anything is produced.
  if (!resuming) {
    for (const t of run.topics) {
      if (t.create) await createIfMissing(deps.kafka, t)
      const wm = await settled(() => deps.kafka.watermarks(t.target_topic))
      base[t.target_topic] = Object.fromEntries(wm.map((w) => [w.partition, w.high]))
    }
    deps.state.setRestore(record(run, deps, 'in-progress', base, 0))
    await deps.state.flush()
  }

  const mapFile: OffsetMapFile = {restore: run.name, point_in_time: run.point_in_time, topics: {}}
  let total = 0
  let bytes = 0
  for (const t of run.topics) {
    const wm = new Map((await settled(() => deps.kafka.watermarks(t.target_topic))).map((w) => [w.partition, w.high]))
    const tBase = base[t.target_topic] ?? {}
    // Already produced, per target partition: skip that many records of its sequence.
    const skip = new Map<number, number>()
    for (const [p, high] of wm) skip.set(p, high - (tBase[p] ?? 0))
    const next = new Map<number, number>()
    const partitions: Record<number, OffsetMapEntry[]> = {}
    const segments = (await deps.loadSegments(run.policy, t.source_topic)).filter((s) => s.min_timestamp <= pitMs)
    const bySource = new Map<number, SegmentRef[]>()
    for (const s of segments) bySource.set(s.partition, [...(bySource.get(s.partition) ?? []), s])

    for (const sourcePartition of [...bySource.keys()].sort((a, b) => a - b)) {
      const targetPartition = t.partition_mapping?.[sourcePartition] ?? sourcePartition
      if (targetPartition >= t.partitions) {
        throw new KbkError('KBK_RESTORE_PARTITION', `Source partition ${sourcePartition} of "${t.source_topic}" maps to partition ${targetPartition}, but "${t.target_topic}" has ${t.partitions}.`, {
          suggestion: `Add it to restores.${run.name}.partitionMapping, or set restores.${run.name}.partitions.`,
        })
      }
      const entries = (partitions[sourcePartition] ??= [])
      let pending: ProduceRecord[] = []
      let pendingSource: number[] = []
      const flush = async (): Promise<void> => {
        if (pending.length === 0) return
        const offsets = await deps.kafka.produce(t.target_topic, pending)
        for (let i = 0; i < offsets.length; i++) addMapping(entries, pendingSource[i]!, targetPartition, offsets[i]!)
        total += pending.length
        pending = []
        pendingSource = []
        deps.reporter.emit({type: 'restore.progress', address, records: total, bytes, topic: t.target_topic})
      }
      for (const seg of [...bySource.get(sourcePartition)!].sort((a, b) => a.first_offset - b.first_offset)) {
        for await (const block of readVerified(deps.store, seg, deps.keyring))
        for (const r of block) {
          if (r.timestamp > pitMs) continue
          const position = next.get(targetPartition) ?? 0
          next.set(targetPartition, position + 1)
          const already = skip.get(targetPartition) ?? 0
          if (position < already) {
            // Produced by the interrupted run: its target offset is base + position.
            addMapping(entries, r.offset, targetPartition, (tBase[targetPartition] ?? 0) + position)
            continue
          }
          pending.push({partition: targetPartition, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers})
          pendingSource.push(r.offset)
          bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0)
          if (pending.length >= (deps.batchRecords ?? 1000)) await flush()
        }
      }
      await flush()
    }
    mapFile.topics[t.source_topic] = {target_topic: t.target_topic, partitions}
  }

  const mapKey = `restores/${run.name}/${run.point_in_time.replace(/[:.]/g, '')}/offset-map.json`
  await deps.store.put(mapKey, Buffer.from(JSON.stringify(mapFile)), {contentType: 'application/json'})

  // Consumer groups resume where they were: translate each committed source offset.
  for (const group of run.consumer_groups) {
    for (const t of run.topics) {
      const index = deps.state.current.snapshot.topics[topicKey(run.policy, t.source_topic)]
      const committed = groupOffsetsOf(index, group)
      if (!committed) continue
      const offsets = translateGroupOffsets(committed, mapFile.topics[t.source_topic]?.partitions ?? {}, t)
      if (offsets.length > 0) await deps.kafka.commitGroupOffsets(group, t.target_topic, offsets)
    }
  }

  const done = record(run, deps, 'complete', base, total)
  done.offset_map_key = mapKey
  deps.state.setRestore(done)
  await deps.state.flush()
  return {records: total, bytes}
}

function record(run: RestoreRun, deps: RestoreDeps, status: RestoreRecord['status'], base: Record<string, Record<number, number>>, records: number): RestoreRecord {
  return {
    name: run.name,
    settings: {...deps.settings},
    applied_at: deps.now().toISOString(),
    point_in_time: run.point_in_time,
    records,
    progress: {},
    status,
    target_base: base,
  }
}

/**
 * A topic kbk just created may not have partition leaders everywhere yet (NOT_LEADER_FOR_PARTITION
 * for a moment): retry retriable errors a bounded number of times before giving up.
 */
async function settled<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn()
    } catch (error) {
      const retriable = error instanceof KbkError ? error.retriable || /NOT_LEADER|LEADER_NOT_AVAILABLE|UNKNOWN_TOPIC/.test(error.message) : false
      if (!retriable || i >= attempts) throw error
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * i)))
    }
  }
}

async function createIfMissing(kafka: KafkaPort, t: RestoreTopicPlan): Promise<void> {
  const existing = await kafka.listTopics()
  if (existing.includes(t.target_topic)) return
  await kafka.createTopic({name: t.target_topic, partitions: t.partitions, configs: t.configs})
}

/**
 * Reads a whole segment and checks its checksum before a single record of it is produced, then
 * decodes it one block at a time: memory holds the stored (compressed) bytes and one block of
 * records, not the segment's records all at once.
 */
async function* readVerified(store: ObjectStore, seg: SegmentRef, keyring: Map<string, Buffer>): AsyncGenerator<KafkaRecord[]> {
  const bytes = await store.get(seg.key)
  const digest = createHash('sha256').update(bytes).digest('hex')
  if (digest !== seg.sha256 || bytes.length !== seg.bytes) {
    throw new KbkError('KBK_SEGMENT_CORRUPT', `Segment ${seg.key} does not match what kbk wrote (sha256 or size differs): restore stopped before producing any of its records.`, {
      suggestion: 'Run `kbk verify --deep` to see which segments are damaged; restore the object from a bucket version or another copy.',
      kind: 'environment',
    })
  }
  yield* readSegment([bytes], {keyring, objectName: seg.key})
}

function addMapping(entries: OffsetMapEntry[], source: number, targetPartition: number, target: number): void {
  const last = entries[entries.length - 1]
  if (last && last.target_partition === targetPartition && last.from + last.count === source && last.target + last.count === target) {
    last.count++
    return
  }
  entries.push({from: source, count: 1, target_partition: targetPartition, target})
}

function groupOffsetsOf(index: TopicIndex | undefined, group: string): Record<number, number> | undefined {
  return index?.group_offsets?.[group]
}

/**
 * A committed offset O means "next to read is O". The target equivalent is the target offset of
 * the first restored record with source offset >= O; past the last one, the end of what was restored.
 */
export function translateGroupOffsets(committed: Record<number, number>, partitions: Record<number, OffsetMapEntry[]>, t: RestoreTopicPlan): Array<{partition: number; offset: number}> {
  const out: Array<{partition: number; offset: number}> = []
  for (const [p, offset] of Object.entries(committed)) {
    const sourcePartition = Number(p)
    const entries = partitions[sourcePartition] ?? []
    const targetPartition = t.partition_mapping?.[sourcePartition] ?? sourcePartition
    let target: number | undefined
    for (const e of entries) {
      if (offset < e.from + e.count) {
        target = offset <= e.from ? e.target : e.target + (offset - e.from)
        break
      }
    }
    if (target === undefined) {
      const last = entries[entries.length - 1]
      if (!last) continue
      target = last.target + last.count
    }
    out.push({partition: targetPartition, offset: target})
  }
  return out.sort((a, b) => a.partition - b.partition)
}
