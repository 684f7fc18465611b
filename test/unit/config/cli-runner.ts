// Runs `kbk <args>` — the built CLI, bin/run.js → dist/ (scripts/test.mjs builds before testing) —
// in a given directory, as a user would: a separate process, real stdout, stderr and exit code.
// (Through tsx and bin/dev.js each run took ~3x longer, which the suite paid dozens of times.)
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))

export interface CliRun {
  status: number | null
  stdout: string
  stderr: string
}

export function runKbk(args: string[], opts: {cwd: string; env?: Record<string, string>}): CliRun {
  const env: Record<string, string> = {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...opts.env}
  const r = spawnSync(process.execPath, [`${root}bin/run.js`, ...args], {cwd: opts.cwd, env, encoding: 'utf8', timeout: 120_000})
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}
