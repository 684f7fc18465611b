#!/usr/bin/env node
// State commit rate of N concurrent shard workers (docs/scale-out.md): each worker is its own
// StateStore + StateCommitter in shared mode (as `kbk apply --shard` runs them) and commits one
// small segment per commit, as fast as the store allows, for a fixed number of commits. Prints
// one JSON line per (store, workers): commits/s, lost head races per commit, ms per commit.
//   node scripts/bench/commit-rate.mjs WORKSPACE_DIR [COMMITS_PER_WORKER]
// The workspace's single store is used (run.mjs makes one for fs and one for S3). Needs a build.
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const {openWorkspaceStore} = await import(join(root, 'dist/cli/context.js'))
const {StateStore} = await import(join(root, 'dist/state/state-store.js'))
const {StateCommitter} = await import(join(root, 'dist/apply/state-committer.js'))

const dir = process.argv[2]
const perWorker = Number(process.argv[3] ?? 25)

function seg(w, i) {
  const first = i * 100
  return {key: `data/bench/t/${w}/${String(first).padStart(20, '0')}-${String(first + 99).padStart(20, '0')}.kbs`, policy: 'bench', topic: 't', partition: w, first_offset: first, last_offset: first + 99, records: 100, bytes: 4096, uncompressed_bytes: 16384, min_timestamp: 0, max_timestamp: 0, sha256: 'ab'.repeat(32), run_id: 'bench', written_at: new Date().toISOString()}
}

const s = await openWorkspaceStore({config: join(dir, 'kbk.yaml')})
try {
  for (const workers of [1, 2, 4, 8]) {
    // Each round on a fresh topic name, so earlier rounds' chunks do not weigh on this one.
    const topic = `t${workers}`
    const base = await s.state.read()
    const ready = await s.state.commit(base, {})
    const committers = Array.from({length: workers}, () => new StateCommitter(new StateStore(s.store, {kbkVersion: 'bench'}), ready, {maxPendingSegments: 1, shared: true}))
    const t0 = performance.now()
    await Promise.all(committers.map(async (c, w) => {
      for (let i = 0; i < perWorker; i++) await c.checkpoint('bench', topic, w, (i + 1) * 100, {...seg(w, i), topic, key: seg(w, i).key.replace('/t/', `/${topic}/`)})
      await c.flush()
    }))
    const seconds = (performance.now() - t0) / 1000
    const commits = committers.reduce((n, c) => n + c.stats.commits, 0)
    const conflicts = committers.reduce((n, c) => n + c.stats.conflicts, 0)
    const after = await s.state.read()
    const recorded = (await s.state.loadSegments(after.snapshot, 'bench', topic)).length
    if (recorded !== workers * perWorker) throw new Error(`lost updates: ${recorded} of ${workers * perWorker} segments recorded`)
    process.stdout.write(JSON.stringify({store: s.store.kind, workers, commits, seconds: Number(seconds.toFixed(2)), commits_per_s: Number((commits / seconds).toFixed(1)), conflicts_per_commit: Number((conflicts / commits).toFixed(2)), ms_per_commit_per_worker: Number(((seconds * 1000 * workers) / commits).toFixed(1))}) + '\n')
  }
} finally {
  await s.close()
}
