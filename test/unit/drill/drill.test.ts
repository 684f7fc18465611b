// Pure pieces of drills and runbooks: the record digest, naming the first differing record, when
// a drill is due, evidence links the audit verification checks, env var names, command extraction.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {appendAuditEntry, readAuditEntries} from '../../../src/audit/audit-log.js'
import {listDrillRuns, verifyEvidenceLinks, writeEvidence, type DrillEvidence} from '../../../src/audit/evidence.js'
import {envNamesOf} from '../../../src/config/env-names.js'
import {PartitionDigest, firstMismatch, recordBytes} from '../../../src/drill/digest.js'
import {summarizeDrills} from '../../../src/format/drill-report.js'
import {extractCommands, formatRunbookMarkdown} from '../../../src/format/runbook.js'
import {isDrillDue, scratchSuffix} from '../../../src/plan/planners/drill.js'
import type {DesiredRestore} from '../../../src/plan/types.js'
import {MemoryStore} from '../../helpers/memory-store.js'

const rec = (offset: number, value: string | null, extra: Partial<{key: Buffer | null; headers: Array<{key: string; value: Buffer | null}>; timestamp: number}> = {}) => ({
  offset,
  timestamp: extra.timestamp ?? 1_700_000_000_000 + offset,
  timestampType: 'create' as const,
  key: extra.key === undefined ? Buffer.from('k') : extra.key,
  value: value === null ? null : Buffer.from(value),
  headers: extra.headers ?? [],
})

describe('record digest', () => {
  it('tells null from empty, and header order and duplicates apart', () => {
    assert.notDeepEqual(recordBytes(rec(0, null)), recordBytes(rec(0, '')))
    assert.notDeepEqual(recordBytes(rec(0, 'v', {key: null})), recordBytes(rec(0, 'v', {key: Buffer.alloc(0)})))
    const h = (k: string, v: string) => ({key: k, value: Buffer.from(v)})
    assert.notDeepEqual(recordBytes(rec(0, 'v', {headers: [h('a', '1'), h('b', '2')]})), recordBytes(rec(0, 'v', {headers: [h('b', '2'), h('a', '1')]})))
    assert.notDeepEqual(recordBytes(rec(0, 'v', {headers: [h('a', '1')]})), recordBytes(rec(0, 'v', {headers: [h('a', '1'), h('a', '1')]})))
    // The offset is not part of it: a restore assigns new offsets.
    assert.deepEqual(recordBytes(rec(0, 'v', {timestamp: 5})), recordBytes(rec(9, 'v', {timestamp: 5})))
  })

  it('names the first record that differs, a missing one and an extra one', () => {
    const expected = new PartitionDigest()
    const restored = new PartitionDigest()
    for (let i = 0; i < 5; i++) {
      expected.add(rec(100 + i, `v${i}`, {timestamp: i}))
      restored.add(rec(i, i === 3 ? 'tampered' : `v${i}`, {timestamp: i}))
    }
    assert.notEqual(expected.digest(), restored.digest())
    assert.deepEqual(firstMismatch(expected, restored), {index: 3, restoredOffset: 3, sourceOffset: 103})
    const short = new PartitionDigest()
    for (let i = 0; i < 4; i++) short.add(rec(i, `v${i}`, {timestamp: i}))
    const full = new PartitionDigest()
    for (let i = 0; i < 5; i++) full.add(rec(100 + i, `v${i}`, {timestamp: i}))
    assert.deepEqual(firstMismatch(full, short), {index: 4, sourceOffset: 104})
    assert.deepEqual(firstMismatch(short, full), {index: 4, restoredOffset: 104})
    const same = new PartitionDigest()
    for (let i = 0; i < 4; i++) same.add(rec(50 + i, `v${i}`, {timestamp: i}))
    assert.equal(firstMismatch(short, same), undefined)
    assert.equal(short.digest(), same.digest())
  })
})

describe('drill schedule', () => {
  const restore = (drill?: DesiredRestore['drill']): DesiredRestore =>
    ({name: 'd', policy: 'p', cluster: 'c', pointInTime: 'latest', include: [], exclude: [], rename: {}, createTopics: true, configs: {}, translateGroups: [], ifTargetNotEmpty: 'fail', extendRetention: false, settings: {}, ...(drill ? {drill} : {})}) as DesiredRestore
  const now = new Date('2026-03-30T10:15:00Z')
  it('is due until it passes, then when the last pass is older than every', () => {
    assert.equal(isDrillDue(restore(), {}, now), false, 'not a drill')
    assert.equal(isDrillDue(restore({cleanup: true}), {}, now), true)
    assert.equal(isDrillDue(restore({cleanup: true}), {last_pass: '2020-01-01T00:00:00Z'}, now), false, 'without every: once')
    const every = restore({everyMs: 30 * 86_400_000, cleanup: true})
    assert.equal(isDrillDue(every, {last_pass: '2026-03-01T10:15:00Z'}, now), false)
    assert.equal(isDrillDue(every, {last_pass: '2026-02-27T10:15:00Z'}, now), true)
    assert.equal(isDrillDue(every, {last_run: '2026-03-29T00:00:00Z', last_result: 'fail'}, now), true, 'a failed run does not count')
    assert.equal(scratchSuffix(now), '-drill-20260330101500')
  })
})

function evidence(result: 'pass' | 'fail', started: string, rto: {target_ms: number | null; measured_ms: number; ok: boolean}): DrillEvidence {
  return {kind: 'kbk.drill-evidence', version: 1, drill: 'd', run_id: started.slice(-6), who: 'a@b', started_at: started, finished_at: started, kbk_version: '0', workspace_digest: 'sha256:x', policy: 'p', store: 's', cluster: 'c', point_in_time: started, plan_digest: 'sha256:y', plan: {}, topics: [], consumer_groups: [], rto, records: 1, bytes: 1, cleanup: 'deleted', result, reasons: result === 'pass' ? [] : ['x']}
}

describe('drill evidence in the store', () => {
  it('lists runs from the keys, and audit verification catches an edited, removed or unlinked evidence object', async () => {
    const store = new MemoryStore()
    const link = async (e: DrillEvidence) => {
      const {key, sha256} = await writeEvidence(store, e)
      await appendAuditEntry(store, {at: e.started_at, who: 'a@b', kbk_version: '0', run_id: e.run_id, plan_digest: 'x', config_digest: 'y', outcome: 'success', actions: [], counts: {}, evidence: {key, sha256}})
      return key
    }
    const k1 = await link(evidence('pass', '2026-03-01T10:00:00.000Z', {target_ms: 1000, measured_ms: 500, ok: true}))
    const k2 = await link(evidence('fail', '2026-03-02T10:00:00.000Z', {target_ms: 1000, measured_ms: 5000, ok: false}))
    assert.deepEqual(await listDrillRuns(store), {d: {last_run: '2026-03-02T10:00:00.000Z', last_result: 'fail', last_pass: '2026-03-01T10:00:00.000Z'}})
    assert.deepEqual(await verifyEvidenceLinks(store, await readAuditEntries(store)), [])
    const edited = JSON.parse((await store.get(k1)).toString()) as DrillEvidence
    edited.result = 'pass'
    edited.rto.measured_ms = 1
    await store.put(k1, Buffer.from(JSON.stringify(edited, null, 1)))
    await store.delete([k2])
    await store.put('_kbk/drills/d/20260303T000000000Z-pass-forged.json', Buffer.from('{}'))
    const problems = await verifyEvidenceLinks(store, await readAuditEntries(store))
    assert.deepEqual(problems.map((p) => [p.key, p.kind]), [[k1, 'altered'], [k2, 'removed'], ['_kbk/drills/d/20260303T000000000Z-pass-forged.json', 'unreadable']])
  })

  it('RTO compliance counts drills with a target', () => {
    const s = summarizeDrills({generated_at: '', since: null, workspace_digest: '', kbk_version: '', unreadable: [], declared: [{drill: 'd', policy: 'p', every: '30d', rto: '1s', last_pass: null, overdue: true}], evidence: [
      {key: 'a', evidence: evidence('pass', '2026-03-01T10:00:00.000Z', {target_ms: 1000, measured_ms: 500, ok: true})},
      {key: 'b', evidence: evidence('fail', '2026-03-02T10:00:00.000Z', {target_ms: 1000, measured_ms: 5000, ok: false})},
      {key: 'c', evidence: evidence('pass', '2026-03-03T10:00:00.000Z', {target_ms: null, measured_ms: 5000, ok: true})},
    ]})
    assert.deepEqual(s, {runs: 3, passed: 2, failed: 1, rto_measured: 2, rto_met: 1, rto_compliance_pct: 50, overdue: ['d']})
  })
})

describe('runbook helpers', () => {
  it('env var names, never values; $${ is literal', () => {
    assert.deepEqual(envNamesOf('a: "${B_KEY}"\nc: ${A:-x}\nd: "$${NOT}" ${B_KEY}'), ['A', 'B_KEY'])
  })
  it('extracts every line of every sh block, in order, and nothing else', () => {
    const md = formatRunbookMarkdown(
      {id: 'x', title: 'X', summary: 's', estimate: {minutes: 3, basis: 'b'}, prerequisites: ['p'], steps: [{title: 'one', commands: ['kbk validate'], validate: {commands: ['kbk plan'], expect: 'ok'}}, {title: 'two', commands: ['kbk fmt', 'kbk apply x.plan'], validate: {commands: [], expect: 'ok'}}], rollback: ['undo'], rollbackCommands: ['kbk plan']},
      {workspace_digest: 'sha256:abc', kbk_version: '1'},
    )
    assert.deepEqual(extractCommands(md), ['kbk validate', 'kbk plan', 'kbk fmt', 'kbk apply x.plan', 'kbk plan'])
    assert.deepEqual(extractCommands('```yaml\na: 1\n```\n```sh\nls\n```'), ['ls'])
  })
})
