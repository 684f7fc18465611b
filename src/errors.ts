// One error type for the whole tool: a stable code, a message for the person reading it,
// a suggestion naming the flag or key that fixes it, whether retrying may help, and the cause.

export type ErrorKind = 'user' | 'environment' | 'conflict' | 'internal'

export interface KbkErrorOptions {
  /** What to do about it: name the flag, key or command that fixes it. */
  suggestion?: string
  /** True when the same call may succeed later (throttling, 5xx, resets). */
  retriable?: boolean
  /** user: a mistake in input; environment: something outside kbk (store, broker); conflict: lost race; internal: a bug. */
  kind?: ErrorKind
  cause?: unknown
  /** Extra structured detail for --json output. Never put secrets here. */
  details?: Record<string, unknown>
}

export class KbkError extends Error {
  readonly code: string
  readonly suggestion?: string
  readonly retriable: boolean
  readonly kind: ErrorKind
  readonly details?: Record<string, unknown>

  constructor(code: string, message: string, options: KbkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'KbkError'
    this.code = code
    this.suggestion = options.suggestion
    this.retriable = options.retriable ?? false
    this.kind = options.kind ?? 'user'
    this.details = options.details
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      suggestion: this.suggestion,
      retriable: this.retriable,
      kind: this.kind,
      ...(this.details ? {details: this.details} : {}),
    }
  }
}

export function isKbkError(e: unknown): e is KbkError {
  return e instanceof KbkError
}

/** Wraps anything thrown that is not a KbkError as an internal error: it is a bug, and says so. */
export function asKbkError(e: unknown): KbkError {
  if (e instanceof KbkError) return e
  const message = e instanceof Error ? e.message : String(e)
  return new KbkError('KBK_INTERNAL', `Internal error: ${message}`, {
    kind: 'internal',
    cause: e,
    suggestion: 'This is a bug in kbk: please report it with the command you ran and this whole output (it ends with the stack trace).',
  })
}
