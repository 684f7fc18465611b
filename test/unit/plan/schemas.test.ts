// The published JSON Schemas describe what kbk writes: a plan (also checked on every golden
// scenario) and the state objects a commit leaves in the store.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {decodePlanFile, encodePlanFile} from '../../../src/plan/plan-file.js'
import {planChanges} from '../../../src/plan/plan-changes.js'
import {StateStore} from '../../../src/state/state-store.js'
import {CHUNK_PREFIX, HEAD_KEY, TOPIC_INDEX_PREFIX} from '../../../src/state/layout.js'
import {MemoryStore} from '../../helpers/memory-store.js'
import {NOW, desired, emptyState, observed, policy, segment, topicView} from './fixtures.js'
import {chunkSchemaErrors, planSchemaErrors, stateHeadSchemaErrors, topicIndexSchemaErrors} from './json-schemas.js'

describe('schemas/plan.schema.json', () => {
  it('accepts the planner\'s plan and refuses what breaks the contract', () => {
    const plan = planChanges(desired([policy('orders')]), observed(emptyState(), {'orders.created': topicView([[0, 10]])}), {now: NOW, kbkVersion: '0.1.0'})
    assert.deepEqual(planSchemaErrors(JSON.parse(JSON.stringify(plan))), [])
    const noStore = JSON.parse(JSON.stringify(plan)) as {resource_changes: Array<Record<string, unknown>>}
    delete noStore.resource_changes[0]!.store
    assert.notDeepEqual(planSchemaErrors(noStore), [], 'a change without its store')
    assert.notDeepEqual(planSchemaErrors({...plan, applyable: 'yes'}), [], 'a mistyped field')
    assert.notDeepEqual(planSchemaErrors({...plan, extra: 1}), [], 'a field the schema does not know')
  })

  it('a saved plan from before changes carried their store still decodes, with the store filled in', () => {
    const plan = planChanges(desired([policy('orders')]), observed(emptyState(), {'orders.created': topicView([[0, 10]])}), {now: NOW, kbkVersion: '0.1.0'})
    const old = JSON.parse(JSON.stringify(plan)) as typeof plan
    for (const ch of old.resource_changes) delete (ch as {store?: string}).store
    const decoded = decodePlanFile(encodePlanFile(old), 'old.plan')
    assert.deepEqual(decoded.resource_changes.map((ch) => ch.store), ['primary', 'primary'])
    assert.deepEqual(decoded, plan)
  })
})

describe('schemas/state.schema.json', () => {
  it('describes the head, topic index and chunk objects a commit writes', async () => {
    const store = new MemoryStore()
    const state = new StateStore(store, {kbkVersion: '0.1.0', now: () => NOW})
    const written = new Date(NOW.getTime() - 1000)
    const r = await state.commit(await state.read(), {
      policies: {set: {orders: {name: 'orders', settings: policy('orders').settings, created_at: NOW.toISOString(), updated_at: NOW.toISOString()}}},
      topics: [
        {
          policy: 'orders',
          topic: 'orders.created',
          partitionCount: 2,
          configs: {'retention.ms': '604800000'},
          groupOffsets: {'orders-service': {0: 10}},
          lastBackupAt: NOW.toISOString(),
          addSegments: [segment('orders', 'orders.created', 0, 0, 9, written), segment('orders', 'orders.created', 1, 0, 4, written, {retain_until: NOW.toISOString(), key_id: 'k1'})],
          partitions: [{partition: 0, nextOffset: 10, addGaps: [{from: 0, to: 0, reason: 'retention-loss', detected_at: NOW.toISOString()}]}],
        },
      ],
    })
    await state.commit(r, {
      restores: {set: {drill: {name: 'drill', settings: {policy: 'orders'}, applied_at: NOW.toISOString(), point_in_time: NOW.toISOString(), records: 15, progress: {'orders.created': {0: 10}}, status: 'complete'}}},
      topics: [{policy: 'orders', topic: 'orders.created', removeSegments: [segment('orders', 'orders.created', 0, 0, 9, written)], deletedAt: NOW.toISOString()}],
    })
    const json = async (key: string): Promise<unknown> => JSON.parse((await store.get(key)).toString('utf8')) as unknown
    const keys = [...store.objects.keys()]
    assert.deepEqual(stateHeadSchemaErrors(await json(HEAD_KEY)), [])
    const indexes = keys.filter((k) => k.startsWith(TOPIC_INDEX_PREFIX))
    const chunks = keys.filter((k) => k.startsWith(CHUNK_PREFIX))
    assert.ok(indexes.length > 0 && chunks.length > 0)
    for (const k of indexes) assert.deepEqual(topicIndexSchemaErrors(await json(k)), [], k)
    for (const k of chunks) assert.deepEqual(chunkSchemaErrors(await json(k)), [], k)
    assert.notDeepEqual(stateHeadSchemaErrors({...((await json(HEAD_KEY)) as object), serial: -1}), [], 'a negative serial')
  })
})
