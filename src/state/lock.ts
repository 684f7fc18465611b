// The store lock: one object, `_kbk/lock.json`, taken with a create-only write (or, when the
// previous holder released it or let it expire, a write conditional on its etag), renewed by a
// heartbeat, and given back by overwriting it with a "released" record conditional on our etag.
//
// It is never deleted: the port has no conditional delete, and an unconditional one could remove
// a lock someone else took a moment ago. Expiry compares the holder's `expires` with this
// machine's clock, so clocks more than a TTL apart can break a live lock: keep them in sync.
import {randomUUID} from 'node:crypto'
import {hostname, userInfo} from 'node:os'
import {KbkError, isKbkError} from '../errors.js'
import type {ObjectStore} from '../storage/object-store.js'
import {StoreErrorCode} from '../storage/object-store.js'
import {canonicalBytes} from './canonical-json.js'
import {LOCK_KEY} from './layout.js'
import {sleep} from '../sleep.js'

export interface LockInfo {
  id: string
  /** user@host of the holder. */
  who: string
  operation: string
  created: string
  heartbeat: string
  expires: string
  kbk_version: string
}

/** What the lock object holds: the holder, or the last holder and when it let go. */
interface LockFile extends LockInfo {
  released?: string
}

export interface AcquireLockOptions {
  operation: string
  /** A lock not renewed for this long may be broken (default 2 min). */
  ttlMs?: number
  /** How often the holder renews (default ttl / 4). */
  heartbeatMs?: number
  /** --lock-timeout: how long to wait for a held lock; 0 = fail at once (default). */
  timeoutMs?: number
  who?: string
  kbkVersion?: string
  now?: () => Date
  /** Called when the lock is held by someone else and we wait for it (once per holder). */
  onWait?: (holder: LockInfo) => void
  /** How often to look again while waiting (default 1 s). */
  pollMs?: number
  /** Stops waiting for a held lock (SIGINT/SIGTERM): the wait rejects with the signal's reason. */
  signal?: AbortSignal
}

export interface HeldLock {
  info: LockInfo
  release(): Promise<void>
  /** Throws KBK_LOCK_LOST if the heartbeat lost the lock (broken, released by someone, or not renewed in time). */
  assertHeld(): void
}

const DEFAULT_TTL_MS = 2 * 60_000

export async function acquireLock(store: ObjectStore, opts: AcquireLockOptions): Promise<HeldLock> {
  const now = opts.now ?? (() => new Date())
  const ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS
  const heartbeatMs = opts.heartbeatMs ?? Math.max(1, Math.floor(ttlMs / 4))
  if (heartbeatMs >= ttlMs) throw new KbkError('KBK_INTERNAL', `Internal error: lock heartbeat (${heartbeatMs} ms) must be shorter than its TTL (${ttlMs} ms).`, {kind: 'internal'})
  const deadline = Date.now() + Math.max(0, opts.timeoutMs ?? 0)
  const pollMs = opts.pollMs ?? 1000
  const who = opts.who ?? defaultWho()
  let lastHolder: string | undefined

  for (;;) {
    const taken = await tryTake(store, {operation: opts.operation, who, ttlMs, kbkVersion: opts.kbkVersion ?? 'unknown', now})
    if ('etag' in taken) return new Held(store, taken.info, taken.etag, ttlMs, heartbeatMs, now)
    if (taken.holder === undefined) continue // lost a race to take a free lock: look again at once
    const remaining = deadline - Date.now()
    if (remaining <= 0) throw lockedError(store, taken.holder, opts.timeoutMs ?? 0, now())
    if (lastHolder !== taken.holder.id) opts.onWait?.(taken.holder)
    lastHolder = taken.holder.id
    await sleep(Math.min(pollMs, remaining), opts.signal)
  }
}

/** The locks currently held (expired ones included; see `expires`). At most one today. */
export async function readLocks(store: ObjectStore): Promise<LockInfo[]> {
  const current = await readLockFile(store)
  if (!current || current.file === undefined || current.file.released !== undefined) return []
  return [toInfo(current.file)]
}

/** Breaks the lock with this id, whoever holds it; its holder learns at its next heartbeat. */
export async function releaseLock(store: ObjectStore, id: string, opts: {now?: () => Date} = {}): Promise<LockInfo> {
  const now = opts.now ?? (() => new Date())
  for (let attempt = 0; ; attempt++) {
    const current = await readLockFile(store)
    const file = current?.file
    if (!current || !file || file.released !== undefined || file.id !== id) {
      const held = file && file.released === undefined ? file : undefined
      throw new KbkError('KBK_LOCK_NOT_FOUND', `No lock with id ${id} is held in ${store.description}${held ? ` (the lock held now is ${held.id}, by ${held.who} for ${held.operation})` : ''}.`, {
        kind: 'user',
        suggestion: 'Run `kbk lock list` to see the lock ids held now.',
        details: {id},
      })
    }
    try {
      await store.put(LOCK_KEY, canonicalBytes({...file, released: now().toISOString()}), {ifMatch: current.etag, contentType: 'application/json'})
      return toInfo(file)
    } catch (error) {
      // The holder's heartbeat renewed it between our read and write: read again.
      if (isPrecondition(error) && attempt < 5) continue
      throw error
    }
  }
}

class Held implements HeldLock {
  private lost: string | undefined
  private released = false
  private timer: NodeJS.Timeout | undefined
  private beat: Promise<void> = Promise.resolve()

  constructor(
    private readonly store: ObjectStore,
    public info: LockInfo,
    private etag: string,
    private readonly ttlMs: number,
    heartbeatMs: number,
    private readonly now: () => Date,
  ) {
    this.timer = setInterval(() => {
      this.beat = this.beat.then(() => this.heartbeat())
    }, heartbeatMs)
    // A held lock must never keep the process alive on its own.
    this.timer.unref()
  }

  assertHeld(): void {
    const why = this.lost ?? (this.now().getTime() >= Date.parse(this.info.expires) ? `it expired at ${this.info.expires} before a heartbeat could renew it` : undefined)
    if (why === undefined) return
    throw new KbkError('KBK_LOCK_LOST', `Lost the lock ${this.info.id} on ${this.store.description}: ${why}. Stopped before writing the state.`, {
      kind: 'conflict',
      suggestion: 'Another operation may be running: check `kbk lock list`, then run `kbk plan` and apply again.',
      details: {id: this.info.id},
    })
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    if (this.timer) clearInterval(this.timer)
    await this.beat
    if (this.lost !== undefined) return
    try {
      await this.store.put(LOCK_KEY, canonicalBytes({...this.info, released: this.now().toISOString()}), {ifMatch: this.etag, contentType: 'application/json'})
    } catch (error) {
      // Broken by someone else meanwhile: it is not ours to release any more.
      if (!isPrecondition(error)) throw error
    }
  }

  private async heartbeat(): Promise<void> {
    if (this.released || this.lost !== undefined) return
    const at = this.now()
    const next: LockInfo = {...this.info, heartbeat: at.toISOString(), expires: new Date(at.getTime() + this.ttlMs).toISOString()}
    try {
      const {etag} = await this.store.put(LOCK_KEY, canonicalBytes(next), {ifMatch: this.etag, contentType: 'application/json'})
      this.etag = etag
      this.info = next
    } catch (error) {
      if (isPrecondition(error)) {
        this.lost = 'it was broken or released by another operation'
        if (this.timer) clearInterval(this.timer)
      }
      // Any other failure (store unreachable) is retried at the next beat; assertHeld reports
      // the loss once `expires` passes without a renewal, since then anyone may break it.
    }
  }
}

type TakeResult = {info: LockInfo; etag: string} | {holder: LockInfo | undefined}

async function tryTake(store: ObjectStore, o: {operation: string; who: string; ttlMs: number; kbkVersion: string; now: () => Date}): Promise<TakeResult> {
  const current = await readLockFile(store)
  const at = o.now()
  const info: LockInfo = {
    id: randomUUID(),
    who: o.who,
    operation: o.operation,
    created: at.toISOString(),
    heartbeat: at.toISOString(),
    expires: new Date(at.getTime() + o.ttlMs).toISOString(),
    kbk_version: o.kbkVersion,
  }
  if (current?.file && current.file.released === undefined && !isExpired(current.file, at)) return {holder: toInfo(current.file)}
  // Free, released, expired or unreadable: take it, conditional on exactly what we saw, so of
  // two racing takers (or breakers) only one wins.
  try {
    const {etag} = await store.put(LOCK_KEY, canonicalBytes(info), current ? {ifMatch: current.etag, contentType: 'application/json'} : {ifNoneMatch: '*', contentType: 'application/json'})
    return {info, etag}
  } catch (error) {
    if (isPrecondition(error)) return {holder: undefined}
    throw error
  }
}

/** head then get: the etag may be older than the body, never newer, so a write on it is safe. */
async function readLockFile(store: ObjectStore): Promise<{etag: string; file: LockFile | undefined} | undefined> {
  const info = await store.head(LOCK_KEY)
  if (!info) return undefined
  let body: Buffer
  try {
    body = await store.get(LOCK_KEY)
  } catch (error) {
    if (isKbkError(error) && error.code === StoreErrorCode.notFound) return undefined
    throw error
  }
  return {etag: info.etag, file: parseLockFile(body)}
}

function parseLockFile(body: Buffer): LockFile | undefined {
  try {
    const v = JSON.parse(body.toString('utf8')) as Partial<LockFile>
    if (typeof v.id !== 'string' || typeof v.expires !== 'string' || Number.isNaN(Date.parse(v.expires))) return undefined
    return v as LockFile
  } catch {
    return undefined
  }
}

function isExpired(file: {expires: string}, at: Date): boolean {
  return at.getTime() >= Date.parse(file.expires)
}

function toInfo(f: LockFile): LockInfo {
  return {id: f.id, who: f.who, operation: f.operation, created: f.created, heartbeat: f.heartbeat, expires: f.expires, kbk_version: f.kbk_version}
}

function lockedError(store: ObjectStore, holder: LockInfo, timeoutMs: number, now: Date): KbkError {
  const waited = timeoutMs > 0 ? ` (waited ${Math.round(timeoutMs / 1000)} s)` : ''
  return new KbkError(
    'KBK_LOCKED',
    `${store.description} is locked by ${holder.who} for ${holder.operation} since ${holder.created} (lock ${holder.id}, last heartbeat ${holder.heartbeat}, expires ${holder.expires} unless renewed)${waited}.`,
    {
      kind: 'conflict',
      retriable: true,
      suggestion: `Wait for it to finish, or pass --lock-timeout 10m to wait for it. Only if you are sure that run is dead: kbk lock release ${holder.id}`,
      details: {lock: holder, checked_at: now.toISOString()},
    },
  )
}

function isPrecondition(error: unknown): boolean {
  return isKbkError(error) && error.code === StoreErrorCode.precondition
}

function defaultWho(): string {
  let user = process.env.USER ?? process.env.USERNAME ?? 'unknown'
  try {
    user = userInfo().username
  } catch {
    // No passwd entry (containers): the environment's name will do.
  }
  return `${user}@${hostname()}`
}


// ---- The run lock: one lock shared by the N workers of one sharded apply -------------------
//
// It is the same object, `_kbk/lock.json`, so every other kbk (an apply, `lock list`, an old
// version) sees an ordinary held lock, named after the run's workers. What the workers add is
// `run`: the plan's digest, N, and one entry per worker with its own heartbeat. A worker of the
// same plan and N joins a held run lock; anyone else is refused (or waits) as always. The lock's
// own `expires` is the latest of the workers' expiries, so it stays held while any worker lives.
// All writes are read-modify-write, conditional on the etag read, retried when a sibling's
// heartbeat got there first.

export interface RunWorker {
  id: string
  who: string
  /** For the same-host liveness check (a local rerun need not wait out a dead worker's TTL). */
  host: string
  pid: number
  heartbeat: string
  expires: string
}

interface RunLockFile extends LockFile {
  run?: {plan_digest: string; shards: number; workers: Record<string, RunWorker>}
}

export interface AcquireRunLockOptions extends Omit<AcquireLockOptions, 'operation' | 'onWait'> {
  planDigest: string
  shard: number
  shards: number
  onWait?: (holder: LockInfo, why: string) => void
}

export interface HeldRunLock extends HeldLock {
  /** This worker's own id (the lock's id, info.id, is the run's). */
  workerId: string
  /**
   * True when the lock was held, or last held, by workers of this same plan and N: every state
   * change since the last foreign holder is then this run's own (a rerun shard may continue).
   */
  continued: boolean
}

export async function acquireRunLock(store: ObjectStore, opts: AcquireRunLockOptions): Promise<HeldRunLock> {
  const now = opts.now ?? (() => new Date())
  const ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS
  const heartbeatMs = opts.heartbeatMs ?? Math.max(1, Math.floor(ttlMs / 4))
  const who = opts.who ?? defaultWho()
  const pollMs = opts.pollMs ?? 1000
  const deadline = Date.now() + Math.max(0, opts.timeoutMs ?? 0)
  const me = String(opts.shard)
  const workerId = randomUUID()
  let waitedFor: string | undefined
  // A worker of our own shard still heartbeating: we wait at most one TTL for it (a dead pod's
  // entry runs out by then; a live duplicate keeps renewing and we give up with its name).
  let siblingDeadline: number | undefined

  for (;;) {
    const current = await readLockFile(store)
    const file = current?.file as RunLockFile | undefined
    const at = now()
    const worker: RunWorker = {id: workerId, who, host: hostname(), pid: process.pid, heartbeat: at.toISOString(), expires: new Date(at.getTime() + ttlMs).toISOString()}
    const ours = file?.run !== undefined && file.run.plan_digest === opts.planDigest && file.run.shards === opts.shards
    const free = !file || file.released !== undefined || isExpired(file, at)
    let next: RunLockFile | undefined
    if (free) {
      next = runLockFile({id: randomUUID(), created: at.toISOString(), kbk_version: opts.kbkVersion ?? 'unknown'}, opts, {[me]: worker}, at)
    } else if (ours) {
      const sibling = file.run!.workers[me]
      if (sibling && !isExpired(sibling, at) && !deadOnThisHost(sibling)) {
        siblingDeadline ??= Date.now() + ttlMs + heartbeatMs
        if (Date.now() >= Math.max(siblingDeadline, deadline)) {
          throw new KbkError('KBK_LOCKED', `Shard ${me}/${opts.shards} of this plan is already being applied by ${sibling.who} (worker ${sibling.id}, last heartbeat ${sibling.heartbeat}) in ${store.description}.`, {
            kind: 'conflict',
            retriable: true,
            suggestion: 'Each shard runs once at a time: wait for that worker to finish. If it is dead, its heartbeat runs out within the lock TTL and a rerun continues its share.',
            details: {lock: toInfo(file), worker: sibling},
          })
        }
        if (waitedFor !== sibling.id) opts.onWait?.(toInfo(file), `shard ${me}/${opts.shards} is still held by ${sibling.who} (worker ${sibling.id}); waiting for its heartbeat to run out`)
        waitedFor = sibling.id
        await sleep(pollMs, opts.signal)
        continue
      }
      next = runLockFile(file, opts, {...liveWorkers(file.run!.workers, at), [me]: worker}, at)
    } else {
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw lockedError(store, toInfo(file), opts.timeoutMs ?? 0, at)
      if (waitedFor !== file.id) opts.onWait?.(toInfo(file), 'another operation holds it')
      waitedFor = file.id
      await sleep(Math.min(pollMs, remaining), opts.signal)
      continue
    }
    try {
      const {etag} = await store.put(LOCK_KEY, canonicalBytes(next), current ? {ifMatch: current.etag, contentType: 'application/json'} : {ifNoneMatch: '*', contentType: 'application/json'})
      return new RunHeld(store, next, me, workerId, etag, ttlMs, heartbeatMs, now, ours)
    } catch (error) {
      if (!isPrecondition(error)) throw error
      // A sibling joined or beat at the same moment: read again and retry at once.
    }
  }
}

function runLockFile(base: Pick<LockInfo, 'id' | 'created' | 'kbk_version'>, o: {planDigest: string; shards: number}, workers: Record<string, RunWorker>, at: Date): RunLockFile {
  const live = Object.entries(workers).sort(([a], [b]) => Number(a) - Number(b))
  const expires = live.reduce((max, [, w]) => (w.expires > max ? w.expires : max), at.toISOString())
  return {
    id: base.id,
    who: live.map(([s, w]) => `${w.who} (shard ${s}/${o.shards})`).join(', ') || 'nobody',
    operation: `apply of plan ${o.planDigest.slice(0, 19)}… in ${o.shards} shard(s)`,
    created: base.created,
    heartbeat: at.toISOString(),
    expires,
    kbk_version: base.kbk_version,
    run: {plan_digest: o.planDigest, shards: o.shards, workers: Object.fromEntries(live)},
  }
}

/**
 * Workers whose heartbeat has not run out. A dead one stays until it does, on purpose: its share
 * is unfinished, so the lock stays this run's (other applies refused) for one TTL, time for
 * Kubernetes to rerun the index.
 */
function liveWorkers(workers: Record<string, RunWorker>, at: Date): Record<string, RunWorker> {
  return Object.fromEntries(Object.entries(workers).filter(([, w]) => !isExpired(w, at)))
}

/** A worker on this very host whose process is gone: dead for sure, no need to wait out its TTL. */
function deadOnThisHost(w: RunWorker): boolean {
  if (w.host !== hostname() || w.pid === process.pid) return false
  try {
    process.kill(w.pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

class RunHeld implements HeldRunLock {
  private lost: string | undefined
  private released = false
  private timer: NodeJS.Timeout | undefined
  private beat: Promise<void> = Promise.resolve()
  private expires: string
  info: LockInfo

  constructor(
    private readonly store: ObjectStore,
    file: RunLockFile,
    private readonly shard: string,
    readonly workerId: string,
    etag: string,
    private readonly ttlMs: number,
    heartbeatMs: number,
    private readonly now: () => Date,
    readonly continued: boolean,
  ) {
    void etag
    this.info = toInfo(file)
    this.expires = file.run!.workers[shard]!.expires
    this.timer = setInterval(() => {
      this.beat = this.beat.then(() => this.heartbeat())
    }, heartbeatMs)
    this.timer.unref()
  }

  assertHeld(): void {
    const why = this.lost ?? (this.now().getTime() >= Date.parse(this.expires) ? `its heartbeat expired at ${this.expires} before it could be renewed` : undefined)
    if (why === undefined) return
    throw new KbkError('KBK_LOCK_LOST', `Lost the run lock ${this.info.id} on ${this.store.description} (shard ${this.shard}): ${why}. Stopped before writing the state.`, {
      kind: 'conflict',
      suggestion: 'Check `kbk lock list`, then run this shard again: it continues from what was committed.',
      details: {id: this.info.id, worker: this.workerId},
    })
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    if (this.timer) clearInterval(this.timer)
    await this.beat
    if (this.lost !== undefined) return
    await this.update((file, at) => {
      const others = liveWorkers(file.run!.workers, at)
      delete others[this.shard]
      const next = runLockFile(file, {planDigest: file.run!.plan_digest, shards: file.run!.shards}, others, at)
      // The last worker out releases the lock; the run's digest stays, so a rerun shard can tell
      // that nobody else held it since.
      return Object.keys(others).length === 0 ? {...next, released: at.toISOString()} : next
    }).catch(() => undefined)
  }

  private async heartbeat(): Promise<void> {
    if (this.released || this.lost !== undefined) return
    try {
      await this.update((file, at) => {
        const expires = new Date(at.getTime() + this.ttlMs).toISOString()
        const workers = {...file.run!.workers, [this.shard]: {...file.run!.workers[this.shard]!, heartbeat: at.toISOString(), expires}}
        return runLockFile(file, {planDigest: file.run!.plan_digest, shards: file.run!.shards}, workers, at)
      })
    } catch {
      // Store unreachable: retried at the next beat; assertHeld reports the loss once our
      // entry's `expires` passes without a renewal.
    }
  }

  /** Read-modify-write of the lock file, retried while siblings write in between. */
  private async update(change: (file: RunLockFile, at: Date) => RunLockFile): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await readLockFile(this.store)
      const file = current?.file as RunLockFile | undefined
      const mine = file?.run?.workers[this.shard]
      if (!current || !file || file.id !== this.info.id || file.released !== undefined || mine?.id !== this.workerId) {
        this.lost = 'it was broken, released or taken over by another operation'
        if (this.timer) clearInterval(this.timer)
        return
      }
      const next = change(file, this.now())
      try {
        await this.store.put(LOCK_KEY, canonicalBytes(next), {ifMatch: current.etag, contentType: 'application/json'})
        const w = next.run?.workers[this.shard]
        if (w) this.expires = w.expires
        this.info = toInfo(next)
        return
      } catch (error) {
        if (!isPrecondition(error)) throw error
        await sleep(5 + Math.floor(Math.random() * 20 * (attempt + 1)))
      }
    }
  }
}
