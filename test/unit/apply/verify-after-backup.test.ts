// policies.X.verify: apply reads back what a backup run just wrote before the change counts as
// done; the result is recorded on the topic, and a damaged segment fails the change by name.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {topicKey} from '../../../src/state/types.js'
import {isBufferList, type PutBody, type PutOptions} from '../../../src/storage/object-store.js'
import {World, records} from '../../helpers/executor-world.js'
import {desired, policy} from '../plan/fixtures.js'

const T0 = Date.parse('2026-06-01T00:00:00Z')

function seeded(world: World): void {
  world.cluster('prod').addTopic('orders.eu', 2)
  for (const p of [0, 1]) world.cluster('prod').seed('orders.eu', p, records(100, T0))
}

describe('verification after every backup', () => {
  it('deep: records the read-back on the topic and says so', async () => {
    const world = new World({runtime: {verify: {mode: 'deep', keyring: new Map()}}})
    seeded(world)
    const {outcome} = await world.planAndApply(desired([policy('orders')]))
    assert.equal(outcome.ok, true, JSON.stringify(outcome.changes))
    const change = outcome.changes.find((c) => c.address === 'backup.orders["orders.eu"]')
    assert.match(JSON.stringify(change), /verified \(deep\) 6 segment\(s\)/)
    const t = (await world.snapshot()).topics[topicKey('orders', 'orders.eu')]!
    assert.equal(t.last_verify?.ok, true)
    assert.equal(t.last_verify?.mode, 'deep')
    assert.equal(t.last_verify?.segments, 6)
  })

  it('a segment the store altered on the way fails the apply, naming the segment; shallow would not see it', async () => {
    for (const mode of ['deep', 'shallow'] as const) {
      const world = new World({runtime: {verify: {mode, keyring: new Map()}}})
      seeded(world)
      const put = world.store.put.bind(world.store)
      let damaged: string | undefined
      world.store.put = async (key: string, body: PutBody, options?: PutOptions) => {
        if (!damaged && key.startsWith('data/') && key.endsWith('.kbs') && (Buffer.isBuffer(body) || isBufferList(body))) {
          damaged = key
          const copy = Buffer.concat(Buffer.isBuffer(body) ? [body] : body)
          copy[Math.floor(copy.length / 2)]! ^= 0xff // same size, different bytes
          return put(key, copy, options)
        }
        return put(key, body, options)
      }
      const {outcome} = await world.planAndApply(desired([policy('orders')]))
      assert.ok(damaged)
      const t = (await world.snapshot()).topics[topicKey('orders', 'orders.eu')]!
      if (mode === 'shallow') {
        assert.equal(outcome.ok, true, 'shallow checks presence and size only')
        assert.equal(t.last_verify?.ok, true)
        continue
      }
      assert.equal(outcome.ok, false)
      const failed = JSON.stringify(outcome.changes.find((c) => c.address === 'backup.orders["orders.eu"]'))
      assert.match(failed, /KBK_BACKUP_VERIFY_FAILED/)
      assert.ok(failed.includes(damaged), `names ${damaged}: ${failed}`)
      assert.equal(t.last_verify?.ok, false)
      assert.match(t.last_verify?.problem ?? '', new RegExp(damaged.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    }
  })
})
