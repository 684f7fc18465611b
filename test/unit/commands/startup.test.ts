// What kbk loads at start-up (docs/performance.md, "Start-up"): the manifest spares importing every
// command, cloud SDKs load on a store's first use, kafkajs only in commands that talk to Kafka, and
// the workspace schema comes precompiled. Checked by the modules a real `node bin/run.js` loads,
// not by timing.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {fileURLToPath} from 'node:url'
import {BASE, tempDir, writeFiles} from '../config/helpers.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))

function modulesLoaded(args: string[], cwd: string): {status: number | null; modules: string[]} {
  const trace = join(tempDir(), 'modules.txt')
  const r = spawnSync(process.execPath, ['--import', join(root, 'test/helpers/trace-modules.mjs'), join(root, 'bin/run.js'), ...args], {
    cwd,
    env: {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', KBK_TRACE_MODULES: trace},
    encoding: 'utf8',
    timeout: 120_000,
  })
  const modules = readFileSync(trace, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (l.startsWith('file://') ? fileURLToPath(l) : l))
  return {status: r.status, modules}
}

const HEAVY = ['@aws-sdk', '@smithy', '@azure', '@google-cloud', 'kafkajs', 'listr2', 'prom-client', '@opentelemetry']

function heavyIn(modules: string[]): string[] {
  const found = new Set<string>()
  for (const m of modules) {
    for (const pkg of HEAVY) if (m.includes(`/node_modules/${pkg}/`)) found.add(pkg)
    // The precompiled validator needs ajv's runtime helpers only, never its compiler.
    if (/\/node_modules\/ajv\/dist\/(ajv|core|compile)/.test(m)) found.add('ajv compiler')
  }
  return [...found].sort()
}

function kbkModules(modules: string[]): string[] {
  return [...new Set(modules.filter((m) => m.startsWith(join(root, 'dist/'))).map((m) => m.slice(root.length + 'dist/'.length)))].sort()
}

/** A workspace with one store of each cloud kind (none reachable) and a Kafka cluster. */
const CLOUDS = `version: 1
clusters:
  prod: {brokers: ["127.0.0.1:9"]}
stores:
  s3: {type: s3, bucket: backups, region: eu-west-1, endpoint: "http://127.0.0.1:9", forcePathStyle: true}
  azure: {type: azure, container: backups, accountUrl: "http://127.0.0.1:9/devstoreaccount1"}
  gcs: {type: gcs, bucket: backups, apiEndpoint: "http://127.0.0.1:9"}
retention:
  short: {maxAge: 7d, minKeep: 1}
policies:
  orders:
    cluster: prod
    store: s3
    topics: {include: ["orders\\\\..*"]}
    retention: short
    rpo: 1h
`

describe('start-up: what a command loads', () => {
  test('kbk --version imports no command at all', () => {
    const r = modulesLoaded(['--version'], tempDir())
    assert.equal(r.status, 0)
    assert.deepEqual(kbkModules(r.modules), [], 'oclif reads oclif.manifest.json instead of importing the commands')
    assert.deepEqual(heavyIn(r.modules), [])
  })

  test('kbk validate, on a workspace with every cloud store, loads no SDK, no kafkajs and no schema compiler', () => {
    const dir = tempDir()
    writeFiles(dir, {'kbk.yaml': CLOUDS})
    const r = modulesLoaded(['validate'], dir)
    assert.equal(r.status, 0)
    assert.deepEqual(heavyIn(r.modules), [])
    assert.deepEqual(
      kbkModules(r.modules).filter((m) => m.startsWith('commands/')),
      ['commands/validate.js'],
    )
  })

  test('kbk state list on an fs store loads neither kafkajs nor a cloud SDK', () => {
    const dir = tempDir()
    writeFiles(dir, {'kbk.yaml': BASE})
    const r = modulesLoaded(['state', 'list'], dir)
    assert.equal(r.status, 0, 'the command itself ran')
    assert.deepEqual(heavyIn(r.modules), [])
    assert.ok(kbkModules(r.modules).includes('storage/fs-store.js'))
  })

  test('kbk status loads prom-client only when metrics are asked for', () => {
    const dir = tempDir()
    writeFiles(dir, {'kbk.yaml': BASE})
    const plain = modulesLoaded(['status'], dir)
    assert.equal(plain.status, 0, 'the command itself ran')
    const metricsIn = (modules: string[]): string[] => heavyIn(modules).filter((m) => m === 'prom-client' || m === '@opentelemetry')
    assert.deepEqual(metricsIn(plain.modules), [])
    const withMetrics = modulesLoaded(['status', '--metrics-file', join(dir, 'kbk.prom')], dir)
    assert.equal(withMetrics.status, 0)
    assert.deepEqual(metricsIn(withMetrics.modules), ['@opentelemetry', 'prom-client'])
  })
})
