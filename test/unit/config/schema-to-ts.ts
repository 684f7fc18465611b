// Generates src/config/raw-types.ts from schemas/config.schema.json, so the TypeScript types of
// the raw config cannot drift from the schema: raw-types.test.ts fails when the checked-in file
// differs, and KBK_UPDATE_RAW_TYPES=1 rewrites it.
import type {JsonSchema} from '../../../src/config/schema.js'

function pascal(name: string): string {
  return name.replace(/(^|[-_])([a-z])/g, (_, _sep, c: string) => c.toUpperCase()).replace(/^[a-z]/, (c) => c.toUpperCase())
}

function doc(s: JsonSchema | undefined, indent: string): string {
  return s?.description ? `${indent}/** ${s.description.replace(/\*\//g, '*\\/')} */\n` : ''
}

function expr(s: JsonSchema, indent: string): string {
  if (s.$ref) return 'Raw' + pascal(s.$ref.replace('#/definitions/', ''))
  if (s.const !== undefined) return JSON.stringify(s.const)
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ')
  if (s.oneOf) return s.oneOf.map((b) => expr(b, indent)).join(' | ')
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : []
  if (types.length > 1) return types.map((t) => expr({...s, type: t}, indent)).join(' | ')
  switch (types[0]) {
    case 'string':
      return 'string'
    case 'integer':
    case 'number':
      return 'number'
    case 'boolean':
      return 'boolean'
    case 'array':
      return `Array<${s.items ? expr(s.items, indent) : 'unknown'}>`
    case 'object':
      return objectExpr(s, indent)
    default:
      return 'unknown'
  }
}

function objectExpr(s: JsonSchema, indent: string): string {
  if (!s.properties) {
    const v = typeof s.additionalProperties === 'object' ? expr(s.additionalProperties, indent) : 'unknown'
    return `Record<string, ${v}>`
  }
  const inner = indent + '  '
  const required = new Set(s.required ?? [])
  const lines = Object.entries(s.properties).map(([k, p]) => `${doc(p, inner)}${inner}${/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : JSON.stringify(k)}${required.has(k) ? '' : '?'}: ${expr(p, inner)}`)
  return `{\n${lines.join('\n')}\n${indent}}`
}

export function schemaToTs(schema: JsonSchema): string {
  const out = [
    '// GENERATED from schemas/config.schema.json by test/unit/config/schema-to-ts.ts — do not edit.',
    '// The raw workspace as written in YAML (before defaults). Regenerate: KBK_UPDATE_RAW_TYPES=1 node scripts/test.mjs --quick raw-types',
    '',
  ]
  out.push(`${doc(schema, '')}export interface RawWorkspace ${objectExpr(schema, '')}`)
  for (const [name, def] of Object.entries(schema.definitions ?? {})) {
    const e = expr(def, '')
    const isInterface = def.properties !== undefined && !def.oneOf && (def.type === 'object' || def.type === undefined)
    out.push('')
    out.push(isInterface ? `${doc(def, '')}export interface Raw${pascal(name)} ${e}` : `${doc(def, '')}export type Raw${pascal(name)} = ${e}`)
  }
  return out.join('\n') + '\n'
}
