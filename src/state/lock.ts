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

function isExpired(file: LockFile, at: Date): boolean {
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

