// The automation contract (issue 13), as a CI job sees it: the built CLI run as a subprocess.
// Usage errors exit 1 (never 2, which --detailed-exitcode means "changes/drift") and print one
// JSON line with --json; unknown commands and filters say what was meant; "No changes"/"No drift"
// only when true; nothing waits for a "yes" no one can type; drift jobs count findings by
// --fail-on. Prompts are answered through a real pseudo-terminal (util-linux `script`).
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {rm} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {openWorkspaceStore} from '../../src/cli/context.js'
import {acquireLock} from '../../src/state/lock.js'
import {testEnv} from '../helpers/env.js'
import {createTestTopic, deleteTestTopic, produceTestRecords} from '../helpers/kafka.js'
import {createTestStore, kafkaWorkspace, recordedSegments, repoRoot, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'
import type {CliResult} from '../helpers/workspace.js'

const KBK = join(repoRoot, 'bin/run.js')

/** A workspace whose cluster refuses connections at once (port 9, discard) and an fs store. */
function offlineWorkspace(): string {
  const dir = tempDir()
  writeWorkspace(
    dir,
    `version: 1
clusters:
  prod: {brokers: ["127.0.0.1:9"]}
stores:
  main: {type: fs, path: ./backups}
retention:
  short: {maxAge: 7d, minKeep: 1}
policies:
  orders:
    cluster: prod
    store: main
    topics: {include: ["orders\\\\..*"]}
    retention: short
`,
  )
  return dir
}

/** No KBK_IN_AUTOMATION: these tests decide it themselves. */
function kbk(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return runKbk(args, {cwd, env: {KBK_IN_AUTOMATION: '', ...env}})
}

const hasScript = spawnSync('script', ['--version'], {encoding: 'utf8'}).status === 0

/** Runs kbk under a pseudo-terminal (stdin, stdout and stderr are a tty), typing `answer`. */
function kbkInTerminal(args: string[], cwd: string, answer: string, env: Record<string, string> = {}): {code: number | null; output: string} {
  const command = [process.execPath, KBK, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
  const r = spawnSync('script', ['-qec', command, '/dev/null'], {
    cwd,
    input: answer,
    encoding: 'utf8',
    timeout: 120_000,
    env: {...process.env, KBK_IN_AUTOMATION: '', NO_COLOR: '1', ...env},
  })
  return {code: r.status, output: r.stdout.replaceAll('\r', '')}
}

function jsonError(r: CliResult): {code: string; message: string; suggestion?: string} {
  const lines = r.stdout.trim().split('\n')
  assert.equal(lines.length, 1, `one JSON line on stdout, got:\n${r.stdout.slice(0, 2000)}`)
  const body = JSON.parse(lines[0]!) as {error: {code: string; message: string; suggestion?: string}}
  // apply --json streams NDJSON events, so its error line also carries the event's ts and type.
  const keys = Object.keys(body)
  assert.ok(JSON.stringify(keys) === '["error"]' || JSON.stringify(keys) === '["ts","type","error"]', `keys: ${keys.join(', ')}`)
  return body.error
}

describe('cli contract: usage errors', () => {
  const dir = offlineWorkspace()

  it('exit 1 for an unknown flag, a missing argument and a bad value, with and without --json', async () => {
    const cases: Array<{args: string[]; message: RegExp; suggestion?: RegExp}> = [
      {args: ['plan', '--bogus'], message: /Nonexistent flag: --bogus/},
      {args: ['plan', '--detailed-exit-code'], message: /Nonexistent flag: --detailed-exit-code/, suggestion: /Did you mean --detailed-exitcode\?/},
      {args: ['lock', 'release'], message: /Missing 1 required arg/},
      {args: ['plan', '--format', 'xml'], message: /--format=xml to be one of: text, json, markdown/},
      {args: ['plan', '--fail-on', 'fatal'], message: /--fail-on=fatal to be one of: info, warning, error/},
      {args: ['verify', '--concurrency', '0'], message: /--concurrency/},
      {args: ['plan', '--refresh-only', '--fail-on', 'info'], message: /when using --fail-on: --detailed-exitcode/},
      {args: ['apply', '--lock-timeout', '1x'], message: /--lock-timeout "1x" is not a duration/, suggestion: /1m30s/},
    ]
    for (const c of cases) {
      const human = await kbk(c.args, dir)
      assert.equal(human.code, 1, `${c.args.join(' ')}: ${human.stderr}`)
      assert.match(human.stderr, c.message)
      assert.match(human.stderr, /Code: KBK_USAGE/)
      if (c.suggestion) assert.match(human.stderr, c.suggestion)
      assert.doesNotMatch(human.stderr, /\n\s+at /, 'no stack trace')

      const json = await kbk([...c.args, '--json'], dir)
      assert.equal(json.code, 1, `${c.args.join(' ')} --json`)
      const e = jsonError(json)
      assert.equal(e.code, 'KBK_USAGE')
      assert.match(e.message, c.message)
      if (c.suggestion) assert.match(e.suggestion ?? '', c.suggestion)
      // Not oclif's dump of its config: no package.json scripts, no home directory.
      assert.ok(json.stdout.length < 1000, `compact: ${json.stdout.length} characters`)
      assert.doesNotMatch(json.stdout, /"scripts"|"home"|"pjson"/)
    }
  })

  it('a drift job with a mistyped flag fails (1), it does not report drift (2)', async () => {
    const r = await kbk(['plan', '--refresh-only', '--detailed-exit-code'], dir)
    assert.equal(r.code, 1)
  })

  it('an unknown command suggests the closest one, and exits 1', async () => {
    const r = await kbk(['pla'], dir)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /"pla" is not a kbk command\. Did you mean plan\?/)
    const sub = await kbk(['backups', 'lis'], dir)
    assert.equal(sub.code, 1)
    assert.match(sub.stderr, /Did you mean backups list\?/)
    const json = await kbk(['pla', '--json'], dir)
    assert.equal(json.code, 1)
    assert.match(jsonError(json).message, /Did you mean plan\?/)
  })

  it('-h is --help', async () => {
    const r = await kbk(['plan', '-h'], dir)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /USAGE\n\s+\$ kbk plan/)
    assert.match(r.stdout, /--fail-on=<option>/)
  })

  it('--lock-timeout is checked before any work, with the workspace duration parser', async () => {
    const empty = tempDir()
    // No workspace here: a flag error must come first, a valid duration gets as far as the config.
    const bad = await kbk(['apply', '--auto-approve', '--lock-timeout', '30s1m'], empty)
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /--lock-timeout "30s1m" is not a duration/)
    for (const ok of ['1m30s', '90s', '2m']) {
      const r = await kbk(['apply', '--auto-approve', '--lock-timeout', ok], empty)
      assert.equal(r.code, 1)
      assert.doesNotMatch(r.stderr, /lock-timeout/, `${ok} is a duration`)
      assert.doesNotMatch(r.stderr, /KBK_USAGE/)
    }
  })
})

describe('cli contract: no "No changes" / "No drift" after an error', () => {
  const dir = offlineWorkspace()

  it('a drift check that could not read the cluster says it is incomplete (text and markdown)', async () => {
    const text = await kbk(['plan', '--refresh-only', '--detailed-exitcode'], dir)
    assert.equal(text.code, 1)
    assert.match(text.stdout, /KBK_KAFKA_UNREACHABLE/)
    assert.doesNotMatch(text.stdout, /No drift/)
    assert.match(text.stdout, /The drift check is incomplete: 1 error\(s\) above/)
    const md = await kbk(['plan', '--refresh-only', '--format', 'markdown'], dir)
    assert.equal(md.code, 1)
    assert.doesNotMatch(md.stdout, /No drift|No changes/)
    const plan = await kbk(['plan', '--format', 'markdown'], dir)
    assert.equal(plan.code, 1)
    assert.doesNotMatch(plan.stdout, /No changes/)
    assert.match(plan.stdout, /This plan cannot be applied: 1 error\(s\)/)
  })
})

describe('cli contract: nothing waits for an answer no one can give', () => {
  const dir = offlineWorkspace()

  it('apply without --auto-approve fails at once when stdin is not a terminal', async () => {
    // stdin stays open and silent, as in `sleep 20 | kbk apply`: kbk must not read it.
    const child = spawn(process.execPath, [KBK, 'apply'], {cwd: dir, env: {...process.env, KBK_IN_AUTOMATION: '', NO_COLOR: '1'}, stdio: ['pipe', 'pipe', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
    clearTimeout(killer)
    child.stdin.destroy()
    assert.equal(code, 1, `exited by itself with 1, stdin still open (stderr: ${stderr})`)
    assert.match(stderr, /KBK_APPROVAL_REQUIRED/)
    assert.match(stderr, /stdin is not a terminal/)
    assert.match(stderr, /--auto-approve/)
    assert.doesNotMatch(stderr, /Enter a value/)
  })

  it('KBK_IN_AUTOMATION implies --no-input, even in a terminal', {skip: !hasScript && 'needs util-linux script'}, () => {
    const r = kbkInTerminal(['apply'], dir, 'yes\n', {KBK_IN_AUTOMATION: '1'})
    assert.equal(r.code, 1, r.output)
    assert.match(r.output, /KBK_IN_AUTOMATION is set, so kbk never prompts/)
    assert.match(r.output, /--auto-approve/)
    assert.doesNotMatch(r.output, /Enter a value/)
  })
})

describe('cli contract: kbk lock release confirms in a terminal', () => {
  const dir = offlineWorkspace()
  let lockId = ''
  let release: (() => Promise<void>) | undefined

  before(async () => {
    const s = await openWorkspaceStore({config: join(dir, 'kbk.yaml')})
    const held = await acquireLock(s.store, {operation: 'test', who: 'ci@runner-7'})
    lockId = held.info.id
    release = async () => {
      await held.release().catch(() => undefined)
      await s.close()
    }
  })
  after(async () => release?.())

  async function lockIds(): Promise<string[]> {
    const r = await kbk(['lock', 'list', '--json'], dir)
    return (JSON.parse(r.stdout) as {locks: Array<{id: string}>}).locks.map((l) => l.id)
  }

  it('without a terminal it asks for --force and leaves the lock alone', async () => {
    const r = await kbk(['lock', 'release', lockId], dir)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /KBK_CONFIRMATION_REQUIRED/)
    assert.match(r.stderr, /Pass --force/)
    assert.deepEqual(await lockIds(), [lockId])
  })

  it('in a terminal it names the holder and releases only on "yes"; --force does not ask', {skip: !hasScript && 'needs util-linux script'}, async () => {
    const no = kbkInTerminal(['lock', 'release', lockId], dir, 'no\n')
    assert.equal(no.code, 1, no.output)
    assert.match(no.output, new RegExp(`Do you really want to release lock ${lockId}\\? It is held by ci@runner-7 for test`))
    assert.match(no.output, /Lock release cancelled: the lock is still held/)
    assert.deepEqual(await lockIds(), [lockId])

    const yes = kbkInTerminal(['lock', 'release', lockId], dir, 'yes\n')
    assert.equal(yes.code, 0, yes.output)
    assert.match(yes.output, /Released lock/)
    assert.deepEqual(await lockIds(), [])

    const forced = await kbk(['lock', 'release', lockId, '--force'], dir)
    assert.equal(forced.code, 1, 'already released')
    assert.match(forced.stderr, /KBK_LOCK_NOT_FOUND/)
    assert.doesNotMatch(forced.stderr, /Do you really want/)
  })
})

describe('cli contract: against Kafka (fs store)', () => {
  const env = testEnv()
  let topic = ''
  const extra: string[] = []
  let dir = ''
  let config = ''
  const records = (n: number, from = 0) => Array.from({length: n}, (_, i) => ({partition: 0, key: `k-${from + i}`, value: `v-${from + i}`}))

  before(async () => {
    topic = await createTestTopic(env.kafka.bootstrap, {prefix: 'cli-contract'})
    await produceTestRecords(env.kafka.bootstrap, topic, records(5))
    dir = tempDir()
    config = writeWorkspace(dir, kafkaWorkspace({bootstrap: env.kafka.bootstrap, store: await createTestStore('fs', dir), include: `${topic}.*`}))
  })
  after(async () => {
    for (const t of [topic, ...extra]) await deleteTestTopic(env.kafka.bootstrap, t).catch(() => undefined)
  })

  it('apply in a terminal asks, and only "yes" approves', {skip: !hasScript && 'needs util-linux script'}, async () => {
    const no = kbkInTerminal(['apply'], dir, 'no\n')
    assert.equal(no.code, 1, no.output)
    assert.match(no.output, /Do you want to perform these actions\?/)
    assert.match(no.output, /Apply cancelled: nothing was changed/)
    assert.equal((await kbk(['plan', '--detailed-exitcode'], dir)).code, 2, 'nothing was applied')
    const yes = kbkInTerminal(['apply'], dir, 'yes\n')
    assert.equal(yes.code, 0, yes.output)
    assert.equal((await kbk(['plan', '--detailed-exitcode'], dir)).code, 0, 'applied')
  })

  it('filters and targets that match nothing are errors with a did-you-mean', async () => {
    if ((await kbk(['plan', '--detailed-exitcode'], dir)).code !== 0) assert.equal((await kbk(['apply', '--auto-approve'], dir)).code, 0)
    const typo = topic.slice(0, -1)
    const verify = await kbk(['verify', '--topic', typo], dir)
    assert.equal(verify.code, 1)
    assert.match(verify.stderr, new RegExp(`--topic "${typo}": no backups of this topic are recorded in store "main"\\. Did you mean "${topic}"\\?`))
    assert.doesNotMatch(verify.stdout, /OK/)
    const list = await kbk(['backups', 'list', '--policy', 'evnts', '--json'], dir)
    assert.equal(list.code, 1)
    const e = jsonError(list)
    assert.equal(e.code, 'KBK_FILTER_NO_MATCH')
    assert.match(e.message, /Did you mean "events"\?/)
    assert.equal((await kbk(['backups', 'list', '--policy', 'events', '--topic', topic], dir)).code, 0)

    const bogus = await kbk(['plan', '--target', 'bogus'], dir)
    assert.equal(bogus.code, 1)
    assert.match(bogus.stderr, /KBK_TARGET_UNKNOWN/)
    const near = await kbk(['plan', '--target', `backup.events[${JSON.stringify(typo)}]`, '--json'], dir)
    assert.equal(near.code, 1)
    assert.match(jsonError(near).suggestion ?? '', new RegExp(`Did you mean 'backup\\.events\\[${JSON.stringify(topic).replaceAll('.', '\\.')}\\]'`))
    const policyTypo = await kbk(['plan', '--target', 'policy.event'], dir)
    assert.equal(policyTypo.code, 1)
    assert.match(policyTypo.stderr, /Did you mean 'policy\.events'\?/)

    const partial = await kbk(['plan', '--target', `backup.events[${JSON.stringify(topic)}]`], dir)
    assert.equal(partial.code, 0, partial.stderr)
    assert.match(partial.stdout, /^Warning: Targeting is in effect/)
    assert.match(partial.stdout, /may not show every change/)
  })

  it('a drift job counts findings by --fail-on: a new topic is information, a missing segment is not', async () => {
    if ((await kbk(['plan', '--detailed-exitcode'], dir)).code !== 0) assert.equal((await kbk(['apply', '--auto-approve'], dir)).code, 0)
    // createTestTopic adds a random suffix to the prefix: the new topic matches `${topic}.*`.
    const fresh = await createTestTopic(env.kafka.bootstrap, {prefix: `${topic}-new`})
    extra.push(fresh)
    await produceTestRecords(env.kafka.bootstrap, fresh, records(2))
    const info = await kbk(['plan', '--refresh-only', '--detailed-exitcode', '--format', 'json'], dir)
    assert.equal(info.code, 0, info.stderr)
    assert.deepEqual((JSON.parse(info.stdout) as {drift: Array<{kind: string}>}).drift.map((d) => d.kind), ['new-topic'])
    assert.match(info.stderr, /1 drift finding\(s\) below --fail-on warning/)
    const strict = await kbk(['plan', '--refresh-only', '--detailed-exitcode', '--fail-on', 'info'], dir)
    assert.equal(strict.code, 2)
    assert.match(strict.stdout, /new-topic/)
    assert.doesNotMatch(strict.stdout, /No drift/)

    // The new topic is backed up by the next apply; then a segment goes missing: critical.
    assert.equal((await kbk(['apply', '--auto-approve'], dir)).code, 0)
    const segment = (await recordedSegments(config)).find((s) => s.topic === topic)
    assert.ok(segment, 'a recorded segment of the first topic')
    await rm(join(dir, 'backups', ...segment.key.split('/')))
    for (const failOn of ['warning', 'error']) {
      const job = await kbk(['plan', '--refresh-only', '--detailed-exitcode', '--fail-on', failOn], dir)
      assert.equal(job.code, 2, `--fail-on ${failOn}: ${job.stdout}`)
      assert.match(job.stdout, /segment-missing/)
    }
    // A normal plan with nothing to do but drift does not claim that all is well.
    const plan = await kbk(['plan'], dir)
    assert.equal(plan.code, 0, plan.stderr)
    assert.match(plan.stdout, /segment-missing/)
    assert.doesNotMatch(plan.stdout, /No changes\. Your backups match the configuration/)
    assert.match(plan.stdout, /No changes to make, but \d+ drift finding\(s\) above need attention/)
  })
})
