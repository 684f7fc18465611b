// Pure parts of schema snapshots: which subjects, the plan's diff, the registration order of a
// restore (references first, versions in order), the topic subset, and the stored envelope.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {registrationOrder} from '../../../src/schema-registry/migrate.js'
import {decodeSnapshot, encodeSnapshot, snapshotKey} from '../../../src/schema-registry/snapshot-file.js'
import {chosenSubjects, diffSnapshots, subsetForTopics, type SchemaSnapshot} from '../../../src/schema-registry/snapshot.js'

const v = (version: number, id: number, refs: Array<[string, number]> = []) => ({version, id, schema: `s${id}`, schemaType: 'PROTOBUF' as const, references: refs.map(([subject, ver]) => ({name: `${subject}.proto`, subject, version: ver}))})

const snapshot: SchemaSnapshot = {
  format: 1,
  policy: 'p',
  registry: 'r',
  taken_at: '2026-01-01T00:00:00.000Z',
  global: {compatibility: 'BACKWARD', mode: null},
  notes: [],
  subjects: [
    {subject: 'a-value', compatibility: null, mode: null, versions: [v(1, 10, [['z-common', 2]]), v(2, 11, [['z-common', 1]])]},
    {subject: 'b-value', compatibility: null, mode: null, versions: [v(1, 20)]},
    {subject: 'z-common', compatibility: 'FULL', mode: null, versions: [v(1, 1), v(2, 2)]},
  ],
}

describe('schema snapshots', () => {
  it('chooses the TopicNameStrategy subjects of the topics, or the policy\'s own selection', () => {
    const all = ['a-key', 'a-value', 'b-value', 'other', 'z-common']
    assert.deepEqual(chosenSubjects(all, {topics: ['a']}), ['a-key', 'a-value'])
    assert.deepEqual(chosenSubjects(all, {topics: ['a'], matches: (s) => s.startsWith('o')}), ['other'])
  })

  it('registers references before their users and each subject\'s versions in order', () => {
    const order = registrationOrder(snapshot).map((x) => `${x.subject}@${x.version}`)
    assert.deepEqual(order, ['z-common@1', 'z-common@2', 'a-value@1', 'a-value@2', 'b-value@1'])
  })

  it('keeps the subjects of the restored topics and what they reference', () => {
    assert.deepEqual(subsetForTopics(snapshot, ['a'], false).subjects.map((s) => s.subject), ['a-value', 'z-common'])
    assert.deepEqual(subsetForTopics(snapshot, ['b'], false).subjects.map((s) => s.subject), ['b-value'])
    assert.equal(subsetForTopics(snapshot, ['b'], true), snapshot)
  })

  it('diffs new subjects and versions since the last snapshot', () => {
    const before = {subjects: [{...snapshot.subjects[0]!, versions: [snapshot.subjects[0]!.versions[0]!]}]}
    const d = diffSnapshots(before, snapshot)
    assert.deepEqual(d.newSubjects, ['b-value', 'z-common'])
    assert.deepEqual(d.newVersions, {'a-value': [2], 'b-value': [1], 'z-common': [1, 2]})
    assert.equal(d.versionCount, 4)
    assert.equal(diffSnapshots(snapshot, snapshot).versionCount, 0)
  })

  it('stores a checksummed envelope, encrypted when a key is given, and refuses a changed one', () => {
    const key = Buffer.alloc(32, 3)
    const ring = new Map([['k1', key]])
    for (const enc of [undefined, {keyId: 'k1', key}]) {
      const bytes = encodeSnapshot(snapshot, enc)
      assert.deepEqual(decodeSnapshot(bytes, 'x', ring), snapshot)
      assert.equal(bytes.includes('z-common'), enc === undefined, 'subject names are readable only when not encrypted')
      const env = JSON.parse(bytes.toString()) as {body: string}
      const tampered = Buffer.from(JSON.stringify({...JSON.parse(bytes.toString()), body: enc ? Buffer.from(Buffer.from(env.body, 'base64').map((b, i) => (i === 3 ? b ^ 1 : b))).toString('base64') : env.body.replace('BACKWARD', 'FORWARD')}))
      assert.throws(() => decodeSnapshot(tampered, 'x', ring), (e: {code?: string}) => e.code === (enc ? 'KBK_SEGMENT_KEY_WRONG' : 'KBK_SCHEMA_SNAPSHOT_CORRUPT'))
    }
    assert.equal(snapshotKey('orders', '2026-01-02T03:04:05.678Z'), 'schemas/orders/20260102T040506678Z.json'.replace('040506', '030405'))
  })
})
