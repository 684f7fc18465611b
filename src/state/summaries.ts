// Pure bookkeeping of partition summaries: incremental on append (the common path of a backup
// run) and recomputed from the remaining segments on expiry, so totals never drift.
import type {Gap, PartitionSummary, SegmentRef} from './types.js'

export function emptyPartition(partition: number, nextOffset = 0): PartitionSummary {
  return {partition, next_offset: nextOffset, first_offset: nextOffset, segment_count: 0, records: 0, bytes: 0, uncompressed_bytes: 0, gaps: []}
}

function earlier(a: string | undefined, b: string): string {
  return a === undefined || Date.parse(b) < Date.parse(a) ? b : a
}

function later(a: string | undefined, b: string): string {
  return a === undefined || Date.parse(b) > Date.parse(a) ? b : a
}

/** Returns a new summary with `segments` (all of this partition) added; never mutates its input. */
export function addSegmentsToSummary(summary: PartitionSummary, segments: readonly SegmentRef[]): PartitionSummary {
  const s: PartitionSummary = {...summary, gaps: [...summary.gaps]}
  for (const seg of segments) {
    s.first_offset = s.segment_count === 0 ? seg.first_offset : Math.min(s.first_offset, seg.first_offset)
    s.segment_count += 1
    s.records += seg.records
    s.bytes += seg.bytes
    s.uncompressed_bytes += seg.uncompressed_bytes
    s.min_timestamp = s.min_timestamp === undefined ? seg.min_timestamp : Math.min(s.min_timestamp, seg.min_timestamp)
    s.max_timestamp = s.max_timestamp === undefined ? seg.max_timestamp : Math.max(s.max_timestamp, seg.max_timestamp)
    s.oldest_written_at = earlier(s.oldest_written_at, seg.written_at)
    s.newest_written_at = later(s.newest_written_at, seg.written_at)
    s.covered_to = Math.max(s.covered_to ?? 0, seg.covers_to ?? seg.last_offset + 1)
    // A segment is only recorded once durable, so the checkpoint is at least past it.
    s.next_offset = Math.max(s.next_offset, seg.last_offset + 1)
  }
  return s
}

/** The summary of a partition holding exactly `segments`, keeping its checkpoint and gaps. */
export function summarizePartition(partition: number, nextOffset: number, gaps: readonly Gap[], segments: readonly SegmentRef[], coveredTo?: number): PartitionSummary {
  const s = addSegmentsToSummary({...emptyPartition(partition, nextOffset), gaps: [...gaps]}, segments)
  // Expiry removes the oldest segments only: what was covered stays covered.
  if (coveredTo !== undefined) s.covered_to = Math.max(s.covered_to ?? 0, coveredTo)
  return s
}

/** Moves the checkpoint; with no segments held, the earliest restorable offset moves with it. */
export function withNextOffset(summary: PartitionSummary, nextOffset: number): PartitionSummary {
  return {...summary, next_offset: nextOffset, first_offset: summary.segment_count === 0 ? nextOffset : summary.first_offset}
}

/** Gaps sorted by start, exact duplicates dropped (a retried commit must not double them). */
export function mergeGaps(existing: readonly Gap[], added: readonly Gap[]): Gap[] {
  const seen = new Set<string>()
  const out: Gap[] = []
  for (const g of [...existing, ...added]) {
    const id = `${g.from}:${g.to}:${g.reason}`
    if (seen.has(id)) continue
    seen.add(id)
    out.push(g)
  }
  return out.sort((a, b) => a.from - b.from || a.to - b.to)
}

export function compareSegments(a: SegmentRef, b: SegmentRef): number {
  return a.partition - b.partition || a.first_offset - b.first_offset || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
}
