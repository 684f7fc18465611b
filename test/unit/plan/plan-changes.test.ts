import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import fc from 'fast-check'
import {planChanges} from '../../../src/plan/plan-changes.js'
import type {Observed, Plan, TopicView as TopicViewT} from '../../../src/plan/types.js'
import type {StateSnapshot} from '../../../src/state/types.js'
import {DAY, NOW, desired, emptyState, observed, partitionSummary, policy, restore, segment, topicIndex, topicView} from './fixtures.js'

const opts = {now: NOW, kbkVersion: '0.1.0'}

function addresses(plan: Plan): string[] {
  return plan.resource_changes.map((c) => `${c.actions.join(',')} ${c.address}`)
}

function recorded(state: StateSnapshot, name = 'orders'): StateSnapshot {
  const p = policy(name)
  return {...state, policies: {[name]: {name, settings: p.settings, created_at: NOW.toISOString(), updated_at: NOW.toISOString()}}}
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !(o instanceof RegExp)) {
    Object.freeze(o)
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v)
  }
  return o
}

describe('planChanges: backups', () => {
  it('creates the policy and pins every partition from the earliest offset to the high watermark on a first run', () => {
    const plan = planChanges(
      desired([policy('orders')]),
      observed(emptyState(), {
        'orders.created': topicView([[0, 10], [5, 7]]),
        'orders.agg-repartition': topicView([[0, 3]]),
        'payments.x': topicView([[0, 3]]),
        __consumer_offsets: topicView([[0, 3]]),
      }),
      opts,
    )
    assert.deepEqual(addresses(plan), ['create policy.orders', 'run backup.orders["orders.created"]'])
    const backup = plan.resource_changes[1]!.backup!
    assert.deepEqual(backup.ranges, [
      {partition: 0, from: 0, to: 10},
      {partition: 1, from: 5, to: 7},
    ])
    assert.equal(backup.estimated_records, 12)
    assert.equal(backup.first_backup, true)
    assert.deepEqual(plan.summary, {create: 1, update: 0, delete: 0, run: 1, blocked: 0, drift: 1})
    assert.equal(plan.drift[0]!.kind, 'new-topic')
    assert.equal(plan.applyable, true)
  })

  it('continues from the recorded checkpoint and skips partitions with nothing new', () => {
    const state = recorded(emptyState())
    state.topics['orders/orders.created'] = topicIndex('orders', 'orders.created', [partitionSummary(0, 10), partitionSummary(1, 7)])
    const plan = planChanges(desired([policy('orders')]), observed(state, {'orders.created': topicView([[0, 15], [5, 7]])}), opts)
    assert.deepEqual(addresses(plan), ['run backup.orders["orders.created"]'])
    assert.deepEqual(plan.resource_changes[0]!.backup!.ranges, [{partition: 0, from: 10, to: 15}])
    assert.equal(plan.resource_changes[0]!.backup!.estimated_bytes, 500)
  })

  it('says "no changes" when everything is backed up', () => {
    const state = recorded(emptyState())
    state.topics['orders/orders.created'] = topicIndex('orders', 'orders.created', [partitionSummary(0, 10)])
    const plan = planChanges(desired([policy('orders')]), observed(state, {'orders.created': topicView([[0, 10]])}), opts)
    assert.deepEqual(plan.resource_changes, [])
    assert.deepEqual(plan.drift, [])
  })

  it('reports data loss loudly when Kafka deleted records before they were backed up', () => {
    const state = recorded(emptyState())
    state.topics['orders/orders.created'] = topicIndex('orders', 'orders.created', [partitionSummary(0, 10)])
    const plan = planChanges(desired([policy('orders')]), observed(state, {'orders.created': topicView([[25, 30]])}), opts)
    const range = plan.resource_changes[0]!.backup!.ranges[0]!
    assert.deepEqual(range, {partition: 0, from: 25, to: 30, lost: {from: 10, to: 25}})
    assert.equal(plan.drift[0]!.kind, 'data-loss')
    assert.equal(plan.drift[0]!.severity, 'critical')
    assert.match(plan.drift[0]!.message, /offsets 10\.\.24 \(15 record\(s\)\)/)
  })

  it('records a data-loss gap even when nothing is left to copy', () => {
    const state = recorded(emptyState())
    state.topics['orders/orders.created'] = topicIndex('orders', 'orders.created', [partitionSummary(0, 10)])
    const plan = planChanges(desired([policy('orders')]), observed(state, {'orders.created': topicView([[20, 20]])}), opts)
    assert.deepEqual(plan.resource_changes[0]!.backup!.ranges, [{partition: 0, from: 20, to: 20, lost: {from: 10, to: 20}}])
  })

  it('diffs changed policy settings attribute by attribute', () => {
    const state = recorded(emptyState())
    const p = policy('orders', {retention: {tier: 'compliance', maxAgeMs: null, minKeep: 1, immutable: true, allowDestroy: false}})
    const plan = planChanges(desired([p]), observed(state, {}), opts)
    assert.deepEqual(addresses(plan), ['update policy.orders'])
    assert.deepEqual(plan.resource_changes[0]!.diff, [{path: 'retention', before: 'production', after: 'compliance'}])
  })

  it('reports deleted topics, new partitions, and topics recreated with lower offsets as drift', () => {
    const state = recorded(emptyState())
    state.topics['orders/orders.gone'] = topicIndex('orders', 'orders.gone', [partitionSummary(0, 3)])
    state.topics['orders/orders.grew'] = topicIndex('orders', 'orders.grew', [partitionSummary(0, 3)])
    state.topics['orders/orders.reset'] = topicIndex('orders', 'orders.reset', [partitionSummary(0, 50)])
    const plan = planChanges(
      desired([policy('orders')]),
      observed(state, {'orders.grew': topicView([[0, 3], [0, 4]]), 'orders.reset': topicView([[0, 5]])}),
      opts,
    )
    assert.deepEqual(plan.drift.map((d) => d.kind).sort(), ['partitions-added', 'topic-deleted', 'topic-recreated'])
    const gone = plan.resource_changes.find((c) => c.topic === 'orders.gone')!
    assert.deepEqual(gone.actions, ['update'], 'apply records the deletion, so the next plan is quiet')
    state.topics['orders/orders.gone']!.deleted_at = NOW.toISOString()
    const after = planChanges(desired([policy('orders')]), observed(state, {'orders.grew': topicView([[0, 3], [0, 4]]), 'orders.reset': topicView([[0, 5]])}), opts)
    assert.ok(!after.drift.some((d) => d.kind === 'topic-deleted'))
    const grew = plan.resource_changes.find((c) => c.topic === 'orders.grew')!
    assert.deepEqual(grew.backup!.ranges, [{partition: 1, from: 0, to: 4}])
  })

  it('proposes nothing with --refresh-only, and --target limits the changes', () => {
    const topics = {'orders.a': topicView([[0, 1]]), 'orders.b': topicView([[0, 1]])}
    const refresh = planChanges(desired([policy('orders')]), observed(emptyState(), topics), {...opts, refreshOnly: true})
    assert.deepEqual(refresh.resource_changes, [])
    assert.equal(refresh.drift.length, 2)
    assert.equal(refresh.applyable, false)
    const targeted = planChanges(desired([policy('orders')]), observed(emptyState(), topics), {...opts, targets: ['backup.orders["orders.b"]']})
    assert.deepEqual(addresses(targeted), ['run backup.orders["orders.b"]'])
  })

  it('fails the plan when a cluster cannot be read, rather than plan without it', () => {
    const obs: Observed = {states: {primary: recorded(emptyState())}, clusters: {prod: {topics: {}, error: {code: 'KBK_KAFKA_UNREACHABLE', message: 'no brokers'}}}, segments: {}}
    const plan = planChanges(desired([policy('orders')]), obs, opts)
    assert.equal(plan.diagnostics[0]!.code, 'KBK_KAFKA_UNREACHABLE')
    assert.equal(plan.diagnostics[0]!.severity, 'error')
    assert.equal(plan.applyable, false)
    assert.deepEqual(plan.resource_changes, [])
  })
})

describe('planChanges: expiry', () => {
  function withSegments(ages: number[], over: {configs?: Record<string, string>; retainDays?: number} = {}) {
    const state = recorded(emptyState())
    const segs = ages.map((age, i) => {
      const at = new Date(NOW.getTime() - age * DAY)
      return segment('orders', 'orders.created', 0, i * 10, i * 10 + 9, at, over.retainDays ? {retain_until: new Date(at.getTime() + over.retainDays * DAY).toISOString()} : {})
    })
    state.topics['orders/orders.created'] = topicIndex('orders', 'orders.created', [partitionSummary(0, ages.length * 10, {oldest_written_at: segs[0]!.written_at})], {configs: over.configs ?? {}})
    return {state, segs}
  }

  it('expires segments past maxAge, oldest first, but keeps the newest minKeep runs', () => {
    const {state, segs} = withSegments([200, 150, 120, 100, 95, 10])
    const obs = observed(state, {'orders.created': topicView([[0, 60]])}, {segments: {'orders/orders.created': segs}})
    const plan = planChanges(desired([policy('orders')]), obs, opts)
    const exp = plan.resource_changes.find((c) => c.type === 'expire')!
    assert.equal(exp.address, 'expire.orders["orders.created"]')
    // 6 runs, minKeep 3 protects the 3 newest (95d, 10d... and 100d): 200, 150, 120 go.
    assert.deepEqual(exp.expire!.segments.map((s) => s.first_offset), [0, 10, 20])
    assert.deepEqual(exp.expire!.kept, [{reason: 'written by one of the newest 3 backup run(s) (minKeep)', segments: 1}])
    assert.equal(exp.blocked, undefined)
  })

  it('shows expiry as blocked without allowDestroy', () => {
    const {state, segs} = withSegments([200, 1])
    const p = policy('orders', {retention: {tier: 'production', maxAgeMs: 90 * DAY, minKeep: 1, immutable: false, allowDestroy: false}})
    const plan = planChanges(desired([p]), observed(recorded(state), {}, {segments: {'orders/orders.created': segs}}), opts)
    const exp = plan.resource_changes.find((c) => c.type === 'expire')!
    assert.match(exp.blocked!, /allowDestroy/)
    assert.equal(plan.summary.blocked, 1)
    assert.equal(plan.summary.delete, 0)
  })

  it('never puts an immutable segment in a destroy set before its lock ends', () => {
    const {state, segs} = withSegments([200, 150, 1], {retainDays: 365})
    const p = policy('orders', {retention: {tier: 'c', maxAgeMs: 90 * DAY, minKeep: 1, immutable: true, allowDestroy: true}})
    const plan = planChanges(desired([p]), observed(state, {}, {segments: {'orders/orders.created': segs}}), opts)
    assert.equal(plan.resource_changes.filter((c) => c.type === 'expire').length, 0)
  })

  it('refuses to expire a compacted topic, and the plan says which segments it keeps and why', () => {
    const {state, segs} = withSegments([200, 150, 1], {configs: {'cleanup.policy': 'compact'}})
    const p = policy('orders', {retention: {tier: 'c', maxAgeMs: 90 * DAY, minKeep: 1, immutable: false, allowDestroy: true}})
    const plan = planChanges(desired([p]), observed(state, {}, {segments: {'orders/orders.created': segs}}), opts)
    assert.equal(plan.resource_changes.filter((c) => c.type === 'expire').length, 0)
    const [d, ...others] = plan.diagnostics
    assert.equal(others.length, 0)
    assert.equal(d!.code, 'KBK_EXPIRY_COMPACTED_KEPT')
    assert.equal(d!.severity, 'warning')
    assert.match(d!.message, /^expire\.orders\["orders\.created"\]: 2 segment\(s\) older than maxAge 90d of tier "c" are kept/)
    assert.match(d!.message, /partition 0 offsets 0\.\.19 \(2\)/)
    assert.match(d!.message, /cleanup\.policy=compact.*only copy of keys not updated since/)
    assert.equal(plan.applyable, true, 'a warning, not an error: nothing is wrong')
  })

  it('says nothing about a compacted topic with no segment past maxAge', () => {
    const {state, segs} = withSegments([200, 150, 1], {configs: {'cleanup.policy': 'compact,delete'}})
    const p = policy('orders', {retention: {tier: 'c', maxAgeMs: 300 * DAY, minKeep: 1, immutable: false, allowDestroy: true}})
    const plan = planChanges(desired([p]), observed(state, {}, {segments: {'orders/orders.created': segs}}), opts)
    assert.deepEqual(plan.diagnostics, [])
  })

  it('keeps what a pending restore intent needs', () => {
    const {state, segs} = withSegments([200, 150, 1])
    const p = policy('orders', {retention: {tier: 'p', maxAgeMs: 90 * DAY, minKeep: 1, immutable: false, allowDestroy: true}})
    const r = restore('drill', {pointInTime: new Date(NOW.getTime() - 160 * DAY).toISOString()})
    const plan = planChanges(desired([p], [r]), observed(state, {}, {segments: {'orders/orders.created': segs}}), opts)
    const exp = plan.resource_changes.find((c) => c.type === 'expire')
    assert.equal(exp, undefined, 'the 200-day-old segment holds records before the restore point, so nothing may go')
  })

  it('does not let an applied restore intent block expiry forever', () => {
    const {state, segs} = withSegments([200, 150, 1])
    const p = policy('orders', {retention: {tier: 'p', maxAgeMs: 90 * DAY, minKeep: 1, immutable: false, allowDestroy: true}})
    const r = restore('drill')
    state.restores.drill = {name: 'drill', settings: r.settings, applied_at: NOW.toISOString(), point_in_time: NOW.toISOString(), records: 30, progress: {}, status: 'complete'}
    const plan = planChanges(desired([p], [r]), observed(state, {}, {segments: {'orders/orders.created': segs}}), opts)
    assert.deepEqual(plan.resource_changes.find((c) => c.type === 'expire')?.expire?.segments.map((s) => s.first_offset), [0, 10])
    state.restores.drill = {...state.restores.drill, status: 'in-progress'}
    const resuming = planChanges(desired([p], [r]), observed(state, {}, {segments: {'orders/orders.created': segs}}), opts)
    assert.equal(resuming.resource_changes.find((c) => c.type === 'expire'), undefined, 'an interrupted restore still needs every segment')
  })
})

describe('planChanges: restores, RPO and drills', () => {
  function backedUp() {
    const state = recorded(emptyState())
    const at = new Date(NOW.getTime() - DAY)
    const segs = [segment('orders', 'orders.created', 0, 0, 9, at), segment('orders', 'orders.created', 0, 10, 19, new Date(NOW.getTime() - 1000))]
    state.topics['orders/orders.created'] = topicIndex('orders', 'orders.created', [partitionSummary(0, 20, {max_timestamp: NOW.getTime() - 1000})])
    return {state, segs}
  }

  it('pins `latest` to a concrete point and shows the topics it creates', () => {
    const {state, segs} = backedUp()
    const plan = planChanges(desired([policy('orders')], [restore('drill')]), observed(state, {'orders.created': topicView([[0, 20]])}, {segments: {'orders/orders.created': segs}}), opts)
    const r = plan.resource_changes.find((c) => c.type === 'restore')!
    assert.equal(r.address, 'restore.drill')
    assert.deepEqual(r.actions, ['run'])
    assert.equal(r.restore!.point_in_time, new Date(NOW.getTime() - 1000).toISOString())
    assert.equal(r.restore!.topics[0]!.target_topic, 'orders.created-restored')
    assert.equal(r.restore!.topics[0]!.create, true)
    assert.equal(r.restore!.estimated_records, 20)
  })

  it('refuses a non-empty target topic unless the intent says to append', () => {
    const {state, segs} = backedUp()
    const obs = observed(state, {'orders.created': topicView([[0, 20]])}, {segments: {'orders/orders.created': segs}})
    obs.clusters.staging = {topics: {'orders.created-restored': topicView([[0, 3]])}}
    const plan = planChanges(desired([policy('orders')], [restore('drill')]), obs, opts)
    assert.equal(plan.diagnostics[0]!.code, 'KBK_RESTORE_TARGET_NOT_EMPTY')
    assert.equal(plan.applyable, false)
  })

  it('shows no change for an applied restore, and ~ when the intent changes', () => {
    const {state, segs} = backedUp()
    const r = restore('drill')
    state.restores.drill = {name: 'drill', settings: r.settings, applied_at: NOW.toISOString(), point_in_time: NOW.toISOString(), records: 20, progress: {}, status: 'complete'}
    const obs = observed(state, {'orders.created': topicView([[0, 20]])}, {segments: {'orders/orders.created': segs}})
    assert.equal(planChanges(desired([policy('orders')], [r]), obs, opts).resource_changes.length, 0)
    const changed = restore('drill', {topicSuffix: '-copy'})
    const plan = planChanges(desired([policy('orders')], [changed]), obs, opts)
    assert.deepEqual(addresses(plan), ['update restore.drill'])
    assert.deepEqual(plan.resource_changes[0]!.diff, [{path: 'topicSuffix', before: '-restored', after: '-copy'}])
  })

  it('reports a policy past its RPO and an overdue drill', () => {
    const state = recorded(emptyState())
    state.topics['orders/orders.created'] = topicIndex('orders', 'orders.created', [partitionSummary(0, 10)], {last_backup_at: new Date(NOW.getTime() - 3 * 3_600_000).toISOString()})
    const plan = planChanges(desired([policy('orders', {rpoMs: 3_600_000})], [], {drillWithinMs: {orders: 30 * DAY}}), observed(state, {'orders.created': topicView([[0, 12]])}), opts)
    assert.deepEqual(plan.drift.map((d) => d.kind), ['rpo-exceeded', 'drill-overdue'])
    assert.match(plan.drift[0]!.message, /3h old, over its rpo of 1h, with 2 record\(s\) on the cluster not backed up/)
    // Fully backed up (a quiet topic): within the RPO however old the last run is.
    const quiet = planChanges(desired([policy('orders', {rpoMs: 3_600_000})]), observed(state, {'orders.created': topicView([[0, 10]])}), opts)
    assert.deepEqual(quiet.drift, [])
  })
})

describe('planChanges: properties', () => {
  const watermarks = fc.array(fc.tuple(fc.nat(1000), fc.nat(1000)).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as [number, number]), {minLength: 1, maxLength: 4})
  const topics = fc.dictionary(fc.constantFrom('orders.a', 'orders.b', 'orders.c-repartition', 'other'), watermarks)
  const checkpoints = fc.dictionary(fc.constantFrom('orders.a', 'orders.b', 'orders.gone'), fc.array(fc.nat(1200), {minLength: 1, maxLength: 4}))

  function build(t: Record<string, Array<[number, number]>>, cp: Record<string, number[]>): Observed {
    const state = recorded(emptyState())
    for (const [topic, offs] of Object.entries(cp)) state.topics[`orders/${topic}`] = topicIndex('orders', topic, offs.map((o, i) => partitionSummary(i, o)))
    return observed(state, Object.fromEntries(Object.entries(t).map(([k, w]) => [k, topicView(w)])))
  }

  it('never throws, never mutates its inputs, and is deterministic', () => {
    fc.assert(
      fc.property(topics, checkpoints, (t, cp) => {
        const d = deepFreeze(desired([policy('orders')]))
        const o = deepFreeze(build(t, cp))
        const a = planChanges(d, o, opts)
        const b = planChanges(d, o, opts)
        assert.deepEqual(a, b)
      }),
    )
  })

  it('apply-then-plan gives an empty plan', () => {
    fc.assert(
      fc.property(topics, checkpoints, (t, cp) => {
        const o = build(t, cp)
        const plan = planChanges(desired([policy('orders')]), o, opts)
        // Apply the plan's backups to the state, as apply records them.
        const state = structuredClone(o.states.primary!)
        for (const ch of plan.resource_changes) {
          if (ch.type === 'backup' && !ch.backup) state.topics[`orders/${ch.topic}`]!.deleted_at = NOW.toISOString()
          if (!ch.backup) continue
          const key = `orders/${ch.backup.topic}`
          const index = state.topics[key] ?? topicIndex('orders', ch.backup.topic, [])
          for (const r of ch.backup.ranges) {
            const p = index.partitions.find((x) => x.partition === r.partition)
            if (p) p.next_offset = r.to
            else index.partitions.push(partitionSummary(r.partition, r.to))
          }
          index.partition_count = ch.backup.partition_count
          state.topics[key] = index
        }
        const again = planChanges(desired([policy('orders')]), {...o, states: {primary: state}}, opts)
        assert.deepEqual(again.resource_changes.filter((c) => c.type === 'backup'), [])
      }),
    )
  })
})

describe('planChanges: restored records and the target topic\'s retention', () => {
  // Backed up with the source's recorded configs; records 10 days old.
  function oldBackup(sourceConfigs: Record<string, string> = {}, ageDays = 10) {
    const state = recorded(emptyState())
    const ts = NOW.getTime() - ageDays * DAY
    const segs = [segment('orders', 'orders.created', 0, 0, 999, new Date(NOW.getTime() - 60_000), {min_timestamp: ts, max_timestamp: ts + 999})]
    state.topics['orders/orders.created'] = topicIndex('orders', 'orders.created', [partitionSummary(0, 1000, {max_timestamp: ts + 999})], {configs: sourceConfigs})
    return {state, segs, ts}
  }
  const WEEK = String(7 * DAY)
  function plan(r: ReturnType<typeof restore>, o: {sourceConfigs?: Record<string, string>; ageDays?: number; target?: Record<string, TopicViewT>; defaults?: Record<string, string>} = {}) {
    const {state, segs} = oldBackup(o.sourceConfigs, o.ageDays)
    const obs = observed(state, {'orders.created': topicView([[0, 1000]])}, {segments: {'orders/orders.created': segs}})
    obs.clusters.staging = {topics: o.target ?? {}, ...(o.defaults ? {topic_defaults: o.defaults} : {})}
    return planChanges(desired([policy('orders')], [r]), obs, opts)
  }
  const codes = (p: Plan) => p.diagnostics.map((d) => d.code)

  it('refuses a created topic whose retention.ms (from the intent) is shorter than the records\' age, with the fix', () => {
    const p = plan(restore('drill', {configs: {'retention.ms': WEEK}}), {sourceConfigs: {'retention.ms': '-1'}})
    assert.deepEqual(codes(p), ['KBK_RESTORE_RETENTION'])
    const d = p.diagnostics[0]!
    assert.equal(d.severity, 'error')
    assert.match(d.message, /target topic "orders\.created-restored".*oldest is from .* \(10d old\).*retention\.ms is 604800000 \(7d, from restores\.drill\.configs\)/)
    assert.match(d.suggestion!, /restores\.drill\.extendRetention: true \(kbk creates the topic with retention\.ms 1468800000, 17d/)
    assert.match(d.suggestion!, /configs\."retention\.ms" to at least 950400000/)
    assert.equal(p.applyable, false)
  })

  it('refuses when the source topic\'s recorded retention is shorter than the age of the restored records (no configs)', () => {
    const p = plan(restore('drill'), {sourceConfigs: {'retention.ms': WEEK}, ageDays: 30})
    assert.deepEqual(codes(p), ['KBK_RESTORE_RETENTION'])
    assert.match(p.diagnostics[0]!.message, /\(30d old\).*from the recorded configs of source topic "orders\.created"/)
  })

  it('uses the broker default when nothing sets retention.ms, and Kafka\'s 7 days when that could not be read', () => {
    assert.deepEqual(codes(plan(restore('drill'), {defaults: {'retention.ms': String(30 * DAY)}})), [])
    const p = plan(restore('drill'), {defaults: {'retention.ms': String(3 * DAY)}})
    assert.match(p.diagnostics[0]!.message, /259200000 \(3d, from the broker default of cluster "staging"\)/)
    const unread = plan(restore('drill'))
    assert.match(unread.diagnostics[0]!.message, /604800000 \(7d, from Kafka's default/)
  })

  it('checks an existing target topic\'s own retention and names the kafka-configs fix', () => {
    const p = plan(restore('drill', {createTopics: false}), {target: {'orders.created-restored': topicView([[0, 0]], {'retention.ms': WEEK})}, defaults: {'retention.ms': '-1'}})
    assert.deepEqual(codes(p), ['KBK_RESTORE_RETENTION'])
    assert.match(p.diagnostics[0]!.message, /from the topic's own config on cluster "staging"/)
    assert.match(p.diagnostics[0]!.suggestion!, /kafka-configs\.sh --alter --entity-type topics --entity-name orders\.created-restored --add-config retention\.ms=1468800000/)
  })

  it('with extendRetention, creates the topic with a retention that keeps the records and says so in the plan', () => {
    const p = plan(restore('drill', {configs: {'retention.ms': WEEK}, extendRetention: true}))
    assert.deepEqual(codes(p), [])
    const ch = p.resource_changes.find((c) => c.type === 'restore')!
    const t = ch.restore!.topics[0]!
    assert.equal(t.configs['retention.ms'], String(17 * DAY))
    assert.deepEqual(t.retention_extended, {from_ms: 7 * DAY, to_ms: 17 * DAY})
    assert.equal(t.retention_ms, 17 * DAY, 'apply re-checks the records against the extended retention')
    assert.equal(t.oldest_timestamp, new Date(NOW.getTime() - 10 * DAY).toISOString())
    assert.match(ch.notes!.join('\n'), /orders\.created-restored: created with retention\.ms 1468800000 \(17d\) instead of 604800000 \(7d\)/)
  })

  it('extendRetention does not touch an existing topic: the plan still refuses', () => {
    const p = plan(restore('drill', {createTopics: true, extendRetention: true}), {target: {'orders.created-restored': topicView([[0, 0]], {'retention.ms': WEEK})}})
    assert.deepEqual(codes(p), ['KBK_RESTORE_RETENTION'])
  })

  it('is quiet for unlimited retention, compact-only topics, LogAppendTime and young records', () => {
    assert.deepEqual(codes(plan(restore('drill', {configs: {'retention.ms': '-1'}}))), [])
    assert.deepEqual(codes(plan(restore('drill', {configs: {'retention.ms': WEEK, 'cleanup.policy': 'compact'}}))), [])
    assert.deepEqual(codes(plan(restore('drill', {configs: {'retention.ms': WEEK, 'message.timestamp.type': 'LogAppendTime'}}))), [])
    assert.deepEqual(codes(plan(restore('drill', {configs: {'retention.ms': WEEK}}), {ageDays: 6})), [])
    // Within an hour of the retention: the broker would delete them before the apply is done.
    assert.deepEqual(codes(plan(restore('drill', {configs: {'retention.ms': String(10 * DAY + 1_800_000)}}))), ['KBK_RESTORE_RETENTION'])
  })

  it('refuses records the target would reject (INVALID_TIMESTAMP) from message.timestamp.before.max.ms', () => {
    const p = plan(restore('drill', {configs: {'retention.ms': '-1'}}), {defaults: {'message.timestamp.before.max.ms': String(DAY)}})
    assert.deepEqual(codes(p), ['KBK_RESTORE_TIMESTAMP_REJECTED'])
    assert.match(p.diagnostics[0]!.message, /would reject restored records \(INVALID_TIMESTAMP\).*message\.timestamp\.before\.max\.ms is 86400000 \(1d, from the broker default/)
    assert.match(p.diagnostics[0]!.suggestion!, /restores\.drill\.configs\."message\.timestamp\.before\.max\.ms": "950400000"/)
  })
})
