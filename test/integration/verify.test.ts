// `kbk verify` end to end on real backups (real Kafka → fs store, encrypted): shallow verify
// checks that each recorded object exists with its size, and so misses a flipped bit; deep
// verify reads, decrypts and decodes everything and names the damaged object. Exit 1 on any
// problem, --json for machines.
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {open, truncate} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {openWorkspaceStore} from '../../src/cli/context.js'
import type {SegmentRef} from '../../src/state/types.js'
import type {VerifyReport} from '../../src/verify/verify-backups.js'
import {testEnv} from '../helpers/env.js'
import {createTestTopic, deleteTestTopic, produceTestRecords} from '../helpers/kafka.js'
import {createTestStore, kafkaWorkspace, recordedSegments, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'
import type {CliResult} from '../helpers/workspace.js'

const env = testEnv()

describe('kbk verify: shallow and deep, on an encrypted fs backup', () => {
  const dir = tempDir()
  const keyEnv = {KBK_TEST_KEY: randomBytes(32).toString('base64')}
  let topic = ''
  let config = ''
  const kbk = (args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> => runKbk(args, {cwd: dir, env: {...keyEnv, ...extraEnv}})
  const file = (key: string): string => join(dir, 'backups', ...key.split('/'))
  const report = (r: CliResult): VerifyReport => JSON.parse(r.stdout) as VerifyReport

  before(async () => {
    topic = await createTestTopic(env.kafka.bootstrap, {partitions: 2, prefix: 'verify'})
    const now = Date.now()
    await produceTestRecords(
      env.kafka.bootstrap,
      topic,
      Array.from({length: 40}, (_, i) => ({partition: i % 2, key: `k-${i}`, value: JSON.stringify({i, pad: 'x'.repeat(200)}), timestamp: now - 60_000 + i})),
    )
    const store = await createTestStore('fs', dir)
    config = writeWorkspace(
      dir,
      kafkaWorkspace({bootstrap: env.kafka.bootstrap, store, include: topic, policyExtra: '    segment: { maxRecords: 10 }\n    encryption: { key: "${KBK_TEST_KEY}" }\n'}),
    )
    const r = await kbk(['apply', '--auto-approve'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
  })
  after(async () => {
    await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
  })

  async function segments(): Promise<SegmentRef[]> {
    Object.assign(process.env, keyEnv)
    return recordedSegments(config)
  }

  it('passes on intact backups, shallow and deep, with progress on stderr', async () => {
    const shallow = await kbk(['verify'])
    assert.equal(shallow.code, 0, shallow.stderr + shallow.stdout)
    assert.match(shallow.stdout, /^OK: 4 segment\(s\), .* — all present with their recorded sizes\.$/m)
    const deep = await kbk(['verify', '--deep'])
    assert.equal(deep.code, 0, deep.stderr + deep.stdout)
    assert.match(deep.stdout, /OK: 4 segment\(s\), .*, 40 record\(s\) decoded — all readable and intact\./)
    assert.match(deep.stderr, /verify: 4\/4 segment\(s\)/)
    const json = report(await kbk(['verify', '--deep', '--json', '--concurrency', '2']))
    assert.deepEqual({ok: json.ok, deep: json.deep, objects: json.objects, records: json.records, problems: json.problems}, {ok: true, deep: true, objects: 4, records: 40, problems: []})
    // A filter that matches nothing is an error, not an empty success (issue 13).
    const filtered = await kbk(['verify', '--json', '--topic', 'no-such-topic'])
    assert.equal(filtered.code, 1)
    assert.equal((JSON.parse(filtered.stdout) as {error: {code: string}}).error.code, 'KBK_FILTER_NO_MATCH')
  })

  it('a flipped bit passes plain verify and fails --deep naming the object; a size change fails both; a missing object fails both', async () => {
    const segs = (await segments()).sort((a, b) => a.partition - b.partition || a.first_offset - b.first_offset)
    assert.equal(segs.length, 4)
    const [flipped, shrunk, gone] = segs as [SegmentRef, SegmentRef, SegmentRef]

    const fh = await open(file(flipped.key), 'r+')
    try {
      const at = Math.floor(flipped.bytes / 2)
      const b = Buffer.alloc(1)
      await fh.read(b, 0, 1, at)
      b[0] = b[0]! ^ 0x10
      await fh.write(b, 0, 1, at)
    } finally {
      await fh.close()
    }

    const shallow = await kbk(['verify'])
    assert.equal(shallow.code, 0, 'plain verify checks sizes only: ' + shallow.stdout)
    const deep = await kbk(['verify', '--deep'])
    assert.equal(deep.code, 1, deep.stdout + deep.stderr)
    assert.ok(deep.stdout.includes(`✖ ${flipped.key} (backup.events["${topic}"], partition ${flipped.partition})`), deep.stdout)
    assert.match(deep.stdout, /FAILED: 1 problem\(s\) in 4 segment\(s\)\./)
    const deepJson = report(await kbk(['verify', '--deep', '--json']))
    assert.equal(deepJson.ok, false)
    assert.deepEqual(deepJson.problems.map((p) => p.key), [flipped.key])
    assert.equal(deepJson.problems[0]!.kind, 'corrupt', JSON.stringify(deepJson.problems))
    assert.match(deepJson.problems[0]!.message, /^KBK_SEGMENT_/)
    assert.equal(deepJson.problems[0]!.address, `backup.events["${topic}"]`)

    await truncate(file(shrunk.key), shrunk.bytes - 1)
    const sized = await kbk(['verify', '--json'])
    assert.equal(sized.code, 1)
    assert.deepEqual(
      report(sized).problems.map((p) => [p.key, p.kind, p.message]),
      [[shrunk.key, 'size', `size is ${shrunk.bytes - 1} bytes; kbk wrote ${shrunk.bytes}`]],
    )
    const sizedText = await kbk(['verify'])
    assert.match(sizedText.stdout, /Run kbk verify --deep to read every record\./)

    Object.assign(process.env, keyEnv)
    const s = await openWorkspaceStore({config})
    await s.store.delete([gone.key]).finally(() => s.close())
    const all = report(await kbk(['verify', '--deep', '--json']))
    assert.deepEqual(
      all.problems.map((p) => [p.key, p.kind]).sort(),
      [[flipped.key, all.problems.find((p) => p.key === flipped.key)!.kind], [gone.key, 'missing'], [shrunk.key, 'size']].sort(),
    )
  })

  it('deep verify names a segment it cannot decrypt with the configured key', async () => {
    const wrong = await kbk(['verify', '--deep', '--json'], {KBK_TEST_KEY: randomBytes(32).toString('base64')})
    assert.equal(wrong.code, 1)
    const r = report(wrong)
    // The one segment still intact after the test above: the last of partition 1.
    const intact = (await segments()).sort((a, b) => a.partition - b.partition || a.first_offset - b.first_offset)[3]!
    const found = r.problems.filter((p) => p.key === intact.key)
    assert.deepEqual(found.map((p) => p.kind), ['key'], JSON.stringify(r.problems))
    assert.match(found[0]!.message, /^KBK_SEGMENT_KEY/)
  })
})
