// SegmentRefs for state tests: policy "p", topic "t" unless `over` says otherwise; only the offsets vary.
import type {SegmentRef} from '../../src/state/types.js'

const pad = (n: number): string => String(n).padStart(20, '0')

export function segRef(partition: number, first: number, last: number, over: Partial<SegmentRef> = {}): SegmentRef {
  const policy = over.policy ?? 'p'
  const topic = over.topic ?? 't'
  return {
    key: `data/${policy}/${topic}/${partition}/${pad(first)}-${pad(last)}.kbs`,
    policy,
    topic,
    partition,
    first_offset: first,
    last_offset: last,
    records: last - first + 1,
    bytes: 100,
    uncompressed_bytes: 400,
    min_timestamp: 0,
    max_timestamp: 0,
    sha256: 'ab'.repeat(32),
    run_id: 'run-1',
    written_at: '2026-03-01T00:00:00.000Z',
    ...over,
  }
}

export function seg(partition: number, first: number, last: number): SegmentRef {
  return segRef(partition, first, last)
}
