// Validates a drill's restore: per target partition, the records read back from the scratch topic
// must equal, one by one and in order, the records the backup's segments hold up to the point in
// time (count and digest, drill/digest.ts); the translated consumer group offsets must be
// committed on the scratch topics. Reads through the ports only; decides nothing else.
import {KbkError} from '../errors.js'
import type {KafkaPort} from '../kafka/port.js'
import type {RestoreRun, RestoreTopicPlan} from '../plan/types.js'
import {translateGroupOffsets, type OffsetMapFile} from '../restore/restore-run.js'
import {readSegment} from '../segment/index.js'
import type {ObjectStore} from '../storage/object-store.js'
import type {RestoreRecord, SegmentRef, StateSnapshot} from '../state/types.js'
import {topicKey} from '../state/types.js'
import type {DrillEvidence, DrillTopicEvidence} from '../audit/evidence.js'
import {PartitionDigest, firstMismatch, sha256Hex} from './digest.js'
import {pushTo} from '../collections.js'

export interface ValidateDeps {
  store: ObjectStore
  kafka: KafkaPort
  snapshot: StateSnapshot
  loadSegments: (policy: string, topic: string) => Promise<SegmentRef[]>
  keyring: Map<string, Buffer>
  /** Called after each partition is validated (progress). */
  onPartition?: (topic: string, partition: number, records: number) => void
}

export interface Validation {
  topics: DrillTopicEvidence[]
  consumer_groups: DrillEvidence['consumer_groups']
  records: number
  /** One line per problem: the partition and offset of the first record that differs. */
  reasons: string[]
}

export async function validateDrillRestore(run: RestoreRun, restored: RestoreRecord, deps: ValidateDeps): Promise<Validation> {
  const out: Validation = {topics: [], consumer_groups: [], records: 0, reasons: []}
  const pitMs = Date.parse(run.point_in_time)
  for (const t of run.topics) {
    const expected = await expectedDigests(run, t, pitMs, deps)
    const base = restored.target_base?.[t.target_topic] ?? {}
    const restoredDigests = await restoredDigestsOf(t, base, deps.kafka)
    const partitions = [...new Set([...expected.keys(), ...restoredDigests.keys()])].sort((a, b) => a - b)
    const ev: DrillTopicEvidence = {source_topic: t.source_topic, scratch_topic: t.target_topic, records: 0, partitions: []}
    for (const p of partitions) {
      const e = expected.get(p) ?? new PartitionDigest()
      const r = restoredDigests.get(p) ?? new PartitionDigest()
      const ok = e.records === r.records && e.digest() === r.digest()
      ev.partitions.push({partition: p, expected: {records: e.records, sha256: e.digest()}, restored: {records: r.records, sha256: r.digest()}, ok})
      ev.records += r.records
      if (!ok) out.reasons.push(describeMismatch(t, p, e, r))
      deps.onPartition?.(t.target_topic, p, r.records)
    }
    out.records += ev.records
    out.topics.push(ev)
  }
  out.consumer_groups = await checkGroups(run, restored, deps)
  for (const g of out.consumer_groups.filter((x) => !x.ok)) {
    out.reasons.push(`consumer group "${g.group}" on "${g.topic}": expected translated offsets ${JSON.stringify(g.expected)}, found ${JSON.stringify(g.found)}`)
  }
  return out
}

function describeMismatch(t: RestoreTopicPlan, partition: number, expected: PartitionDigest, restored: PartitionDigest): string {
  const m = firstMismatch(expected, restored)
  const counts = `${restored.records} record(s) restored, ${expected.records} in the backup`
  if (!m) return `"${t.target_topic}" partition ${partition}: digest differs (${counts})`
  if (m.restoredOffset === undefined) return `"${t.target_topic}" partition ${partition}: record from source offset ${m.sourceOffset} is missing (${counts})`
  if (m.sourceOffset === undefined) return `"${t.target_topic}" partition ${partition} offset ${m.restoredOffset}: an extra record the backup does not hold (${counts})`
  return `"${t.target_topic}" partition ${partition} offset ${m.restoredOffset}: record differs from the backup's record at source offset ${m.sourceOffset} of "${t.source_topic}" (${counts})`
}

/** What the restore must have produced, per target partition, from the segments (checksummed). */
async function expectedDigests(run: RestoreRun, t: RestoreTopicPlan, pitMs: number, deps: ValidateDeps): Promise<Map<number, PartitionDigest>> {
  const segments = (await deps.loadSegments(run.policy, t.source_topic)).filter((s) => s.min_timestamp <= pitMs)
  const bySource = new Map<number, SegmentRef[]>()
  for (const s of segments) pushTo(bySource, s.partition, s)
  const out = new Map<number, PartitionDigest>()
  // The restore's order: source partitions ascending into each target partition, offsets ascending.
  for (const source of [...bySource.keys()].sort((a, b) => a - b)) {
    const target = t.partition_mapping?.[source] ?? source
    let d = out.get(target)
    if (!d) out.set(target, (d = new PartitionDigest()))
    for (const seg of bySource.get(source)!.sort((a, b) => a.first_offset - b.first_offset)) {
      const bytes = await deps.store.get(seg.key)
      if (sha256Hex(bytes) !== seg.sha256) {
        throw new KbkError('KBK_SEGMENT_CORRUPT', `Segment ${seg.key} does not match what kbk wrote (sha256 differs): the drill cannot compare against it.`, {
          suggestion: 'Run `kbk verify --deep` to see which segments are damaged.',
          kind: 'environment',
        })
      }
      for await (const block of readSegment([bytes], {keyring: deps.keyring, objectName: seg.key})) for (const r of block) if (r.timestamp <= pitMs) d.add(r)
    }
  }
  return out
}

/** What the scratch topic holds above the restore's base offsets, per partition. */
async function restoredDigestsOf(t: RestoreTopicPlan, base: Record<number, number>, kafka: KafkaPort): Promise<Map<number, PartitionDigest>> {
  const wm = await kafka.watermarks(t.target_topic)
  const out = new Map<number, PartitionDigest>()
  const ranges = wm.map((w) => ({partition: w.partition, from: Math.max(base[w.partition] ?? 0, w.low), to: w.high})).filter((r) => r.to > r.from)
  for (const w of wm) out.set(w.partition, new PartitionDigest())
  if (ranges.length === 0) return out
  await kafka.readRanges(t.target_topic, ranges, async (partition, records) => {
    const d = out.get(partition)!
    for (const r of records) d.add(r)
  })
  return out
}

async function checkGroups(run: RestoreRun, restored: RestoreRecord, deps: ValidateDeps): Promise<DrillEvidence['consumer_groups']> {
  if (run.consumer_groups.length === 0) return []
  let map: OffsetMapFile | undefined
  if (restored.offset_map_key) map = JSON.parse((await deps.store.get(restored.offset_map_key)).toString('utf8')) as OffsetMapFile
  const committed = await deps.kafka.groupOffsets(run.consumer_groups)
  const out: DrillEvidence['consumer_groups'] = []
  for (const group of run.consumer_groups) {
    for (const t of run.topics) {
      const source = deps.snapshot.topics[topicKey(run.policy, t.source_topic)]?.group_offsets?.[group]
      if (!source) continue
      const expected = Object.fromEntries(translateGroupOffsets(source, map?.topics[t.source_topic]?.partitions ?? {}, t).map((o) => [o.partition, o.offset]))
      const found: Record<number, number> = {...(committed.find((g) => g.groupId === group)?.offsets[t.target_topic] ?? {})}
      const ok = Object.entries(expected).every(([p, o]) => found[Number(p)] === o)
      out.push({group, topic: t.target_topic, expected, found, ok})
    }
  }
  return out
}
