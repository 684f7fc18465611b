// The fs adapter: a local directory, the embedded default. Durable and race-safe on one host:
// temp file + fsync + rename (+ directory fsync), create-only via link(), if-match under a per-key
// lock file. retainUntil lives in a hidden `.kbk-meta/` mirror tree that listings never show.
import {randomBytes} from 'node:crypto'
import {constants as fsc} from 'node:fs'
import {link, mkdir, open, readdir, readFile, rename, stat, unlink, type FileHandle} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'
import type {Readable} from 'node:stream'
import {KbkError} from '../errors.js'
import {assertValidKey, assertValidRange, compareKeys, normalizePrefix} from './keys.js'
import {isBufferList, type ByteRange, type ListOptions, type ObjectInfo, type ObjectStore, type PutBody, type PutOptions, type StoreCapabilities} from './object-store.js'
import {sleep} from '../sleep.js'
import type {FsStoreConfig, StoreContext} from './store-config.js'
import {StoreErrors} from './store-errors.js'

/** Names starting with this are kbk's own (temp files, locks, metadata); keys may not use them. */
const RESERVED = '.kbk-'
const META_DIR = '.kbk-meta'
/** A lock file older than this belongs to a crashed writer (the critical section is a stat and a rename). */
const STALE_LOCK_MS = 30_000
const LOCK_WAIT_MS = 120_000

interface Meta {
  retainUntil?: string
}

function errCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && typeof (e as {code?: unknown}).code === 'string' ? (e as {code: string}).code : undefined
}

function isMissing(e: unknown): boolean {
  const c = errCode(e)
  return c === 'ENOENT' || c === 'ENOTDIR'
}

export class FsObjectStore implements ObjectStore {
  readonly kind = 'fs' as const
  readonly description: string
  private readonly base: string
  private readonly root: string
  private readonly errors: StoreErrors
  private rootReady: Promise<void> | undefined

  constructor(config: FsStoreConfig, ctx: StoreContext) {
    this.base = resolve(ctx.cwd ?? process.cwd(), config.path)
    const prefix = normalizePrefix(config.prefix)
    this.root = prefix === '' ? this.base : join(this.base, prefix)
    const location = `file://${this.base}/${prefix}`.replace(/\/+$/, '/')
    this.errors = new StoreErrors(ctx, location)
    this.description = `store "${ctx.name}" (${location})`
  }

  // --- paths ----------------------------------------------------------------------------------

  private checkKey(key: string): void {
    assertValidKey(key)
    if (key.split('/').some((p) => p.startsWith(RESERVED))) {
      throw new KbkError('KBK_STORE_BAD_KEY', `Invalid object key "${key}": names starting with "${RESERVED}" are reserved by the fs store.`, {
        kind: 'internal',
        suggestion: 'This is a bug in kbk: an object key was built wrongly. Report it with the key shown.',
      })
    }
  }

  private objectPath(key: string): string {
    return join(this.root, ...key.split('/'))
  }

  private metaPath(key: string): string {
    return join(this.root, META_DIR, ...key.split('/'))
  }

  // --- errors ---------------------------------------------------------------------------------

  private fail(what: string, e: unknown): KbkError {
    if (e instanceof KbkError) return e
    const code = errCode(e)
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      return this.errors.accessDenied(what, `file permissions of ${this.base} for the user running kbk`, e)
    }
    if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST') {
      return this.errors.io(`${what} (a key is both a file and a folder: the fs store cannot hold both "a" and "a/b")`, e, false)
    }
    return this.errors.io(what, e, code === 'EAGAIN' || code === 'EBUSY' || code === 'EMFILE' || code === 'ENFILE')
  }

  /** Creates `path` on the first write, but only when its parent exists: a typo should not grow a new tree. */
  private ensureRoot(): Promise<void> {
    this.rootReady ??= (async () => {
      try {
        const s = await stat(this.base)
        if (!s.isDirectory()) throw this.errors.noBucket('directory', this.base, 'path')
      } catch (e) {
        if (e instanceof KbkError) throw e
        if (!isMissing(e)) throw this.fail('opening the store directory', e)
        try {
          await stat(dirname(this.base))
        } catch (e2) {
          if (isMissing(e2)) throw this.errors.noBucket('directory', dirname(this.base), 'path', e2)
          throw this.fail('opening the store directory', e2)
        }
        await mkdir(this.base, {recursive: true})
      }
      await mkdir(this.root, {recursive: true})
    })().catch((e) => {
      this.rootReady = undefined
      throw e
    })
    return this.rootReady
  }

  // --- version token and metadata -------------------------------------------------------------

  private async statObject(key: string): Promise<{etag: string; size: number; mtime: Date} | undefined> {
    try {
      const s = await stat(this.objectPath(key), {bigint: true})
      if (!s.isFile()) return undefined
      return {etag: etagOf(s), size: Number(s.size), mtime: new Date(Number(s.mtimeMs))}
    } catch (e) {
      if (isMissing(e)) return undefined
      throw e
    }
  }

  private async readMeta(key: string): Promise<Meta | undefined> {
    try {
      return JSON.parse(await readFile(this.metaPath(key), 'utf8')) as Meta
    } catch (e) {
      if (isMissing(e) || e instanceof SyntaxError) return undefined
      throw e
    }
  }

  private async retainUntilOf(key: string): Promise<Date | undefined> {
    const v = (await this.readMeta(key))?.retainUntil
    return v ? new Date(v) : undefined
  }

  /** Retention only ever grows: a later writer cannot shorten a lock an earlier one set. */
  private async writeMeta(key: string, retainUntil: Date): Promise<void> {
    const existing = await this.retainUntilOf(key)
    const until = existing && existing > retainUntil ? existing : retainUntil
    const path = this.metaPath(key)
    await mkdir(dirname(path), {recursive: true})
    const tmp = join(dirname(path), `${RESERVED}tmp-${randomBytes(8).toString('hex')}`)
    await writeDurably(tmp, Buffer.from(JSON.stringify({retainUntil: until.toISOString()} satisfies Meta)))
    await rename(tmp, path)
    await fsyncDir(dirname(path))
  }

  private async removeMeta(key: string): Promise<void> {
    await unlinkIfExists(this.metaPath(key))
  }

  // --- per-key lock ---------------------------------------------------------------------------

  /** Serializes writers of one key across processes: O_EXCL lock file beside the object. */
  private async withKeyLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const target = this.objectPath(key)
    const lockPath = join(dirname(target), `${RESERVED}lock-${basename(target)}`)
    const deadline = Date.now() + LOCK_WAIT_MS
    let handle: FileHandle | undefined
    while (!handle) {
      try {
        handle = await open(lockPath, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY)
      } catch (e) {
        if (errCode(e) !== 'EEXIST') throw e
        try {
          const s = await stat(lockPath)
          if (Date.now() - s.mtimeMs > STALE_LOCK_MS) await unlinkIfExists(lockPath)
        } catch (e2) {
          if (!isMissing(e2)) throw e2
        }
        if (Date.now() > deadline) {
          throw this.errors.io(`waiting for the lock on "${key}" (${lockPath})`, new Error('timed out'), true)
        }
        await sleep(2 + Math.floor(Math.random() * 10))
      }
    }
    await handle.close()
    try {
      return await fn()
    } finally {
      await unlinkIfExists(lockPath)
    }
  }

  // --- the port -------------------------------------------------------------------------------

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<{etag: string}> {
    this.checkKey(key)
    if (options.ifNoneMatch !== undefined && options.ifMatch !== undefined) {
      throw new KbkError('KBK_STORE_BAD_CONDITION', 'put: ifNoneMatch and ifMatch cannot be combined.', {kind: 'internal'})
    }
    await this.ensureRoot()
    const target = this.objectPath(key)
    const dir = dirname(target)
    const tmp = join(dir, `${RESERVED}tmp-${randomBytes(8).toString('hex')}`)
    try {
      await mkdir(dir, {recursive: true})
      const etag = await writeDurably(tmp, body)
      await this.withKeyLock(key, async () => {
        const current = await this.statObject(key)
        if (options.ifNoneMatch === '*' && current) throw this.errors.precondition(key, 'create-only: the key exists')
        if (options.ifMatch !== undefined && current?.etag !== options.ifMatch) {
          throw this.errors.precondition(key, current ? 'if-match: the version changed' : 'if-match: the key does not exist')
        }
        if (current) {
          const until = await this.retainUntilOf(key)
          if (until && until.getTime() > Date.now()) throw this.errors.retained(key, until)
        }
        // The sidecar goes first: an object must never be visible without its protection.
        if (options.retainUntil) await this.writeMeta(key, options.retainUntil)
        else if (current) await this.removeMeta(key)
        if (options.ifNoneMatch === '*') {
          // link() fails if the name exists, even if a stale lock was broken: exactly one creator wins.
          try {
            await link(tmp, target)
          } catch (e) {
            if (errCode(e) === 'EEXIST') throw this.errors.precondition(key, 'create-only: the key exists', e)
            throw e
          }
        } else {
          await rename(tmp, target)
        }
      })
      await fsyncDir(dir)
      return {etag}
    } catch (e) {
      throw this.fail(`writing "${key}"`, e)
    } finally {
      await unlinkIfExists(tmp).catch(() => undefined)
    }
  }

  async get(key: string): Promise<Buffer> {
    this.checkKey(key)
    try {
      return await readFile(this.objectPath(key))
    } catch (e) {
      if (isMissing(e) || errCode(e) === 'EISDIR') throw this.errors.notFound(key, e)
      throw this.fail(`reading "${key}"`, e)
    }
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    this.checkKey(key)
    assertValidRange(range)
    let handle: FileHandle
    try {
      handle = await open(this.objectPath(key), 'r')
      if (!(await handle.stat()).isFile()) {
        await handle.close()
        throw this.errors.notFound(key)
      }
    } catch (e) {
      if (isMissing(e) || errCode(e) === 'EISDIR') throw this.errors.notFound(key, e)
      throw this.fail(`reading "${key}"`, e)
    }
    return handle.createReadStream(range ? {start: range.start, end: range.end, autoClose: true} : {autoClose: true})
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.checkKey(key)
    try {
      const s = await this.statObject(key)
      if (!s) return undefined
      const retainUntil = await this.retainUntilOf(key)
      return {key, size: s.size, etag: s.etag, lastModified: s.mtime, ...(retainUntil ? {retainUntil} : {})}
    } catch (e) {
      throw this.fail(`reading metadata of "${key}"`, e)
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    if (prefix.startsWith('/') || prefix.includes('\0')) {
      throw new KbkError('KBK_STORE_BAD_KEY', `Invalid list prefix ${JSON.stringify(prefix)}.`, {kind: 'internal'})
    }
    const slash = prefix.lastIndexOf('/')
    const dirKey = prefix.slice(0, slash + 1)
    if (dirKey !== '' && dirKey.slice(0, -1).split('/').some((p) => p === '' || p === '.' || p === '..' || p.startsWith(RESERVED))) return
    yield* this.walk(dirKey, prefix.slice(slash + 1), options.startAfter)
  }

  /** Depth-first in byte order, one directory in memory per level: a folder sorts as "name/". */
  private async *walk(dirKey: string, namePrefix: string, startAfter: string | undefined): AsyncGenerator<ObjectInfo> {
    let entries
    try {
      entries = await readdir(join(this.root, ...dirKey.split('/').filter(Boolean)), {withFileTypes: true})
    } catch (e) {
      if (isMissing(e)) return
      throw this.fail(`listing "${dirKey}"`, e)
    }
    const items = entries
      .filter((e) => !e.name.startsWith(RESERVED) && e.name.startsWith(namePrefix) && (e.isFile() || e.isDirectory()))
      .map((e) => {
        const rel = e.isDirectory() ? `${e.name}/` : e.name
        return {rel, dir: e.isDirectory(), sort: Buffer.from(rel, 'utf8')}
      })
      .sort((a, b) => Buffer.compare(a.sort, b.sort))
    for (const item of items) {
      const key = dirKey + item.rel
      if (item.dir) {
        if (startAfter !== undefined && compareKeys(key, startAfter) <= 0 && !startAfter.startsWith(key)) continue
        yield* this.walk(key, '', startAfter)
        continue
      }
      if (startAfter !== undefined && compareKeys(key, startAfter) <= 0) continue
      // Like the cloud listings, no retainUntil here (head() has it): one stat per object, no sidecar read.
      let s
      try {
        s = await this.statObject(key)
      } catch (e) {
        throw this.fail(`listing "${key}"`, e)
      }
      if (s) yield {key, size: s.size, etag: s.etag, lastModified: s.mtime} // gone while we walked: skip, like an object store
    }
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) this.checkKey(key)
    // Refuse the whole batch before deleting anything, so a refusal never leaves half a batch done.
    for (const key of keys) await this.refuseIfRetained(key)
    for (const key of keys) {
      try {
        await this.withKeyLock(key, async () => {
          await this.refuseIfRetained(key)
          await unlinkIfExists(this.objectPath(key))
          await this.removeMeta(key)
        })
      } catch (e) {
        if (isMissing(e)) continue // its folder is gone: nothing to delete
        throw this.fail(`deleting "${key}"`, e)
      }
    }
  }

  private async refuseIfRetained(key: string): Promise<void> {
    const until = await this.retainUntilOf(key)
    if (until && until.getTime() > Date.now() && (await this.statObject(key))) throw this.errors.retained(key, until)
  }

  async capabilities(): Promise<StoreCapabilities> {
    return {enforcesRetention: false}
  }

  async close(): Promise<void> {}
}

/** inode + size + mtime in ns: changes on every replace (rename brings a new inode), costs no read. */
function etagOf(s: {ino: bigint; size: bigint; mtimeNs: bigint}): string {
  return `${s.ino.toString(36)}-${s.size.toString(36)}-${s.mtimeNs.toString(36)}`
}

/** Write a new file (must not exist), fsync it, and return its version token. */
async function writeDurably(path: string, body: PutBody): Promise<string> {
  const fh = await open(path, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, 0o644)
  try {
    if (isBufferList(body)) {
      await writeAll(fh, body)
    } else if (Buffer.isBuffer(body)) {
      await fh.writeFile(body)
    } else {
      for await (const chunk of body) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
        let off = 0
        while (off < buf.length) off += (await fh.write(buf, off)).bytesWritten
      }
    }
    await fh.sync()
    return etagOf(await fh.stat({bigint: true}))
  } finally {
    await fh.close()
  }
}

/**
 * Writes the buffers in order, without joining them: one writev call after another (a call may
 * write part of the list, and libuv splits lists longer than the system's iovec limit).
 */
async function writeAll(fh: FileHandle, buffers: readonly Buffer[]): Promise<void> {
  let rest = buffers.filter((b) => b.length > 0)
  while (rest.length > 0) {
    let {bytesWritten} = await fh.writev(rest)
    const skip = rest.findIndex((b) => {
      if (bytesWritten < b.length) return true
      bytesWritten -= b.length
      return false
    })
    if (skip < 0) return
    rest = [rest[skip]!.subarray(bytesWritten), ...rest.slice(skip + 1)]
  }
}

/** Make a rename or link durable: the directory entry itself must reach the disk. */
async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } catch (e) {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
    if (errCode(e) !== 'EINVAL' && errCode(e) !== 'EBADF') throw e
  } finally {
    await fh.close()
  }
}

async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (e) {
    if (!isMissing(e)) throw e
  }
}
