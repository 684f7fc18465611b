// Test helpers: write a workspace to a fresh temp directory and load it with a given environment.
import {mkdtempSync, mkdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {loadWorkspace, type Diagnostic, type LoadResult} from '../../../src/config/index.js'

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'kbk-config-'))
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), {recursive: true})
    writeFileSync(join(dir, name), text)
  }
}

/** Loads `text` as ./kbk.yaml of a fresh directory. */
export async function load(text: string, env: Record<string, string> = {}): Promise<LoadResult> {
  const dir = tempDir()
  writeFiles(dir, {'kbk.yaml': text})
  return loadWorkspace({cwd: dir, env})
}

export function errors(r: LoadResult): Diagnostic[] {
  return r.diagnostics.filter((d) => d.severity === 'error')
}

export function codes(r: LoadResult): string[] {
  return r.diagnostics.map((d) => d.code)
}

/** A small valid workspace; tests change one thing in it. */
export const BASE = `version: 1
clusters:
  prod:
    brokers: ["127.0.0.1:9092"]
  staging:
    brokers: ["127.0.0.1:9093"]
stores:
  primary:
    type: fs
    path: ./backups
retention:
  dev: {maxAge: 7d, minKeep: 1, allowDestroy: true}
  production: {maxAge: 90d, minKeep: 3}
  compliance: {maxAge: 7y, minKeep: 1, immutable: true}
policies:
  orders:
    cluster: prod
    store: primary
    topics: {include: ["orders\\\\..*"], exclude: [".*-repartition"]}
    retention: production
`
