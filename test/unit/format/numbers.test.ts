// The one number formatter: sizes, counts, rates, percentages and durations read the same
// everywhere they are printed.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {formatBytes, formatCount, formatDuration, formatPercent, formatRate} from '../../../src/format/numbers.js'

describe('formatBytes', () => {
  it('uses binary units with one decimal, whole bytes below 1 KiB', () => {
    assert.equal(formatBytes(0), '0 B')
    assert.equal(formatBytes(1023), '1023 B')
    assert.equal(formatBytes(512.6), '513 B')
    assert.equal(formatBytes(1024), '1.0 KiB')
    assert.equal(formatBytes(1536), '1.5 KiB')
    assert.equal(formatBytes(5 * 1024 ** 3), '5.0 GiB')
    assert.equal(formatBytes(3 * 1024 ** 5), '3.0 PiB')
  })
  it('never prints 1024.0 of a unit', () => {
    assert.equal(formatBytes(1024 * 1024 - 1), '1.0 MiB')
    assert.equal(formatBytes(1024 * 1024 - 40), '1.0 MiB')
    assert.equal(formatBytes(1024 * 1024 - 60), '1023.9 KiB')
  })
  it('says unknown for an unknown size', () => {
    assert.equal(formatBytes(undefined), 'unknown')
    assert.equal(formatBytes(Number.NaN), 'unknown')
  })
})

describe('formatCount, formatRate, formatPercent, formatDuration', () => {
  it('counts with thousands separators', () => {
    assert.equal(formatCount(0), '0')
    assert.equal(formatCount(1234567), '1,234,567')
    assert.equal(formatCount(2.25), '2.3')
  })
  it('rates are bytes per second', () => {
    assert.equal(formatRate(3 * 1024 * 1024), '3.0 MiB/s')
  })
  it('percent stays below 100 until done, and is clamped', () => {
    assert.equal(formatPercent(0), '0%')
    assert.equal(formatPercent(0.456), '45%')
    assert.equal(formatPercent(0.9999), '99%')
    assert.equal(formatPercent(1), '100%')
    assert.equal(formatPercent(1.7), '100%')
    assert.equal(formatPercent(-1), '0%')
  })
  it('durations: tenths under 10 s, then seconds, minutes, hours', () => {
    assert.equal(formatDuration(400), '0.4s')
    assert.equal(formatDuration(9_940), '9.9s')
    assert.equal(formatDuration(12_400), '12s')
    assert.equal(formatDuration(185_000), '3m05s')
    assert.equal(formatDuration(2 * 3_600_000 + 7 * 60_000), '2h07m')
  })
})
