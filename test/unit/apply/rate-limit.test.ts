import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {perProcessRateLimit, RateLimiter, rateLimitOf} from '../../../src/apply/rate-limit.js'
import {parseByteRate} from '../../../src/config/normalize.js'

/** A clock that only moves when the limiter sleeps: the total slept is the time the run took. */
function fakeClock(): {now: () => number; sleep: (ms: number) => Promise<void>; slept: () => number} {
  let t = 0
  return {now: () => t, sleep: async (ms) => void (t += ms), slept: () => t}
}

describe('rate limit', () => {
  it('holds a run of many chunks of varied size to its byte rate (within 1 %)', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter({bytesPerSecond: 10_000_000}, clock)
    let bytes = 0
    for (let i = 0; i < 2000; i++) {
      const n = 1000 + ((i * 7919) % 900_000)
      bytes += n
      await limiter.take(n, 10)
    }
    const seconds = clock.slept() / 1000
    const rate = bytes / seconds
    assert.ok(Math.abs(rate / 10_000_000 - 1) < 0.01, `rate ${rate.toFixed(0)} B/s for a limit of 10,000,000`)
  })

  it('keeps the rate when each chunk also takes time to send (pay, then a slow send): credit earned meanwhile is kept up to a chunk', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter({bytesPerSecond: 1_000_000}, clock)
    const chunk = 4_000_000
    for (let i = 0; i < 50; i++) {
      await limiter.take(chunk, 1000)
      await clock.sleep(3000) // the request is in flight for 3 s, 75 % of the 4 s the chunk is worth
    }
    const rate = (50 * chunk) / (clock.slept() / 1000)
    assert.ok(rate / 1_000_000 > 0.97 && rate / 1_000_000 < 1.03, `rate ${rate.toFixed(0)} B/s for a limit of 1,000,000`)
  })

  it('limits records per second too, whichever is tighter', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter({bytesPerSecond: 1e12, recordsPerSecond: 1000}, clock)
    for (let i = 0; i < 100; i++) await limiter.take(100, 50)
    assert.ok(Math.abs(clock.slept() / 1000 - 5) < 0.1, `5,000 records at 1,000/s took ${clock.slept()} ms`)
  })

  it('lets a chunk larger than the burst through at once and makes the next one wait for it', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter({bytesPerSecond: 1000}, clock)
    await limiter.take(5000, 1)
    assert.ok(clock.slept() >= 4900 && clock.slept() <= 5000, `paid for the big chunk: ${clock.slept()} ms`)
  })

  it('stops waiting when the run is interrupted', async () => {
    const clock = fakeClock()
    const limiter = new RateLimiter({bytesPerSecond: 1}, clock)
    const ac = new AbortController()
    ac.abort('SIGINT')
    await limiter.take(1_000_000, 1, ac.signal)
    assert.equal(clock.slept(), 0)
  })

  it('divides the limit over shards, so N processes together stay within it', () => {
    assert.deepEqual(perProcessRateLimit({bytesPerSecond: 90e6, recordsPerSecond: 9000}, 3), {bytesPerSecond: 30e6, recordsPerSecond: 3000})
    assert.deepEqual(perProcessRateLimit({bytesPerSecond: 90e6}), {bytesPerSecond: 90e6})
    assert.deepEqual(perProcessRateLimit({bytesPerSecond: 90e6}, 0), {bytesPerSecond: 90e6}, 'no shard count is one process')
  })

  it('reads the limit from the settings the plan pinned, and nothing from settings without one', () => {
    assert.deepEqual(rateLimitOf({rateLimit: {bytesPerSecond: 5e6, recordsPerSecond: 100}}), {bytesPerSecond: 5e6, recordsPerSecond: 100})
    assert.equal(rateLimitOf({policy: 'p'}), undefined)
    assert.equal(rateLimitOf({rateLimit: {bytesPerSecond: 0}}), undefined)
  })

  it('parses byte rates: numbers, decimal and binary units', () => {
    assert.equal(parseByteRate(1234), 1234)
    assert.equal(parseByteRate('50MB'), 50_000_000)
    assert.equal(parseByteRate('40MiB'), 40 * 1024 * 1024)
    assert.equal(parseByteRate('1.5GB'), 1_500_000_000)
    assert.equal(parseByteRate('500KiB'), 512_000)
    assert.equal(parseByteRate('0MB'), undefined)
    assert.equal(parseByteRate('fast'), undefined)
  })
})
