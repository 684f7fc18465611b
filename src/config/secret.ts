// A value that came from the environment or a file and must never be printed: logs, errors,
// plans, state and --json output all see "(sensitive)". Only the adapter that needs it reveals it.
import {inspect} from 'node:util'

const REDACTED = '(sensitive)'

export class Secret {
  readonly #value: string
  /** Where it came from, for messages: e.g. "${KAFKA_PASSWORD}" or "file ./orders.key". Never the value. */
  readonly origin: string

  constructor(value: string, origin = 'config') {
    this.#value = value
    this.origin = origin
  }

  reveal(): string {
    return this.#value
  }

  toString(): string {
    return REDACTED
  }

  toJSON(): string {
    return REDACTED
  }

  [inspect.custom](): string {
    return REDACTED
  }
}

export function isSecret(v: unknown): v is Secret {
  return v instanceof Secret
}

/** The plain value of a field that may hold a secret. */
export function reveal(v: string | Secret | undefined): string | undefined {
  return v instanceof Secret ? v.reveal() : v
}
