// The refresh, driven fast over the in-memory Kafka port and store: what it reads for the planner,
// that it writes nothing, and what it reports when a cluster cannot be read.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {KafkaPort} from '../../../src/kafka/port.js'
import {readObserved} from '../../../src/refresh/read-observed.js'
import {World, records} from '../../helpers/executor-world.js'
import {MemoryKafka} from '../../helpers/memory-kafka.js'
import {desired, policy, restore} from '../plan/fixtures.js'

const T0 = Date.parse('2026-05-31T00:00:00Z')

function refresh(world: World, d: ReturnType<typeof desired>, options: {listObjects?: boolean; kafka?: (c: string) => KafkaPort} = {}) {
  return readObserved(d, {store: () => ({store: world.store, state: world.state}), kafka: options.kafka ?? ((c) => world.cluster(c))}, {now: world.clock, listObjects: options.listObjects ?? false, unknownGraceMs: 0})
}

function world(): World {
  const w = new World()
  const prod = w.cluster('prod')
  prod.addTopic('orders.eu', 2, {'retention.ms': '86400000'}).addTopic('orders.us-repartition', 1).addTopic('payments', 1)
  prod.seed('orders.eu', 0, records(10, T0))
  prod.seed('orders.eu', 1, records(4, T0))
  prod.deleteBefore('orders.eu', 0, 3)
  return w
}

describe('readObserved', () => {
  it('reads the included topics with partitions, configs, watermarks and first-backup log sizes', async () => {
    const w = world()
    const {observed, reads} = await refresh(w, desired([policy('orders')]))
    assert.deepEqual(Object.keys(observed.clusters.prod!.topics), ['orders.eu'], 'excluded and unmatched topics are not read')
    const t = observed.clusters.prod!.topics['orders.eu']!
    assert.equal(t.partitions, 2)
    assert.deepEqual(t.configs, {'retention.ms': '86400000'})
    assert.deepEqual(t.watermarks, [{partition: 0, low: 3, high: 10}, {partition: 1, low: 0, high: 4}])
    assert.ok(t.log_bytes && t.log_bytes[0]! > 0 && t.log_bytes[1]! > 0, 'a topic never backed up gets log sizes for the estimate')
    assert.equal(observed.states.primary?.serial, 0)
    assert.equal(reads.primary?.etag, undefined, 'no state yet')
    assert.ok(observed.probes?.primary, 'a normal plan probes instead of listing')
    assert.equal(observed.objects, undefined)
  })

  it('writes nothing: no object, no topic, no produce, no group commit', async () => {
    const w = world()
    const d = desired([policy('orders')], [restore('drill', {policy: 'orders', cluster: 'staging'})])
    await w.planAndApply(desired([policy('orders')]))
    const puts = w.store.calls.put
    const deletes = w.store.calls.delete
    const objects = [...w.store.objects.keys()]
    await refresh(w, d, {listObjects: true})
    await refresh(w, d)
    assert.equal(w.store.calls.put, puts)
    assert.equal(w.store.calls.delete, deletes)
    assert.deepEqual([...w.store.objects.keys()], objects)
    for (const c of ['prod', 'staging']) {
      const k = w.cluster(c)
      assert.deepEqual([k.calls.createTopic, k.calls.produce, k.calls.commitGroupOffsets], [0, 0, 0], c)
    }
  })

  it('after a backup: the state, segments for restores, object listings, and the restore cluster\'s defaults', async () => {
    const w = world()
    await w.planAndApply(desired([policy('orders')]))
    w.cluster('staging').defaults = {'retention.ms': '3600000'}
    const d = desired([policy('orders')], [restore('drill', {policy: 'orders', cluster: 'staging'})])
    const {observed} = await refresh(w, d, {listObjects: true})
    const state = observed.states.primary!
    assert.equal(state.serial > 0, true)
    assert.ok(state.topics['orders/orders.eu'] ?? Object.values(state.topics).find((x) => x.topic === 'orders.eu'))
    const segs = Object.values(observed.segments).flat()
    assert.equal(segs.length, 2, 'one segment a partition, loaded because a restore reads them')
    assert.deepEqual(Object.keys(observed.objects!.primary!.sizes).sort(), segs.map((s) => s.key).sort())
    assert.deepEqual(observed.objects!.primary!.unknown, [])
    assert.deepEqual(observed.clusters.staging!.topic_defaults, {'retention.ms': '3600000'})
    assert.equal(observed.clusters.prod!.topics['orders.eu']!.log_bytes, undefined, 'a topic with history is estimated from it, not the brokers')
  })

  it('reports an object nobody recorded as unknown', async () => {
    const w = world()
    await w.planAndApply(desired([policy('orders')]))
    await w.store.put('data/orders/stray.bin', Buffer.from('x'))
    const {observed} = await refresh(w, desired([policy('orders')]), {listObjects: true})
    assert.deepEqual(observed.objects!.primary!.unknown, ['data/orders/stray.bin'])
  })

  it('a cluster that cannot be read becomes an error in its view, not a thrown refresh', async () => {
    const w = world()
    const broken = new MemoryKafka()
    broken.listTopics = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'})
    }
    const {observed} = await refresh(w, desired([policy('orders')]), {kafka: () => broken})
    assert.deepEqual(observed.clusters.prod!.topics, {})
    assert.ok(observed.clusters.prod!.error?.code, JSON.stringify(observed.clusters.prod))
    assert.match(observed.clusters.prod!.error!.message, /ECONNREFUSED/)
  })
})
