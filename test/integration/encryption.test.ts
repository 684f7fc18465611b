// Client-side encryption and GDPR masking end to end through the real CLI, on the real Kafka and
// an fs store (so the test can read the raw segment bytes): an encrypted segment holds no
// plaintext of its records (compression is off, so only the encryption can hide it — the masked,
// unencrypted topic beside it proves the check sees plaintext when it is there); verify --deep and
// a restore read it back; a wrong or missing key fails clearly; after a key rotation old segments
// stay readable with the old key listed beside the new one; masking removes the declared fields
// and counts the values it could not read as JSON.
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {openWorkspaceStore} from '../../src/cli/context.js'
import {decodeSegment} from '../../src/segment/index.js'
import type {SegmentRef} from '../../src/state/types.js'
import {testEnv} from '../helpers/env.js'
import {consumeAll, createTestTopic, deleteTestTopic, produceTestRecords} from '../helpers/kafka.js'
import {runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'

const KEY1 = randomBytes(32).toString('base64')
const KEY2 = randomBytes(32).toString('base64')
const WRONG = randomBytes(32).toString('base64')

describe('client-side encryption and masking (fs store)', () => {
  const env = testEnv()
  const dir = tempDir()
  let secret = ''
  let people = ''
  let configFile = ''
  const keys = {KBK_T_KEY1: KEY1, KBK_T_KEY2: KEY2}

  function write(encryption: string): void {
    configFile = writeWorkspace(
      dir,
      `version: 1
clusters:
  source: { brokers: ["${env.kafka.bootstrap}"] }
  target: { brokers: ["${env.kafka.targetBootstrap}"] }
stores:
  main: { type: fs, path: ./backups }
retention:
  tier: { maxAge: 30d, minKeep: 1 }
policies:
  secure:
    cluster: source
    store: main
    topics: { include: ["${secret}"] }
    retention: tier
    compression: { codec: none }
    encryption: ${encryption}
  people:
    cluster: source
    store: main
    topics: { include: ["${people}"] }
    retention: tier
    compression: { codec: none }
    masking: { fields: ["$.customer.email", "$.items[*].card"], mode: redact }
restores:
  drill:
    from: { policy: secure, pointInTime: latest }
    to: { cluster: target, topicSuffix: "-restored" }
    createTopics: true
`,
    )
  }

  async function segments(policy: string, topic: string): Promise<Array<SegmentRef & {raw: Buffer}>> {
    const s = await openWorkspaceStore({config: configFile})
    try {
      const {snapshot} = await s.state.read()
      const refs = (await s.state.loadSegments(snapshot, policy, topic)).sort((a, b) => a.first_offset - b.first_offset)
      return Promise.all(refs.map(async (r) => ({...r, raw: await readFile(join(dir, 'backups', r.key))})))
    } finally {
      await s.close()
    }
  }

  before(async () => {
    // For the in-process reads below; CLI runs get their keys explicitly.
    Object.assign(process.env, keys)
    secret = await createTestTopic(env.kafka.bootstrap, {prefix: 'enc'})
    people = await createTestTopic(env.kafka.bootstrap, {prefix: 'mask'})
    write('{ key: "${KBK_T_KEY1}", keyId: k1 }')
    await produceTestRecords(
      env.kafka.bootstrap,
      secret,
      Array.from({length: 5}, (_, i) => ({key: `KEYMARK-${i}`, value: `PLAINTEXT-SECRET-${i}`, headers: [{key: 'hdr', value: Buffer.from(`HDRMARK-${i}`)}]})),
    )
    await produceTestRecords(env.kafka.bootstrap, people, [
      {key: 'a', value: JSON.stringify({customer: {email: 'alice@example.com', name: 'Alice'}, items: [{card: '4111111111111111', sku: 'x1'}, {card: '5500000000000004', sku: 'x2'}]})},
      {key: 'b', value: JSON.stringify({customer: {email: 'bob@example.com'}, total: 12})},
      {key: 'c', value: JSON.stringify({other: 'no personal fields here'})},
      {key: 'd', value: 'plain text, not JSON: carol@example.com'},
      {key: 'e', value: null},
    ])
  })

  after(async () => {
    for (const t of [secret, people]) await deleteTestTopic(env.kafka.bootstrap, t).catch(() => undefined)
    await deleteTestTopic(env.kafka.targetBootstrap, `${secret}-restored`).catch(() => undefined)
  })

  it('writes encrypted segments that hold no plaintext of keys, values or headers; masking removes the declared fields and counts non-JSON values', async () => {
    const apply = await runKbk(['apply', '--auto-approve', '--target', 'policy.secure', '--target', 'policy.people', '--target', `backup.secure["${secret}"]`, '--target', `backup.people["${people}"]`], {cwd: dir, env: keys})
    assert.equal(apply.code, 0, apply.stderr + apply.stdout)
    assert.match(apply.stderr, /masking: 2 record\(s\) masked, 1 non-JSON value\(s\) left as is/)
    assert.match(apply.stderr, /1 record value\(s\) of "[^"]+" are not JSON objects or arrays: they were backed up as is, without masking/)

    const enc = await segments('secure', secret)
    assert.ok(enc.length > 0)
    for (const s of enc) {
      assert.equal(s.key_id, 'k1')
      for (const marker of ['PLAINTEXT-SECRET', 'KEYMARK', 'HDRMARK']) assert.equal(s.raw.indexOf(marker), -1, `${s.key} holds "${marker}" in plaintext`)
      assert.equal(s.raw.indexOf(Buffer.from(KEY1, 'base64')), -1, 'the master key is not in the segment')
    }

    const masked = await segments('people', people)
    const raw = Buffer.concat(masked.map((s) => s.raw))
    // The same check on an unencrypted, uncompressed segment does see plaintext: it can fail.
    assert.notEqual(raw.indexOf('no personal fields here'), -1)
    for (const pii of ['alice@example.com', 'bob@example.com', '4111111111111111', '5500000000000004']) assert.equal(raw.indexOf(pii), -1, `${pii} reached the backup`)
    const records = (await Promise.all(masked.map(async (s) => (await decodeSegment(s.raw, {keyring: new Map(), objectName: s.key})).records))).flat()
    const values = records.map((r) => (r.value === null ? null : r.value.toString('utf8')))
    assert.deepEqual(JSON.parse(values[0]!), {customer: {email: '[REDACTED]', name: 'Alice'}, items: [{card: '[REDACTED]', sku: 'x1'}, {card: '[REDACTED]', sku: 'x2'}]})
    assert.deepEqual(JSON.parse(values[1]!), {customer: {email: '[REDACTED]'}, total: 12})
    assert.deepEqual(JSON.parse(values[2]!), {other: 'no personal fields here'})
    assert.equal(values[3], 'plain text, not JSON: carol@example.com', 'a non-JSON value is left alone (and counted)')
    assert.equal(values[4], null, 'a tombstone stays a tombstone')
  })

  it('verify --deep decrypts every segment with the right key', async () => {
    const v = await runKbk(['verify', '--deep'], {cwd: dir, env: keys})
    assert.equal(v.code, 0, v.stdout + v.stderr)
  })

  it('a wrong key fails clearly, never with garbage; a missing key names the variable', async () => {
    const wrong = await runKbk(['verify', '--deep'], {cwd: dir, env: {...keys, KBK_T_KEY1: WRONG}})
    assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr)
    assert.match(wrong.stdout + wrong.stderr, /KBK_SEGMENT_KEY_WRONG: The key listed as "k1" does not open segment /)
    assert.doesNotMatch(wrong.stdout + wrong.stderr, /PLAINTEXT|\n\s+at .*\.js:\d+/)

    const missing = await runKbk(['verify', '--deep'], {cwd: dir, env: {KBK_T_KEY1: '', KBK_T_KEY2: KEY2}})
    assert.equal(missing.code, 1)
    assert.match(missing.stdout + missing.stderr, /KBK_CONFIG_ENV_UNSET/)
    assert.match(missing.stdout + missing.stderr, /KBK_T_KEY1/)

    const short = await runKbk(['verify', '--deep'], {cwd: dir, env: {...keys, KBK_T_KEY1: randomBytes(16).toString('base64')}})
    assert.equal(short.code, 1)
    assert.match(short.stdout + short.stderr, /16 bytes after base64 decoding; AES-256 needs 32|AES-256 needs exactly 32/)
  })

  it('after a rotation, new segments use the new key, old ones stay readable with the old key beside it, and a restore reads both', async () => {
    write('{ key: "${KBK_T_KEY2}", keyId: k2, previousKeys: [{ keyId: k1, key: "${KBK_T_KEY1}" }] }')
    await produceTestRecords(env.kafka.bootstrap, secret, Array.from({length: 3}, (_, i) => ({key: `KEYMARK-${5 + i}`, value: `PLAINTEXT-SECRET-${5 + i}`})))
    const backup = await runKbk(['apply', '--auto-approve', '--target', 'policy.secure', '--target', `backup.secure["${secret}"]`], {cwd: dir, env: keys})
    assert.equal(backup.code, 0, backup.stderr + backup.stdout)
    const segs = await segments('secure', secret)
    assert.deepEqual(segs.map((s) => s.key_id), ['k1', 'k2'])
    for (const s of segs) assert.equal(s.raw.indexOf('PLAINTEXT-SECRET'), -1)

    const v = await runKbk(['verify', '--deep'], {cwd: dir, env: keys})
    assert.equal(v.code, 0, v.stdout + v.stderr)

    const restore = await runKbk(['apply', '--auto-approve', '--target', 'restore.drill'], {cwd: dir, env: keys})
    assert.equal(restore.code, 0, restore.stderr + restore.stdout)
    const restored = await consumeAll(env.kafka.targetBootstrap, `${secret}-restored`)
    assert.deepEqual(
      restored.map((r) => [r.key?.toString(), r.value?.toString()]),
      Array.from({length: 8}, (_, i) => [`KEYMARK-${i}`, `PLAINTEXT-SECRET-${i}`]),
    )
    assert.deepEqual(restored[0]!.headers.map((h) => [h.key, h.value?.toString()]), [['hdr', 'HDRMARK-0']])

    // Without the old key in the keyring, the old segment names the key it needs.
    write('{ key: "${KBK_T_KEY2}", keyId: k2 }')
    const gone = await runKbk(['verify', '--deep'], {cwd: dir, env: keys})
    assert.equal(gone.code, 1, gone.stdout + gone.stderr)
    assert.match(gone.stdout + gone.stderr, /KBK_SEGMENT_KEY_MISSING: Segment \S+ is encrypted with key "k1", which is not in the keyring/)
  })
})
