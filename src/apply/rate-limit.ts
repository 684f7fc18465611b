// The brakes: a backup or restore that must not saturate a production cluster is held to a rate
// (`rateLimit` on a policy or a restore intent). One limiter per run covers all its partitions:
// every fetched chunk (backup) or produce request (restore) takes its bytes and records from it
// before the run goes on, so the run's average over any stretch longer than the burst stays at
// or under the limit (ahead of it by at most half a second's worth). Bytes are record key + value
// bytes, as the plan and progress count them.

export interface RateLimit {
  /** Key + value bytes per second. */
  bytesPerSecond: number
  recordsPerSecond?: number
}

/**
 * The limit one process enforces when a run is split over `shards` processes (`kbk apply
 * --shard I/N`): each takes an equal share, so together they stay within the configured limit.
 */
export function perProcessRateLimit(limit: RateLimit, shards = 1): RateLimit {
  const n = Math.max(1, Math.floor(shards))
  return {bytesPerSecond: limit.bytesPerSecond / n, ...(limit.recordsPerSecond !== undefined ? {recordsPerSecond: limit.recordsPerSecond / n} : {})}
}

/**
 * A rate limit's settings as the plan records them (`rateLimit` in a policy's or restore's
 * settings), or undefined when there is none or it is malformed.
 */
export function rateLimitOf(settings: Record<string, unknown> | undefined): RateLimit | undefined {
  const r = settings?.rateLimit as {bytesPerSecond?: unknown; recordsPerSecond?: unknown} | null | undefined
  if (!r || typeof r.bytesPerSecond !== 'number' || !(r.bytesPerSecond > 0)) return undefined
  return {bytesPerSecond: r.bytesPerSecond, ...(typeof r.recordsPerSecond === 'number' && r.recordsPerSecond > 0 ? {recordsPerSecond: r.recordsPerSecond} : {})}
}

/**
 * Credit a run may save up while it is busy elsewhere (decoding, writing a segment, waiting for
 * the broker), in seconds' worth of the limit, or one chunk's worth if that is more: time spent
 * between two chunks earned nothing past the cap, and with 50 ms a busy machine's runs fell to
 * ~70 % of their limit (a restore's request of 12 partitions' chunks, ~11 MiB, to 57 %). The
 * bucket starts empty, so a run never opens with a burst.
 */
const BURST_SECONDS = 0.5

/**
 * A token bucket over bytes (and records): take() returns at once while there is credit, and
 * otherwise waits until the debt is paid back at the limit's rate. A single take larger than the
 * burst goes through and is paid for afterwards, so chunks of any size work.
 */
export class RateLimiter {
  readonly #limit: RateLimit
  readonly #now: () => number
  readonly #sleep: (ms: number) => Promise<void>
  #bytes: number
  #records: number
  #at: number
  /** The largest take so far: the bucket may save up that much (see BURST_SECONDS). */
  #maxBytes = 0
  #maxRecords = 0

  constructor(limit: RateLimit, clock: {now: () => number; sleep: (ms: number) => Promise<void>} = {now: () => performance.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms))}) {
    this.#limit = limit
    this.#now = clock.now
    this.#sleep = clock.sleep
    this.#at = this.#now()
    this.#bytes = 0
    this.#records = 0
  }

  /** Waits until `bytes` and `records` fit the limit (signal: stop waiting when aborted). */
  async take(bytes: number, records: number, signal?: AbortSignal): Promise<void> {
    this.#refill()
    this.#maxBytes = Math.max(this.#maxBytes, bytes)
    this.#maxRecords = Math.max(this.#maxRecords, records)
    this.#bytes -= bytes
    if (this.#limit.recordsPerSecond !== undefined) this.#records -= records
    for (;;) {
      const waitMs = this.waitMs()
      if (waitMs <= 0 || signal?.aborted) return
      // Whole milliseconds (timers have no finer grain): a sub-millisecond debt must not spin.
      await this.#sleep(Math.min(Math.ceil(waitMs), 1000))
      this.#refill()
    }
  }

  /** How long until the credit is back to zero or more. */
  waitMs(): number {
    const byBytes = this.#bytes < 0 ? (-this.#bytes / this.#limit.bytesPerSecond) * 1000 : 0
    const rps = this.#limit.recordsPerSecond
    const byRecords = rps !== undefined && this.#records < 0 ? (-this.#records / rps) * 1000 : 0
    return Math.max(byBytes, byRecords)
  }

  #refill(): void {
    const t = this.#now()
    const dt = (t - this.#at) / 1000
    this.#at = t
    if (dt <= 0) return
    this.#bytes = Math.min(Math.max(this.#limit.bytesPerSecond * BURST_SECONDS, this.#maxBytes), this.#bytes + dt * this.#limit.bytesPerSecond)
    const rps = this.#limit.recordsPerSecond
    if (rps !== undefined) this.#records = Math.min(Math.max(rps * BURST_SECONDS, this.#maxRecords), this.#records + dt * rps)
  }
}
