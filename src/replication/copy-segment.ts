// One segment copied from a store to another, streamingly: the bytes flow from the source's GET
// into the destination's upload through a hash, never held whole in memory. The copy counts only
// once it has been read back from the destination and its sha256 matches the one recorded when
// the segment was written — what the replica's state then records is complete and verified.
import {createHash} from 'node:crypto'
import {Readable} from 'node:stream'
import {KbkError} from '../errors.js'
import type {ObjectStore} from '../storage/object-store.js'

export interface CopyResult {
  bytes: number
  /** The destination's version token of the verified copy. */
  etag: string
}

export interface CopyOptions {
  /** Write-once protection for the copy (an immutable replica tier). */
  retainUntil?: Date
  signal?: AbortSignal
}

export async function copySegment(source: ObjectStore, target: ObjectStore, key: string, expected: {sha256: string; bytes: number}, options: CopyOptions = {}): Promise<CopyResult> {
  const hash = createHash('sha256')
  let read = 0
  const body = await source.getStream(key)
  async function* hashing(): AsyncGenerator<Buffer> {
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      if (options.signal?.aborted) throw new KbkError('KBK_ABORTED', `Copy of ${key} stopped by ${String(options.signal.reason)}.`)
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      hash.update(buf)
      read += buf.length
      yield buf
    }
  }
  await target.put(key, Readable.from(hashing()), {contentType: 'application/vnd.kbk.segment', ...(options.retainUntil ? {retainUntil: options.retainUntil} : {})})
  const sourceSha = hash.digest('hex')
  if (sourceSha !== expected.sha256 || read !== expected.bytes) {
    // The primary's object is not what kbk wrote: never let a bad copy stand in for a good one.
    await target.delete([key]).catch(() => undefined)
    throw new KbkError('KBK_REPLICA_SOURCE_CORRUPT', `Segment ${key} in ${source.description} has sha256 ${sourceSha} (${read} bytes); kbk recorded ${expected.sha256} (${expected.bytes} bytes). It was not copied.`, {
      suggestion: `Run kbk verify --deep on the primary store; restore the object from a bucket version or another copy before replicating it.`,
      details: {key},
    })
  }
  return verifyCopy(target, key, expected)
}

/** Reads the copy back from the destination and checks it; returns its version token. */
export async function verifyCopy(target: ObjectStore, key: string, expected: {sha256: string; bytes: number}): Promise<CopyResult> {
  const info = await target.head(key)
  const hash = createHash('sha256')
  let bytes = 0
  if (info) {
    for await (const chunk of (await target.getStream(key)) as AsyncIterable<Buffer | string>) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      hash.update(buf)
      bytes += buf.length
    }
  }
  const after = await target.head(key)
  const sha = hash.digest('hex')
  if (!info || !after || after.etag !== info.etag || sha !== expected.sha256 || bytes !== expected.bytes) {
    throw new KbkError(
      'KBK_REPLICA_CHECKSUM',
      `The copy of ${key} in ${target.description} does not read back as written: ${!info ? 'it is not there' : after?.etag !== info.etag ? 'it changed while it was read' : `sha256 ${sha} (${bytes} bytes), expected ${expected.sha256} (${expected.bytes} bytes)`}. It was not recorded.`,
      {suggestion: 'Run kbk apply again: the copy is retried. If it keeps failing, check the replica store (a proxy or lifecycle rule rewriting objects?).', details: {key}},
    )
  }
  return {bytes, etag: info.etag}
}
