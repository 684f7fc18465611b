// Scale check for the state layout on the real fs store: 1,000 topics × 10 partitions × 100
// segments (10,000 partitions, 1,000,000 segments). It prints how long read() and loading every
// segment list take — figures for docs/state.md, not timed assertions — and asserts only what
// the layout promises: the head stays free of segments, read() reads one index per topic, and
// a small commit rewrites only what it touched.
// Under `npm test` it runs at a tenth of that (building the full state takes over a minute on a
// small machine); KBK_STATE_SCALE=1 node scripts/test.mjs --quick state-scale runs it full size.
import {describe, it, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {StateStore, mapLimit, type StateRead} from '../../src/state/state-store.js'
import {HEAD_KEY} from '../../src/state/layout.js'
import type {SegmentRef} from '../../src/state/types.js'
import {isBufferList, type ObjectStore} from '../../src/storage/object-store.js'
import {FsObjectStore} from '../../src/storage/fs-store.js'

const scale = Number(process.env.KBK_STATE_SCALE ?? '0.1')
const TOPICS = Math.max(1, Math.round(1000 * scale))
const PARTITIONS = 10
const SEGMENTS = 100
/** Segments arrive over several runs, so each topic has several chunks, as in real use. */
const RUNS = 4

/** Counts the calls a real adapter receives. */
function counting(store: ObjectStore): {store: ObjectStore; counts: {get: number; put: number; putBytes: number}} {
  const counts = {get: 0, put: 0, putBytes: 0}
  const wrapped = Object.create(store) as ObjectStore
  wrapped.get = (key) => {
    counts.get++
    return store.get(key)
  }
  wrapped.put = (key, body, options) => {
    counts.put++
    if (Buffer.isBuffer(body)) counts.putBytes += body.length
    else if (isBufferList(body)) counts.putBytes += body.reduce((n, b) => n + b.length, 0)
    return store.put(key, body, options)
  }
  return {store: wrapped, counts}
}

function segmentsFor(topic: string, run: number): SegmentRef[] {
  const out: SegmentRef[] = []
  const per = SEGMENTS / RUNS
  for (let p = 0; p < PARTITIONS; p++) {
    for (let i = run * per; i < (run + 1) * per; i++) {
      const first = i * 1000
      out.push({
        key: `data/scale/${topic}/${p}/${String(first).padStart(20, '0')}-${String(first + 999).padStart(20, '0')}.kbk`,
        policy: 'scale',
        topic,
        partition: p,
        first_offset: first,
        last_offset: first + 999,
        records: 1000,
        bytes: 65_536,
        uncompressed_bytes: 262_144,
        min_timestamp: 1_770_000_000_000 + first,
        max_timestamp: 1_770_000_000_000 + first + 999,
        sha256: 'c0ffee'.padEnd(64, '0'),
        run_id: `run-${run}`,
        written_at: new Date(Date.UTC(2026, 2, 1 + run)).toISOString(),
      })
    }
  }
  return out
}

const ms = (t0: number) => Math.round(performance.now() - t0)

describe(`state at scale: ${TOPICS} topics × ${PARTITIONS} partitions × ${SEGMENTS} segments (fs store)`, {timeout: 30 * 60_000}, () => {
  let dir: string
  let fs: FsObjectStore
  let built: StateRead

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kbk-state-scale-'))
    fs = new FsObjectStore({type: 'fs', path: dir}, {name: 'scale'})
    const state = new StateStore(fs, {kbkVersion: 'scale'})
    const t0 = performance.now()
    built = await state.read()
    const topics = Array.from({length: TOPICS}, (_, i) => `topic-${String(i).padStart(4, '0')}`)
    for (let run = 0; run < RUNS; run++) {
      built = await state.commit(built, {topics: topics.map((topic) => ({policy: 'scale', topic, partitionCount: PARTITIONS, lastBackupAt: new Date().toISOString(), addSegments: segmentsFor(topic, run)}))})
    }
    process.stderr.write(`  built ${TOPICS * PARTITIONS} partitions / ${TOPICS * PARTITIONS * SEGMENTS} segments in ${ms(t0)} ms (${RUNS} commits)\n`)
  })

  after(async () => {
    await fs?.close()
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  it('read() loads the head and one index per topic, never a segment list', async () => {
    const {store, counts} = counting(fs)
    const t0 = performance.now()
    const read = await new StateStore(store, {kbkVersion: 'scale'}).read()
    const took = ms(t0)
    const headBytes = (await fs.head(HEAD_KEY))!.size
    process.stderr.write(`  read(): ${took} ms, ${counts.get} GETs, head.json ${Math.round(headBytes / 1024)} KiB\n`)
    assert.equal(counts.get, 1 + TOPICS)
    assert.equal(Object.keys(read.snapshot.topics).length, TOPICS)
    const summary = Object.values(read.snapshot.topics).reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.segment_count, 0), 0)
    assert.equal(summary, TOPICS * PARTITIONS * SEGMENTS)
    assert.ok(!(await fs.get(HEAD_KEY)).toString().includes('data/scale/'), 'the head holds no segment keys')
  })

  it('loading every topic’s segment list (what a full verify or listing does)', async () => {
    const state = new StateStore(fs, {kbkVersion: 'scale'})
    const read = await state.read()
    const t0 = performance.now()
    let total = 0
    await mapLimit(Object.values(read.snapshot.topics), 8, async (t) => {
      const n = (await state.loadSegments(read.snapshot, t.policy, t.topic)).length
      total += n
    })
    process.stderr.write(`  loadSegments() for all ${TOPICS} topics: ${ms(t0)} ms, ${total} segments\n`)
    assert.equal(total, TOPICS * PARTITIONS * SEGMENTS)
  })

  it('a run that touched one topic writes a chunk, that topic’s index and the head — not the history', async () => {
    const {store, counts} = counting(fs)
    const state = new StateStore(store, {kbkVersion: 'scale'})
    const read = await state.read()
    const t0 = performance.now()
    const extra = segmentsFor('topic-0000', RUNS).slice(0, PARTITIONS)
    await state.commit(read, {topics: [{policy: 'scale', topic: 'topic-0000', addSegments: extra}]})
    process.stderr.write(`  commit touching 1 topic: ${ms(t0)} ms, ${counts.put} PUTs, ${Math.round(counts.putBytes / 1024)} KiB written\n`)
    assert.equal(counts.put, 3)
  })
})
