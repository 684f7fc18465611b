import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {PartitionSummary, SegmentRef} from '../../../src/state/types.js'
import {checkContinuity} from '../../../src/verify/verify-backups.js'
import type {VerifyReport} from '../../../src/verify/verify-backups.js'

function seg(first: number, last: number, covers?: [number, number]): SegmentRef {
  return {
    key: `data/p/t/0/${first}-${last}.kbs`,
    policy: 'p',
    topic: 't',
    partition: 0,
    first_offset: first,
    last_offset: last,
    records: last - first + 1,
    bytes: 1,
    uncompressed_bytes: 1,
    min_timestamp: 0,
    max_timestamp: 0,
    sha256: '',
    run_id: 'r',
    written_at: '2026-01-01T00:00:00Z',
    ...(covers ? {covers_from: covers[0], covers_to: covers[1]} : {}),
  }
}

function check(segments: SegmentRef[], gaps: PartitionSummary['gaps'] = []): string[] {
  const report: VerifyReport = {deep: true, ok: true, objects: 0, bytes: 0, records: 0, problems: []}
  const summary: PartitionSummary = {partition: 0, next_offset: 100, first_offset: 0, segment_count: segments.length, records: 0, bytes: 0, uncompressed_bytes: 0, gaps}
  checkContinuity(segments, report, [summary])
  return report.problems.map((p) => `${p.kind} ${p.key}`)
}

describe('verify: continuity of covered spans', () => {
  it('accepts segments whose spans abut, whatever the offsets between their records', () => {
    // 10 and 11 are transaction markers consumed by the first run; 20..24 compacted away.
    assert.deepEqual(check([seg(0, 9, [0, 12]), seg(12, 19, [12, 25]), seg(25, 30, [25, 31])]), [])
  })

  it('names a hole no span and no recorded gap explains', () => {
    assert.deepEqual(check([seg(0, 9, [0, 10]), seg(15, 19, [15, 20])]), ['hole data/p/t/0/15-19.kbs'])
  })

  it('accepts a hole that is a recorded data-loss gap', () => {
    assert.deepEqual(check([seg(0, 9, [0, 10]), seg(15, 19, [15, 20])], [{from: 10, to: 15, reason: 'retention-loss', detected_at: ''}]), [])
  })

  it('names overlapping segments, and records outside their own span', () => {
    assert.deepEqual(check([seg(0, 9, [0, 10]), seg(5, 12, [10, 13])]), ['offsets data/p/t/0/5-12.kbs', 'overlap data/p/t/0/5-12.kbs'])
  })

  it('only checks overlap for segments written before spans were recorded', () => {
    assert.deepEqual(check([seg(0, 9), seg(15, 19)]), [])
  })
})
