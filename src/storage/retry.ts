// Retry with capped, jittered exponential backoff — for failures that may pass (throttling, 5xx,
// connection resets) and never for ones that will not (a failed condition, a 4xx, bad credentials,
// a bug). Adapters turn their SDK's own retries off and go through here, so retries never stack.
import {KbkError} from '../errors.js'
import {sleep} from '../sleep.js'

export interface RetryOptions {
  /** Total tries, the first included. Default 4. */
  attempts?: number
  /** First backoff ceiling in ms; doubles per try. Default 200. */
  baseMs?: number
  /** Backoff ceiling in ms. Default 5000. */
  maxMs?: number
  signal?: AbortSignal
  /** Injected by tests; defaults to a real, abortable timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Injected by tests; defaults to Math.random. */
  random?: () => number
  /** Called before each wait, e.g. to log. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
}

/** Network error codes that mean "the connection broke", worth another try. */
const TRANSIENT_NET_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT'])

const THROTTLING_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'RequestThrottled',
  'ServerBusy',
  'OperationTimedOut',
  'InternalError',
  'ServiceUnavailable',
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'backendError',
])

type Loose = {
  code?: unknown
  name?: unknown
  message?: unknown
  status?: unknown
  statusCode?: unknown
  $metadata?: {httpStatusCode?: number}
  $retryable?: unknown
  cause?: unknown
  errors?: unknown
  response?: {status?: unknown}
}

function asLoose(e: unknown): Loose | undefined {
  return typeof e === 'object' && e !== null ? (e as Loose) : undefined
}

/** The Node network error code (ECONNREFUSED, ENOTFOUND, ECONNRESET…) in e, its cause chain or an AggregateError. */
export function networkErrorCode(e: unknown, depth = 0): string | undefined {
  const l = asLoose(e)
  if (!l || depth > 5) return undefined
  if (typeof l.code === 'string' && /^(E[A-Z_]+|UND_ERR_[A-Z_]+)$/.test(l.code)) return l.code
  if (Array.isArray(l.errors)) {
    for (const inner of l.errors) {
      const c = networkErrorCode(inner, depth + 1)
      if (c) return c
    }
  }
  return l.cause === undefined ? undefined : networkErrorCode(l.cause, depth + 1)
}

/** The HTTP status an SDK error carries (AWS $metadata, Azure statusCode, GCS code/status). */
export function httpStatusOf(e: unknown): number | undefined {
  const l = asLoose(e)
  if (!l) return undefined
  const candidates = [l.$metadata?.httpStatusCode, l.statusCode, l.status, l.code, l.response?.status]
  for (const c of candidates) {
    const n = typeof c === 'string' && /^\d{3}$/.test(c) ? Number(c) : c
    if (typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599) return n
  }
  return undefined
}

/**
 * May the same call succeed if tried again? KbkErrors say so themselves; raw errors are classified:
 * throttling, 429, 5xx and broken connections yes; everything else (4xx, refused connections,
 * TypeErrors and other bugs) no.
 */
export function isRetriable(e: unknown): boolean {
  if (e instanceof KbkError) return e.retriable
  if (e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError || e instanceof ReferenceError) return false
  const l = asLoose(e)
  if (!l) return false
  if (l.name === 'AbortError') return false
  const status = httpStatusOf(e)
  if (status !== undefined) {
    if (status === 429 || status === 408) return true
    if (status >= 500 && status !== 501) return true
    if (status < 500) return false
  }
  if (typeof l.name === 'string' && THROTTLING_NAMES.has(l.name)) return true
  if (typeof l.code === 'string' && THROTTLING_NAMES.has(l.code)) return true
  const net = networkErrorCode(e)
  if (net !== undefined) return TRANSIENT_NET_CODES.has(net)
  // Last resort, for raw SDK errors only (never a KbkError, decided above): some HTTP stacks
  // rethrow a dropped connection as a bare Error with no code or status, and only its text says so.
  if (typeof l.message === 'string' && /socket hang up|other side closed|premature close/i.test(l.message)) return true
  return false
}

/** "Full jitter": a uniform wait in [0, min(maxMs, baseMs * 2^(attempt-1))). attempt counts from 1. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.floor(random() * ceiling)
}

/** Call fn until it succeeds, fails with a non-retriable error, or runs out of attempts (then the last error). */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 4)
  const baseMs = options.baseMs ?? 200
  const maxMs = options.maxMs ?? 5000
  const wait = options.sleep ?? sleep
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted()
    try {
      return await fn(attempt)
    } catch (e) {
      if (attempt >= attempts || !isRetriable(e) || options.signal?.aborted) throw e
      const delay = backoffDelay(attempt, baseMs, maxMs, options.random)
      options.onRetry?.(e, attempt, delay)
      await wait(delay, options.signal)
    }
  }
}

/**
 * withRetry for an adapter call: every raw SDK error is mapped (to a KbkError saying which store
 * and what to check) before the retry policy looks at it, so retriability is judged once.
 */
export function withMappedRetry<T>(fn: () => Promise<T>, mapError: (e: unknown) => unknown, options: RetryOptions = {}): Promise<T> {
  return withRetry(async () => {
    try {
      return await fn()
    } catch (e) {
      throw mapError(e)
    }
  }, options)
}
