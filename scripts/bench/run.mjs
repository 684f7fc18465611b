#!/usr/bin/env node
// `npm run bench`: kbk end to end against the local test Kafka, beside what users would
// otherwise run (kcat dumping the same topic to a file) and the machine's compression limit
// (zstd-napi on one core, same bytes, same level). Prints a table and writes BENCHMARKS.md.
// Not part of `npm test`: speed is checked here, never by timed assertions.
//
//   npm run bench                     full size (~1 GiB dataset a), 3 runs each
//   npm run bench -- --quick          small datasets, 1 run: a smoke test of the harness
//   npm run bench -- --profile        also CPU-profile one backup and one restore (docs/performance.md)
//   npm run bench -- --oso            also OSO kafka-backup (kafka-backup-core, built with cargo: bench/oso)
//   npm run bench -- --only backup,kcat,zstd,restore,rss,s3,plan,workspace,crc,shards,replication,schema,oso,limit   a subset
// Env knobs: KBK_BENCH_MB (dataset a size, MiB), KBK_BENCH_RUNS, KBK_BENCH_KEEP=1 (keep topics/stores),
// KBK_BENCH_NO_BUILD=1 (measure dist/ as built).
import {spawn, spawnSync} from 'node:child_process'
import {closeSync, createWriteStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {availableParallelism, cpus, totalmem} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'
import {Worker} from 'node:worker_threads'
import kafkajs from 'kafkajs'
import {compress} from 'zstd-napi'
import {generate, produceWithKcat} from './datasets.mjs'
import {summarizeProfile} from './profile.mjs'
import {ensureOsoRunner, osoBackupConfig, osoRestoreConfig} from './oso.mjs'

const root = fileURLToPath(new URL('../../', import.meta.url))
const args = process.argv.slice(2)
const quick = args.includes('--quick')
const profile = args.includes('--profile')
const onlyArg = args.find((a) => a.startsWith('--only'))
const only = onlyArg ? new Set((onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1]).split(',')) : undefined
const oso = args.includes('--oso') || (only?.has('oso') ?? false)
const wants = (what) => (what === 'oso' ? oso : !only || only.has(what))
const MiB = 1024 * 1024
const sizeA = Number(process.env.KBK_BENCH_MB ?? (quick ? 48 : 1024)) * MiB
const RUNS = Number(process.env.KBK_BENCH_RUNS ?? (quick ? 1 : 3))
const LEVEL = 3 // the default policy's zstd level (src/config/types.ts DEFAULTS)
const work = join(root, '.cache/bench')
const runTag = Date.now().toString(36)

function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`)
}

// ---- environment ----
const envText = readFileSync(join(root, '.env.test'), 'utf8')
const env = Object.fromEntries(envText.split('\n').filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
const SRC = env.KBK_TEST_KAFKA_BOOTSTRAP
const DST = env.KBK_TEST_KAFKA_TARGET_BOOTSTRAP

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], {encoding: 'utf8'})
  return r.status === 0 ? r.stdout.trim() : undefined
}
function ensureKcat() {
  let k = which('kcat') ?? which('kafkacat')
  if (k) return k
  log('kcat missing: apt-get install -y kafkacat')
  const policy = spawnSync('apt-cache', ['policy', 'kafkacat'], {encoding: 'utf8'})
  if (!/Candidate: (?!\(none\))/.test(policy.stdout ?? '')) spawnSync('apt-get', ['update'], {stdio: 'inherit'})
  spawnSync('apt-get', ['install', '-y', 'kafkacat'], {stdio: 'inherit'})
  k = which('kcat') ?? which('kafkacat')
  if (!k) throw new Error('kcat is not available and could not be installed (apt-get install -y kafkacat)')
  return k
}

// KBK_BENCH_NO_BUILD=1: measure dist/ as it is (e.g. while tests run from the same dist/).
if (process.env.KBK_BENCH_NO_BUILD) log('not building: measuring dist/ as it is (KBK_BENCH_NO_BUILD)')
else {
  log('building kbk (scripts/build.mjs: tsc, the precompiled schema and oclif.manifest.json, as users run it)')
  if (spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], {stdio: 'inherit'}).status !== 0) process.exit(1)
}
const kcat = ensureKcat()
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined
mkdirSync(work, {recursive: true})

const {Kafka, logLevel} = kafkajs
const source = new Kafka({clientId: 'kbk-bench', brokers: [SRC], logLevel: logLevel.NOTHING})
const target = new Kafka({clientId: 'kbk-bench', brokers: [DST], logLevel: logLevel.NOTHING})
const srcAdmin = source.admin()
const dstAdmin = target.admin()
await srcAdmin.connect()
await dstAdmin.connect()

const created = {source: [], target: []}
async function createTopic(admin, topic, partitions) {
  await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: partitions, configEntries: [{name: 'retention.ms', value: '-1'}, {name: 'retention.bytes', value: '-1'}]}]})
}

// ---- child processes: wall time, CPU and peak RSS ----
/** Busy and total jiffies of the whole machine (/proc/stat), to tell CPU-bound from waiting. */
function machineCpu() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    const total = f.reduce((a, b) => a + b, 0)
    return {busy: total - f[3] - (f[4] ?? 0), total}
  } catch {
    return undefined
  }
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).stdout?.trim()) || 100
/** utime + stime ticks of a process or thread (/proc/.../stat), or undefined. */
function ticksOf(statPath) {
  try {
    const s = readFileSync(statPath, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return Number(f[11]) + Number(f[12])
  } catch {
    return undefined
  }
}
/** The brokers' CPU ticks so far (both clusters), from the pids the env scripts record. */
function brokerTicks() {
  let n = 0
  for (const name of ['kafka-source', 'kafka-target']) {
    try {
      const {pid} = JSON.parse(readFileSync(join(root, '.cache/pids', `${name}.json`), 'utf8'))
      n += ticksOf(`/proc/${pid}/stat`) ?? 0
    } catch {
      // not started by the env scripts: no broker CPU in the notes
    }
  }
  return n
}

/**
 * Samples the CPU of every thread of the timed process (under /usr/bin/time: its child) until it
 * exits: where a run's CPU went (main thread, the others, the busiest two of those: zstd workers
 * in a backup), beside what the brokers spent meanwhile. Linux /proc only; otherwise nothing.
 */
function threadSampler(timePid) {
  const last = new Map()
  let pid
  const sample = () => {
    try {
      pid ??= Number(readFileSync(`/proc/${timePid}/task/${timePid}/children`, 'utf8').trim().split(' ')[0]) || undefined
      if (pid === undefined) return
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const t = ticksOf(`/proc/${pid}/task/${tid}/stat`)
        if (t !== undefined) last.set(Number(tid), t)
      }
    } catch {
      // the process is gone or /proc is not there
    }
  }
  const timer = setInterval(sample, 200)
  const broker0 = brokerTicks()
  return () => {
    clearInterval(timer)
    if (pid === undefined || last.size === 0) return undefined
    const main = (last.get(pid) ?? 0) / CLK_TCK
    const others = [...last].filter(([tid]) => tid !== pid).map(([, t]) => t / CLK_TCK).sort((a, b) => b - a)
    return {main, other: others.reduce((a, b) => a + b, 0), busiest: others.slice(0, 2), brokers: (brokerTicks() - broker0) / CLK_TCK}
  }
}

/**
 * Runs a command; returns wall seconds, peak RSS (MiB, of the child via /usr/bin/time -v), the
 * child's CPU seconds (user + system), the machine's busy share over the run, and output.
 */
function measure(cmd, cmdArgs, opts = {}) {
  // Every timed command starts with the page cache written back: producing the datasets leaves
  // gigabytes dirty, and the writeback (plus a durable writer's fsync waiting behind it) slowed
  // whatever ran first. In one run kbk's first backups of (a) took 11.5 s while the same
  // backup at twice the size, later, ran at 136 MB/s, and OSO, measured last, saw none of it.
  spawnSync('sync')
  return new Promise((resolve, reject) => {
    const argv = timeBin ? [timeBin, ['-v', cmd, ...cmdArgs]] : [cmd, cmdArgs]
    const cpu0 = machineCpu()
    const t0 = performance.now()
    // stdoutFd: the child writes its stdout into that file itself (as a shell redirect would),
    // not through this process: a pipe through Node slowed kcat's dump by half (issue 22).
    const child = spawn(argv[0], argv[1], {cwd: opts.cwd ?? root, env: {...process.env, KBK_IN_AUTOMATION: '1', NO_COLOR: '1', ...opts.env}, stdio: ['ignore', opts.stdoutFd ?? 'pipe', 'pipe']})
    const threads = timeBin ? threadSampler(child.pid) : () => undefined
    let stdout = ''
    let stderr = ''
    if (opts.stdoutFile) child.stdout.pipe(createWriteStream(opts.stdoutFile))
    else child.stdout?.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000
      const cpuSplit = threads()
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)
      const user = /User time \(seconds\): ([\d.]+)/.exec(stderr)
      const sys = /System time \(seconds\): ([\d.]+)/.exec(stderr)
      const cpu1 = machineCpu()
      const machineBusy = cpu0 && cpu1 && cpu1.total > cpu0.total ? (cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total) : undefined
      if (code !== 0) return reject(new Error(`${cmd} ${cmdArgs.join(' ')} exited ${code}\n${stdout.slice(-2000)}\n${stderr.slice(-1500)}`))
      const cpuSeconds = user && sys ? Number(user[1]) + Number(sys[1]) : undefined
      resolve({seconds, rssMiB: rss ? Number(rss[1]) / 1024 : undefined, cpuSeconds, machineBusy, cpuSplit, stdout, stderr})
    })
  })
}

const kbkBin = join(root, 'bin/run.js')
function kbk(cwd, kbkArgs, extraNodeArgs = []) {
  return measure(process.execPath, [...extraNodeArgs, kbkBin, ...kbkArgs], {cwd})
}

/** ", kbk CPU 1.6 s, machine 97 % busy": where a run's time went, for the log and the notes. */
function cpuNote(r, who = 'kbk') {
  const parts = []
  if (r.cpuSeconds !== undefined) parts.push(`${who} CPU ${r.cpuSeconds.toFixed(1)} s`)
  if (r.machineBusy !== undefined) parts.push(`machine ${(r.machineBusy * 100).toFixed(0)} % busy`)
  if (r.cpuSplit) parts.push(splitNote(r.cpuSplit))
  return parts.length ? `, ${parts.join(', ')}` : ''
}

/** "main thread 4.0 s, other threads 8.0 s (busiest 3.4 + 3.2 s), brokers 0.7 s". */
function splitNote(c) {
  return `main thread ${c.main.toFixed(1)} s, other threads ${c.other.toFixed(1)} s (busiest ${c.busiest.map((x) => x.toFixed(1)).join(' + ')} s), brokers ${c.brokers.toFixed(1)} s`
}

/** Notes column: median kbk CPU seconds and machine busy share over a row's runs. */
function cpuExtra(rs) {
  const cpu = rs.map((r) => r.cpuSeconds).filter((x) => x !== undefined)
  const busy = rs.map((r) => r.machineBusy).filter((x) => x !== undefined)
  const parts = []
  if (cpu.length) parts.push(`kbk CPU ${median(cpu).toFixed(1)} s`)
  if (busy.length) parts.push(`machine ${(median(busy) * 100).toFixed(0)} % busy`)
  // The split of the median run (by wall time), so its parts add up.
  const mid = [...rs].filter((r) => r.cpuSplit).sort((a, b) => a.seconds - b.seconds)[Math.floor(rs.filter((r) => r.cpuSplit).length / 2)]
  if (mid) parts.push(splitNote(mid.cpuSplit))
  return parts.join(', ')
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

// ---- workspaces ----
function storeYaml(kind, dir, bucket) {
  if (kind === 'fs') return `type: fs\n    path: ${JSON.stringify(join(dir, 'backups'))}`
  return `type: s3\n    bucket: ${bucket}\n    region: ${env.KBK_TEST_S3_REGION}\n    prefix: bench/\n    endpoint: "\${S3_ENDPOINT}"\n    forcePathStyle: true\n    accessKeyId: "\${S3_KEY}"\n    secretAccessKey: "\${S3_SECRET}"`
}
const s3Env = {S3_ENDPOINT: env.KBK_TEST_S3_ENDPOINT, S3_KEY: env.KBK_TEST_S3_ACCESS_KEY_ID, S3_SECRET: env.KBK_TEST_S3_SECRET_ACCESS_KEY}
process.env.S3_ENDPOINT = s3Env.S3_ENDPOINT
process.env.S3_KEY = s3Env.S3_KEY
process.env.S3_SECRET = s3Env.S3_SECRET

function workspace(dir, {topic, store, restore, rateLimit}) {
  const limit = rateLimit ? `\n    rateLimit: {bytesPerSecond: ${rateLimit}}` : ''
  mkdirSync(dir, {recursive: true})
  writeFileSync(join(dir, 'kbk.yaml'), `version: 1
clusters:
  source: {brokers: ["${SRC}"]}
  target: {brokers: ["${DST}"]}
stores:
  bench:
    ${store}
retention:
  bench: {maxAge: 7d, minKeep: 1, allowDestroy: true}
policies:
  bench:
    cluster: source
    store: bench
    topics: {include: ["${topic.replace(/\./g, '\\\\.')}"]}
    retention: bench
    rpo: 1h
    compression: {codec: zstd, level: ${LEVEL}}${limit}
${restore ? `restores:
  ${restore}:
    from: {policy: bench, pointInTime: latest}
    to: {cluster: target, topicSuffix: -${restore}}
    topics: {include: [".*"]}
    createTopics: true${limit}
` : ''}`)
}

let s3Client
async function createBucket() {
  const {S3Client, CreateBucketCommand} = await import('@aws-sdk/client-s3')
  s3Client ??= new S3Client({endpoint: env.KBK_TEST_S3_ENDPOINT, region: env.KBK_TEST_S3_REGION, forcePathStyle: true, credentials: {accessKeyId: env.KBK_TEST_S3_ACCESS_KEY_ID, secretAccessKey: env.KBK_TEST_S3_SECRET_ACCESS_KEY}})
  const name = `kbk-bench-${runTag}-${Math.random().toString(36).slice(2, 8)}`
  await s3Client.send(new CreateBucketCommand({Bucket: name}))
  return name
}
const buckets = []
async function emptyAndDeleteBucket(bucket) {
  const {ListObjectsV2Command, DeleteObjectsCommand, DeleteBucketCommand} = await import('@aws-sdk/client-s3')
  for (;;) {
    const page = await s3Client.send(new ListObjectsV2Command({Bucket: bucket}))
    const keys = (page.Contents ?? []).map((o) => ({Key: o.Key}))
    if (keys.length === 0) break
    await s3Client.send(new DeleteObjectsCommand({Bucket: bucket, Delete: {Objects: keys}}))
  }
  await s3Client.send(new DeleteBucketCommand({Bucket: bucket})).catch(() => undefined)
}

/** One kbk backup of `topic` into a fresh store: plan --out, then the timed `kbk apply PLAN`. */
async function kbkBackup(ds, kind, i, nodeArgs = [], rateLimit = undefined) {
  const dir = join(work, `${runTag}-${ds.name}-${kind}-${i}`)
  let bucket
  if (kind === 's3') buckets.push((bucket = await createBucket()))
  workspace(dir, {topic: ds.topic, store: storeYaml(kind, dir, bucket), rateLimit})
  await kbk(dir, ['plan', '--out', 'backup.plan'])
  const r = await kbk(dir, ['apply', 'backup.plan', '--json'], nodeArgs)
  const events = r.stdout.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l) } catch { return {} } })
  const last = events.filter((e) => e.type === 'backup.progress').pop()
  if (!last || last.records !== ds.records) throw new Error(`kbk backed up ${last?.records} records of ${ds.topic}, expected ${ds.records}`)
  return {...r, dir, bucket, stored: last.stored_bytes}
}

/** Restores what `dir`'s store holds into a new topic on the target cluster; timed `kbk apply PLAN`. */
async function kbkRestore(ds, backup, i, nodeArgs = [], rateLimit = undefined) {
  const name = `r${runTag}${i}`
  workspace(backup.dir, {topic: ds.topic, store: storeYaml(backup.bucket ? 's3' : 'fs', backup.dir, backup.bucket), restore: name, rateLimit})
  await kbk(backup.dir, ['plan', '--out', 'restore.plan'])
  let r
  try {
    r = await kbk(backup.dir, ['apply', 'restore.plan', '--json'], nodeArgs)
  } catch (e) {
    // Seen: NOT_LEADER_FOR_PARTITION reading a just-created target topic's offsets (a kbk bug,
    // reported). A rerun resumes exactly; time that one and say so.
    log(`restore failed, rerunning once: ${String(e.message).split('\n').find((l) => l.includes('change.failed'))?.slice(0, 300)}`)
    await kbk(backup.dir, ['plan', '--out', 'restore.plan'])
    r = await kbk(backup.dir, ['apply', 'restore.plan', '--json'], nodeArgs)
    r.retried = true
  }
  const topic = `${ds.topic}-${name}`
  created.target.push(topic)
  const offsets = await dstAdmin.fetchTopicOffsets(topic)
  const n = offsets.reduce((a, p) => a + Number(p.high) - Number(p.low), 0)
  if (n !== ds.records) throw new Error(`restore wrote ${n} records into ${topic}, expected ${ds.records}`)
  await dstAdmin.deleteTopics({topics: [topic]}).catch(() => undefined)
  return r
}

/**
 * kcat dumping the topic to a file, as a user would run it: `kcat -C -o beginning -e > file`,
 * kcat's default fetch settings, kcat writing the file itself (the file is its stdout fd).
 */
async function kcatDump(ds) {
  const file = join(work, `${runTag}-${ds.name}.kcat`)
  const fd = openSync(file, 'w')
  let r
  try {
    // Keyed datasets: keys too (-K), or kcat would drop part of what kbk stores.
    r = await measure(kcat, ['-C', '-b', SRC, '-t', ds.topic, '-o', 'beginning', '-e', '-q', ...(ds.kind === 'keyed' ? ['-K', '\t'] : [])], {stdoutFd: fd})
  } finally {
    closeSync(fd)
  }
  const size = statSync(file).size
  rmSync(file, {force: true})
  if (size < ds.bytes) throw new Error(`kcat dumped ${size} bytes of ${ds.topic}, expected at least ${ds.bytes}`)
  return r
}

/** zstd-napi at the policy's level, one core, from memory, over the same records in 1 MiB blocks. */
async function zstdLimit(kind, bytes) {
  const blocks = []
  await generate(kind, Math.min(bytes, 256 * MiB), 7, async (b) => blocks.push(b))
  const total = blocks.reduce((n, b) => n + b.length, 0)
  const times = []
  let out = 0
  for (let i = 0; i < Math.max(RUNS, 3); i++) {
    const t0 = performance.now()
    out = 0
    for (const b of blocks) out += compress(b, {compressionLevel: LEVEL}).length
    times.push((performance.now() - t0) / 1000)
  }
  return {seconds: median(times), bytes: total, ratio: total / out}
}

/**
 * zstd-napi at the policy's level on every core at once, from memory, the way kbk's compression
 * workers call it (one context per thread, one reused destination, 1 MiB blocks), with nothing
 * else running: what compression alone costs on this machine. No backup that compresses at this
 * level can take less wall time than this, nor less CPU (the floor under the backup targets).
 */
async function zstdAllCores(kind, bytes) {
  const blocks = []
  await generate(kind, Math.min(bytes, 256 * MiB), 7, async (b) => blocks.push(b))
  const total = blocks.reduce((n, b) => n + b.length, 0)
  const shared = new SharedArrayBuffer(total)
  const spans = []
  let at = 0
  for (const b of blocks) {
    Buffer.from(shared).set(b, at)
    spans.push([at, b.length])
    at += b.length
  }
  const cores = availableParallelism()
  const source = `
const {parentPort, workerData} = require('node:worker_threads')
const zstd = require(workerData.zstd)
const cmp = new zstd.Compressor()
cmp.setParameters({compressionLevel: workerData.level})
const data = Buffer.from(workerData.shared)
const dest = Buffer.allocUnsafe(2 * 1024 * 1024)
parentPort.on('message', (spans) => {
  let out = 0
  for (const [o, n] of spans) out += cmp.cctx && typeof cmp.cctx.compress2 === 'function' ? cmp.cctx.compress2(dest, data.subarray(o, o + n)) : zstd.compress(data.subarray(o, o + n), {compressionLevel: workerData.level}).length
  parentPort.postMessage(out)
})`
  const zstdPath = createRequire(import.meta.url).resolve('zstd-napi')
  const workers = Array.from({length: cores}, () => new Worker(source, {eval: true, workerData: {zstd: zstdPath, level: LEVEL, shared}}))
  const round = () => Promise.all(workers.map((w, i) => new Promise((resolve) => {
    w.once('message', resolve)
    w.postMessage(spans.filter((_, k) => k % cores === i))
  })))
  try {
    await round() // warm-up, untimed
    const times = []
    const cpu = []
    let out = 0
    for (let i = 0; i < Math.max(RUNS, 3); i++) {
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      out = (await round()).reduce((a, b) => a + b, 0)
      times.push((performance.now() - t0) / 1000)
      const c = process.cpuUsage(c0)
      cpu.push((c.user + c.system) / 1e6)
    }
    return {seconds: median(times), cpuSeconds: median(cpu), bytes: total, ratio: total / out, cores}
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
}

// ---- OSO kafka-backup (opt-in, --oso) ----
let osoBin
let osoSkipped
function dirBytes(dir) {
  let n = 0
  for (const e of readdirSync(dir, {withFileTypes: true})) n += e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size
  return n
}
/** OSO's backup of `ds` into a fresh filesystem store (osoBackupConfig says how it is set up). */
async function osoBackup(ds, i) {
  const dir = join(work, `${runTag}-${ds.name}-oso-${i}`)
  mkdirSync(dir, {recursive: true})
  const backupId = `bench-${ds.name}-${i}`
  const cfg = osoBackupConfig({dir, backupId, bootstrap: SRC, topic: ds.topic, level: LEVEL})
  const r = await measure(osoBin, ['backup', cfg], {cwd: dir})
  return {...r, dir, backupId, stored: dirBytes(join(dir, 'store'))}
}
/** OSO's restore of that backup into a new topic on the target cluster, checked complete. */
async function osoRestore(ds, b, i) {
  const targetTopic = `${ds.topic}-oso${i}`
  const cfg = osoRestoreConfig({dir: b.dir, backupId: b.backupId, bootstrap: DST, topic: ds.topic, targetTopic})
  const r = await measure(osoBin, ['restore', cfg], {cwd: b.dir})
  created.target.push(targetTopic)
  const offsets = await dstAdmin.fetchTopicOffsets(targetTopic)
  const n = offsets.reduce((a, p) => a + Number(p.high) - Number(p.low), 0)
  if (n !== ds.records) throw new Error(`OSO restored ${n} records into ${targetTopic}, expected ${ds.records}`)
  await dstAdmin.deleteTopics({topics: [targetTopic]}).catch(() => undefined)
  return r
}
/** OSO's runs so far, per dataset (only a and k are compared). */
const osoRuns = new Map()
function osoRunsOf(ds) {
  if (!osoRuns.has(ds.name)) osoRuns.set(ds.name, {backups: [], restores: []})
  return osoRuns.get(ds.name)
}
/** OSO's next backup of (a) or (k), if OSO is measured and it has runs to go. */
async function osoNextBackup(ds) {
  const runs = osoRunsOf(ds)
  if (!osoBin || !['a', 'k'].includes(ds.name) || runs.backups.length >= RUNS) return
  const i = runs.backups.length
  const b = await osoBackup(ds, i)
  runs.backups.push(b)
  log(`OSO backup ${ds.name} #${i}: ${b.seconds.toFixed(1)} s, ${mbps(ds.bytes, b.seconds).toFixed(1)} MB/s, RSS ${b.rssMiB?.toFixed(0)} MiB, stored ${(b.stored / MiB).toFixed(0)} MiB${cpuNote(b, 'OSO')}`)
}
/** OSO's next restore of (a) or (k), from its backup of the same number (made first if missing). */
async function osoNextRestore(ds) {
  const runs = osoRunsOf(ds)
  if (!osoBin || !['a', 'k'].includes(ds.name) || runs.restores.length >= RUNS) return
  const i = runs.restores.length
  while (runs.backups.length <= i) await osoNextBackup(ds)
  const b = runs.backups[i]
  const r = await osoRestore(ds, b, i)
  runs.restores.push(r)
  log(`OSO restore ${ds.name} #${i}: ${r.seconds.toFixed(1)} s, ${mbps(ds.bytes, r.seconds).toFixed(1)} MB/s, RSS ${r.rssMiB?.toFixed(0)} MiB${cpuNote(r, 'OSO')}`)
  rmSync(b.dir, {recursive: true, force: true})
}

if (wants('oso')) {
  // Built before any dataset is produced, so the build never overlaps a measurement.
  try {
    osoBin = ensureOsoRunner(root, log)
  } catch (e) {
    osoSkipped = e.message
    log(`OSO baseline skipped: ${osoSkipped}`)
  }
}

// ---- the run ----
const datasets = [
  {name: 'a', label: '(a) ~1 KiB JSON, 12 partitions', kind: 'large', partitions: 12, bytes: sizeA, compression: 'none'},
  {name: 'b', label: '(b) ~100 B JSON, 12 partitions', kind: 'small', partitions: 12, bytes: Math.round(sizeA / 4), compression: 'none'},
  {name: 'c', label: '(c) ~1 KiB JSON, producer lz4', kind: 'large', partitions: 12, bytes: Math.round(sizeA / 4), compression: 'lz4'},
  {name: 'a-2x', label: '(a) at twice the size (RSS check: memory must not grow with the topic)', kind: 'large', partitions: 12, bytes: sizeA * 2, compression: 'none'},
  {name: 'sh', label: '(sh) ~1 KiB JSON, 48 partitions (sharded apply)', kind: 'large', partitions: 48, bytes: Math.round(sizeA / 2), compression: 'none'},
  // Shaped like real traffic (issue 22): keyed JSON events of 200–2,000 bytes; MB/s counts keys too.
  {name: 'k', label: '(k) keyed JSON, 200–2,000 B values, 12 partitions', kind: 'keyed', partitions: 12, bytes: sizeA, compression: 'none'},
  {name: 'h', label: '(h) as (k), with 3 headers per record', kind: 'keyed', partitions: 12, bytes: Math.round(sizeA / 4), compression: 'none', headers: ['content-type=application/json', 'source=bench-orders', 'trace-id=4bf92f3577b34da6a3ce929d0e0e4736']},
]
const needed = new Set()
if (wants('backup') || wants('kcat') || wants('restore') || wants('s3') || wants('rss') || wants('replication') || profile) needed.add('a')
if (wants('backup') || wants('kcat')) { needed.add('b'); needed.add('c'); needed.add('k'); needed.add('h') }
if (wants('restore') || wants('oso')) needed.add('k')
if (wants('oso')) needed.add('a')
if (wants('limit')) needed.add('k')
if (wants('rss')) needed.add('a-2x')
if (wants('shards')) needed.add('sh')

const rows = []
const profiles = {}
const mbps = (bytes, s) => bytes / MiB / s

try {
  for (const ds of datasets.filter((d) => needed.has(d.name))) {
    ds.topic = `bench.${runTag}.${ds.name}`
    await createTopic(srcAdmin, ds.topic, ds.partitions)
    created.source.push(ds.topic)
    log(`producing ${ds.label}: ${(ds.bytes / MiB).toFixed(0)} MiB into ${ds.topic} with kcat (${ds.compression})`)
    const t0 = performance.now()
    const {records, bytes} = await produceWithKcat({kcat, bootstrap: SRC, topic: ds.topic, kind: ds.kind, bytes: ds.bytes, seed: 42, compression: ds.compression, headers: ds.headers})
    const offsets = await srcAdmin.fetchTopicOffsets(ds.topic)
    const inTopic = offsets.reduce((a, p) => a + Number(p.high), 0)
    if (inTopic !== records) throw new Error(`${ds.topic} holds ${inTopic} records, produced ${records}`)
    Object.assign(ds, {records, bytes})
    log(`  ${records} records, ${(bytes / MiB).toFixed(0)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  }
  const byName = Object.fromEntries(datasets.map((d) => [d.name, d]))

  const zstd = {}
  const zstdAll = {}
  if (wants('zstd') || wants('backup')) {
    for (const kind of ['large', 'small', 'keyed']) {
      const z = await zstdLimit(kind, sizeA)
      zstd[kind] = z
      rows.push({what: `zstd-napi level ${LEVEL}, 1 core, from memory (${{large: '~1 KiB', small: '~100 B', keyed: 'keyed 200–2,000 B'}[kind]} records)`, dataset: {large: 'a', small: 'b', keyed: 'k'}[kind], command: `compress(1 MiB blocks, {compressionLevel: ${LEVEL}})`, runs: Math.max(RUNS, 3), seconds: z.seconds, mbs: mbps(z.bytes, z.seconds), extra: `ratio ${z.ratio.toFixed(2)}`})
      log(`zstd ${kind}: ${mbps(z.bytes, z.seconds).toFixed(0)} MB/s, ratio ${z.ratio.toFixed(2)}`)
    }
    // The same on every core at once: the compression floor under the backup targets (issue 22).
    for (const kind of ['large', 'keyed']) {
      const z = await zstdAllCores(kind, sizeA)
      zstdAll[kind] = z
      rows.push({what: `zstd-napi level ${LEVEL}, all ${z.cores} cores, from memory (${{large: '~1 KiB', keyed: 'keyed 200–2,000 B'}[kind]} records)`, dataset: {large: 'a', keyed: 'k'}[kind], command: `${z.cores} threads × compress2(1 MiB blocks)`, runs: Math.max(RUNS, 3), seconds: z.seconds, mbs: mbps(z.bytes, z.seconds), zstdAll: z, extra: `CPU ${((z.cpuSeconds * 1024 * MiB) / z.bytes).toFixed(2)} s per GiB compressed; ${(mbps(z.bytes, z.seconds) / z.cores).toFixed(0)} MB/s per core while all compress`})
      log(`zstd ${kind}, ${z.cores} cores: ${mbps(z.bytes, z.seconds).toFixed(0)} MB/s, CPU ${z.cpuSeconds.toFixed(2)} s for ${(z.bytes / MiB).toFixed(0)} MiB`)
    }
  }

  const backups = {}
  for (const ds of datasets.filter((d) => needed.has(d.name) && d.name !== 'a-2x')) {
    let kcatMed
    if (wants('kcat')) {
      const rs = []
      for (let i = 0; i < RUNS; i++) rs.push(await kcatDump(ds))
      kcatMed = median(rs.map((r) => r.seconds))
      const kcatCpu = rs.every((r) => r.cpuSeconds !== undefined) ? median(rs.map((r) => r.cpuSeconds)) : undefined
      const kcatBrokers = rs.every((r) => r.cpuSplit) ? median(rs.map((r) => r.cpuSplit.brokers)) : undefined
      rows.push({what: 'kcat dump to a file (baseline)', dataset: ds.name, command: `kcat -C -t T -o beginning -e${ds.kind === 'keyed' ? ' -K TAB' : ''} > file`, runs: RUNS, seconds: kcatMed, mbs: mbps(ds.bytes, kcatMed), rps: ds.records / kcatMed, rss: median(rs.map((r) => r.rssMiB ?? 0)), cpu: kcatCpu, brokers: kcatBrokers, bytes: ds.bytes, extra: kcatCpu !== undefined ? `kcat CPU ${kcatCpu.toFixed(1)} s${kcatBrokers !== undefined ? `, brokers ${kcatBrokers.toFixed(1)} s` : ''}` : undefined})
      log(`kcat ${ds.name}: ${mbps(ds.bytes, kcatMed).toFixed(1)} MB/s`)
    }
    if (wants('backup') || (['a', 'k'].includes(ds.name) && (wants('restore') || wants('rss') || wants('oso')))) {
      const rs = []
      for (let i = 0; i < (wants('backup') ? RUNS : 1); i++) {
        const r = await kbkBackup(ds, 'fs', i)
        rs.push(r)
        log(`kbk backup ${ds.name} fs #${i}: ${r.seconds.toFixed(1)} s, ${mbps(ds.bytes, r.seconds).toFixed(1)} MB/s, RSS ${r.rssMiB?.toFixed(0)} MiB${cpuNote(r)}`)
        if (i > 0) rmSync(r.dir, {recursive: true, force: true})
        // OSO's run i right after kbk's run i: whatever the machine is doing then, both see it.
        await osoNextBackup(ds)
      }
      backups[ds.name] = rs[0]
      const s = median(rs.map((r) => r.seconds))
      const z = zstd[ds.kind]
      rows.push({what: 'kbk backup → fs store', dataset: ds.name, command: 'kbk apply backup.plan', runs: rs.length, seconds: s, mbs: mbps(ds.bytes, s), rps: ds.records / s, rss: Math.max(...rs.map((r) => r.rssMiB ?? 0)), vsKcat: kcatMed ? kcatMed / s : undefined, vsZstd: z ? mbps(ds.bytes, s) / mbps(z.bytes, z.seconds) : undefined, extra: `stored ${(rs[0].stored / MiB).toFixed(0)} MiB; ${cpuExtra(rs)}`})
    }
  }

  const a = byName.a
  if (wants('rss')) {
    const big = byName['a-2x']
    const r = await kbkBackup(big, 'fs', 0)
    rows.push({what: 'kbk backup → fs store (2× size, RSS check)', dataset: 'a-2x', command: 'kbk apply backup.plan', runs: 1, seconds: r.seconds, mbs: mbps(big.bytes, r.seconds), rps: big.records / r.seconds, rss: r.rssMiB, extra: cpuExtra([r])})
    const rr = await kbkRestore(big, r, 0)
    rows.push({what: 'kbk restore fs → target Kafka (2× size, RSS check)', dataset: 'a-2x', command: 'kbk apply restore.plan', runs: 1, seconds: rr.seconds, mbs: mbps(big.bytes, rr.seconds), rps: big.records / rr.seconds, rss: rr.rssMiB, extra: cpuExtra([rr])})
    rmSync(r.dir, {recursive: true, force: true})
  }

  if (wants('restore') || wants('rss')) {
    // The same data the backups read: (a), and (b) and (c) when they were backed up in this run.
    const sets = wants('restore') ? datasets.filter((d) => ['a', 'b', 'c', 'k', 'h'].includes(d.name) && backups[d.name]) : [a]
    for (const [k, ds] of sets.entries()) {
      const rs = []
      for (let i = 0; i < (wants('restore') ? RUNS : 1); i++) {
        const r = await kbkRestore(ds, backups[ds.name], 10 * k + i + 1)
        rs.push(r)
        log(`kbk restore ${ds.name} fs #${i}: ${r.seconds.toFixed(1)} s, ${mbps(ds.bytes, r.seconds).toFixed(1)} MB/s, RSS ${r.rssMiB?.toFixed(0)} MiB${cpuNote(r)}`)
        await osoNextRestore(ds)
      }
      const s = median(rs.map((r) => r.seconds))
      rows.push({what: 'kbk restore fs → target Kafka', dataset: ds.name, command: 'kbk apply restore.plan', runs: rs.length, seconds: s, mbs: mbps(ds.bytes, s), rps: ds.records / s, rss: Math.max(...rs.map((r) => r.rssMiB ?? 0)), extra: cpuExtra(rs)})
    }
  }

  if (osoBin) {
    // OSO kafka-backup on the same topics, each run right after kbk's run of the same number
    // (osoNextBackup, osoNextRestore); the runs kbk did not make in this selection come now.
    for (const ds of ['a', 'k'].map((n) => byName[n]).filter((d) => d.records)) {
      while (osoRunsOf(ds).backups.length < RUNS) await osoNextBackup(ds)
      while (osoRunsOf(ds).restores.length < RUNS) await osoNextRestore(ds)
      const bs = osoRunsOf(ds).backups
      const rs = osoRunsOf(ds).restores
      const sb = median(bs.map((r) => r.seconds))
      const sr = median(rs.map((r) => r.seconds))
      const ob = {what: 'OSO kafka-backup backup → fs store (baseline)', dataset: ds.name, command: 'oso-runner backup oso-backup.yaml', runs: RUNS, seconds: sb, mbs: mbps(ds.bytes, sb), rps: ds.records / sb, rss: Math.max(...bs.map((r) => r.rssMiB ?? 0)), extra: `stored ${(bs[0].stored / MiB).toFixed(0)} MiB; ${cpuExtra(bs).replace('kbk CPU', 'CPU')}`}
      const or = {what: 'OSO kafka-backup restore fs → target Kafka (baseline)', dataset: ds.name, command: 'oso-runner restore oso-restore.yaml', runs: RUNS, seconds: sr, mbs: mbps(ds.bytes, sr), rps: ds.records / sr, rss: Math.max(...rs.map((r) => r.rssMiB ?? 0)), extra: cpuExtra(rs).replace('kbk CPU', 'CPU')}
      rows.push(ob, or)
      const kb = rows.find((r) => r.what === 'kbk backup → fs store' && r.dataset === ds.name)
      const kr = rows.find((r) => r.what === 'kbk restore fs → target Kafka' && r.dataset === ds.name)
      if (kb) Object.assign(kb, {vsOso: sb / kb.seconds, rssVsOso: kb.rss / ob.rss})
      if (kr) Object.assign(kr, {vsOso: sr / kr.seconds, rssVsOso: kr.rss / or.rss})
    }
  }

  if (wants('limit')) {
    // The brakes (issue 22): a backup and a restore of (k) with rateLimit set so each should take
    // ~25 s; the row shows the rate they kept (start-up included in the wall time).
    const k = byName.k
    const limit = Math.round(k.bytes / 25)
    const b = await kbkBackup(k, 'fs', 50, [], limit)
    log(`kbk backup k limited to ${(limit / 1e6).toFixed(1)} MB/s: ${b.seconds.toFixed(1)} s, ${(k.bytes / b.seconds / 1e6).toFixed(1)} MB/s`)
    rows.push({what: `kbk backup → fs store, rateLimit ${(limit / 1e6).toFixed(1)} MB/s`, dataset: 'k', command: 'kbk apply backup.plan', runs: 1, seconds: b.seconds, mbs: mbps(k.bytes, b.seconds), rps: k.records / b.seconds, rss: b.rssMiB, limit, extra: `${((k.bytes / b.seconds / limit) * 100).toFixed(1)} % of the limit (wall time includes start-up)`})
    const r = await kbkRestore(k, b, 51, [], limit)
    log(`kbk restore k limited to ${(limit / 1e6).toFixed(1)} MB/s: ${r.seconds.toFixed(1)} s, ${(k.bytes / r.seconds / 1e6).toFixed(1)} MB/s`)
    rows.push({what: `kbk restore fs → target Kafka, rateLimit ${(limit / 1e6).toFixed(1)} MB/s`, dataset: 'k', command: 'kbk apply restore.plan', runs: 1, seconds: r.seconds, mbs: mbps(k.bytes, r.seconds), rps: k.records / r.seconds, rss: r.rssMiB, limit, extra: `${((k.bytes / r.seconds / limit) * 100).toFixed(1)} % of the limit (wall time includes start-up)`})
    rmSync(b.dir, {recursive: true, force: true})
  }

  if (wants('s3')) {
    const rs = []
    const runs = Math.min(RUNS, 2)
    for (let i = 0; i < runs; i++) {
      const r = await kbkBackup(a, 's3', i)
      rs.push(r)
      log(`kbk backup a s3 #${i}: ${r.seconds.toFixed(1)} s, ${mbps(a.bytes, r.seconds).toFixed(1)} MB/s, RSS ${r.rssMiB?.toFixed(0)} MiB${cpuNote(r)}`)
    }
    const s = median(rs.map((r) => r.seconds))
    const kcatRow = rows.find((r) => r.dataset === 'a' && r.what.startsWith('kcat'))
    rows.push({what: 'kbk backup → S3 (versitygw)', dataset: 'a', command: 'kbk apply backup.plan', runs, seconds: s, mbs: mbps(a.bytes, s), rps: a.records / s, rss: Math.max(...rs.map((r) => r.rssMiB ?? 0)), vsKcat: kcatRow ? kcatRow.seconds / s : undefined, extra: cpuExtra(rs)})
    const rr = await kbkRestore(a, rs[0], 9)
    rows.push({what: 'kbk restore S3 → target Kafka', dataset: 'a', command: 'kbk apply restore.plan', runs: 1, seconds: rr.seconds, mbs: mbps(a.bytes, rr.seconds), rps: a.records / rr.seconds, rss: rr.rssMiB, extra: cpuExtra([rr])})
    for (const r of rs) rmSync(r.dir, {recursive: true, force: true})
  }

  if (wants('replication')) {
    // Replication S3 → Azure (policies.X.replicas): back (a) up to S3, then time the apply that
    // copies every segment to Azurite, reads each copy back and checks its sha256.
    const b = await kbkBackup(a, 's3', 'rep')
    const container = `kbk-bench-${runTag}-rep`
    const {BlobServiceClient} = await import('@azure/storage-blob')
    const blobs = BlobServiceClient.fromConnectionString(env.KBK_TEST_AZURE_CONNECTION_STRING)
    await blobs.getContainerClient(container).create()
    const file = join(b.dir, 'kbk.yaml')
    const yaml = readFileSync(file, 'utf8')
      .replace('retention:\n', `  dr:\n    type: azure\n    container: ${container}\n    prefix: bench/\n    connectionString: "\${AZ_CONN}"\nretention:\n`)
      .replace(/( {4}compression: .*\n)/, '$1    replicas: [{store: dr}]\n')
    writeFileSync(file, yaml)
    process.env.AZ_CONN = env.KBK_TEST_AZURE_CONNECTION_STRING
    try {
      await kbk(b.dir, ['plan', '--out', 'replicate.plan'])
      const r = await kbk(b.dir, ['apply', 'replicate.plan', '--json'])
      const done = r.stdout.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l) } catch { return {} } }).find((e) => e.type === 'apply.done')
      const copied = done?.summary?.replicated_bytes ?? 0
      const segments = done?.summary?.replicated_segments ?? 0
      if (!done?.ok || segments === 0) throw new Error(`replication did not complete: ${r.stdout.slice(-1500)}`)
      log(`kbk replicate a s3 → azure: ${r.seconds.toFixed(1)} s, ${mbps(copied, r.seconds).toFixed(1)} MB/s stored bytes, RSS ${r.rssMiB?.toFixed(0)} MiB${cpuNote(r)}`)
      rows.push({what: 'kbk replicate S3 → Azure (copy, read back, sha256)', dataset: 'a', command: 'kbk apply replicate.plan', runs: 1, seconds: r.seconds, mbs: mbps(copied, r.seconds), rps: a.records / r.seconds, rss: r.rssMiB, extra: `${segments} segment(s), ${(copied / MiB).toFixed(0)} MiB stored bytes copied (MB/s of stored, compressed bytes); ${cpuExtra([r])}`})
    } finally {
      await blobs.getContainerClient(container).deleteIfExists().catch(() => undefined)
      rmSync(b.dir, {recursive: true, force: true})
    }
  }

  if (profile) {
    const profDir = join(work, `prof-${runTag}`)
    mkdirSync(profDir, {recursive: true})
    const b = await kbkBackup(a, 'fs', 99, ['--cpu-prof', `--cpu-prof-dir=${join(profDir, 'backup')}`])
    // One profile per thread: the main thread's is the biggest (workers only compress).
    const newest = (d) => join(d, readdirSync(d).filter((f) => f.endsWith('.cpuprofile')).sort((x, y) => statSync(join(d, x)).size - statSync(join(d, y)).size).pop())
    profiles.backup = {seconds: b.seconds, ...summarizeProfile(newest(join(profDir, 'backup')))}
    await kbkRestore(a, b, 98, ['--cpu-prof', `--cpu-prof-dir=${join(profDir, 'restore')}`]).then((r) => {
      profiles.restore = {seconds: r.seconds, ...summarizeProfile(newest(join(profDir, 'restore')))}
    })
    rmSync(b.dir, {recursive: true, force: true})
    writeFileSync(join(work, 'last-profile.json'), JSON.stringify(profiles, null, 2))
    for (const [k, p] of Object.entries(profiles)) {
      log(`profile ${k}: wall ${p.seconds.toFixed(1)} s, CPU samples ${p.totalMs} ms`)
      for (const c of p.categories) log(`  ${String(c.pct).padStart(5)}%  ${c.ms} ms  ${c.name}`)
      log('  top functions by self time:')
      for (const f of p.top) log(`  ${String(f.pct).padStart(5)}%  ${f.name}`)
    }
  }

  if (wants('plan')) {
    const topics = quick ? 100 : 1000
    log(`plan latency: ${topics * 10} partitions / ${topics * 1000} segments (building the cached state on first use)`)
    const times = []
    let last
    for (let i = 0; i < RUNS + 1; i++) {
      const r = spawnSync(process.execPath, [join(root, 'scripts/bench/plan-latency.mjs'), work, String(topics)], {encoding: 'utf8'})
      if (r.status !== 0) throw new Error(`plan-latency failed: ${r.stderr}`)
      last = JSON.parse(r.stdout.trim().split('\n').pop())
      if (last.build_ms !== undefined) { log(`  built the synthetic state in ${(last.build_ms / 1000).toFixed(1)} s`); continue }
      times.push(last.plan_ms / 1000)
    }
    rows.push({what: `plan: ${topics * 10} partitions, ${topics * 1000} segments (state on fs, synthetic cluster view, in-process)`, dataset: 'synthetic', command: 'openWorkspace + makePlan (what `kbk plan` runs)', runs: times.length, seconds: median(times), rss: last.rss_mib, extra: `${last.summary.run} backup actions`})
  }

  if (wants('workspace')) {
    // Issue 22: validate and plan on a workspace of 10,000 policies (multi-file) < 5 s each.
    const policies = quick ? 1000 : 10_000
    log(`workspace scale: validate and plan on ${policies} policies in ${Math.ceil(policies / 100) + 1} files`)
    const rs = []
    for (let i = 0; i < RUNS; i++) {
      const r = spawnSync(process.execPath, [join(root, 'scripts/bench/workspace-scale.mjs'), work, String(policies)], {encoding: 'utf8', maxBuffer: 64 * MiB})
      if (r.status !== 0) throw new Error(`workspace-scale failed: ${r.stderr}`)
      const row = JSON.parse(r.stdout.trim().split('\n').pop())
      if (row.validate_status !== 0) throw new Error(`kbk validate failed on the generated workspace: ${r.stderr.slice(0, 2000)}`)
      rs.push(row)
    }
    const last = rs.at(-1)
    const size = `${policies.toLocaleString('en-US')} policies, ${last.files} files, ${(last.bytes / MiB).toFixed(1)} MiB`
    rows.push({what: `validate: ${size}`, dataset: 'synthetic', command: 'kbk validate -c DIR (subprocess)', runs: rs.length, seconds: median(rs.map((r) => r.validate_ms / 1000)), rss: Math.max(...rs.map((r) => r.validate_rss_mib ?? 0)), extra: 'target < 5 s'})
    rows.push({what: `plan: ${size} (fs store, synthetic cluster view of ${policies * 2} topics, in-process)`, dataset: 'synthetic', command: 'openWorkspace + makePlan (what `kbk plan` runs)', runs: rs.length, seconds: median(rs.map((r) => r.plan_ms / 1000)), rss: Math.max(...rs.map((r) => r.plan_rss_mib)), extra: `${last.changes} changes; target < 5 s`})
  }
  if (wants('shards')) {
    // N worker processes apply one saved plan (`kbk apply PLAN --shard i/N`), on this one machine.
    const ds = byName.sh
    let single
    for (const n of [1, 2, 4]) {
      const rs = []
      for (let i = 0; i < RUNS; i++) {
        const dir = join(work, `${runTag}-sh-${n}-${i}`)
        workspace(dir, {topic: ds.topic, store: storeYaml('fs', dir)})
        await kbk(dir, ['plan', '--out', 'backup.plan'])
        const cpu0 = machineCpu()
        const t0 = performance.now()
        const ws = await Promise.all(Array.from({length: n}, (_, w) => kbk(dir, ['apply', 'backup.plan', '--shard', `${w + 1}/${n}`, '--json'])))
        const seconds = (performance.now() - t0) / 1000
        const cpu1 = machineCpu()
        const records = ws.reduce((sum, w) => sum + JSON.parse(w.stdout.trim().split('\n').at(-1)).summary.records, 0)
        if (records !== ds.records) throw new Error(`${n} shards backed up ${records} records of ${ds.topic}, expected ${ds.records}`)
        const busy = cpu0 && cpu1 ? (cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total) : undefined
        rs.push({seconds, machineBusy: busy, cpuSeconds: ws.reduce((c, w) => c + (w.cpuSeconds ?? 0), 0), rssMiB: Math.max(...ws.map((w) => w.rssMiB ?? 0))})
        log(`kbk backup sh with ${n} shard(s) #${i}: ${seconds.toFixed(1)} s, ${mbps(ds.bytes, seconds).toFixed(1)} MB/s${cpuNote(rs.at(-1))}`)
        rmSync(dir, {recursive: true, force: true})
      }
      const s = median(rs.map((r) => r.seconds))
      single ??= s
      rows.push({what: `kbk backup → fs store, ${n} shard worker(s) on this machine`, dataset: 'sh', command: n === 1 ? 'kbk apply backup.plan --shard 1/1' : `${n} × kbk apply backup.plan --shard i/${n}`, runs: rs.length, seconds: s, mbs: mbps(ds.bytes, s), rps: ds.records / s, rss: Math.max(...rs.map((r) => r.rssMiB)), extra: `${(single / s).toFixed(2)}× 1 shard; ${cpuExtra(rs)}`})
    }
    // The state commit rate of concurrent workers, on fs and on S3 (versitygw).
    for (const kind of ['fs', 's3']) {
      const dir = join(work, `${runTag}-commits-${kind}`)
      let bucket
      if (kind === 's3') buckets.push((bucket = await createBucket()))
      workspace(dir, {topic: 'none', store: storeYaml(kind, dir, bucket)})
      const r = spawnSync(process.execPath, [join(root, 'scripts/bench/commit-rate.mjs'), dir, quick ? '10' : '25'], {encoding: 'utf8', env: {...process.env, ...s3Env}})
      if (r.status !== 0) throw new Error(`commit-rate failed: ${r.stderr}`)
      for (const line of r.stdout.trim().split('\n')) {
        const c = JSON.parse(line)
        rows.push({what: `state commits, ${c.workers} concurrent shard worker(s), one small segment each (${kind === 's3' ? 'S3, versitygw' : 'fs'})`, dataset: 'synthetic', command: 'scripts/bench/commit-rate.mjs', runs: 1, seconds: c.seconds, extra: `${c.commits_per_s} commits/s in all; ${c.conflicts_per_commit} lost head races per commit; ${c.ms_per_commit_per_worker} ms per commit per worker`})
        log(`commits ${kind} × ${c.workers}: ${c.commits_per_s}/s, ${c.conflicts_per_commit} conflicts per commit`)
      }
    }
  }
  if (wants('schema')) {
    // Restore of Avro records with and without the schema-ID rewrite (scripts/bench/schema-remap.mjs).
    const r = spawnSync(process.execPath, [join(root, 'scripts/bench/schema-remap.mjs'), quick ? '200000' : '1000000', '2'], {encoding: 'utf8'})
    if (r.status !== 0) throw new Error(`schema-remap failed: ${r.stderr}`)
    const c = JSON.parse(r.stdout.trim().split('\n').pop())
    rows.push({what: 'kbk restore of Avro records, schema IDs rewritten into another registry', dataset: `avro ${c.records}`, command: 'scripts/bench/schema-remap.mjs', runs: c.runs.remap.length, seconds: c.remap_s, mbs: c.remap_mb_s, rps: c.records / c.remap_s, extra: `same restore without rewrite: ${c.plain_s.toFixed(2)} s; rewrite costs ${(c.remap_cost * 100).toFixed(0)} % wall${c.remap_cpu_cost !== null ? `, ${(c.remap_cpu_cost * 100).toFixed(0)} % kbk CPU` : ''}`})
    log(`schema remap: ${c.remap_s.toFixed(2)} s vs ${c.plain_s.toFixed(2)} s without (${(c.remap_cost * 100).toFixed(1)} %)`)
  }
  if (wants('crc')) {
    // Issue 21: every fetched batch's CRC-32C is checked before it is used. Its CPU cost per GiB
    // fetched, beside the decoding the read does with the same bytes anyway (CPU time, no broker).
    const r = spawnSync(process.execPath, [join(root, 'scripts/bench/crc-cost.mjs'), quick ? '64' : '256'], {encoding: 'utf8'})
    if (r.status !== 0) throw new Error(`crc-cost failed: ${r.stderr}`)
    for (const line of r.stdout.trim().split('\n')) {
      const c = JSON.parse(line)
      rows.push({what: `CRC-32C check of fetched batches (${c.value_bytes} B values), main thread`, dataset: 'synthetic', command: 'scripts/bench/crc-cost.mjs (CPU time)', runs: 1, mbs: (c.crc_mib_s * MiB) / 1e6, extra: `${c.crc_cpu_s_per_gib} CPU s per GiB fetched; ${(c.crc_share_of_check_plus_decode * 100).toFixed(0)} % of check + decode`})
      log(`crc ${c.value_bytes} B: ${c.crc_mib_s} MiB per CPU s, ${c.crc_cpu_s_per_gib} CPU s/GiB`)
    }
  }
} finally {
  if (!process.env.KBK_BENCH_KEEP) {
    log('cleaning up bench topics and stores')
    if (created.source.length) await srcAdmin.deleteTopics({topics: created.source}).catch(() => undefined)
    const left = (await dstAdmin.listTopics()).filter((t) => t.startsWith(`bench.${runTag}.`))
    if (left.length) await dstAdmin.deleteTopics({topics: left}).catch(() => undefined)
    for (const b of buckets) await emptyAndDeleteBucket(b).catch(() => undefined)
    for (const f of readdirSync(work)) if (f.startsWith(`${runTag}-`)) rmSync(join(work, f), {recursive: true, force: true})
  }
  await srcAdmin.disconnect()
  await dstAdmin.disconnect()
}

// ---- report ----
const fmt = (n, d = 1) => (n === undefined || Number.isNaN(n) ? '' : n.toFixed(d))
const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM; brokers and stores on the same machine`
const header = '| what | dataset | command | runs | median s | MB/s | records/s | peak RSS MiB | × OSO (RSS) | × kcat | × zstd 1 core | notes |'
const sep = '|---|---|---|---|---|---|---|---|---|---|---|---|'
const lines = rows.map((r) => `| ${r.what} | ${r.dataset} | \`${r.command}\` | ${r.runs} | ${fmt(r.seconds, 2)} | ${fmt(r.mbs)} | ${r.rps ? Math.round(r.rps).toLocaleString('en-US') : ''} | ${fmt(r.rss, 0)} | ${r.vsOso ? `${fmt(r.vsOso, 2)} (${fmt(r.rssVsOso, 2)})` : ''} | ${fmt(r.vsKcat, 2)} | ${fmt(r.vsZstd, 2)} | ${r.extra ?? ''} |`)
const dsLines = datasets.filter((d) => d.records).map((d) => `- ${d.label}: ${d.records.toLocaleString('en-US')} records, ${(d.bytes / MiB).toFixed(0)} MiB of ${d.kind === 'keyed' ? 'keys and values' : 'values'}, produced with kcat (\`-z ${d.compression}\`${d.kind === 'keyed' ? ', `-K`' : ''}${d.headers ? d.headers.map((h) => ` \`-H ${h.split('=')[0]}=…\``).join('') : ''})`)
const table = [header, sep, ...lines].join('\n')

// Issue 9's targets, judged from this run's rows (blank when the row was not measured).
function targets() {
  const row = (pred) => rows.find(pred)
  const out = []
  const bk = row((r) => r.what === 'kbk backup → fs store' && r.dataset === 'a')
  const kc = row((r) => r.what.startsWith('kcat') && r.dataset === 'a')
  if (bk) out.push(['backup ≥ 100 MB/s on (a) at zstd ' + LEVEL + ', faster than kcat', bk.mbs >= 100 && (!kc || bk.vsKcat > 1), `${fmt(bk.mbs)} MB/s${kc ? `; kcat ${fmt(kc.mbs)} MB/s (× kcat ${fmt(bk.vsKcat, 2)})` : ''}`])
  const rs = row((r) => r.what === 'kbk restore fs → target Kafka' && r.dataset === 'a')
  if (rs) out.push(['restore ≥ 50 MB/s on (a)', rs.mbs >= 50, `${fmt(rs.mbs)} MB/s`])
  const mem = rows.filter((r) => r.what.startsWith('kbk') && r.rss !== undefined)
  if (mem.length) {
    const worst = mem.reduce((a, b) => (b.rss > a.rss ? b : a))
    const pairs = [['backup', 'kbk backup → fs store'], ['restore', 'kbk restore fs → target Kafka']].map(([k, what]) => {
      const big = row((r) => r.what === what && r.dataset === 'a')
      const twice = row((r) => r.what.startsWith(what + ' (2×') && r.dataset === 'a-2x')
      return big && twice ? `${k} ${fmt(big.rss, 0)} → ${fmt(twice.rss, 0)} MiB from (a) to twice its size` : undefined
    }).filter(Boolean)
    out.push(['peak RSS < 512 MiB, independent of topic size', worst.rss < 512, `highest ${fmt(worst.rss, 0)} MiB (${worst.what}, ${worst.dataset})${pairs.length ? '; ' + pairs.join('; ') : ''}`])
  }
  const pl = row((r) => r.dataset === 'synthetic')
  if (pl) out.push(['plan over 10,000 partitions / 1,000,000 segments < 5 s', pl.seconds < 5, `${fmt(pl.seconds, 2)} s${pl.what.startsWith('plan: 10000 ') ? '' : ` (this run's smaller state: ${pl.what.split(' (')[0].slice(6)})`}`])
  // Issue 22: against OSO kafka-backup and kcat's plain dump, same run, same topics.
  for (const ds of ['a', 'k']) {
    const kb = row((r) => r.what === 'kbk backup → fs store' && r.dataset === ds)
    const kr = row((r) => r.what === 'kbk restore fs → target Kafka' && r.dataset === ds)
    const kcatRow = row((r) => r.what.startsWith('kcat') && r.dataset === ds)
    // The floor under any backup of these bytes on this machine: fetched as cheaply as kcat does,
    // compressed as zstd-napi does with every core free, perfectly overlapped, nothing checked.
    const floor = backupFloor(row((r) => r.zstdAll && r.dataset === ds)?.zstdAll, kcatRow)
    const floorNote = (need) => (floor ? `; the target needs ≤ ${fmt(need, 2)} s, and this machine's floor is ${fmt(floor.seconds, 2)} s (fetching as kcat does and compressing with zstd-napi on all cores, nothing checked: ${fmt(floor.cpu, 1)} s of CPU over ${floor.cores} cores; compression alone ${fmt(floor.compressWall, 2)} s)` : '')
    if (kb?.vsOso !== undefined) out.push([`backup ≥ 1.3 × OSO's speed (${ds})`, kb.vsOso >= 1.3, `${fmt(kb.vsOso, 2)} × (kbk ${fmt(kb.seconds, 2)} s, OSO ${fmt(kb.seconds * kb.vsOso, 2)} s)${kb.vsOso >= 1.3 ? '' : floorNote((kb.seconds * kb.vsOso) / 1.3)}`])
    if (kr?.vsOso !== undefined) out.push([`restore ≥ 1.3 × OSO's speed (${ds})`, kr.vsOso >= 1.3, `${fmt(kr.vsOso, 2)} × (kbk ${fmt(kr.seconds, 2)} s, OSO ${fmt(kr.seconds * kr.vsOso, 2)} s)`])
    for (const [k, r] of [['backup', kb], ['restore', kr]]) if (r?.rssVsOso !== undefined) out.push([`peak RSS ≤ ½ OSO's, ${k} (${ds})`, r.rssVsOso <= 0.5, `${fmt(r.rss, 0)} MiB, ${fmt(r.rssVsOso, 2)} × OSO's ${fmt(r.rss / r.rssVsOso, 0)} MiB`])
    if (kb && kcatRow) out.push([`backup within 1.5 × kcat's dump time (${ds})`, kb.seconds <= 1.5 * kcatRow.seconds, `kbk ${fmt(kb.seconds, 2)} s, kcat ${fmt(kcatRow.seconds, 2)} s (${fmt(kb.seconds / kcatRow.seconds, 2)} ×)${kb.seconds <= 1.5 * kcatRow.seconds ? '' : floorNote(1.5 * kcatRow.seconds)}`])
  }
  for (const lim of rows.filter((r) => r.limit !== undefined)) {
    const share = (lim.mbs * MiB) / lim.limit
    out.push([`a rate-limited run stays within 10 % of its limit (${lim.what.startsWith('kbk backup') ? 'backup' : 'restore'})`, Math.abs(share - 1) <= 0.1, `${fmt((lim.mbs * MiB) / 1e6, 1)} MB/s against ${fmt(lim.limit / 1e6, 1)} MB/s (${fmt(share * 100, 1)} %)`])
  }
  if (osoSkipped) out.push(['OSO baseline', false, `not measured: ${osoSkipped}`])
  if (!out.length) return ''
  return ['## Against the targets (issues 9 and 22)', '', '| target | met? | this run |', '|---|---|---|', ...out.map(([t, ok, v]) => `| ${t} | ${ok ? 'met' : '**missed**'} | ${v} |`), ''].join('\n')
}

/**
 * The least wall time any backup of a kcat row's bytes could take here: compressing them on all
 * cores at once (the zstdAllCores row, scaled to the dataset's bytes), or all the CPU it takes to
 * fetch them as kcat did (kcat's and the brokers' CPU) and compress them, spread perfectly over
 * the cores, whichever is more.
 */
function backupFloor(z, kcatRow) {
  if (!z || !kcatRow || kcatRow.cpu === undefined) return undefined
  const scale = kcatRow.bytes / z.bytes
  const compressWall = z.seconds * scale
  const cpu = z.cpuSeconds * scale + kcatRow.cpu + (kcatRow.brokers ?? 0)
  return {seconds: Math.max(compressWall, cpu / z.cores), compressWall, cpu, cores: z.cores}
}

function profileSection() {
  const entries = Object.entries(profiles)
  if (!entries.length) return ''
  const out = ['## Where the time goes (CPU profile of the main thread, dataset a)', '']
  for (const [k, p] of entries) {
    out.push(`${k}: wall ${p.seconds.toFixed(1)} s, ${p.totalMs} ms of samples.`, '', '| share | ms | category |', '|---|---|---|')
    for (const c of p.categories.slice(0, 10)) out.push(`| ${c.pct} % | ${c.ms} | ${c.name} |`)
    out.push('')
  }
  return out.join('\n')
}
process.stdout.write(`\n${table}\n`)
const md = `# kbk benchmarks

Generated by \`npm run bench${args.length ? ' -- ' + args.join(' ') : ''}\` on ${new Date().toISOString().slice(0, 10)}. Not part of \`npm test\`: speed is
checked here, never by timed assertions. What the numbers mean, the CPU profile and what moved
them: [docs/performance.md](docs/performance.md).

- Machine: ${machine}
- Node ${process.version}, Kafka ${env.KBK_TEST_KAFKA_VERSION} (one KRaft broker per cluster), S3: ${env.KBK_TEST_S3_SERVER}
- MB/s = MiB of record values (and keys, in datasets k and h) per second of the timed command's wall time; the
  timed command is \`kbk apply PLANFILE\` (the plan is made before the clock starts). Peak RSS is
  the kbk process's maximum resident set (\`/usr/bin/time -v\`), max over runs.
- × OSO (RSS): OSO kafka-backup's time / kbk's time on the same topic, in the same run (> 1: kbk is
  faster), and in brackets kbk's peak RSS / OSO's. OSO runs from bench/oso (its engine,
  \`kafka-backup-core\` pinned in Cargo.lock): fs store, zstd level ${LEVEL}, stop at current offsets, no
  offset headers, restore into a topic it creates; every restore is checked complete.
- × kcat: kcat's time / kbk's time on the same topic (> 1: kbk is faster); kcat writes the file
  itself (\`> file\`), with its default fetch settings. × zstd 1 core: kbk's
  MB/s / zstd-napi's MB/s compressing the same kind of records from memory at level ${LEVEL} on one core.
- Floor (in the targets below a missed backup target): the least wall time any backup of the
  same bytes could take on this machine: fetched with kcat's CPU (and the brokers'), compressed
  with zstd-napi's CPU at level ${LEVEL} when every core compresses at once (the "all cores" rows),
  the two spread perfectly over the cores, nothing checked.
- OSO runs alternate with kbk's, run for run (kbk's backup i, then OSO's backup i; the same for
  restores), so both see the machine in the same state; its ±15 % drift over a bench run no longer
  falls on one of them only.
- Notes: \`kbk CPU\` is the kbk process's user + system CPU seconds (main thread and compression
  workers); \`machine % busy\` is how busy both cores were over the run (broker, servers, kbk);
  \`main thread\` / \`other threads\` split the process's CPU by thread (sampled from /proc every
  200 ms; the busiest two others are the compression workers in a backup), and \`brokers\` is what
  both Kafka brokers spent meanwhile.
- Shard rows: N \`kbk apply PLAN --shard i/N\` processes on this one machine, timed from the first
  start to the last exit; they share its two cores, so the curve is flat at best. What N machines
  would give (network- vs CPU-bound, the commit limit): docs/performance.md, "Scale-out".
${dsLines.join('\n')}

${table}

${targets()}
${profileSection()}`
if (!quick && !only) writeFileSync(join(root, 'BENCHMARKS.md'), md)
else writeFileSync(join(work, 'BENCHMARKS.partial.md'), md)
log(quick || only ? `partial run: table written to ${join(work, 'BENCHMARKS.partial.md')}` : 'wrote BENCHMARKS.md')
process.exit(0)
