// What people and scripts see, on the real Kafka and an fs store, through the built CLI: a first
// backup's plan shows a size from the brokers' log sizes (DescribeLogDirs), not "unknown";
// `apply --json` is NDJSON where every line has `ts` and an error is one line; the terminal
// progress (under a pseudo-terminal) shows percent done; `state list` prints one address per line
// and `state show ADDRESS` one resource.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import type {Plan} from '../../src/plan/types.js'
import {testEnv} from '../helpers/env.js'
import {createTestTopic, deleteTestTopic, produceTestRecords} from '../helpers/kafka.js'
import {createTestStore, kafkaWorkspace, repoRoot, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'

const RECORDS_PER_PARTITION = 400
const VALUE_BYTES = 300
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

/** Runs the CLI under a pseudo-terminal (util-linux `script`), as a person at a terminal would. */
function runInTerminal(args: string[], cwd: string, env: Record<string, string>): Promise<{code: number | null; output: string}> {
  const quoted = [process.execPath, join(repoRoot, 'bin/run.js'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  // The pseudo-terminal starts 0 columns wide: give it a real width, as a terminal window has.
  const command = `stty cols 160 rows 40; exec ${quoted}`
  return new Promise((resolve, reject) => {
    const {KBK_IN_AUTOMATION: _a, CI: _ci, ...rest} = process.env
    const child = spawn('script', ['-qfec', command, '/dev/null'], {cwd, env: {...rest, ...env, TERM: 'xterm', COLUMNS: '200', NO_COLOR: '1'}, stdio: ['pipe', 'pipe', 'pipe']})
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, output}))
    child.stdin.end()
  })
}

describe('output: estimate, NDJSON, terminal progress, state list/show', () => {
  const env = testEnv()
  const bootstrap = env.kafka.bootstrap
  const dir = tempDir()
  let topic = ''
  let storeEnv: Record<string, string> = {}

  before(async () => {
    topic = await createTestTopic(bootstrap, {partitions: 2, prefix: 'kbk-out'})
    for (const partition of [0, 1]) {
      await produceTestRecords(
        bootstrap,
        topic,
        Array.from({length: RECORDS_PER_PARTITION}, (_, i) => ({partition, key: `k${i}`, value: `${i}:`.padEnd(VALUE_BYTES, 'v')})),
      )
    }
    const store = await createTestStore('fs', dir)
    storeEnv = store.env
    writeWorkspace(dir, kafkaWorkspace({bootstrap, store, include: topic.replace(/\./g, '\\\\.')}))
  })

  after(async () => {
    await deleteTestTopic(bootstrap, topic).catch(() => undefined)
  })

  it('a first backup is planned with the size the brokers report, in JSON and in text', async () => {
    const json = await runKbk(['plan', '--json'], {cwd: dir, env: storeEnv})
    assert.equal(json.code, 0, json.stderr)
    const plan = JSON.parse(json.stdout) as Plan
    const backup = plan.resource_changes.find((c) => c.type === 'backup')!.backup!
    assert.equal(backup.first_backup, true)
    assert.equal(backup.estimated_records, 2 * RECORDS_PER_PARTITION)
    // The logs hold the values plus keys and batch/record overhead: at least the values, and not
    // wildly more (uncompressed, one batch per partition).
    const values = 2 * RECORDS_PER_PARTITION * VALUE_BYTES
    assert.ok(backup.estimated_bytes !== undefined, 'estimated_bytes is set for a first backup')
    assert.ok(backup.estimated_bytes >= values && backup.estimated_bytes < values * 1.5, `estimated ${backup.estimated_bytes} for ${values} value bytes`)

    const text = await runKbk(['plan'], {cwd: dir, env: storeEnv})
    assert.equal(text.code, 0, text.stderr)
    assert.doesNotMatch(text.stdout, /unknown/)
    assert.match(text.stdout, /800 record\(s\), ~2\d\d\.\d KiB \(the brokers' log size\)/)
  })

  it('apply --json: every stdout line is one JSON event with an ISO `ts`; an error is one more such line', async () => {
    const r = await runKbk(['apply', '--auto-approve', '--json'], {cwd: dir, env: storeEnv})
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trimEnd().split('\n')
    const events = lines.map((l) => JSON.parse(l) as {ts: string; type: string})
    for (const e of events) assert.match(e.ts, ISO, JSON.stringify(e))
    assert.equal(events[0]!.type, 'apply.start')
    assert.equal(events.at(-1)!.type, 'apply.result')
    assert.ok(events.some((e) => e.type === 'backup.progress'))

    // Nothing left to do is a result line too, not silence.
    const again = await runKbk(['apply', '--auto-approve', '--json'], {cwd: dir, env: storeEnv})
    assert.equal(again.code, 0, again.stderr)
    const nothing = again.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as {ts: string; type: string; changes: unknown[]; summary: {changes: number}})
    assert.equal(nothing.at(-1)!.type, 'apply.result')
    assert.deepEqual(nothing.at(-1)!.changes, [])
    assert.equal(nothing.at(-1)!.summary.changes, 0)
    for (const e of nothing) assert.match(e.ts, ISO)

    const failed = await runKbk(['apply', join(dir, 'no-such.plan'), '--json'], {cwd: dir, env: storeEnv})
    assert.equal(failed.code, 1)
    const errLines = failed.stdout.trimEnd().split('\n')
    assert.equal(errLines.length, 1, `one line, got:\n${failed.stdout}`)
    const err = JSON.parse(errLines[0]!) as {ts: string; type: string; error: {code: string; message: string}}
    assert.equal(err.type, 'error')
    assert.match(err.ts, ISO)
    assert.match(err.error.code, /^KBK_/)
  })

  it('state list prints one address per line; state show ADDRESS shows that one resource', async () => {
    const address = `backup.events[${JSON.stringify(topic)}]`
    const list = await runKbk(['state', 'list'], {cwd: dir, env: storeEnv})
    assert.equal(list.code, 0, list.stderr)
    assert.deepEqual(list.stdout.trimEnd().split('\n'), [address, 'policy.events'])

    const filtered = await runKbk(['state', 'list', 'backup.events', 'restore.none'], {cwd: dir, env: storeEnv})
    assert.equal(filtered.code, 0, filtered.stderr)
    assert.equal(filtered.stdout, `${address}\n`)

    const listJson = await runKbk(['state', 'list', '--json'], {cwd: dir, env: storeEnv})
    const view = JSON.parse(listJson.stdout) as {addresses: string[]; totals: {records: number}}
    assert.deepEqual(view.addresses, [address, 'policy.events'])
    assert.equal(view.totals.records, 2 * RECORDS_PER_PARTITION)

    const show = await runKbk(['state', 'show', address], {cwd: dir, env: storeEnv})
    assert.equal(show.code, 0, show.stderr)
    assert.match(show.stdout, new RegExp(`^${address.replace(/[.[\]"]/g, '\\$&')}: 2 partition\\(s\\), 2 segments, 800 records, `))
    assert.doesNotMatch(show.stdout, /policy\.events/)

    const policy = await runKbk(['state', 'show', 'policy.events'], {cwd: dir, env: storeEnv})
    assert.equal(policy.code, 0, policy.stderr)
    assert.match(policy.stdout, /^policy\.events: applied /)

    const missing = await runKbk(['state', 'show', 'restore.nope'], {cwd: dir, env: storeEnv})
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /KBK_STATE_NOT_FOUND/)
  })

  it('in a terminal, apply shows percent of the planned records', async () => {
    await produceTestRecords(bootstrap, topic, Array.from({length: 250}, (_, i) => ({partition: 0, key: `n${i}`, value: 'x'.repeat(100)})))
    const r = await runInTerminal(['apply', '--auto-approve'], dir, storeEnv)
    assert.equal(r.code, 0, r.output)
    assert.match(r.output, /100% of 250 record\(s\)/, r.output)
    assert.match(r.output, /Apply complete!/)
  })
})
