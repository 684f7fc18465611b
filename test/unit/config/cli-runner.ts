// Runs `kbk <args>` from the TypeScript sources (bin/dev.js through tsx) in a given directory,
// as a user would: a separate process, real stdout, stderr and exit code.
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const tsx = fileURLToPath(new URL('../../../node_modules/tsx/dist/loader.mjs', import.meta.url))

export interface CliRun {
  status: number | null
  stdout: string
  stderr: string
}

export function runKbk(args: string[], opts: {cwd: string; env?: Record<string, string>}): CliRun {
  const env: Record<string, string> = {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...opts.env}
  const r = spawnSync(process.execPath, ['--import', `file://${tsx}`, `${root}bin/dev.js`, ...args], {cwd: opts.cwd, env, encoding: 'utf8', timeout: 120_000})
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}
