import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {planSchemaErrors} from './json-schemas.js'
import {SCENARIOS_DIR, runScenario, scenarioNames} from './scenarios.js'

const UPDATE = 'Regenerate with `npm run scenarios:update` and review the diff.'

describe('planner golden scenarios (test/scenarios/<case>)', () => {
  const names = scenarioNames()

  it('has scenarios', () => assert.ok(names.length > 0))

  for (const name of names) {
    it(name, async () => {
      const r = await runScenario(name)
      assert.deepEqual(planSchemaErrors(JSON.parse(r.json)), [], `${name}: the plan does not match schemas/plan.schema.json`)
      assert.equal(r.text, readFileSync(join(SCENARIOS_DIR, name, 'plan.txt'), 'utf8'), `${name}/plan.txt differs. ${UPDATE}`)
      assert.equal(r.json, readFileSync(join(SCENARIOS_DIR, name, 'plan.json'), 'utf8'), `${name}/plan.json differs. ${UPDATE}`)
    })
  }

  it('cover every kind of change, every drift kind and diagnostic the planner finds, and a blocked change', async () => {
    const kinds = new Set<string>()
    const drift = new Set<string>()
    const codes = new Set<string>()
    for (const name of names) {
      const {plan} = await runScenario(name)
      for (const ch of plan.resource_changes) {
        kinds.add(`${ch.type}:${ch.actions[0]}${ch.type === 'backup' && !ch.backup ? ':gone' : ''}`)
        if (ch.blocked) kinds.add('blocked')
      }
      for (const d of plan.drift) drift.add(d.kind)
      for (const d of plan.diagnostics) codes.add(d.code)
    }
    const wanted = ['policy:create', 'policy:update', 'policy:delete', 'backup:run', 'backup:update:gone', 'expire:delete', 'restore:run', 'restore:update', 'blocked']
    assert.deepEqual(wanted.filter((k) => !kinds.has(k)), [], 'change kinds without a scenario')
    const wantedDrift = ['segment-missing', 'segment-changed', 'unknown-object', 'topic-deleted', 'partitions-added', 'new-topic', 'topic-recreated', 'data-loss', 'rpo-exceeded', 'drill-overdue']
    assert.deepEqual(wantedDrift.filter((k) => !drift.has(k)), [], 'drift kinds without a scenario')
    const wantedCodes = ['KBK_KAFKA_UNREACHABLE', 'KBK_EXPIRY_COMPACTED_KEPT', 'KBK_RESTORE_NOTHING_YET', 'KBK_RESTORE_NO_TARGET_TOPIC', 'KBK_RESTORE_TARGET_NOT_EMPTY', 'KBK_RESTORE_TIMESTAMP_REJECTED', 'KBK_RESTORE_RETENTION']
    assert.deepEqual(wantedCodes.filter((k) => !codes.has(k)), [], 'planner diagnostics without a scenario')
  })
})
