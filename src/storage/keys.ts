// Key and prefix rules shared by every adapter, plus small helpers that have no I/O.
import {KbkError} from '../errors.js'

/** '' stays ''; 'a' and '/a/' become 'a/'. A prefix is a folder, so it always ends in '/'. */
export function normalizePrefix(prefix: string | undefined): string {
  if (prefix === undefined) return ''
  const trimmed = prefix.replace(/^\/+/, '').replace(/\/+$/, '')
  if (trimmed === '') return ''
  for (const part of trimmed.split('/')) {
    if (part === '' || part === '.' || part === '..') {
      throw new KbkError('KBK_STORE_CONFIG', `Store prefix "${prefix}" is not a clean path (empty, "." or ".." segment).`, {
        suggestion: 'Set the store\'s `prefix` to something like "prod/kafka/".',
      })
    }
  }
  return `${trimmed}/`
}

/**
 * Keys are relative paths: no leading '/', no empty, '.' or '..' segment, no NUL, no trailing '/'.
 * The same rule on every adapter, so a key that works on s3 also works on fs.
 */
export function assertValidKey(key: string): void {
  const bad =
    typeof key !== 'string' ||
    key === '' ||
    key.includes('\0') ||
    key.startsWith('/') ||
    key.endsWith('/') ||
    key.split('/').some((p) => p === '' || p === '.' || p === '..')
  if (bad) {
    throw new KbkError('KBK_STORE_BAD_KEY', `Invalid object key ${JSON.stringify(key)}: keys are relative paths without empty, "." or ".." segments.`, {
      kind: 'internal',
      suggestion: 'This is a bug in kbk: an object key was built wrongly. Report it with the key shown.',
    })
  }
}

/** Byte-wise UTF-8 order, the order S3, GCS and Azure list in (JS `<` compares UTF-16 units). */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** The metadata name every adapter stores retainUntil under, so head() can report it on any store. */
export const RETAIN_META = 'kbkretainuntil'

export function parseRetainUntil(v: string | undefined): Date | undefined {
  if (!v) return undefined
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? undefined : d
}

/** Run fn over items with at most `limit` in flight; results in input order; first failure rejects. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  let failed = false
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++
      try {
        results[i] = await fn(items[i] as T, i)
      } catch (e) {
        failed = true
        throw e
      }
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return results
}

export function assertValidRange(range: {start: number; end: number} | undefined): void {
  if (range === undefined) return
  const {start, end} = range
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new KbkError('KBK_STORE_BAD_RANGE', `Invalid byte range ${start}-${end}: start and end are inclusive, 0 <= start <= end.`, {
      kind: 'internal',
      suggestion: 'This is a bug in kbk. Report it with the range shown.',
    })
  }
}

/**
 * kbk's own refusal to delete a retained object, shared by every adapter (on top of whatever the
 * store enforces): validates the keys, refuses the whole batch when any key is still retained, and
 * returns the distinct keys to delete.
 */
export async function deletableKeys(
  keys: readonly string[],
  head: (key: string) => Promise<{key: string; retainUntil?: Date} | undefined>,
  retained: (key: string, until: Date) => Error,
  concurrency: number,
): Promise<string[]> {
  for (const key of keys) assertValidKey(key)
  const unique = [...new Set(keys)]
  const now = Date.now()
  const infos = await mapLimit(unique, concurrency, (k) => head(k))
  for (const info of infos) {
    if (info?.retainUntil && info.retainUntil.getTime() > now) throw retained(info.key, info.retainUntil)
  }
  return unique
}
