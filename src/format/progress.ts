// Three subscribers to the applier's events: listr2 in a terminal, NDJSON for --json, and
// plain timestamped lines for CI logs. All of them write to stderr except NDJSON (stdout data).
import {Listr} from 'listr2'
import type {ApplyEvent, Reporter} from '../apply/events.js'
import type {ResourceChange} from '../plan/types.js'
import {formatBytes, formatCount, formatDuration, formatPercent, formatRate} from './numbers.js'

/** What the plan says a change will move: the denominators of percent and ETA. */
export interface ChangeTotals {
  records: number
  bytes?: number
}

/** Totals per address, from the plan (backups: the pinned offset ranges; restores: the estimate). */
export function planTotals(changes: readonly ResourceChange[]): Map<string, ChangeTotals> {
  const totals = new Map<string, ChangeTotals>()
  for (const ch of changes) {
    const est = ch.backup ?? ch.restore
    if (est && est.estimated_records > 0) totals.set(ch.address, {records: est.estimated_records, ...(est.estimated_bytes === undefined ? {} : {bytes: est.estimated_bytes})})
  }
  return totals
}

/** Every line is one event with `ts` first; newlines inside messages stay escaped by JSON. */
export function ndjsonReporter(write: (line: string) => void = (l) => process.stdout.write(l), now: () => Date = () => new Date()): Reporter {
  return {emit: (event) => write(formatNdjsonLine(event as unknown as Record<string, unknown>, now()))}
}

export function formatNdjsonLine(event: Record<string, unknown>, at: Date = new Date()): string {
  return JSON.stringify({ts: at.toISOString(), ...event}) + '\n'
}

/**
 * "45% of 27,000 record(s), ETA 12s" when the total is known. The ETA comes from the record rate so
 * far, and is left out until there is a rate to extrapolate from.
 */
export function formatProgressShare(done: number, total: ChangeTotals | undefined, elapsedMs: number): string {
  if (!total || total.records <= 0) return ''
  const fraction = done / total.records
  const parts = [`${formatPercent(fraction)} of ${formatCount(total.records)} record(s)`]
  if (done > 0 && done < total.records && elapsedMs > 0) parts.push(`ETA ${formatDuration((elapsedMs * (total.records - done)) / done)}`)
  return parts.join(', ')
}

/**
 * One line for an event, or undefined for events people need not see. With `totals`, progress
 * says how far along it is; `elapsedMs` is the time since the change started (the reporter knows it).
 */
export function describeEvent(e: ApplyEvent, totals?: ReadonlyMap<string, ChangeTotals>, elapsedMs?: number): string | undefined {
  switch (e.type) {
    case 'apply.start':
      return `Applying ${formatCount(e.changes)} change(s) (run ${e.run_id})`
    case 'lock.acquired':
      return `Acquired the lock on store "${e.store}" (${e.lock_id})`
    case 'change.start':
      return `${e.address}: starting ${e.action}`
    case 'backup.progress': {
      const share = formatProgressShare(e.records, totals?.get(e.address), e.elapsed_ms)
      return `${e.address}: ${share ? share + ' — ' : ''}${formatCount(e.records)} record(s), ${formatBytes(e.bytes)} read (${formatRate(e.elapsed_ms > 0 ? (e.bytes * 1000) / e.elapsed_ms : 0)}), ${formatBytes(e.stored_bytes)} stored, ${formatCount(e.partitions_done)}/${formatCount(e.partitions)} partition(s) done`
    }
    case 'restore.progress': {
      const share = formatProgressShare(e.records, totals?.get(e.address), elapsedMs ?? 0)
      return `${e.address}: ${share ? share + ' — ' : ''}${formatCount(e.records)} record(s) restored to ${e.topic}`
    }
    case 'change.done':
      return `${e.address}: ${e.summary} [${formatDuration(e.duration_ms)}]`
    case 'change.failed':
      return `${e.address}: FAILED ${e.code}: ${e.message}`
    case 'warning':
      return `Warning${e.address ? ` (${e.address})` : ''}: ${e.message}`
    case 'segment.written':
    case 'apply.done':
      return undefined
  }
}

export interface PlainReporterOptions {
  write?: (line: string) => void
  /** Milliseconds since some epoch; injected by tests. */
  now?: () => number
  totals?: ReadonlyMap<string, ChangeTotals>
  /** At most one progress line per change this often (terraform's "Still creating... [10s elapsed]"). */
  intervalMs?: number
  /** Print "still running" lines for changes that report no progress (default true; tests call tick()). */
  timer?: boolean
}

/**
 * Plain timestamped lines for CI logs. Starts, ends and failures are printed at once; progress of a
 * change at most every `intervalMs`, as "Still running... [20s elapsed]" with the latest counts, so
 * a long backup neither floods the log nor goes silent.
 */
export function plainReporter(options: PlainReporterOptions | ((line: string) => void) = {}): Reporter & {tick(): void} {
  const o: PlainReporterOptions = typeof options === 'function' ? {write: options} : options
  const write = o.write ?? ((l: string) => process.stderr.write(l))
  const now = o.now ?? Date.now
  const interval = o.intervalMs ?? 10_000
  const running = new Map<string, {started: number; lastLine: number; latest?: ApplyEvent}>()
  let timer: ReturnType<typeof setInterval> | undefined
  const line = (text: string): void => write(`${new Date(now()).toISOString()} ${text}\n`)
  const still = (address: string, r: {started: number; latest?: ApplyEvent}, t: number): void => {
    const elapsed = t - r.started
    const latest = r.latest ? describeEvent(r.latest, o.totals, elapsed) : undefined
    line(`${address}: Still running... [${formatElapsed(elapsed)} elapsed]${latest ? ` ${latest.slice(address.length + 2)}` : ''}`)
  }
  const tick = (): void => {
    const t = now()
    for (const [address, r] of running) {
      if (t - r.lastLine < interval) continue
      r.lastLine = t
      still(address, r, t)
    }
  }
  const stop = (): void => {
    if (timer) clearInterval(timer)
    timer = undefined
  }
  return {
    tick,
    emit: (event) => {
      const t = now()
      if (event.type === 'apply.start' && o.timer !== false && !timer) {
        timer = setInterval(tick, Math.min(1000, interval))
        timer.unref()
      }
      if (event.type === 'apply.done') stop()
      if (event.type === 'backup.progress' || event.type === 'restore.progress') {
        const r = running.get(event.address)
        if (!r) return
        r.latest = event
        if (t - r.lastLine >= interval) {
          r.lastLine = t
          still(event.address, r, t)
        }
        return
      }
      if (event.type === 'change.start') running.set(event.address, {started: t, lastLine: t})
      if (event.type === 'change.done' || event.type === 'change.failed') running.delete(event.address)
      const text = describeEvent(event, o.totals)
      if (text) line(text)
    },
  }
}

/** Whole seconds, like terraform's "[10s elapsed]"; minutes past the first. */
function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000)
  return s < 60 ? `${s}s` : formatDuration(s * 1000)
}

interface Deferred {
  promise: Promise<void>
  resolve: () => void
  reject: (e: Error) => void
}

function deferred(): Deferred {
  let resolve!: () => void
  let reject!: (e: Error) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => undefined)
  return {promise, resolve, reject}
}

/**
 * A listr2 task per change; tasks follow the events, so listr2 never drives the work. With the
 * plan's totals, a running task's line shows percent done and an ETA.
 */
export function listrReporter(
  addresses: string[],
  totals: ReadonlyMap<string, ChangeTotals> = new Map(),
  now: () => number = Date.now,
): {reporter: Reporter; run: () => Promise<void>; finish: () => void} {
  const startedAt = new Map<string, number>()
  const started = new Map(addresses.map((a) => [a, deferred()]))
  const finished = new Map(addresses.map((a) => [a, deferred()]))
  const outputs = new Map<string, (text: string) => void>()
  const skipped = deferred()
  const list = new Listr(
    addresses.map((address) => ({
      title: address,
      // The last counts stay under a finished task: what it moved, at a glance.
      rendererOptions: {persistentOutput: true},
      task: async (_ctx: unknown, task: {output: string; title: string; skip: (m?: string) => void}) => {
        const start = started.get(address)!
        const outcome = await Promise.race([start.promise.then(() => 'started' as const), skipped.promise.then(() => 'skipped' as const)])
        if (outcome === 'skipped') {
          task.skip(`${address}: not run`)
          return
        }
        outputs.set(address, (text) => {
          task.output = text
        })
        await finished.get(address)!.promise
      },
    })),
    // listr2 would exit(127) on Ctrl-C: `kbk apply` handles SIGINT itself, to stop gracefully.
    {concurrent: true, exitOnError: false, registerSignalListeners: false, rendererOptions: {collapseErrors: false}},
  )
  const reporter: Reporter = {
    emit: (event) => {
      if (event.type === 'change.start') {
        startedAt.set(event.address, now())
        started.get(event.address)?.resolve()
      }
      if (event.type === 'change.done') finished.get(event.address)?.resolve()
      if (event.type === 'change.failed') {
        started.get(event.address)?.resolve()
        finished.get(event.address)?.reject(new Error(`${event.code}: ${event.message}`))
      }
      if (event.type === 'backup.progress' || event.type === 'restore.progress') {
        const text = describeEvent(event, totals, now() - (startedAt.get(event.address) ?? now()))
        if (text) outputs.get(event.address)?.(text.slice(event.address.length + 2))
      }
    },
  }
  return {
    reporter,
    run: async () => {
      await list.run().catch(() => undefined)
    },
    finish: () => skipped.resolve(),
  }
}
