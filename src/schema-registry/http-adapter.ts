// The HTTP adapter of the SchemaRegistryPort: the Confluent REST API over node:http/https.
// node:https rather than fetch because a registry behind a private CA needs `ca` and
// `rejectUnauthorized` per connection, which Node's built-in fetch cannot take without undici.
import {request as httpRequest} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {KbkError} from '../errors.js'
import type {CompatibilityResult, RegisteredVersion, SchemaPayload, SchemaRegistryPort, SchemaType} from './port.js'

export interface HttpRegistryOptions {
  name: string
  url: string
  /** Already read from the environment by the composition root. */
  authorization?: string
  tls?: {ca?: Buffer; rejectUnauthorized: boolean}
  timeoutMs?: number
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'

interface Answer {
  status: number
  body: unknown
}

export class HttpSchemaRegistry implements SchemaRegistryPort {
  readonly description: string
  readonly #base: URL
  constructor(private readonly options: HttpRegistryOptions) {
    this.#base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`)
    this.description = `schema registry "${options.name}" (${this.#base.origin}${this.#base.pathname.replace(/\/$/, '')})`
  }

  async subjects(): Promise<string[]> {
    return (await this.#ok('GET', 'subjects')) as string[]
  }

  async versions(subject: string): Promise<number[]> {
    const a = await this.#call('GET', `subjects/${enc(subject)}/versions`)
    if (a.status === 404) return []
    this.#check(a, 'GET', `subjects/${subject}/versions`)
    return (a.body as number[]).slice().sort((x, y) => x - y)
  }

  async version(subject: string, version: number): Promise<RegisteredVersion> {
    const b = (await this.#ok('GET', `subjects/${enc(subject)}/versions/${version}`)) as Record<string, unknown>
    return {subject, version: Number(b.version), id: Number(b.id), ...payloadOf(b)}
  }

  async compatibility(subject?: string): Promise<string | undefined> {
    const a = await this.#call('GET', subject === undefined ? 'config' : `config/${enc(subject)}`)
    if (a.status === 404) return undefined
    this.#check(a, 'GET', 'config')
    const b = a.body as {compatibilityLevel?: string; compatibility?: string}
    return b.compatibilityLevel ?? b.compatibility
  }

  async mode(subject?: string): Promise<string | undefined | 'unsupported'> {
    const a = await this.#call('GET', subject === undefined ? 'mode' : `mode/${enc(subject)}`)
    if (a.status === 404) {
      // Confluent: 40401/40409 for a subject without its own mode; Apicurio 2.x: no endpoint at all.
      const code = (a.body as {error_code?: number} | undefined)?.error_code
      return subject !== undefined && (code === 40401 || code === 40409) ? undefined : 'unsupported'
    }
    this.#check(a, 'GET', 'mode')
    return (a.body as {mode?: string}).mode
  }

  async lookup(subject: string, payload: SchemaPayload): Promise<{id: number; version: number} | undefined> {
    const a = await this.#call('POST', `subjects/${enc(subject)}`, bodyOf(payload))
    if (a.status === 404) return undefined
    this.#check(a, 'POST', `subjects/${subject}`)
    const b = a.body as {id: number; version: number}
    return {id: Number(b.id), version: Number(b.version)}
  }

  async testCompatibility(subject: string, payload: SchemaPayload): Promise<CompatibilityResult> {
    const a = await this.#call('POST', `compatibility/subjects/${enc(subject)}/versions/latest?verbose=true`, bodyOf(payload))
    // No version yet: anything is compatible.
    if (a.status === 404) return {compatible: true, messages: []}
    if (a.status === 422 || a.status === 409) return {compatible: false, messages: [messageOf(a.body)]}
    this.#check(a, 'POST', `compatibility/subjects/${subject}/versions/latest`)
    const b = a.body as {is_compatible?: boolean; messages?: string[]}
    return {compatible: b.is_compatible === true, messages: Array.isArray(b.messages) ? b.messages.map(String) : []}
  }

  async register(subject: string, payload: SchemaPayload): Promise<number> {
    const a = await this.#call('POST', `subjects/${enc(subject)}/versions`, bodyOf(payload))
    if (a.status === 409 || a.status === 422) {
      throw new KbkError('KBK_SCHEMA_INCOMPATIBLE', `${this.description} refused a version of subject "${subject}": ${messageOf(a.body)}`, {
        suggestion: `Check the compatibility level of "${subject}" in the target registry; nothing of this restore's records was produced.`,
        kind: 'environment',
      })
    }
    this.#check(a, 'POST', `subjects/${subject}/versions`)
    return Number((a.body as {id: number}).id)
  }

  async setCompatibility(subject: string, level: string): Promise<void> {
    await this.#ok('PUT', `config/${enc(subject)}`, {compatibility: level})
  }

  async #ok(method: string, path: string, body?: unknown): Promise<unknown> {
    const a = await this.#call(method, path, body)
    this.#check(a, method, path)
    return a.body
  }

  #check(a: Answer, method: string, path: string): void {
    if (a.status >= 200 && a.status < 300) return
    const auth = a.status === 401 || a.status === 403
    throw new KbkError('KBK_SCHEMA_REGISTRY_ERROR', `${this.description} answered ${a.status} to ${method} /${path}: ${messageOf(a.body)}`, {
      suggestion: auth ? 'Check the credentials named by its auth settings (usernameEnv/passwordEnv or tokenEnv).' : 'Check that the URL is the base of the Confluent-compatible API (for Apicurio: …/apis/ccompat/v7).',
      kind: 'environment',
      retriable: a.status >= 500,
    })
  }

  #call(method: string, path: string, body?: unknown): Promise<Answer> {
    const url = new URL(path, this.#base)
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const headers: Record<string, string> = {accept: `${CONTENT_TYPE}, application/json`}
    if (data) {
      headers['content-type'] = CONTENT_TYPE
      headers['content-length'] = String(data.length)
    }
    if (this.options.authorization) headers.authorization = this.options.authorization
    const tls = this.options.tls
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const req = send(url, {method, headers, timeout: this.options.timeoutMs ?? 30_000, ...(url.protocol === 'https:' && tls ? {ca: tls.ca, rejectUnauthorized: tls.rejectUnauthorized} : {})}, (res) => {
        const parts: Buffer[] = []
        res.on('data', (c: Buffer) => parts.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8')
          let parsed: unknown = text
          try {
            parsed = text === '' ? undefined : JSON.parse(text)
          } catch {
            // not JSON: keep the text for the message
          }
          resolve({status: res.statusCode ?? 0, body: parsed})
        })
      })
      req.on('timeout', () => req.destroy(new Error(`no answer within ${(this.options.timeoutMs ?? 30_000) / 1000}s`)))
      req.on('error', (error) =>
        reject(
          new KbkError('KBK_SCHEMA_REGISTRY_ERROR', `${this.description} could not be reached (${method} /${path}): ${error.message}`, {
            suggestion: 'Check the registry URL and that the registry runs; kbk retries nothing here, so run the command again once it answers.',
            kind: 'environment',
            retriable: true,
          }),
        ),
      )
      if (data) req.write(data)
      req.end()
    })
  }
}

function enc(subject: string): string {
  return encodeURIComponent(subject)
}

function bodyOf(p: SchemaPayload): Record<string, unknown> {
  // Confluent treats a missing schemaType as AVRO; some registries reject an explicit "AVRO" on old paths, so omit it.
  return {schema: p.schema, ...(p.schemaType !== 'AVRO' ? {schemaType: p.schemaType} : {}), ...(p.references.length > 0 ? {references: p.references} : {})}
}

function payloadOf(b: Record<string, unknown>): SchemaPayload {
  const type = typeof b.schemaType === 'string' ? b.schemaType.toUpperCase() : 'AVRO'
  const refs = Array.isArray(b.references) ? (b.references as Array<Record<string, unknown>>) : []
  return {
    schema: String(b.schema),
    schemaType: (type === 'PROTOBUF' || type === 'JSON' ? type : 'AVRO') as SchemaType,
    references: refs.map((r) => ({name: String(r.name), subject: String(r.subject), version: Number(r.version)})),
  }
}

function messageOf(body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body) return String((body as {message: unknown}).message)
  return typeof body === 'string' && body !== '' ? body.slice(0, 300) : 'no details'
}
