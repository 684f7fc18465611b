// A runbook is only worth something if its commands work exactly as written: generate the
// runbooks for a test workspace (S3 store, two clusters, a drill that measured throughput), then
// extract every command of every runbook and run them in order, in a shell, against the real
// servers. Also: prerequisites name environment variables, never their values; kbk apply keeps
// the runbooks in the store and the plan says when they change.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import kafkajs from 'kafkajs'
import {extractCommands} from '../../src/format/runbook.js'
import {registerKafkaCodecs} from '../../src/kafka/kafkajs-codecs.js'
import {randomName, testEnv} from '../helpers/env.js'
import {createTestStore, repoRoot, runKbk, tempDir, writeWorkspace, type TestStore} from '../helpers/workspace.js'

const {Kafka, logLevel} = kafkajs
registerKafkaCodecs()
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000

const ORDER = ['full-cluster-restore', 'single-topic-pitr-restore', 'consumer-offset-recovery', 'backup-failure-investigation', 'storage-failover', 'configuration-change-rollout']

function sh(command: string, cwd: string, env: Record<string, string>): Promise<{code: number | null; out: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], {cwd, env: {...process.env, KBK_IN_AUTOMATION: '1', NO_COLOR: '1', ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, out}))
  })
}

describe('generated runbooks run green, command by command', () => {
  const env = testEnv()
  const prefix = randomName('rb')
  const topic = `${prefix}.payments`
  const group = `${prefix}-billing`
  const source = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.bootstrap], logLevel: logLevel.NOTHING})
  const target = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.targetBootstrap], logLevel: logLevel.NOTHING})
  const dir = tempDir()
  let store: TestStore
  let shellEnv: Record<string, string> = {}

  before(async () => {
    const admin = source.admin()
    await admin.connect()
    await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: 3, configEntries: [{name: 'retention.ms', value: '604800000'}]}]})
    const producer = source.producer({allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1})
    await producer.connect()
    await producer.send({topic, messages: Array.from({length: 500}, (_, i) => ({partition: i % 3, key: `k${i % 50}`, value: JSON.stringify({i, pad: 'x'.repeat(200)}), timestamp: String(T0 + i * 100)}))})
    await producer.disconnect()
    await admin.setOffsets({groupId: group, topic, partitions: [{partition: 0, offset: '20'}, {partition: 2, offset: '5'}]})
    await admin.disconnect()
    store = await createTestStore('s3', dir)
    writeWorkspace(
      dir,
      `version: 1
clusters:
  source: {brokers: ["${env.kafka.bootstrap}"]}
  recovery: {brokers: ["${env.kafka.targetBootstrap}"]}
stores:
  main:
    ${store.yaml}
retention:
  production: {maxAge: 90d, minKeep: 2}
policies:
  payments:
    cluster: source
    store: main
    topics: {include: ["${prefix}\\\\..*"]}
    retention: production
    consumerGroups: {include: ["${prefix}-.*"]}
restores:
  payments-restore:
    from: {policy: payments}
    to: {cluster: recovery, topicSuffix: -restored}
    createTopics: true
  payments-drill:
    from: {policy: payments}
    to: {cluster: recovery, topicSuffix: -restored}
    createTopics: true
    drill: {every: 30d, rto: 15m}
`,
    )
    // `kbk` on the PATH, as an operator has it.
    const bin = join(dir, 'bin')
    mkdirSync(bin)
    writeFileSync(join(bin, 'kbk'), `#!/bin/sh\nexec "${process.execPath}" "${join(repoRoot, 'bin/run.js')}" "$@"\n`)
    chmodSync(join(bin, 'kbk'), 0o755)
    shellEnv = {...store.env, PATH: `${bin}:${process.env.PATH ?? ''}`}
    // The plan says the apply will write the runbooks into the store (none are there yet).
    const planned = await runKbk(['plan', '--target', 'policy.payments'], {cwd: dir, env: store.env})
    assert.equal(planned.code, 0, planned.stderr + planned.stdout)
    assert.match(planned.stdout, /runbooks kept in store "[^"]+" are rewritten by this apply[^\n]*\+ full-cluster-restore\.md/)
    // The first backup (then the drill, which measures throughput: the plan pins restores to the store's content).
    for (const targetArgs of [['--target', 'policy.payments'], []]) {
      const r = await runKbk(['apply', '--auto-approve', ...targetArgs], {cwd: dir, env: store.env})
      assert.equal(r.code, 0, r.stderr + r.stdout)
    }
  })

  after(async () => {
    for (const k of [source, target]) {
      const a = k.admin()
      await a.connect()
      const mine = (await a.listTopics()).filter((t) => t.startsWith(prefix))
      if (mine.length > 0) await a.deleteTopics({topics: mine}).catch(() => undefined)
      await a.disconnect()
    }
  })

  it('writes six runbooks with this workspace\'s names, env var names but no values, and an estimate from measured throughput', async () => {
    const r = await runKbk(['runbook', '--out', 'runbooks'], {cwd: dir, env: store.env})
    assert.equal(r.code, 0, r.stderr)
    const files = readdirSync(join(dir, 'runbooks')).sort()
    assert.deepEqual(files, ORDER.map((id) => `${id}.md`).sort())
    const all = files.map((f) => readFileSync(join(dir, 'runbooks', f), 'utf8')).join('\n')
    for (const name of Object.keys(store.env)) assert.ok(all.includes(`\`${name}\``), `prerequisites name ${name}`)
    for (const value of Object.values(store.env)) assert.ok(!all.includes(value), 'never a value of an environment variable')
    assert.match(all, /restore\.payments-restore/)
    assert.match(all, new RegExp(`${prefix}-billing`))
    assert.match(all, /measured over 1 passing drill/)
    const html = await runKbk(['runbook', '--format', 'html', '--out', 'runbooks-html'], {cwd: dir, env: store.env})
    assert.equal(html.code, 0, html.stderr)
    assert.match(readFileSync(join(dir, 'runbooks-html', 'storage-failover.html'), 'utf8'), /^<!doctype html>/)
  })

  it('every command of every runbook runs, in order, exactly as written', {timeout: 900_000}, async () => {
    let n = 0
    for (const id of ORDER) {
      const commands = extractCommands(readFileSync(join(dir, 'runbooks', `${id}.md`), 'utf8'))
      assert.ok(commands.length >= 3, `${id} has commands`)
      for (const command of commands) {
        const r = await sh(command, dir, shellEnv)
        assert.equal(r.code, 0, `${id}: \`${command}\` exited ${r.code}:\n${r.out.slice(-3000)}`)
        n++
      }
    }
    assert.ok(n >= 25, `ran ${n} commands`)
    // What they did is real: the point-in-time copy and the recovered offsets are on the recovery cluster.
    const a = target.admin()
    await a.connect()
    const topics = await a.listTopics()
    const offsets = await a.fetchOffsets({groupId: group, topics: [`${topic}-recovered`]})
    await a.disconnect()
    assert.ok(topics.includes(`${topic}-pitr`))
    assert.ok(topics.includes(`${topic}-recovered`))
    const committed = Object.fromEntries(offsets[0]!.partitions.filter((p) => p.offset !== '-1').map((p) => [p.partition, Number(p.offset)]))
    assert.deepEqual(committed, {0: 20, 2: 5})
  })
})
