// A SegmentRef of policy "p", topic "t" for state tests: only the offsets vary.
import type {SegmentRef} from '../../src/state/types.js'

export function seg(partition: number, first: number, last: number): SegmentRef {
  return {
    key: `data/p/t/${partition}/${String(first).padStart(20, '0')}-${String(last).padStart(20, '0')}.kbs`,
    policy: 'p',
    topic: 't',
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
  }
}
