// The progress subscribers, fed recorded events with an injected clock (no real waiting): plain
// CI lines throttle progress to one line per change per 10 s ("Still running... [10s elapsed]"),
// progress shows percent and ETA from the plan's totals, and NDJSON lines each carry `ts`.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {ApplyEvent} from '../../../src/apply/events.js'
import {describeEvent, formatProgressShare, ndjsonReporter, plainReporter, planTotals} from '../../../src/format/progress.js'
import type {ResourceChange} from '../../../src/plan/types.js'

const A = 'backup.orders["orders.created"]'

function progress(records: number, elapsed: number): ApplyEvent {
  return {type: 'backup.progress', address: A, records, bytes: records * 100, stored_bytes: records * 10, partitions_done: 0, partitions: 2, elapsed_ms: elapsed}
}

function recordingPlain(totals = new Map([[A, {records: 10_000}]])) {
  let t = 1_000_000
  const lines: string[] = []
  const r = plainReporter({write: (l) => lines.push(l), now: () => t, totals, timer: false})
  return {r, lines, advance: (ms: number) => (t += ms)}
}

describe('plain reporter', () => {
  it('prints progress of a change at most every 10 s, with elapsed time, percent and ETA', () => {
    const {r, lines, advance} = recordingPlain()
    r.emit({type: 'change.start', address: A, action: 'run'})
    assert.equal(lines.length, 1)
    // Progress every 500 ms for 25 s: only the ones at 10 s and 20 s are printed.
    for (let i = 1; i <= 50; i++) {
      advance(500)
      r.emit(progress(i * 100, i * 500))
    }
    const still = lines.filter((l) => l.includes('Still running'))
    assert.equal(still.length, 2, lines.join(''))
    assert.match(still[0]!, / backup\.orders\["orders\.created"\]: Still running\.\.\. \[10s elapsed\] 20% of 10,000 record\(s\), ETA 40s — 2,000 record\(s\)/)
    assert.match(still[1]!, /\[20s elapsed\] 40% of 10,000 record\(s\), ETA 30s/)
    advance(1000)
    r.emit({type: 'change.done', address: A, summary: '10,000 record(s) in 2 segment(s)', duration_ms: 26_000})
    assert.match(lines.at(-1)!, /: 10,000 record\(s\) in 2 segment\(s\) \[26s\]\n$/)
    // Every line is timestamped by the (injected) clock.
    for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT[\d:.]+Z /)
  })

  it('a change that reports nothing still gets a line every 10 s from tick()', () => {
    const {r, lines, advance} = recordingPlain()
    r.emit({type: 'change.start', address: 'restore.drill', action: 'run'})
    advance(9_999)
    r.tick()
    assert.equal(lines.length, 1)
    advance(1)
    r.tick()
    assert.match(lines.at(-1)!, /restore\.drill: Still running\.\.\. \[10s elapsed\]\n$/)
    r.tick()
    assert.equal(lines.length, 2, 'not again within 10 s')
    r.emit({type: 'change.done', address: 'restore.drill', summary: 'done', duration_ms: 10_000})
    advance(60_000)
    r.tick()
    assert.equal(lines.length, 3, 'nothing for a finished change')
  })

  it('starts, ends, failures and warnings are never throttled', () => {
    const {r, lines} = recordingPlain()
    r.emit({type: 'change.start', address: A, action: 'run'})
    r.emit({type: 'warning', address: A, message: 'slow broker'})
    r.emit({type: 'change.failed', address: A, code: 'KBK_X', message: 'boom'})
    assert.equal(lines.length, 3)
    assert.match(lines[2]!, /FAILED KBK_X: boom/)
  })
})

describe('progress text', () => {
  it('percent and ETA come from the plan totals; none without them', () => {
    const totals = new Map([[A, {records: 1000}]])
    assert.match(describeEvent(progress(250, 5000), totals)!, /: 25% of 1,000 record\(s\), ETA 15s — 250 record\(s\), 24\.4 KiB read \(4\.9 KiB\/s\), 2\.4 KiB stored, 0\/2 partition\(s\) done$/)
    assert.doesNotMatch(describeEvent(progress(250, 5000))!, /%|ETA/)
    assert.equal(formatProgressShare(0, {records: 1000}, 0), '0% of 1,000 record(s)')
    assert.equal(formatProgressShare(1000, {records: 1000}, 9000), '100% of 1,000 record(s)')
    const restore: ApplyEvent = {type: 'restore.progress', address: 'restore.drill', records: 50, bytes: 1, topic: 't'}
    assert.equal(describeEvent(restore, new Map([['restore.drill', {records: 200}]]), 2000), 'restore.drill: 25% of 200 record(s), ETA 6.0s — 50 record(s) restored to t')
  })

  it('planTotals takes backups and restores with something to move', () => {
    const changes = [
      {address: A, backup: {estimated_records: 10, estimated_bytes: 99}},
      {address: 'backup.x["empty"]', backup: {estimated_records: 0}},
      {address: 'restore.r', restore: {estimated_records: 7, estimated_bytes: 70}},
      {address: 'policy.orders'},
    ] as unknown as ResourceChange[]
    assert.deepEqual([...planTotals(changes)], [
      [A, {records: 10, bytes: 99}],
      ['restore.r', {records: 7, bytes: 70}],
    ])
  })
})

describe('ndjson reporter', () => {
  it('writes one line per event, `ts` first', () => {
    const lines: string[] = []
    const r = ndjsonReporter((l) => lines.push(l), () => new Date('2026-01-02T03:04:05.006Z'))
    r.emit({type: 'change.failed', address: A, code: 'KBK_X', message: 'two\nlines'})
    assert.equal(lines.length, 1)
    assert.ok(lines[0]!.startsWith('{"ts":"2026-01-02T03:04:05.006Z","type":"change.failed"'))
    assert.equal(lines[0]!.split('\n').length, 2, 'exactly one newline, at the end')
  })
})
