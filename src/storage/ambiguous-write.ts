// A retried conditional write is ambiguous: if the first try reached the store but its answer was
// lost (reset, timeout, 5xx from a proxy), the retry finds "our" object and fails its condition.
// When the body is in memory we can tell: if the store holds exactly our bytes, the write landed.
import {KbkError} from '../errors.js'
import {StoreErrorCode, type ObjectStore} from './object-store.js'

/**
 * Call after a conditional Buffer put failed with KBK_STORE_PRECONDITION on a retry (tries > 1).
 * Returns the current version token when the stored object is byte-identical to `body` (our own
 * earlier try landed), else undefined (someone else really won).
 */
export async function ownWriteLanded(store: ObjectStore, key: string, body: Buffer, error: unknown, tries: number): Promise<{etag: string} | undefined> {
  if (tries < 2 || !(error instanceof KbkError) || error.code !== StoreErrorCode.precondition) return undefined
  const before = await store.head(key)
  if (!before || before.size !== body.length) return undefined
  const current = await store.get(key).catch(() => undefined)
  if (!current || !current.equals(body)) return undefined
  const after = await store.head(key)
  return after && after.etag === before.etag ? {etag: after.etag} : undefined
}
