// The closing lines of an apply: an interrupted one says in one line what was committed, what
// stopped part-way and what never started; a failed one says what it committed before it stopped.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import type {ApplyOutcome} from '../../../src/apply/apply-plan.js'
import {formatApplySummary} from '../../../src/format/apply-text.js'

const base: ApplyOutcome = {
  ok: false,
  run_id: 'r',
  started_at: '2026-03-22T10:00:00.000Z',
  finished_at: '2026-03-22T10:00:10.000Z',
  changes: [
    {address: 'policy.events', status: 'done', message: 'created'},
    {address: 'backup.events["a"]', status: 'interrupted', code: 'KBK_APPLY_INTERRUPTED', message: 'stopped by SIGTERM', records: 287219, segments: 6},
    {address: 'backup.events["b"]', status: 'skipped', code: 'KBK_APPLY_INTERRUPTED', message: 'not started: apply stopped by SIGTERM'},
    {address: 'restore.r', status: 'skipped', code: 'KBK_APPLY_INTERRUPTED', message: 'not started: apply stopped by SIGTERM'},
  ],
  summary: {changes: 4, done: 1, failed: 0, skipped: 2, interrupted: 1, records: 287219, bytes: 1, stored_bytes: 2048, segments: 6, deleted_segments: 0, restored_records: 0},
  interrupted: 'SIGTERM',
}

describe('formatApplySummary', () => {
  it('gives an interrupted apply one line: committed, stopped part-way, not started', () => {
    process.env.NO_COLOR = '1'
    const text = formatApplySummary(base)
    assert.equal(text.split('\n').length, 1, text)
    assert.match(text, /^Apply interrupted by SIGTERM: committed 287,219 record\(s\) in 6 segment\(s\) \(2(\.0)? KiB stored\); 1 change\(s\) done, backup\.events\["a"\] stopped part-way, 2 not started\./)
  })

  it('says what a failed apply committed before it stopped', () => {
    const {interrupted: _i, ...failed} = base
    const text = formatApplySummary({...failed, changes: [{address: 'backup.events["a"]', status: 'failed', code: 'KBK_STORE_IO', message: 'x'}], summary: {...base.summary, failed: 1, interrupted: undefined}})
    assert.match(text, /Apply failed: 1 of 4 change\(s\) failed; 1 done\. Committed before it stopped: 287,219 record\(s\) backed up/)
  })
})
