import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {buildStateItem, describeLocks, describeState, filterStateAddresses, formatLocks, formatStateAddresses, formatStateItem, formatStateList} from '../../../src/state/state-view.js'
import type {StateSnapshot, TopicIndex} from '../../../src/state/types.js'
import {isKbkError} from '../../../src/errors.js'

function topic(policy: string, name: string, partitions: [number, number, number][]): TopicIndex {
  return {
    policy,
    topic: name,
    partition_count: partitions.length,
    configs: {},
    chunks: [],
    last_backup_at: '2026-03-22T10:00:00.000Z',
    partitions: partitions.map(([segments, records, bytes], partition) => ({partition, next_offset: records, first_offset: 0, segment_count: segments, records, bytes, uncompressed_bytes: bytes * 4, gaps: []})),
  }
}

const snapshot: StateSnapshot = {
  format_version: 1,
  lineage: 'lin',
  serial: 7,
  kbk_version: '0.1.0',
  updated_at: '2026-03-22T10:00:00.000Z',
  policies: {orders: {name: 'orders', settings: {rpo: '1h'}, created_at: 'c', updated_at: 'u'}},
  restores: {drill: {name: 'drill', settings: {}, applied_at: 'a', point_in_time: 'p', records: 5, progress: {}, status: 'complete'}},
  topics: {
    'orders/orders.created': topic('orders', 'orders.created', [[2, 100, 2048], [1, 50, 1024]]),
    'ledger/ledger.entries': topic('ledger', 'ledger.entries', [[3, 10, 10]]),
  },
}

describe('state views', () => {
  it('lists topics sorted with per-topic and overall totals', () => {
    const v = describeState('primary', snapshot)
    assert.deepEqual(v.topics.map((t) => t.address), ['backup.ledger["ledger.entries"]', 'backup.orders["orders.created"]'])
    assert.deepEqual(v.topics[1], {address: 'backup.orders["orders.created"]', policy: 'orders', topic: 'orders.created', partitions: 2, segments: 3, records: 150, bytes: 3072, uncompressed_bytes: 12288, last_backup_at: '2026-03-22T10:00:00.000Z', deleted_at: null, gaps: 0})
    assert.deepEqual(v.totals, {topics: 2, partitions: 3, segments: 6, records: 160, bytes: 3082})
    assert.deepEqual(v.policies, [{address: 'policy.orders', name: 'orders', updated_at: 'u', topics: 1}])
    assert.equal(describeState('primary', snapshot, {policy: 'ledger'}).totals.topics, 1)
    // `kbk state list`: every recorded address, sorted, one per line.
    assert.deepEqual(v.addresses, ['backup.ledger["ledger.entries"]', 'backup.orders["orders.created"]', 'policy.orders', 'restore.drill'])
    assert.equal(formatStateAddresses(v), v.addresses.join('\n'))
    const some = filterStateAddresses(v, ['backup.orders', 'restore.drill', 'policy.nope'])
    assert.deepEqual(some.addresses, ['backup.orders["orders.created"]', 'restore.drill'])
    assert.deepEqual(some.totals, {topics: 1, partitions: 2, segments: 3, records: 150, bytes: 3072})
    assert.deepEqual(some.policies, [])
    assert.deepEqual(filterStateAddresses(v, ['backup.order']).addresses, [], 'a prefix of a name is not a parent address')
    const text = formatStateList(v)
    assert.match(text, /serial 7/)
    assert.match(text, /backup\.orders\["orders\.created"\]\s+2\s+3\s+150\s+3\.0 KiB/)
    assert.match(formatStateList(describeState('x', {...snapshot, serial: 0, topics: {}})), /No state recorded/)
  })

  it('shows one topic, policy or restore, and names what exists when the address is unknown', () => {
    const t = buildStateItem(snapshot, {type: 'topic', policy: 'orders', topic: 'orders.created'}, [], 'primary')
    assert.equal(t.type, 'topic')
    assert.match(formatStateItem(t), /2 partition\(s\), 3 segments, 150 records/)
    const p = buildStateItem(snapshot, {type: 'policy', name: 'orders'}, [], 'primary')
    assert.equal(p.type === 'policy' && p.topics.length, 1)
    assert.equal(buildStateItem(snapshot, {type: 'restore', name: 'drill'}, [], 'primary').type, 'restore')
    try {
      buildStateItem(snapshot, {type: 'topic', policy: 'orders', topic: 'nope'}, [], 'primary')
      assert.fail('expected KBK_STATE_NOT_FOUND')
    } catch (error) {
      assert.ok(isKbkError(error) && error.code === 'KBK_STATE_NOT_FOUND')
      assert.match(error.suggestion ?? '', /backup\.orders\["orders\.created"\]/)
    }
  })

  it('marks locks whose holder stopped renewing them as expired', () => {
    const lock = {id: 'L1', who: 'a@h', operation: 'apply', created: '2026-03-22T10:00:00.000Z', heartbeat: '2026-03-22T10:00:00.000Z', expires: '2026-03-22T10:02:00.000Z', kbk_version: '0.1.0'}
    assert.equal(describeLocks([lock], new Date('2026-03-22T10:01:59.999Z'))[0]!.expired, false)
    const rows = describeLocks([lock], new Date('2026-03-22T10:02:00.000Z'))
    assert.equal(rows[0]!.expired, true)
    assert.match(formatLocks('primary', rows), /L1\s+a@h\s+apply.*expired/)
    assert.match(formatLocks('primary', []), /No lock is held/)
  })
})
