// `kbk verify`: an untested backup is a hope. Shallow: every recorded object exists with its
// recorded size. Deep: every segment is streamed, every checksum checked, every record decrypted
// and decoded, offsets checked against the state — with bounded memory and bounded concurrency.
import {pushTo} from '../collections.js'
import {createHash} from 'node:crypto'
import type {Readable} from 'node:stream'
import {asKbkError} from '../errors.js'
import {backupAddress} from '../plan/addresses.js'
import {mapLimit} from '../storage/keys.js'
import {readSegment} from '../segment/index.js'
import type {ObjectStore} from '../storage/object-store.js'
import type {StateStore} from '../state/state-store.js'
import type {PartitionSummary, SegmentRef, StateSnapshot} from '../state/types.js'

export type VerifyProblemKind = 'missing' | 'size' | 'checksum' | 'corrupt' | 'offsets' | 'count' | 'overlap' | 'hole' | 'key'

export interface VerifyProblem {
  address: string
  key: string
  partition: number
  kind: VerifyProblemKind
  message: string
}

export interface VerifyReport {
  deep: boolean
  ok: boolean
  objects: number
  bytes: number
  records: number
  problems: VerifyProblem[]
}

export interface VerifyOptions {
  deep: boolean
  policy?: string
  topic?: string
  keyring: (policy: string) => Map<string, Buffer>
  concurrency?: number
  onProgress?: (done: number, total: number, bytes: number) => void
}

export async function verifyBackups(snapshot: StateSnapshot, state: StateStore, store: ObjectStore, options: VerifyOptions): Promise<VerifyReport> {
  const report: VerifyReport = {deep: options.deep, ok: true, objects: 0, bytes: 0, records: 0, problems: []}
  const topics = Object.values(snapshot.topics).filter((index) => (!options.policy || index.policy === options.policy) && (!options.topic || index.topic === options.topic))
  // The total is known from the state's summaries, without loading any segment list.
  const total = topics.reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.segment_count, 0), 0)
  let done = 0
  // One topic's segment list at a time: memory follows the largest topic, not the whole store.
  for (const index of topics) {
    const segments = await state.loadSegments(snapshot, index.policy, index.topic)
    checkContinuity(segments, report, index.partitions)
    await mapLimit(segments, options.concurrency ?? 4, async (seg) => {
      const address = backupAddress(seg.policy, seg.topic)
      const problem = (kind: VerifyProblemKind, message: string): void => {
        report.problems.push({address, key: seg.key, partition: seg.partition, kind, message})
      }
      const head = await store.head(seg.key)
      if (!head) problem('missing', `recorded segment is missing from the store (partition ${seg.partition}, offsets ${seg.first_offset}..${seg.last_offset}, ${seg.records} record(s))`)
      else if (head.size !== seg.bytes) problem('size', `size is ${head.size} bytes; kbk wrote ${seg.bytes}`)
      else if (options.deep) await verifyDeep(seg, store, options.keyring(seg.policy), report, problem)
      report.objects++
      report.bytes += head?.size ?? 0
      options.onProgress?.(++done, total, report.bytes)
    })
  }
  report.problems.sort((a, b) => a.key.localeCompare(b.key) || a.kind.localeCompare(b.kind))
  report.ok = report.problems.length === 0
  return report
}

async function verifyDeep(seg: SegmentRef, store: ObjectStore, keyring: Map<string, Buffer>, report: VerifyReport, problem: (kind: VerifyProblemKind, message: string) => void): Promise<void> {
  const hash = createHash('sha256')
  let stream: Readable
  try {
    stream = await store.getStream(seg.key)
  } catch (error) {
    problem('missing', asKbkError(error).message)
    return
  }
  async function* hashing(): AsyncGenerator<Buffer> {
    for await (const chunk of stream) {
      const b = chunk as Buffer
      hash.update(b)
      yield b
    }
  }
  let count = 0
  let previous = -1
  let first: number | undefined
  try {
    for await (const batch of readSegment(hashing(), {keyring, objectName: seg.key})) {
      for (const r of batch) {
        if (r.offset <= previous) {
          problem('offsets', `offset ${r.offset} follows ${previous}: offsets must increase`)
          return
        }
        first ??= r.offset
        previous = r.offset
        count++
      }
    }
  } catch (error) {
    const e = asKbkError(error)
    problem(e.code.startsWith('KBK_SEGMENT_KEY') ? 'key' : 'corrupt', `${e.code}: ${e.message}`)
    return
  }
  report.records += count
  const digest = hash.digest('hex')
  if (digest !== seg.sha256) problem('checksum', `sha256 is ${digest.slice(0, 16)}…; kbk recorded ${seg.sha256.slice(0, 16)}…`)
  if (count !== seg.records) problem('count', `holds ${count} record(s); the state records ${seg.records}`)
  if (count > 0 && (first !== seg.first_offset || previous !== seg.last_offset)) problem('offsets', `holds offsets ${first}..${previous}; the state records ${seg.first_offset}..${seg.last_offset}`)
}

/**
 * Segments of a partition never overlap, and consecutive segments' covered spans abut: the offsets
 * between two segments' records are explained by the spans (markers, aborted or compacted records
 * the backup consumed) or by a recorded gap (data loss). Anything else is a hole: records that
 * Kafka held may be missing from the backup. Segments written before spans were recorded are
 * only checked for overlap.
 */
export function checkContinuity(segments: SegmentRef[], report: VerifyReport, partitions: readonly PartitionSummary[] = []): void {
  const byPartition = new Map<string, SegmentRef[]>()
  for (const s of segments) {
    const k = `${s.policy}/${s.topic}/${s.partition}`
    pushTo(byPartition, k, s)
  }
  for (const list of byPartition.values()) {
    const sorted = [...list].sort((a, b) => a.first_offset - b.first_offset)
    const gaps = partitions.find((p) => p.partition === sorted[0]!.partition)?.gaps ?? []
    for (let i = 0; i < sorted.length; i++) {
      const b = sorted[i]!
      const address = backupAddress(b.policy, b.topic)
      if (b.covers_from !== undefined && b.covers_to !== undefined && (b.first_offset < b.covers_from || b.last_offset >= b.covers_to)) {
        report.problems.push({address, key: b.key, partition: b.partition, kind: 'offsets', message: `holds offsets ${b.first_offset}..${b.last_offset} outside the span it accounts for (${b.covers_from}..${b.covers_to - 1})`})
      }
      if (i === 0) continue
      const a = sorted[i - 1]!
      if (b.first_offset <= a.last_offset) {
        report.problems.push({address, key: b.key, partition: b.partition, kind: 'overlap', message: `offsets ${b.first_offset}..${b.last_offset} overlap ${a.key} (${a.first_offset}..${a.last_offset}): records would be restored twice`})
        continue
      }
      if (a.covers_to === undefined || b.covers_from === undefined || b.covers_from <= a.covers_to) continue
      const from = a.covers_to
      const to = b.covers_from
      if (gaps.some((g) => g.from <= from && g.to >= to)) continue
      report.problems.push({
        address,
        key: b.key,
        partition: b.partition,
        kind: 'hole',
        message: `offsets ${from}..${to - 1} between ${a.key} and this segment are in no segment and no recorded gap: records Kafka held there may be missing from the backup`,
      })
    }
  }
}

/**
 * The read-back after a backup run (policies.X.verify): the segments it just wrote, shallow
 * (each object is there with its size) or deep (streamed, checksummed, decrypted, decoded, offsets
 * checked), and their continuity with the partition's earlier segments.
 */
export async function verifySegments(written: SegmentRef[], all: SegmentRef[], store: ObjectStore, options: {deep: boolean; keyring: Map<string, Buffer>; partitions?: readonly PartitionSummary[]}): Promise<VerifyReport> {
  const report: VerifyReport = {deep: options.deep, ok: true, objects: 0, bytes: 0, records: 0, problems: []}
  const keys = new Set(written.map((s) => s.key))
  const continuity: VerifyReport = {...report, problems: []}
  checkContinuity(all, continuity, options.partitions)
  report.problems.push(...continuity.problems.filter((p) => keys.has(p.key)))
  await mapLimit(written, 4, async (seg) => {
    const problem = (kind: VerifyProblemKind, message: string): void => {
      report.problems.push({address: backupAddress(seg.policy, seg.topic), key: seg.key, partition: seg.partition, kind, message})
    }
    const head = await store.head(seg.key)
    if (!head) problem('missing', `the segment just written is not in the store (partition ${seg.partition}, offsets ${seg.first_offset}..${seg.last_offset})`)
    else if (head.size !== seg.bytes) problem('size', `size is ${head.size} bytes; kbk wrote ${seg.bytes}`)
    else if (options.deep) await verifyDeep(seg, store, options.keyring, report, problem)
    report.objects++
    report.bytes += head?.size ?? 0
  })
  report.problems.sort((a, b) => a.key.localeCompare(b.key) || a.kind.localeCompare(b.kind))
  report.ok = report.problems.length === 0
  return report
}
