// End-to-end helpers: a fresh bucket/container per test on the real servers, a temp workspace
// around it, and a way to run the real CLI (node bin/run.js) in it.
import {spawn} from 'node:child_process'
import {mkdtempSync, readdirSync, writeFileSync, type Dirent} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {CreateBucketCommand, S3Client} from '@aws-sdk/client-s3'
import {BlobServiceClient} from '@azure/storage-blob'
import {Storage} from '@google-cloud/storage'
import {openWorkspaceStore} from '../../src/cli/context.js'
import type {SegmentRef} from '../../src/state/types.js'
import {randomName, testEnv} from './env.js'

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
export type StoreKind = 'fs' | 's3' | 'azure' | 'gcs'
export const STORE_KINDS: StoreKind[] = ['fs', 's3', 'azure', 'gcs']

export interface TestStore {
  kind: StoreKind
  /** The `stores:` entry, as YAML lines indented under the store name. */
  yaml: string
  /** Environment the workspace interpolates (credentials never go in the YAML). */
  env: Record<string, string>
}

/** Creates an empty bucket/container on the real server (or a temp dir) and describes it. */
export async function createTestStore(kind: StoreKind, dir: string): Promise<TestStore> {
  const env = testEnv()
  const name = randomName('kbk')
  if (kind === 'fs') return {kind, yaml: `type: fs\n    path: ${join(dir, 'backups')}`, env: {}}
  if (kind === 's3') {
    const client = new S3Client({endpoint: env.s3.endpoint, region: env.s3.region, forcePathStyle: true, credentials: {accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey}})
    await client.send(new CreateBucketCommand({Bucket: name}))
    client.destroy()
    return {
      kind,
      yaml: `type: s3\n    bucket: ${name}\n    region: ${env.s3.region}\n    prefix: team-a/\n    endpoint: "\${S3_ENDPOINT}"\n    forcePathStyle: true\n    accessKeyId: "\${S3_KEY}"\n    secretAccessKey: "\${S3_SECRET}"`,
      env: {S3_ENDPOINT: env.s3.endpoint, S3_KEY: env.s3.accessKeyId, S3_SECRET: env.s3.secretAccessKey},
    }
  }
  if (kind === 'azure') {
    await BlobServiceClient.fromConnectionString(env.azure.connectionString).getContainerClient(name).create()
    return {kind, yaml: `type: azure\n    container: ${name}\n    prefix: team-a/\n    connectionString: "\${AZ_CONN}"`, env: {AZ_CONN: env.azure.connectionString}}
  }
  const storage = new Storage({apiEndpoint: env.gcs.endpoint, projectId: env.gcs.projectId})
  await storage.createBucket(name)
  return {kind, yaml: `type: gcs\n    bucket: ${name}\n    prefix: team-a/\n    projectId: ${env.gcs.projectId}\n    apiEndpoint: "\${GCS_ENDPOINT}"`, env: {GCS_ENDPOINT: env.gcs.endpoint}}
}

export function tempDir(prefix = 'kbk-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export function writeWorkspace(dir: string, yaml: string): string {
  const file = join(dir, 'kbk.yaml')
  writeFileSync(file, yaml)
  return file
}

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs the built CLI (bin/run.js → dist/) in `cwd`. */
export function runKbk(args: string[], opts: {cwd: string; env?: Record<string, string>; input?: string; onSpawn?: (pid: number) => void}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/run.js'), ...args], {
      cwd: opts.cwd,
      env: {...process.env, KBK_IN_AUTOMATION: '1', NO_COLOR: '1', ...opts.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({code, signal, stdout, stderr}))
    if (child.pid) opts.onSpawn?.(child.pid)
    child.stdin.end(opts.input ?? '')
  })
}

export function kafkaWorkspace(opts: {bootstrap: string; store: TestStore; include: string; extra?: string; policyExtra?: string; targetBootstrap?: string}): string {
  return `version: 1
clusters:
  source:
    brokers: ["${opts.bootstrap}"]
${opts.targetBootstrap ? `  target:\n    brokers: ["${opts.targetBootstrap}"]\n` : ''}stores:
  main:
    ${opts.store.yaml}
retention:
  production: { maxAge: 90d, minKeep: 2, allowDestroy: true }
policies:
  events:
    cluster: source
    store: main
    topics: { include: ["${opts.include}"] }
    retention: production
${opts.policyExtra ?? ''}${opts.extra ?? ''}`
}

/** Every segment the workspace's state records, read through the real store. */
export async function recordedSegments(config: string): Promise<SegmentRef[]> {
  const s = await openWorkspaceStore({config})
  try {
    const {snapshot} = await s.state.read()
    const out: SegmentRef[] = []
    for (const index of Object.values(snapshot.topics)) out.push(...(await s.state.loadSegments(snapshot, index.policy, index.topic)))
    return out
  } finally {
    await s.close()
  }
}

/** How many segment files (*.kbs) an fs store's directory holds, however deep. */
export function countSegmentFiles(dir: string): number {
  let n = 0
  const walk = (d: string): void => {
    // kbk writes and removes files (lock heads, temporaries) while this walks: an entry may be gone
    // by the time it is looked at, and the directory entry's own type needs no second look.
    let entries: Dirent[] = []
    try {
      entries = readdirSync(d, {withFileTypes: true})
    } catch {
      return
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(d, e.name))
      else if (e.name.endsWith('.kbs')) n++
    }
  }
  walk(dir)
  return n
}
