// The audit trail end to end through the real CLI on the real Kafka: every apply appends one
// hash-chained record to the store (who, when, kbk version, plan digest, actions, outcome,
// counts); `kbk audit list` shows them and `kbk audit verify` names a tampered or removed record.
import assert from 'node:assert/strict'
import {readFile, rename, writeFile} from 'node:fs/promises'
import {hostname, userInfo} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import type {AuditEntry} from '../../src/audit/audit-log.js'
import {auditKey} from '../../src/audit/audit-log.js'
import {testEnv} from '../helpers/env.js'
import {createTestTopic, deleteTestTopic, produceTestRecords} from '../helpers/kafka.js'
import {createTestStore, kafkaWorkspace, runKbk, tempDir, writeWorkspace} from '../helpers/workspace.js'

describe('audit trail (fs store)', () => {
  const env = testEnv()
  const dir = tempDir()
  let topic = ''
  const file = (seq: number) => join(dir, 'backups', auditKey(seq))

  before(async () => {
    topic = await createTestTopic(env.kafka.bootstrap, {prefix: 'audit'})
    const store = await createTestStore('fs', dir)
    writeWorkspace(dir, kafkaWorkspace({bootstrap: env.kafka.bootstrap, store, include: topic}))
    for (let run = 0; run < 3; run++) {
      await produceTestRecords(env.kafka.bootstrap, topic, Array.from({length: run + 2}, (_, i) => ({key: `k${i}`, value: `run ${run} record ${i}`})))
      const r = await runKbk(['apply', '--auto-approve'], {cwd: dir})
      assert.equal(r.code, 0, r.stderr + r.stdout)
    }
    // An apply with nothing to do changes nothing, and records nothing.
    const idle = await runKbk(['apply', '--auto-approve'], {cwd: dir})
    assert.equal(idle.code, 0, idle.stderr)
  })

  after(async () => {
    await deleteTestTopic(env.kafka.bootstrap, topic).catch(() => undefined)
  })

  it('records every apply: who, when, version, plan digest, actions, outcome and counts', async () => {
    const list = await runKbk(['audit', 'list', '--json'], {cwd: dir})
    assert.equal(list.code, 0, list.stderr)
    const {entries} = JSON.parse(list.stdout) as {entries: AuditEntry[]}
    assert.deepEqual(entries.map((e) => e.seq), [1, 2, 3])
    const me = `${userInfo().username}@${hostname()}`
    for (const [i, e] of entries.entries()) {
      assert.equal(e.who, me)
      assert.match(e.kbk_version, /^\d+\.\d+\.\d+/)
      assert.match(e.plan_digest, /^sha256:[0-9a-f]{64}$/)
      assert.match(e.config_digest, /^sha256:|^[0-9a-f]{64}$/)
      assert.equal(e.outcome, 'success')
      assert.ok(Date.parse(e.at) > 0)
      assert.deepEqual(
        e.actions.filter((a) => a.address.startsWith('backup.')),
        [{address: `backup.events["${topic}"]`, action: 'run', status: 'done'}],
      )
      assert.equal(e.counts.records, i + 2, `apply ${i + 1} backed up ${i + 2} record(s)`)
      assert.equal(e.prev_hash, i === 0 ? '0'.repeat(64) : entries[i - 1]!.hash)
    }
    assert.deepEqual(entries[0]!.actions.map((a) => a.address).sort(), [`backup.events["${topic}"]`, 'policy.events'])
    assert.equal(new Set(entries.map((e) => e.plan_digest)).size, 3, 'each apply ran its own plan')

    const text = await runKbk(['audit', 'list'], {cwd: dir})
    assert.match(text.stdout, new RegExp(`#1 \\S+ ${me.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} kbk \\S+ SUCCESS run `))
    assert.match(text.stdout, /records 4, segments \d+, expired 0, restored 0; plan sha256:/)

    const verify = await runKbk(['audit', 'verify'], {cwd: dir})
    assert.equal(verify.code, 0, verify.stdout + verify.stderr)
    assert.match(verify.stdout, /OK: 3 audit record\(s\), hash chain intact\./)
  })

  it('verify names a tampered record, and a removed one', async () => {
    const original = await readFile(file(2), 'utf8')
    const e = JSON.parse(original) as AuditEntry
    await writeFile(file(2), JSON.stringify({...e, who: 'someone-else@elsewhere'}, null, 1))
    const tampered = await runKbk(['audit', 'verify'], {cwd: dir})
    assert.equal(tampered.code, 1, tampered.stdout)
    assert.match(tampered.stdout, new RegExp(`✖ ${auditKey(2).replace(/\./g, '\\.')}: altered: record 2 was altered after it was written`))
    assert.match(tampered.stdout, /FAILED: 1 problem\(s\) in 3 audit record\(s\)\./)
    const json = JSON.parse((await runKbk(['audit', 'verify', '--json'], {cwd: dir})).stdout) as {ok: boolean; problems: Array<{seq: number; kind: string}>}
    assert.equal(json.ok, false)
    assert.deepEqual(json.problems.map((p) => [p.seq, p.kind]), [[2, 'altered']])

    await writeFile(file(2), original)
    assert.equal((await runKbk(['audit', 'verify'], {cwd: dir})).code, 0, 'restored byte for byte, the chain is intact again')

    await rename(file(2), join(dir, 'record-2.json'))
    const removed = await runKbk(['audit', 'verify'], {cwd: dir})
    assert.equal(removed.code, 1, removed.stdout)
    assert.match(removed.stdout, /removed: record\(s\) 2\.\.2 are missing before record 3/)
    await rename(join(dir, 'record-2.json'), file(2))
  })
})
