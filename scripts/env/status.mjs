#!/usr/bin/env node
// `npm run env:status [-- --json]`: which test servers run (started by env:up) and whether each
// answers its health check. Exit 0 when all are running and healthy, 1 otherwise.
import {ourLiveProcess, portInUse} from './lib.mjs'
import {SERVICES} from './services.mjs'

const json = process.argv.includes('--json')

const rows = await Promise.all(
  SERVICES.map(async (s) => {
    const rec = ourLiveProcess(s.name)
    const healthy = rec ? await s.healthy() : false
    // A port that answers without our process behind it blocks env:up; say so.
    const foreign = !rec && (await portInUse(s.port))
    return {
      name: s.name,
      title: s.title,
      endpoint: `127.0.0.1:${s.port}`,
      running: Boolean(rec),
      healthy,
      pid: rec?.pid ?? null,
      startedAt: rec?.startedAt ?? null,
      log: rec?.logFile ?? null,
      ...(foreign ? {note: `port ${s.port} is held by a process env:up did not start`} : {}),
    }
  }),
)

if (json) {
  process.stdout.write(JSON.stringify({services: rows, allHealthy: rows.every((r) => r.healthy)}, null, 2) + '\n')
} else {
  const width = Math.max(...rows.map((r) => r.name.length))
  for (const r of rows) {
    const state = r.healthy ? 'healthy' : r.running ? 'UNHEALTHY' : 'stopped'
    const extra = r.running ? `pid ${r.pid}, log ${r.log}` : (r.note ?? '')
    process.stdout.write(`${r.name.padEnd(width)}  ${state.padEnd(9)}  ${r.endpoint.padEnd(15)}  ${r.title}${extra ? `  (${extra})` : ''}\n`)
  }
}
process.exit(rows.every((r) => r.healthy) ? 0 : 1)
