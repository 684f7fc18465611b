#!/usr/bin/env node
// `npm run env:down`: stop exactly the servers env:up started — each recognised by its pid
// file (pid, kernel start time, command line), never by name — and wait until they are gone.
// Data under .cache stays, so the next env:up is fast; `rm -rf .cache` resets everything.
import {readdirSync, existsSync} from 'node:fs'
import {EnvError, ourLiveProcess, pidDir, progress, readPidFile, removePidFile, stopProcess, withLock} from './lib.mjs'

async function main() {
  // Walk the pid files rather than the service list, so a server from an older layout is stopped too.
  const names = existsSync(pidDir) ? readdirSync(pidDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)) : []
  if (names.length === 0) {
    progress('nothing to stop')
    return
  }
  await Promise.all(
    names.map(async (name) => {
      const rec = ourLiveProcess(name)
      if (!rec) {
        const stale = readPidFile(name)
        progress(`${name}: not running${stale ? ` (pid ${stale.pid} is gone or is not ours)` : ''}`)
        removePidFile(name)
        return
      }
      const how = await stopProcess(rec)
      removePidFile(name)
      progress(`${name}: ${how} (pid ${rec.pid})`)
    }),
  )
}

try {
  await withLock(main, {waitMs: 5 * 60_000})
} catch (error) {
  process.stderr.write(`env: ✖ ${error instanceof EnvError ? error.message : error.stack}\n`)
  process.exit(1)
}
