// Workspace size at scale: `kbk validate` (the built CLI, a subprocess, as users run it) and
// `kbk plan` (in one process: the real loader, the real state read from an fs store and the real
// planner, with a synthetic cluster view in place of Kafka, as plan-latency.mjs does) on a
// generated multi-file workspace of N policies (issue 22: 10,000 policies < 5 s each).
// Prints one JSON line: {policies, files, bytes, validate_ms, validate_rss_mib, plan_ms, plan_rss_mib, changes}.
//
//   node scripts/bench/workspace-scale.mjs <cacheDir> [policies=10000] [--validate-only]
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {performance} from 'node:perf_hooks'

const root = new URL('../../', import.meta.url).pathname
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const cache = resolve(args[0] ?? join(root, '.cache/bench'))
const POLICIES = Number(args[1] ?? 10_000)
const validateOnly = process.argv.includes('--validate-only')
const PER_FILE = 100
const TEAMS = 20

/** Writes N policies over files of 100 (one per team and batch), plus a shared file; returns the directory. */
export function generateWorkspace(dir, policies, storePath) {
  rmSync(dir, {recursive: true, force: true})
  mkdirSync(dir, {recursive: true})
  writeFileSync(join(dir, '00-shared.yaml'), `version: 1
clusters:
  prod: {brokers: ["\${KAFKA_BOOTSTRAP:-127.0.0.1:1}"]}
stores:
  main: {type: fs, path: ${JSON.stringify(storePath)}}
retention:
  standard: {maxAge: 30d, minKeep: 1, allowDestroy: true}
  long: {maxAge: 1y, minKeep: 3}
compliance:
${Array.from({length: TEAMS}, (_, t) => `  team${t}: {description: Team ${t} data, minRetention: 7d}`).join('\n')}
`)
  for (let f = 0; f * PER_FILE < policies; f++) {
    const lines = ['policies:']
    for (let i = f * PER_FILE; i < Math.min(policies, (f + 1) * PER_FILE); i++) {
      const team = `team${i % TEAMS}`
      lines.push(
        `  ${team}-p${String(i).padStart(6, '0')}:`,
        '    cluster: prod',
        '    store: main',
        `    topics: {include: ["${team}\\\\.p${String(i).padStart(6, '0')}\\\\..*"], exclude: [".*\\\\.tmp$"]}`,
        `    retention: ${i % 2 ? 'standard' : 'long'}`,
        '    rpo: 1h',
        `    tags: [${team}]`,
      )
    }
    writeFileSync(join(dir, `policies-${String(f).padStart(4, '0')}.yaml`), lines.join('\n') + '\n')
  }
  return dir
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const wsDir = join(cache, `ws-scale-${POLICIES}`)
  const storeDir = join(cache, `ws-scale-store-${POLICIES}`)
  mkdirSync(storeDir, {recursive: true})
  generateWorkspace(wsDir, POLICIES, storeDir)
  const files = readdirSync(wsDir)
  const out = {policies: POLICIES, files: files.length, bytes: files.reduce((n, f) => n + statSync(join(wsDir, f)).size, 0)}

  const timeBin = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', '%M'] : []
  const cmd = [...timeBin, process.execPath, join(root, 'bin/run.js'), 'validate', '-c', wsDir]
  const t0 = performance.now()
  const v = spawnSync(cmd[0], cmd.slice(1), {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}, maxBuffer: 64 * 1024 * 1024})
  out.validate_ms = Math.round(performance.now() - t0)
  out.validate_status = v.status
  if (timeBin.length > 0) out.validate_rss_mib = Math.round(Number(v.stderr.trim().split('\n').at(-1)) / 1024)
  if (v.status !== 0) process.stderr.write(v.stdout.slice(0, 2000) + v.stderr.slice(-2000))

  if (!validateOnly) {
    const {openWorkspace} = await import(join(root, 'dist/cli/context.js'))
    const {makePlan} = await import(join(root, 'dist/app/plan.js'))
    // Every policy matches two topics of the synthetic cluster; none has been backed up yet.
    const topics = []
    for (let i = 0; i < POLICIES; i++) for (const s of ['a', 'b']) topics.push(`team${i % TEAMS}.p${String(i).padStart(6, '0')}.${s}`)
    const syntheticKafka = {
      async listTopics() { return topics },
      async describeTopics(names) { return names.map((name) => ({name, partitions: 1, configs: {}})) },
      async watermarks() { return [{partition: 0, low: 0, high: 100}] },
      async groupOffsets() { return [] },
      async listGroups() { return [] },
      async close() {},
    }
    process.chdir(wsDir)
    const t1 = performance.now()
    const ctx = await openWorkspace({config: wsDir})
    ctx.kafka = () => syntheticKafka
    const plan = await makePlan(ctx, {refreshOnly: false, targets: [], listObjects: false})
    out.plan_ms = Math.round(performance.now() - t1)
    out.changes = plan.resource_changes.length
    out.plan_rss_mib = Math.round(process.resourceUsage().maxRSS / 1024)
    await ctx.close()
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}
