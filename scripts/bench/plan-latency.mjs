// Plan latency at scale, in one process: the real workspace loader, the real state read from a
// real fs store holding 10,000 partitions / 1,000,000 recorded segments, and the real planner —
// with a synthetic cluster view in place of Kafka (10,000 partitions on the 2-core test broker
// would measure the broker, not kbk). Every partition has 500 new records, so the plan pins
// 10,000 backup ranges. Prints one JSON line: {build_ms?, plan_ms, actions, rss_mib}.
//
//   node scripts/bench/plan-latency.mjs <cacheDir> [topics=1000]
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {performance} from 'node:perf_hooks'

const root = new URL('../../', import.meta.url).pathname
const cache = resolve(process.argv[2] ?? join(root, '.cache/bench'))
const TOPICS = Number(process.argv[3] ?? 1000)
const PARTITIONS = 10
const SEGMENTS = 100
const RUNS = 4
const stateDir = join(cache, `plan-state-${TOPICS}x${PARTITIONS}x${SEGMENTS}`)
const wsDir = join(cache, `plan-ws-${TOPICS}`)

const {StateStore} = await import(join(root, 'dist/state/state-store.js'))
const {FsObjectStore} = await import(join(root, 'dist/storage/fs-store.js'))
const {openWorkspace} = await import(join(root, 'dist/cli/context.js'))
const {makePlan} = await import(join(root, 'dist/app/plan.js'))

const topics = Array.from({length: TOPICS}, (_, i) => `topic-${String(i).padStart(4, '0')}`)
const out = {}

function segmentsFor(topic, run) {
  const list = []
  const per = SEGMENTS / RUNS
  for (let p = 0; p < PARTITIONS; p++) {
    for (let i = run * per; i < (run + 1) * per; i++) {
      const first = i * 1000
      list.push({
        key: `data/scale/${topic}/${p}/${String(first).padStart(20, '0')}-${String(first + 999).padStart(20, '0')}.kbk`,
        policy: 'scale', topic, partition: p, first_offset: first, last_offset: first + 999, records: 1000,
        bytes: 65_536, uncompressed_bytes: 262_144, min_timestamp: 1_790_000_000_000 + first, max_timestamp: 1_790_000_000_000 + first + 999,
        sha256: 'c0ffee'.padEnd(64, '0'), run_id: `run-${run}`, written_at: new Date(Date.now() - (RUNS - run) * 86_400_000).toISOString(),
      })
    }
  }
  return list
}

if (!existsSync(join(stateDir, '.built'))) {
  mkdirSync(stateDir, {recursive: true})
  const t0 = performance.now()
  const fs = new FsObjectStore({type: 'fs', path: stateDir}, {name: 'scale'})
  const state = new StateStore(fs, {kbkVersion: 'bench'})
  let read = await state.read()
  for (let run = 0; run < RUNS; run++) {
    read = await state.commit(read, {topics: topics.map((topic) => ({policy: 'scale', topic, partitionCount: PARTITIONS, lastBackupAt: new Date().toISOString(), addSegments: segmentsFor(topic, run)}))})
  }
  await fs.close()
  writeFileSync(join(stateDir, '.built'), '')
  out.build_ms = Math.round(performance.now() - t0)
}

mkdirSync(wsDir, {recursive: true})
writeFileSync(join(wsDir, 'kbk.yaml'), `version: 1
clusters:
  synthetic: {brokers: ["127.0.0.1:1"]}
stores:
  scale: {type: fs, path: ${JSON.stringify(stateDir)}}
retention:
  long: {maxAge: 10y, minKeep: 1}
policies:
  scale:
    cluster: synthetic
    store: scale
    topics: {include: ["topic-.*"]}
    retention: long
    rpo: 1h
`)

/** A cluster with the recorded topics, each partition 500 records past what the state holds. */
const syntheticKafka = {
  async listTopics() { return topics },
  async describeTopics(names) { return names.map((name) => ({name, partitions: PARTITIONS, configs: {}})) },
  async watermarks() { return Array.from({length: PARTITIONS}, (_, partition) => ({partition, low: 0, high: SEGMENTS * 1000 + 500})) },
  async groupOffsets() { return [] },
  async listGroups() { return [] },
  async close() {},
}

process.chdir(wsDir)
const t0 = performance.now()
const ctx = await openWorkspace({config: join(wsDir, 'kbk.yaml')})
ctx.kafka = () => syntheticKafka
const plan = await makePlan(ctx, {refreshOnly: false, targets: [], listObjects: false})
out.plan_ms = Math.round(performance.now() - t0)
out.changes = plan.resource_changes.length
out.summary = plan.summary
out.rss_mib = Math.round(process.resourceUsage().maxRSS / 1024)
await ctx.close()
process.stdout.write(JSON.stringify(out) + '\n')
