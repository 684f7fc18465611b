// Store protection decides on typed data: the compliance finding names its store in
// `unlockedStore`, and the rule never reads message text.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {applyStoreProtection, storesHoldingImmutable} from '../../../src/config/store-protection.js'
import {validWorkspace} from '../../../src/app/workspace.js'
import {BASE, load} from './helpers.js'

const S3_SOX = BASE.replace('type: fs\n    path: ./backups', 'type: s3\n    bucket: bkt\n    region: r').replace('retention: production', 'retention: compliance') + '    tags: [sox]\n'
const at = () => ({file: 'kbk.yaml', line: 7, column: 3})

describe('store protection', () => {
  test('the OBJECT_LOCK finding carries its store as data', async () => {
    const {findings} = validWorkspace(await load(S3_SOX))
    const lock = findings.find((d) => d.code === 'KBK_COMPLIANCE_SOX_OBJECT_LOCK')
    assert.equal(lock?.unlockedStore, 'primary')
  })

  test('a store that enforces retention drops the finding; one that does not gets a warning naming it', async () => {
    const {workspace, findings} = validWorkspace(await load(S3_SOX))
    assert.deepEqual([...storesHoldingImmutable(workspace)], [['primary', ['orders']]])
    const enforcing = applyStoreProtection(workspace, findings, new Map([['primary', true]]), at)
    assert.deepEqual(enforcing.kept.map((d) => d.code), [])
    assert.deepEqual(enforcing.added, [])
    const not = applyStoreProtection(workspace, findings, new Map([['primary', false]]), at)
    assert.deepEqual(not.kept.map((d) => d.code), ['KBK_COMPLIANCE_SOX_OBJECT_LOCK'])
    assert.deepEqual(not.added.map((d) => [d.code, d.file, d.line]), [['KBK_RETENTION_NOT_ENFORCED_BY_STORE', 'kbk.yaml', 7]])
    assert.match(not.added[0]!.message, /store "primary" \(s3\) does not enforce write-once itself.*policy "orders"/)
  })

  test('a finding that only mentions the store in its text is kept', async () => {
    const {workspace, findings} = validWorkspace(await load(S3_SOX))
    const textOnly = findings.map(({unlockedStore: _, ...d}) => d)
    assert.equal(applyStoreProtection(workspace, textOnly, new Map([['primary', true]]), at).kept.length, textOnly.length)
  })
})
