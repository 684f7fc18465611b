// Three subscribers to the applier's events: listr2 in a terminal, NDJSON for --json, and
// plain timestamped lines for CI logs. All of them write to stderr except NDJSON (stdout data).
import {Listr} from 'listr2'
import type {ApplyEvent, Reporter} from '../apply/events.js'
import {formatBytes, formatCount} from './plan-text.js'

export function ndjsonReporter(write: (line: string) => void = (l) => process.stdout.write(l)): Reporter {
  return {emit: (event) => write(JSON.stringify({ts: new Date().toISOString(), ...event}) + '\n')}
}

export function describeEvent(e: ApplyEvent): string | undefined {
  switch (e.type) {
    case 'apply.start':
      return `Applying ${e.changes} change(s) (run ${e.run_id})`
    case 'lock.acquired':
      return `Acquired the lock on store "${e.store}" (${e.lock_id})`
    case 'change.start':
      return `${e.address}: starting ${e.action}`
    case 'backup.progress':
      return `${e.address}: ${formatCount(e.records)} record(s), ${formatBytes(e.bytes)} read (${formatBytes(e.elapsed_ms > 0 ? (e.bytes * 1000) / e.elapsed_ms : 0)}/s), ${formatBytes(e.stored_bytes)} stored, ${e.partitions_done}/${e.partitions} partition(s) done`
    case 'restore.progress':
      return `${e.address}: ${formatCount(e.records)} record(s) restored to ${e.topic}`
    case 'change.done':
      return `${e.address}: ${e.summary} [${(e.duration_ms / 1000).toFixed(1)}s]`
    case 'change.failed':
      return `${e.address}: FAILED ${e.code}: ${e.message}`
    case 'warning':
      return `Warning${e.address ? ` (${e.address})` : ''}: ${e.message}`
    case 'segment.written':
    case 'apply.done':
      return undefined
  }
}

export function plainReporter(write: (line: string) => void = (l) => process.stderr.write(l)): Reporter {
  return {
    emit: (event) => {
      const text = describeEvent(event)
      if (text) write(`${new Date().toISOString()} ${text}\n`)
    },
  }
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

/** A listr2 task per change; tasks follow the events, so listr2 never drives the work. */
export function listrReporter(addresses: string[]): {reporter: Reporter; run: () => Promise<void>; finish: () => void} {
  const started = new Map(addresses.map((a) => [a, deferred()]))
  const finished = new Map(addresses.map((a) => [a, deferred()]))
  const outputs = new Map<string, (text: string) => void>()
  const skipped = deferred()
  const list = new Listr(
    addresses.map((address) => ({
      title: address,
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
      if (event.type === 'change.start') started.get(event.address)?.resolve()
      if (event.type === 'change.done') finished.get(event.address)?.resolve()
      if (event.type === 'change.failed') {
        started.get(event.address)?.resolve()
        finished.get(event.address)?.reject(new Error(`${event.code}: ${event.message}`))
      }
      if (event.type === 'backup.progress' || event.type === 'restore.progress') {
        const text = describeEvent(event)
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
