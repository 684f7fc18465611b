// Validation against schemas/config.schema.json (the one source of truth), with every ajv error
// turned into a diagnostic at the YAML position of the offending key or value. Compiling the schema
// with ajv costs ~100–200 ms, which every command that reads the workspace would pay at start-up:
// the build (scripts/build.mjs) writes the compiled validator as ajv standalone code next to this
// module (dist/config/schema-validate.cjs), and it is used when it was built from this very schema
// text, options and ajv version; otherwise (running from sources, or a stale build) the schema is
// compiled here as before.
import type {DiagnosticCode} from '../errors.js'
import {createHash} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {fileURLToPath} from 'node:url'
import type {ErrorObject, Options, ValidateFunction} from 'ajv'
import {closest, formatPath, fromPointer, listOr, type Diagnostic, type SourcePosition} from './diagnostics.js'
import type {NodeInfo} from './yaml-source.js'

export const SCHEMA_URL = new URL('../../schemas/config.schema.json', import.meta.url)
/** Where the build puts the precompiled validator: beside the compiled schema.js. */
export const PRECOMPILED_VALIDATOR_URL = new URL('./schema-validate.cjs', import.meta.url)

// strict: a typo in the schema itself fails loudly, at build and in every test run.
const AJV_OPTIONS: Options = {allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true, discriminator: true}

const requireCjs = createRequire(import.meta.url)

export interface JsonSchema {
  $id?: string
  $ref?: string
  type?: string | string[]
  description?: string
  properties?: Record<string, JsonSchema>
  additionalProperties?: boolean | JsonSchema
  propertyNames?: JsonSchema
  required?: string[]
  items?: JsonSchema
  oneOf?: JsonSchema[]
  enum?: unknown[]
  const?: unknown
  pattern?: string
  definitions?: Record<string, JsonSchema>
  [k: string]: unknown
}

let cachedSchema: {text: string; schema: JsonSchema} | undefined
let cachedValidate: ValidateFunction | undefined

function schemaSource(): {text: string; schema: JsonSchema} {
  if (!cachedSchema) {
    const text = readFileSync(SCHEMA_URL, 'utf8')
    cachedSchema = {text, schema: JSON.parse(text) as JsonSchema}
  }
  return cachedSchema
}

export function configSchema(): JsonSchema {
  return schemaSource().schema
}

/** What a compiled validator depends on: the schema text, ajv's options and ajv's version. */
function schemaDigest(text: string): string {
  const ajvVersion = (requireCjs('ajv/package.json') as {version: string}).version
  return createHash('sha256').update(JSON.stringify({ajv: ajvVersion, options: AJV_OPTIONS})).update(text).digest('hex')
}

/** Compiles the schema with ajv, as the build does ahead of time. */
export function compileValidator(schema: JsonSchema): ValidateFunction {
  const {Ajv} = requireCjs('ajv') as typeof import('ajv')
  return new Ajv(AJV_OPTIONS).compile(schema)
}

/** The precompiled validator's source (a CommonJS module) for scripts/build.mjs: ajv standalone code, tagged with the schema's digest. */
export function precompiledValidatorSource(): string {
  const {text, schema} = schemaSource()
  const {Ajv} = requireCjs('ajv') as typeof import('ajv')
  const standaloneCode = (requireCjs('ajv/dist/standalone/index.js') as typeof import('ajv/dist/standalone/index.js')).default
  const ajv = new Ajv({...AJV_OPTIONS, code: {source: true}})
  const code = standaloneCode(ajv, ajv.compile(schema))
  return `${code};module.exports.schemaDigest = ${JSON.stringify(schemaDigest(text))};\n`
}

/** The precompiled validator if it was built from this schema text (with these options and ajv), else undefined. */
export function loadPrecompiledValidator(load: () => unknown, schemaText: string): ValidateFunction | undefined {
  const validate = load() as (ValidateFunction & {schemaDigest?: unknown}) | undefined
  return typeof validate === 'function' && validate.schemaDigest === schemaDigest(schemaText) ? validate : undefined
}

function validator(): ValidateFunction {
  if (!cachedValidate) {
    const {text, schema} = schemaSource()
    const file = fileURLToPath(PRECOMPILED_VALIDATOR_URL)
    cachedValidate = (existsSync(file) ? loadPrecompiledValidator(() => requireCjs(file), text) : undefined) ?? compileValidator(schema)
  }
  return cachedValidate
}

/** Follows a local $ref (one level is all the schema uses). */
export function deref(s: JsonSchema | undefined): JsonSchema | undefined {
  if (!s?.$ref) return s
  const name = s.$ref.replace('#/definitions/', '')
  return deref(configSchema().definitions?.[name])
}

/** Property names of a schema in declared order, looking through $ref and store-like oneOf. */
export function schemaProperties(s: JsonSchema | undefined): string[] {
  const d = deref(s)
  if (!d) return []
  if (d.properties) return Object.keys(d.properties)
  if (d.oneOf) return [...new Set(d.oneOf.flatMap((b) => schemaProperties(b)))]
  return []
}

export interface SchemaContext {
  nodes: Map<string, NodeInfo>
  /** Pointers never to print the value of. */
  hidden: (pointer: string) => boolean
  fallbackFile: string
}

// Labels follow Kubernetes' syntax (schemas: definitions/labels), not kbk's own name rule.
const LABEL_VALUE_FIX = 'A label value is empty or up to 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit; quote values YAML reads as numbers or booleans ("1").'
const LABEL_KEY_FIX = 'A label key is [prefix/]name: the name up to 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit; the optional prefix a DNS subdomain, e.g. app.kubernetes.io/team.'
const DURATION_PATTERNS = new Set(['^([0-9]+(ms|s|m|h|d|w|y))+$', '^(([0-9]+(ms|s|m|h|d|w|y))+|never)$'])

/** Entries of a named section validated at a time: see parts(). */
const SECTION_CHUNK = 500

export function validateSchema(value: unknown, ctx: SchemaContext): Diagnostic[] {
  const validate = validator()
  const found: ErrorObject[] = []
  const seen = new Set<string>()
  for (const part of parts(value)) {
    if (validate(part)) continue
    for (const e of validate.errors ?? []) {
      // The sections that are not split are validated in every part: report their errors once.
      const key = `${e.instancePath}\0${e.schemaPath}\0${JSON.stringify(e.params)}`
      if (seen.has(key)) continue
      seen.add(key)
      found.push(e)
    }
  }
  if (found.length === 0) return []
  const errors = simplify(found, value)
  return errors.map((e) => toDiagnostic(e, value, ctx)).filter((d): d is Diagnostic => d !== undefined)
}

/**
 * The workspace as the values to validate: itself, or, when a named section (policies, …) has
 * more than SECTION_CHUNK entries, copies holding a slice of that section each. ajv's generated
 * code appends the errors of every $ref'd entry with Array.concat, copying all earlier errors:
 * 80,000 invalid policies took minutes in one call, and take a second in slices.
 */
function parts(value: unknown): unknown[] {
  if (!isMapping(value)) return [value]
  const big = Object.keys(value).filter((k) => isMapping(value[k]) && Object.keys(value[k]).length > SECTION_CHUNK)
  if (big.length === 0) return [value]
  const slices = (section: Record<string, unknown>): Array<Record<string, unknown>> => {
    const out: Array<Record<string, unknown>> = []
    const names = Object.keys(section)
    for (let i = 0; i < names.length; i += SECTION_CHUNK) {
      const slice: Record<string, unknown> = {}
      // defineProperty: a key named __proto__ stays data.
      for (const n of names.slice(i, i + SECTION_CHUNK)) Object.defineProperty(slice, n, {value: section[n], enumerable: true, writable: true, configurable: true})
      out.push(slice)
    }
    return out
  }
  const sliced = new Map(big.map((k) => [k, slices(value[k] as Record<string, unknown>)]))
  const withSection = (k: string | undefined, slice: Record<string, unknown> | undefined): Record<string, unknown> => {
    const copy = {...value}
    for (const [name, list] of sliced) Object.defineProperty(copy, name, {value: name === k ? slice : list[0], enumerable: true, writable: true, configurable: true})
    return copy
  }
  const out: unknown[] = [withSection(undefined, undefined)]
  for (const [k, list] of sliced) for (const slice of list.slice(1)) out.push(withSection(k, slice))
  return out
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function valueAt(root: unknown, pointer: string): unknown {
  let v = root
  for (const p of fromPointer(pointer)) {
    if (v === null || typeof v !== 'object') return undefined
    v = Object.getOwnPropertyDescriptor(v, p)?.value
  }
  return v
}

/** Folds ajv's branch-by-branch output into what a person needs to read. */
function simplify(errors: ErrorObject[], root: unknown): ErrorObject[] {
  const drop = new Set<ErrorObject>()
  for (const e of errors) {
    if (e.keyword === 'oneOf') {
      // tls: true | {…}: when the value is an object, the object branch's errors say what is wrong.
      const deeper = errors.some((x) => x.instancePath.startsWith(e.instancePath + '/'))
      const branchTypes = errors.filter((x) => x.keyword === 'type' && x.instancePath === e.instancePath && x.schemaPath.startsWith(e.schemaPath + '/'))
      for (const t of branchTypes) drop.add(t)
      if (deeper) drop.add(e)
    }
    if (e.keyword === 'discriminator' && (e.params as {error?: string}).error === 'tag') {
      if (errors.some((x) => x.keyword === 'required' && x.instancePath === e.instancePath)) drop.add(e)
    }
    // propertyNames reports the key once as "pattern" on the map itself: keep the keyed report.
    if (e.keyword === 'pattern' && typeof valueAt(root, e.instancePath) !== 'string') drop.add(e)
  }
  return errors.filter((e) => !drop.has(e))
}

function typeOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a mapping'
  return `a ${typeof v}`
}

function expectedType(t: string | string[] | undefined): string {
  const names: Record<string, string> = {object: 'a mapping', array: 'a list', string: 'a string', integer: 'a whole number', number: 'a number', boolean: 'true or false', null: 'nothing'}
  const list = Array.isArray(t) ? t : t ? [t] : []
  return listOr(list.map((x) => names[x] ?? x))
}

function where(pointer: string): string {
  return formatPath(fromPointer(pointer)) || 'the workspace'
}

function toDiagnostic(e: ErrorObject, root: unknown, ctx: SchemaContext): Diagnostic | undefined {
  const ptr = e.instancePath
  const node = ctx.nodes.get(ptr)
  const show = (p: string, v: unknown): string => (ctx.hidden(p) ? '(a value from the environment or a secret)' : JSON.stringify(v))
  const at = (pos: SourcePosition | undefined, code: DiagnosticCode, message: string, suggestion?: string, pathPtr = ptr): Diagnostic => ({
    severity: 'error',
    code,
    message,
    file: pos?.file ?? ctx.fallbackFile,
    line: pos?.line ?? 1,
    column: pos?.column ?? 1,
    path: formatPath(fromPointer(pathPtr)),
    ...(suggestion ? {suggestion} : {}),
  })
  const parent = e.parentSchema as JsonSchema | undefined
  const value = valueAt(root, ptr)
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as {additionalProperty: string}).additionalProperty
      const keyPtr = `${ptr}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`
      const allowed = parent?.properties ? Object.keys(parent.properties) : []
      const guess = closest(key, allowed)
      const suggestion = guess ? `Did you mean "${guess}"? (rename "${key}" to "${guess}")` : allowed.length > 0 ? `Remove "${key}"; valid keys here: ${allowed.join(', ')}.` : `Remove "${key}".`
      return at(ctx.nodes.get(keyPtr)?.key, 'KBK_CONFIG_UNKNOWN_KEY', `unknown key "${key}" in ${where(ptr)}`, suggestion, keyPtr)
    }
    case 'required': {
      const missing = (e.params as {missingProperty: string}).missingProperty
      const prop = deref(parent?.properties?.[missing])
      const hint = prop?.description ? ` (${prop.description.replace(/\.$/, '')})` : ''
      return at(node?.key ?? node?.value, 'KBK_CONFIG_REQUIRED', `${where(ptr)} is missing the required key "${missing}"`, `Add ${missing}: to ${where(ptr)}${hint}.`)
    }
    case 'type':
      return at(node?.value, 'KBK_CONFIG_TYPE', `${where(ptr)}: expected ${expectedType((e.params as {type: string | string[]}).type)}, got ${typeOf(value)}`, `Write ${where(ptr)} as ${expectedType((e.params as {type: string | string[]}).type)}.`)
    case 'oneOf':
      return at(node?.value, 'KBK_CONFIG_TYPE', `${where(ptr)}: expected ${listOr((parent?.oneOf ?? []).map((b) => (b.$ref ? 'a mapping' : expectedType(b.type))))}, got ${typeOf(value)}`, parent?.description)
    case 'const':
      return at(node?.value, 'KBK_CONFIG_VALUE', `${where(ptr)}: expected ${JSON.stringify((e.params as {allowedValue: unknown}).allowedValue)}, got ${show(ptr, value)}`, `Set ${where(ptr)}: ${JSON.stringify((e.params as {allowedValue: unknown}).allowedValue)}.`)
    case 'enum': {
      const allowed = ((e.params as {allowedValues: unknown[]}).allowedValues ?? []).map(String)
      const guess = typeof value === 'string' ? closest(value, allowed) : undefined
      return at(node?.value, 'KBK_CONFIG_VALUE', `${where(ptr)}: expected ${listOr(allowed)}, got ${show(ptr, value)}`, guess ? `Did you mean "${guess}"?` : `Use one of: ${allowed.join(', ')}.`)
    }
    case 'pattern': {
      const pattern = (e.params as {pattern: string}).pattern
      if (DURATION_PATTERNS.has(pattern)) {
        const never = pattern.includes('never')
        return at(node?.value, 'KBK_CONFIG_BAD_DURATION', `${where(ptr)}: ${show(ptr, value)} is not a duration`, `Write a whole number and a unit (ms, s, m, h, d, w, y), e.g. 30m, 7d, 90d, 7y${never ? ', or never' : ''}.`)
      }
      const last = fromPointer(ptr).at(-1) ?? ''
      if (last === 'pointInTime') return at(node?.value, 'KBK_CONFIG_BAD_TIMESTAMP', `${where(ptr)}: ${show(ptr, value)} is not an ISO timestamp or "latest"`, 'Write an ISO 8601 timestamp with a zone, e.g. 2026-03-22T14:30:00Z, or latest.')
      if (last === 'bytesPerSecond') return at(node?.value, 'KBK_CONFIG_VALUE', `${where(ptr)}: ${show(ptr, value)} is not a byte rate`, 'Write bytes per second as a whole number, or a size with a unit and no space: 50MB, 40MiB, 500KiB (B, KB, MB, GB, KiB, MiB, GiB).')
      if (fromPointer(ptr).at(-2) === 'labels') return at(node?.value, 'KBK_CONFIG_BAD_NAME', `${where(ptr)}: ${show(ptr, value)} is not a label value`, LABEL_VALUE_FIX)
      if (fromPointer(ptr).includes('masking')) return at(node?.value, 'KBK_CONFIG_VALUE', `${where(ptr)}: ${show(ptr, value)} is not a field path`, 'Write a JSONPath of the record value, e.g. $.customer.email or $.items[*].card.')
      return at(node?.value, 'KBK_CONFIG_BAD_NAME', `${where(ptr)}: ${show(ptr, value)} is not a valid name`, 'Names use letters, digits, "-" and "_", start with a letter or digit, and have at most 63 characters.')
    }
    case 'propertyNames': {
      const name = (e.params as {propertyName: string}).propertyName
      const keyPtr = `${ptr}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`
      if (fromPointer(ptr).at(-1) === 'labels') return at(ctx.nodes.get(keyPtr)?.key, 'KBK_CONFIG_BAD_NAME', `${where(ptr)}: ${JSON.stringify(name)} is not a label key`, LABEL_KEY_FIX, keyPtr)
      if (fromPointer(ptr).at(-1) === 'partitionMapping') return at(ctx.nodes.get(keyPtr)?.key, 'KBK_CONFIG_VALUE', `${where(ptr)}: ${JSON.stringify(name)} is not a partition number`, 'Map source partition numbers to target partition numbers, e.g. 0: 0.', keyPtr)
      return at(ctx.nodes.get(keyPtr)?.key, 'KBK_CONFIG_BAD_NAME', `${where(ptr)}: ${JSON.stringify(name)} is not a valid name`, 'Names use letters, digits, "-" and "_", start with a letter or digit, and have at most 63 characters.', keyPtr)
    }
    case 'discriminator': {
      const p = e.params as {error: string; tag: string; tagValue?: unknown}
      const types = (parent?.oneOf ?? []).map((b) => String(deref(b)?.properties?.type?.const))
      const typePtr = `${ptr}/type`
      if (p.error === 'mapping') {
        const guess = typeof p.tagValue === 'string' ? closest(p.tagValue, types) : undefined
        return at(ctx.nodes.get(typePtr)?.value, 'KBK_CONFIG_VALUE', `${where(ptr)}: unknown store type ${show(typePtr, p.tagValue)}; expected ${listOr(types)}`, guess ? `Did you mean "${guess}"?` : `Set type: to one of ${types.join(', ')}.`, typePtr)
      }
      return at(ctx.nodes.get(typePtr)?.value ?? node?.value, 'KBK_CONFIG_TYPE', `${where(ptr)}: type must be ${listOr(types)}`, `Set type: to one of ${types.join(', ')}.`, typePtr)
    }
    case 'minItems':
      return at(node?.value, 'KBK_CONFIG_VALUE', `${where(ptr)}: needs at least ${(e.params as {limit: number}).limit} item(s)`, `Add an entry to ${where(ptr)}.`)
    case 'minLength':
      return at(node?.value, 'KBK_CONFIG_VALUE', `${where(ptr)}: must have at least ${(e.params as {limit: number}).limit} character(s)`, `Give ${where(ptr)} a value.`)
    case 'minimum':
    case 'maximum': {
      const limit = (e.params as {limit: number}).limit
      const range = rangeOf(parent)
      return at(node?.value, 'KBK_CONFIG_VALUE', `${where(ptr)}: ${show(ptr, value)} is ${e.keyword === 'minimum' ? 'below' : 'above'} the ${e.keyword} of ${limit}`, `Use a value ${range}.`)
    }
    case 'uniqueItems':
      return at(node?.value, 'KBK_CONFIG_DUPLICATE', `${where(ptr)}: lists the same item twice`, 'Remove the repeated entry.')
    default:
      return at(node?.value, 'KBK_CONFIG_INVALID', `${where(ptr)}: ${e.message ?? 'invalid'}`)
  }
}

function rangeOf(s: JsonSchema | undefined): string {
  const min = s?.minimum as number | undefined
  const max = s?.maximum as number | undefined
  if (min !== undefined && max !== undefined) return `from ${min} to ${max}`
  if (min !== undefined) return `of at least ${min}`
  return `of at most ${max}`
}
