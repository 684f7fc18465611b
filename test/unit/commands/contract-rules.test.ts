// The pure rules behind the automation contract: one duration parser for config and flags,
// which drift findings fail a drift job at each --fail-on level, and the plan's last line.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {formatDuration, parseDuration} from '../../../src/config/duration.js'
import {formatNothingToDo} from '../../../src/format/plan-text.js'
import {failingDrift} from '../../../src/plan/types.js'
import type {Drift, DriftKind, Plan} from '../../../src/plan/types.js'

describe('parseDuration: config and flags', () => {
  it('accepts one unit or several, largest first', () => {
    assert.equal(parseDuration('90s'), 90_000)
    assert.equal(parseDuration('2m'), 120_000)
    assert.equal(parseDuration('1m30s'), 90_000)
    assert.equal(parseDuration('1h30m'), 5_400_000)
    assert.equal(parseDuration('1d12h'), 129_600_000)
    assert.equal(parseDuration('1s500ms'), 1500)
    assert.equal(parseDuration('7y'), 7 * 365 * 86_400_000)
    assert.equal(parseDuration('never'), null)
    assert.equal(parseDuration('never', {allowNever: false}), undefined)
  })

  it('rejects what is more likely a typo than a duration', () => {
    for (const bad of ['', '30', '1x', '30s1m', '1m1m', 'm30', '1.5h', '-1s', '1 m', '1m 30s']) assert.equal(parseDuration(bad), undefined, bad)
  })

  it('round-trips with formatDuration', () => {
    for (const ms of [1500, 90_000, 5_400_000, 86_400_000]) assert.equal(parseDuration(formatDuration(ms)), ms)
  })
})

function finding(kind: DriftKind, severity: Drift['severity']): Drift {
  return {address: `backup.p["${kind}"]`, kind, severity, message: kind, fix: 'x'}
}

describe('failingDrift: --fail-on', () => {
  const drift = [finding('data-loss', 'critical'), finding('topic-deleted', 'warning'), finding('new-topic', 'info'), finding('partitions-added', 'info')]
  it('error counts critical findings only', () => {
    assert.deepEqual(failingDrift(drift, 'error').map((d) => d.kind), ['data-loss'])
  })
  it('warning (the default) adds warnings, not information', () => {
    assert.deepEqual(failingDrift(drift, 'warning').map((d) => d.kind), ['data-loss', 'topic-deleted'])
  })
  it('info counts every finding', () => {
    assert.equal(failingDrift(drift, 'info').length, 4)
  })
})

describe('the last line of a plan with nothing to do', () => {
  const base: Plan = {
    format_version: '1.0',
    kbk_version: '0',
    created_at: '2026-01-01T00:00:00Z',
    refresh_only: false,
    config_digest: 'x',
    states: {},
    resource_changes: [],
    drift: [],
    diagnostics: [],
    summary: {create: 0, update: 0, delete: 0, run: 0, blocked: 0, drift: 0},
    applyable: true,
  }
  const error = {severity: 'error' as const, code: 'KBK_KAFKA_UNREACHABLE' as const, message: 'down'}
  it('says "No changes" / "No drift" only when true', () => {
    assert.match(formatNothingToDo(base).text, /^No changes\. Your backups match/)
    assert.match(formatNothingToDo({...base, refresh_only: true}).text, /^No drift\./)
    assert.doesNotMatch(formatNothingToDo({...base, diagnostics: [error]}).text, /No changes/)
    assert.doesNotMatch(formatNothingToDo({...base, refresh_only: true, diagnostics: [error]}).text, /No drift/)
    assert.doesNotMatch(formatNothingToDo({...base, drift: [finding('segment-missing', 'critical')]}).text, /No changes\. Your backups match/)
    assert.doesNotMatch(formatNothingToDo({...base, refresh_only: true, drift: [finding('new-topic', 'info')]}).text, /No drift/)
  })
})
