// The errors every adapter throws, worded once: each names the store, where it is configured and
// what to check. Adapters only decide WHICH one a raw SDK error is.
import {KbkError} from '../errors.js'
import {StoreErrorCode} from './object-store.js'
import type {StoreContext} from './store-config.js'

export class StoreErrors {
  constructor(
    private readonly ctx: StoreContext,
    /** e.g. s3://bucket/prefix/ — never a secret. */
    readonly location: string,
  ) {}

  /** `store "primary" (kbk.yaml:12:5)`, or with the location when the position is unknown. */
  get where(): string {
    const p = this.ctx.position
    return p ? `store "${this.ctx.name}" (${p.file}:${p.line}:${p.column})` : `store "${this.ctx.name}" (${this.location})`
  }

  /** `stores.primary.bucket` with the file position when known, for suggestions. */
  configKey(key: string): string {
    const p = this.ctx.position
    return `stores.${this.ctx.name}.${key}${p ? ` in ${p.file}` : ''}`
  }

  private details(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {store: this.ctx.name, location: this.location, ...(this.ctx.position ? {position: this.ctx.position} : {}), ...extra}
  }

  notFound(key: string, cause?: unknown): KbkError {
    return new KbkError(StoreErrorCode.notFound, `${this.where}: object "${key}" does not exist.`, {
      kind: 'environment',
      cause,
      details: this.details({key}),
      suggestion: 'Run `kbk verify` to see which recorded objects are missing from the store.',
    })
  }

  precondition(key: string, condition: string, cause?: unknown): KbkError {
    return new KbkError(StoreErrorCode.precondition, `${this.where}: conditional write of "${key}" failed (${condition}); another writer got there first.`, {
      kind: 'conflict',
      cause,
      details: this.details({key, condition}),
      suggestion: 'Rerun the command: it reads the current version again. `kbk lock list` shows who else is working on this store.',
    })
  }

  retained(key: string, until: Date): KbkError {
    return new KbkError(StoreErrorCode.retained, `${this.where}: refusing to delete or overwrite "${key}": it is write-once protected until ${until.toISOString()}.`, {
      kind: 'user',
      details: this.details({key, retainUntil: until.toISOString()}),
      suggestion: 'Wait until the retention date passes; an `immutable` retention tier cannot be shortened for objects already written.',
    })
  }

  noBucket(kindWord: 'bucket' | 'container' | 'directory', name: string, configKey: string, cause?: unknown): KbkError {
    return new KbkError(StoreErrorCode.noBucket, `${this.where}: ${kindWord} "${name}" does not exist (${this.location}).`, {
      kind: 'user',
      cause,
      details: this.details({[kindWord]: name}),
      suggestion: `Create the ${kindWord}, or fix ${this.configKey(configKey)}.`,
    })
  }

  accessDenied(what: string, credentialHint: string, cause?: unknown): KbkError {
    return new KbkError(StoreErrorCode.accessDenied, `${this.where}: access denied while ${what} (${this.location}).`, {
      kind: 'environment',
      cause,
      details: this.details(),
      suggestion: `Check the credentials (${credentialHint}) and that they may read, write, list and delete under ${this.location}.`,
    })
  }

  unreachable(endpoint: string, endpointKey: string | undefined, netCode: string | undefined, cause?: unknown): KbkError {
    return new KbkError(StoreErrorCode.unreachable, `${this.where}: cannot reach ${endpoint}${netCode ? ` (${netCode})` : ''}.`, {
      kind: 'environment',
      cause,
      details: this.details({endpoint, ...(netCode ? {networkError: netCode} : {})}),
      suggestion: endpointKey
        ? `Check ${this.configKey(endpointKey)} (host, port, http vs https) and that the server is running.`
        : 'Check the network and DNS; the store\'s service could not be reached.',
    })
  }

  io(what: string, cause: unknown, retriable: boolean): KbkError {
    const msg = cause instanceof Error ? cause.message : String(cause)
    return new KbkError(StoreErrorCode.io, `${this.where}: ${what} failed: ${msg}`, {
      kind: 'environment',
      retriable,
      cause,
      details: this.details(),
      suggestion: retriable ? 'A transient store failure; rerun the command.' : `Check ${this.location} and the store's settings.`,
    })
  }
}
