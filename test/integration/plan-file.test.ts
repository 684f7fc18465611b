// Saved plans and approval, terraform-style: a saved plan applies exactly once; a plan whose state
// or config changed since is refused as stale; a tampered plan file is refused; apply without a
// plan asks for `yes`, and --no-input never asks. Also the PR-comment (markdown) output.
import assert from 'node:assert/strict'
import {appendFileSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import kafkajs from 'kafkajs'
import {randomName, testEnv} from '../helpers/env.js'
import {createTestStore, kafkaWorkspace, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'

const {Kafka, logLevel} = kafkajs

describe('saved plans, staleness and approval', () => {
  const env = testEnv()
  const topic = randomName('pf')
  const kafka = new Kafka({clientId: 'kbk-test', brokers: [env.kafka.bootstrap], logLevel: logLevel.NOTHING})
  const admin = kafka.admin()
  const producer = kafka.producer({allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1})
  const dir = tempDir()
  let configFile = ''
  const produce = async (n: number): Promise<void> => {
    await producer.send({topic, messages: Array.from({length: n}, (_, i) => ({key: `k${i}`, value: `v${i}`}))})
  }

  before(async () => {
    await admin.connect()
    await producer.connect()
    await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: 1}]})
    await produce(10)
    configFile = writeWorkspace(dir, kafkaWorkspace({bootstrap: env.kafka.bootstrap, store: await createTestStore('fs', dir), include: topic}))
  })

  after(async () => {
    await producer.disconnect()
    await admin.deleteTopics({topics: [topic]}).catch(() => undefined)
    await admin.disconnect()
  })

  it('asks for approval, and --no-input refuses to ask', async () => {
    const no = await runKbk(['apply', '--no-input'], {cwd: dir})
    assert.equal(no.code, 1)
    assert.match(no.stderr, /KBK_APPROVAL_REQUIRED/)
    // Piped stdin is not a person: it fails at once naming --auto-approve (a terminal's answer
    // is tested in test/integration/cli-contract.test.ts).
    const piped = await runKbk(['apply'], {cwd: dir, input: 'yes\n', env: {KBK_IN_AUTOMATION: ''}})
    assert.equal(piped.code, 1)
    assert.match(piped.stderr, /stdin is not a terminal[\s\S]*--auto-approve/)
    const plan = await runKbk(['plan', '--detailed-exitcode'], {cwd: dir})
    assert.equal(plan.code, 2, 'nothing was applied')
  })

  it('applies a saved plan exactly, and refuses it once the state moved on', async () => {
    assert.equal((await runKbk(['plan', '--out', 'a.plan'], {cwd: dir})).code, 0)
    assert.equal((await runKbk(['plan', '--out', 'b.plan'], {cwd: dir})).code, 0)
    const shown = await runKbk(['show', 'a.plan'], {cwd: dir})
    assert.match(shown.stdout, new RegExp(`backup\\.events\\["${topic}"\\] will be backed up`))
    const a = await runKbk(['apply', 'a.plan'], {cwd: dir})
    assert.equal(a.code, 0, a.stderr)
    const b = await runKbk(['apply', 'b.plan'], {cwd: dir})
    assert.equal(b.code, 1)
    assert.match(b.stderr, /Saved plan is stale — the state of store "main" was changed by another operation after the plan was created \(serial 0 → \d+/)
    assert.match(b.stderr, /Try this: Run `kbk plan` again/)
  })

  it('refuses a saved plan when the config changed, and a plan file that was edited', async () => {
    await produce(5)
    assert.equal((await runKbk(['plan', '--out', 'c.plan'], {cwd: dir})).code, 0)
    const original = readFileSync(configFile, 'utf8')
    appendFileSync(configFile, '# a comment is a change too\n')
    const c = await runKbk(['apply', 'c.plan'], {cwd: dir})
    assert.equal(c.code, 1)
    assert.match(c.stderr, /Saved plan is stale — the configuration changed after the plan was created/)
    writeFileSync(configFile, original)

    const file = join(dir, 'c.plan')
    writeFileSync(file, readFileSync(file, 'utf8').replace(/"to": 15/, '"to": 16'))
    const tampered = await runKbk(['apply', 'c.plan'], {cwd: dir})
    assert.equal(tampered.code, 1)
    assert.match(tampered.stderr, /KBK_PLAN_FILE_CORRUPT/)
  })

  it('renders a pull-request comment and limits a plan with --target', async () => {
    const md = await runKbk(['plan', '--format', 'markdown'], {cwd: dir})
    assert.equal(md.code, 0)
    assert.match(md.stdout, /^### kbk plan/)
    assert.match(md.stdout, /\| create \| update \| destroy \| run \| blocked \| drift \|/)
    assert.match(md.stdout, /<details><summary>Full plan<\/summary>/)
    // A target that matches nothing is a mistake, not an empty plan (test/integration/cli-contract.test.ts).
    const targeted = await runKbk(['plan', '--json', '--target', 'backup.events["nope"]'], {cwd: dir})
    assert.equal(targeted.code, 1)
    assert.equal((JSON.parse(targeted.stdout) as {error: {code: string}}).error.code, 'KBK_TARGET_UNKNOWN')
    const partial = await runKbk(['plan', '--json', '--target', 'policy.events'], {cwd: dir})
    assert.equal(partial.code, 0, partial.stderr)
    const changes = (JSON.parse(partial.stdout) as {resource_changes: Array<{address: string}>}).resource_changes
    assert.ok(changes.length > 0 && changes.every((c) => c.address === 'policy.events' || c.address.startsWith('backup.events[')), JSON.stringify(changes))
  })
})
