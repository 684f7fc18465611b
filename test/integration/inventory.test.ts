// `kbk backups list / describe` end to end: what is restorable, per topic and partition, checked
// against what was really produced into Kafka and what is really on disk in the fs store.
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {readdir, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import type {PartitionBackup, TopicDescription} from '../../src/inventory/backups.js'
import {testEnv} from '../helpers/env.js'
import {createTestTopic, deleteTestTopic, produceTestRecords} from '../helpers/kafka.js'
import {createTestStore, kafkaWorkspace, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'
import type {CliResult} from '../helpers/workspace.js'

const env = testEnv()

describe('kbk backups list / describe (fs store)', () => {
  const dir = tempDir()
  const keyEnv = {KBK_TEST_KEY: randomBytes(32).toString('base64')}
  const kbk = (args: string[]): Promise<CliResult> => runKbk(args, {cwd: dir, env: keyEnv})
  let secret = ''
  let plain = ''
  const T0 = Date.now() - 600_000

  before(async () => {
    secret = await createTestTopic(env.kafka.bootstrap, {partitions: 2, prefix: 'inv-secret'})
    plain = await createTestTopic(env.kafka.bootstrap, {prefix: 'inv-plain'})
    // Partition 0: 12 records, partition 1: 3; timestamps known exactly.
    await produceTestRecords(env.kafka.bootstrap, secret, Array.from({length: 15}, (_, i) => ({partition: i < 12 ? 0 : 1, key: `k${i}`, value: 'v'.repeat(300), timestamp: T0 + i * 1000})))
    await produceTestRecords(env.kafka.bootstrap, plain, Array.from({length: 4}, (_, i) => ({key: `p${i}`, value: 'same '.repeat(100), timestamp: T0 + 100_000 + i})))
    const store = await createTestStore('fs', dir)
    const second = `  plain:\n    cluster: source\n    store: main\n    topics: { include: ["${plain}"] }\n    retention: archive\n`
    const yaml = kafkaWorkspace({bootstrap: env.kafka.bootstrap, store, include: secret, policyExtra: '    segment: { maxRecords: 5 }\n    encryption: { key: "${KBK_TEST_KEY}" }\n', extra: second}).replace(
      'retention:\n',
      'retention:\n  archive: { maxAge: 1y, minKeep: 1 }\n',
    )
    writeWorkspace(dir, yaml)
    const r = await kbk(['apply', '--auto-approve'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
  })
  after(async () => {
    await deleteTestTopic(env.kafka.bootstrap, secret).catch(() => undefined)
    await deleteTestTopic(env.kafka.bootstrap, plain).catch(() => undefined)
  })

  async function onDisk(policy: string, topic: string, partition: number): Promise<{files: string[]; bytes: number}> {
    const folder = join(dir, 'backups', 'data', policy, topic, String(partition))
    const files = (await readdir(folder)).filter((f) => f.endsWith('.kbs')).sort()
    let bytes = 0
    for (const f of files) bytes += (await stat(join(folder, f))).size
    return {files, bytes}
  }

  it('lists per partition: offsets, times, records, bytes, ratio, encryption, tier, earliest point in time', async () => {
    const r = await kbk(['backups', 'list', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const rows = (JSON.parse(r.stdout) as {store: string; partitions: PartitionBackup[]}).partitions
    assert.deepEqual(rows.map((x) => [x.policy, x.topic, x.partition]), [
      ['events', secret, 0],
      ['events', secret, 1],
      ['plain', plain, 0],
    ])
    const expected = [
      {first: 0, next: 12, records: 12, segments: 3, min: T0, max: T0 + 11_000, encrypted: true, tier: 'production'},
      {first: 0, next: 3, records: 3, segments: 1, min: T0 + 12_000, max: T0 + 14_000, encrypted: true, tier: 'production'},
      {first: 0, next: 4, records: 4, segments: 1, min: T0 + 100_000, max: T0 + 100_003, encrypted: false, tier: 'archive'},
    ]
    for (const [i, row] of rows.entries()) {
      const e = expected[i]!
      const disk = await onDisk(row.policy, row.topic, row.partition)
      assert.deepEqual(
        {
          first: row.first_offset,
          next: row.next_offset,
          records: row.records,
          segments: row.segments,
          min: Date.parse(row.min_timestamp!),
          max: Date.parse(row.max_timestamp!),
          encrypted: row.encrypted,
          tier: row.retention_tier,
        },
        e,
        `row ${i}`,
      )
      assert.equal(row.segments, disk.files.length)
      assert.equal(row.bytes_stored, disk.bytes, 'bytes stored are the bytes in the store')
      assert.equal(row.compression_ratio, Math.round((row.uncompressed_bytes / row.bytes_stored) * 100) / 100)
      assert.equal(row.earliest_point_in_time, new Date(e.min).toISOString())
      assert.deepEqual(row.gaps, [])
      assert.ok(row.last_backup_at)
    }
    // Repetitive plain values compress well; encrypted ones are compressed before encryption.
    assert.ok(rows[2]!.compression_ratio! > 2, String(rows[2]!.compression_ratio))

    const byPolicy = JSON.parse((await kbk(['backups', 'list', '--json', '--policy', 'plain'])).stdout) as {partitions: PartitionBackup[]}
    assert.deepEqual(byPolicy.partitions.map((x) => x.topic), [plain])
    const byTopic = JSON.parse((await kbk(['backups', 'list', '--json', '--topic', secret])).stdout) as {partitions: PartitionBackup[]}
    assert.deepEqual(byTopic.partitions.map((x) => x.partition), [0, 1])

    const text = await kbk(['backups', 'list'])
    assert.match(text.stdout, /^POLICY +TOPIC +PART +OFFSETS +RECORDS +STORED +RATIO +ENC +TIER +EARLIEST PIT +LATEST PIT +GAPS +VERIFIED$/m)
    assert.ok(text.stdout.includes(`events  ${secret}  0     0..11    12`), text.stdout)
  })

  it('describes one topic: its segments as they are in the store, and no holes', async () => {
    const r = await kbk(['backups', 'describe', `backup.events["${secret}"]`, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const d = JSON.parse(r.stdout) as TopicDescription
    assert.equal(d.partition_count, 2)
    assert.deepEqual(d.holes, [])
    const disk0 = await onDisk('events', secret, 0)
    assert.deepEqual(d.segments.filter((s) => s.partition === 0).map((s) => [s.first_offset, s.last_offset, s.records]), [[0, 4, 5], [5, 9, 5], [10, 11, 2]])
    assert.deepEqual(d.segments.filter((s) => s.partition === 0).map((s) => s.key.split('/').pop()), disk0.files)
    const text = await kbk(['backups', 'describe', `backup.events["${secret}"]`])
    assert.match(text.stdout, /^SEGMENTS$/m)
    assert.match(text.stdout, new RegExp(`p0 0\\.\\.4 {2}5 rec .* ${new Date(T0).toISOString()}\\.\\.${new Date(T0 + 4000).toISOString()} {2}data/events/`))

    const missing = await kbk(['backups', 'describe', 'backup.events["nope"]'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /KBK_NOT_FOUND/)
    assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace for a user mistake')
    const bad = await kbk(['backups', 'describe', 'events'])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /KBK_USAGE/)
  })
})
