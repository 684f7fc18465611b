#!/usr/bin/env node
// `npm run env:up`: provision (first use only), start and health-check the real servers that
// integration tests talk to, all on 127.0.0.1, then write .env.test. Idempotent: a server that
// is already running and healthy is reused; a dead or unhealthy one is restarted.
//   KBK_ENV_START_TIMEOUT_S  cap on waiting for servers to become healthy (default 180)
//   KBK_ENV_S3=minio         use MinIO instead of versitygw as the S3 server
import {spawnSync} from 'node:child_process'
import {
  EnvError, envFile, ensureDir, logDir, ourLiveProcess, portInUse, progress, readPidFile,
  removePidFile, startDetached, stopProcess, waitUntil, withLock, writeFileAtomic,
} from './lib.mjs'
import {SERVICES as ALL_SERVICES, testEnvironment} from './services.mjs'

// `--only a,b` starts just those services (the quickstart needs only kafka-source, and then no
// Go toolchain). .env.test still lists every endpoint; the ones not started are simply down.
const onlyArg = process.argv.indexOf('--only')
const only = onlyArg >= 0 ? new Set((process.argv[onlyArg + 1] ?? '').split(',').filter(Boolean)) : undefined
const SERVICES = only ? ALL_SERVICES.filter((s) => only.has(s.name)) : ALL_SERVICES
if (only && SERVICES.length !== only.size) {
  process.stderr.write(`env: ✖ --only takes service names from: ${ALL_SERVICES.map((s) => s.name).join(', ')}\n`)
  process.exit(1)
}

const startTimeoutMs = Number(process.env.KBK_ENV_START_TIMEOUT_S ?? 180) * 1000

function checkPrerequisites() {
  const seen = new Map()
  for (const s of SERVICES) for (const r of s.requires()) seen.set(r.cmd, r)
  for (const r of seen.values()) {
    const res = spawnSync(r.cmd, r.args, {encoding: 'utf8'})
    const ok = !res.error && res.status === 0 && (!r.accepts || r.accepts(`${res.stdout}${res.stderr}`))
    if (!ok) throw new EnvError(`\`${r.cmd}\` is missing${r.accepts ? ' or too old' : ''}: install ${r.install}, then run npm run env:up again`)
  }
}

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`
}

// Both Kafka clusters share one download; run each distinct provisioning step once.
const provisioning = new Map()
function provisionOnce(service) {
  if (!provisioning.has(service.provision)) provisioning.set(service.provision, service.provision())
  return provisioning.get(service.provision)
}

async function ensureRunning(service) {
  const began = Date.now()
  const fresh = await provisionOnce(service)
  const provisioned = fresh ? `provisioned in ${seconds(began)}, ` : ''
  const startedAt = Date.now()
  const spec = await service.prepare()
  const rec = ourLiveProcess(service.name)
  if (rec && rec.signature === spec.signature) {
    // It may still be starting (another up.mjs was interrupted, or a slow JVM): give it time.
    if (await waitUntil(service.healthy, {deadline: Date.now() + 30_000})) return `reused (pid ${rec.pid})`
    progress(`${service.name} (pid ${rec.pid}) runs but is not healthy; restarting it`)
    await stopProcess(rec)
  } else if (rec) {
    progress(`${service.name} runs with other settings; restarting it`)
    await stopProcess(rec)
  } else if (readPidFile(service.name)) {
    progress(`${service.name} had stopped; starting it again`)
  }
  removePidFile(service.name)
  if (await portInUse(service.port)) {
    throw new EnvError(`${service.name}: port ${service.port} is taken by a process env:up did not start; stop it and run npm run env:up again`)
  }
  const {exited, rec: started} = startDetached(service.name, spec.cmd, spec.args, spec)
  const healthy = await waitUntil(service.healthy, {deadline: Date.now() + startTimeoutMs, gaveUp: exited})
  if (!healthy) {
    const logs = [spec.logFile, spec.brokerLog].filter(Boolean).join(' and ')
    const why = exited() ? 'exited' : `was not healthy after ${startTimeoutMs / 1000}s`
    throw new EnvError(`${service.name} ${why}; see ${logs}`)
  }
  return `${provisioned}started in ${seconds(startedAt)} (pid ${started.pid})`
}

async function main() {
  ensureDir(logDir)
  checkPrerequisites()
  const results = await Promise.allSettled(
    SERVICES.map(async (s) => {
      const how = await ensureRunning(s)
      progress(`${s.title}: ${how}, 127.0.0.1:${s.port}`)
    }),
  )
  const env = testEnvironment()
  writeFileAtomic(envFile, '# Written by scripts/env/up.mjs: endpoints of the local test servers (loopback only).\n' +
    Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
  const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason)
  if (failures.length > 0) {
    for (const f of failures) process.stderr.write(`env: ✖ ${f instanceof EnvError ? f.message : f.stack}\n`)
    process.exit(1)
  }
  progress(`${only ? 'selected' : 'all'} ${SERVICES.length} server(s) healthy; wrote .env.test`)
}

try {
  await withLock(main)
} catch (error) {
  process.stderr.write(`env: ✖ ${error instanceof EnvError ? error.message : error.stack}\n`)
  process.exit(1)
}
