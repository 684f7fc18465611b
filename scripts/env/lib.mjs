// Process and path helpers for the local test environment (scripts/env): where things live,
// how a server we started is recognised again, and how we wait for it.
import {spawn, spawnSync} from 'node:child_process'
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {request} from 'node:http'
import {connect} from 'node:net'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const root = fileURLToPath(new URL('../..', import.meta.url))
// .cache may be a symlink (git worktrees share one): paths under it are named by its real path, so
// a server's settings, and so its signature, are the same from every checkout, and env:up from a
// second checkout reuses the running servers instead of restarting them under someone's tests.
export const cacheDir = realPathOf(join(root, '.cache'))
export const logDir = join(root, '.logs')
export const pidDir = join(cacheDir, 'pids')
export const envFile = join(root, '.env.test')

// Added to every port, so a second checkout can run its own servers beside the first.
export const portOffset = Number(process.env.KBK_ENV_PORT_OFFSET ?? 0)
if (!Number.isInteger(portOffset) || portOffset < 0 || portOffset > 20000) {
  throw new Error(`KBK_ENV_PORT_OFFSET must be an integer from 0 to 20000, got ${process.env.KBK_ENV_PORT_OFFSET}`)
}

function realPathOf(path) {
  try {
    return realpathSync(path)
  } catch {
    return path // not there yet: created as a plain directory on first use
  }
}

export function progress(line) {
  process.stderr.write(`env: ${line}\n`)
}

/** A failure the person running the script can act on: printed as one line, no stack. */
export class EnvError extends Error {}

export function ensureDir(dir) {
  mkdirSync(dir, {recursive: true})
  return dir
}

/** Write via a temp file and rename, so a reader never sees half a file. */
export function writeFileAtomic(path, text) {
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, text)
  renameSync(tmp, path)
}

export function hasCommand(cmd, args = ['-version']) {
  const r = spawnSync(cmd, args, {stdio: 'ignore'})
  return !r.error && r.status === 0
}

/** Run a provisioning command to completion; its output goes to a log file, not the terminal. */
export function runLogged(cmd, args, {cwd = root, env = process.env, logFile}) {
  return new Promise((resolve, reject) => {
    const fd = openSync(logFile, 'a')
    const child = spawn(cmd, args, {cwd, env, stdio: ['ignore', fd, fd]})
    child.on('error', (error) => {
      closeSync(fd)
      reject(new EnvError(`${cmd} could not start: ${error.message}`))
    })
    child.on('exit', (code, signal) => {
      closeSync(fd)
      if (code === 0) resolve()
      else reject(new EnvError(`${cmd} ${args.slice(0, 3).join(' ')} … failed (exit ${code ?? signal}); see ${logFile}`))
    })
  })
}

// --- processes we started -------------------------------------------------------------------
// A pid file records the pid AND the kernel's start time of that process (field 22 of
// /proc/<pid>/stat). A pid alone is not enough: after a reboot or a crash the number can belong to
// someone else's process, and down.mjs must never signal a process it did not start.

export function processStartTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may contain spaces and parentheses; fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (fields[0] === 'Z') return undefined // a zombie is gone for our purposes
    return fields[19]
  } catch {
    return undefined
  }
}

function processCmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')
  } catch {
    return undefined
  }
}

export function readPidFile(name) {
  const file = join(pidDir, `${name}.json`)
  if (!existsSync(file)) return undefined
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return undefined
  }
}

export function removePidFile(name) {
  rmSync(join(pidDir, `${name}.json`), {force: true})
}

/** The recorded process if it is still the very process we started, else undefined. */
export function ourLiveProcess(name) {
  const rec = readPidFile(name)
  if (!rec) return undefined
  if (processStartTime(rec.pid) !== rec.startTime) return undefined
  const cmdline = processCmdline(rec.pid)
  if (!cmdline || !cmdline.includes(rec.marker)) return undefined
  return rec
}

/**
 * Start a long-running server detached from this script (it must outlive `npm run env:up`),
 * stdout and stderr appended to its log file. `marker` is a string unique to this server's
 * command line (its data directory, usually) used to recognise it later.
 */
export function startDetached(name, cmd, args, {env = process.env, cwd = root, logFile, marker, signature}) {
  ensureDir(pidDir)
  const fd = openSync(logFile, 'a')
  writeFileSync(fd, `\n=== ${new Date().toISOString()} starting ${name}: ${cmd} ${args.join(' ')}\n`)
  const child = spawn(cmd, args, {cwd, env, detached: true, stdio: ['ignore', fd, fd]})
  closeSync(fd)
  let spawnError
  child.on('error', (error) => {
    spawnError = error
  })
  child.unref()
  if (!child.pid) throw new EnvError(`${name}: could not start ${cmd}; see ${logFile}`)
  const rec = {name, pid: child.pid, startTime: processStartTime(child.pid), marker, signature, logFile, startedAt: new Date().toISOString()}
  writeFileAtomic(join(pidDir, `${name}.json`), JSON.stringify(rec, null, 2) + '\n')
  return {rec, exited: () => spawnError !== undefined || processStartTime(child.pid) === undefined}
}

/** SIGTERM, wait, then SIGKILL: returns once the process is gone. */
export async function stopProcess(rec, {graceMs = 20_000} = {}) {
  const alive = () => processStartTime(rec.pid) === rec.startTime
  if (!alive()) return 'not running'
  try {
    process.kill(rec.pid, 'SIGTERM')
  } catch {
    return 'not running'
  }
  const deadline = Date.now() + graceMs
  while (alive() && Date.now() < deadline) await sleep(100)
  if (!alive()) return 'stopped'
  try {
    process.kill(rec.pid, 'SIGKILL')
  } catch {
    // already gone between the check and the signal
  }
  while (alive()) await sleep(100)
  return 'killed'
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

// --- probes -------------------------------------------------------------------------------

/** Is anything listening on this loopback port? */
export function portInUse(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = connect({port, host})
    socket.setTimeout(1000)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(false))
  })
}

/** HTTP status of a GET, or undefined when nothing answered. */
export function httpStatus(url, {timeoutMs = 2000, headers = {}} = {}) {
  return new Promise((resolve) => {
    const req = request(url, {method: 'GET', headers, timeout: timeoutMs}, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
      res.on('error', () => resolve(res.statusCode))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(undefined))
    req.end()
  })
}

/** Poll `check` until it returns true; false when the deadline passes or `gaveUp` says so. */
export async function waitUntil(check, {deadline, gaveUp = () => false, intervalMs = 300}) {
  for (;;) {
    if (await check()) return true
    if (gaveUp() || Date.now() > deadline) return false
    await sleep(intervalMs)
  }
}

// --- one env:up at a time ---------------------------------------------------------------------
// Several engineers' test runs call up.mjs at once; two of them must not both start a broker on
// the same port. The lock file names its holder so a crashed holder does not block forever.

// `name` gives a separate lock (e.g. one per tool build), so building a linter does not wait
// for a whole env:up.
export async function withLock(fn, {waitMs = 20 * 60_000, name = 'env'} = {}) {
  ensureDir(cacheDir)
  const lockFile = join(cacheDir, `${name}.lock`)
  const deadline = Date.now() + waitMs
  let told = false
  for (;;) {
    try {
      writeFileSync(lockFile, JSON.stringify({pid: process.pid, startTime: processStartTime(process.pid)}), {flag: 'wx'})
      break
    } catch (error) {
      if (error.code !== 'EEXIST') throw error
      let holder
      try {
        holder = JSON.parse(readFileSync(lockFile, 'utf8'))
      } catch {
        holder = undefined
      }
      if (!holder && Date.now() - statSync(lockFile, {throwIfNoEntry: false})?.mtimeMs < 5000) {
        await sleep(200) // just created; its holder is still writing its name into it
        continue
      }
      if (!holder || processStartTime(holder.pid) !== holder.startTime) {
        rmSync(lockFile, {force: true})
        continue
      }
      if (!told) progress(`waiting for another ${name === 'env' ? 'env:up' : name} (pid ${holder.pid}) to finish`)
      told = true
      if (Date.now() > deadline) throw new EnvError(`another ${name === 'env' ? 'env:up' : name} (pid ${holder.pid}) still holds ${lockFile}`)
      await sleep(500)
    }
  }
  try {
    return await fn()
  } finally {
    rmSync(lockFile, {force: true})
  }
}
