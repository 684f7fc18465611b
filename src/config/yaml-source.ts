// One YAML file → a plain value, the source position of every node (by JSON pointer), which
// values came from the environment, and YAML/interpolation diagnostics. Pure: text and env in.
import type {DiagnosticCode} from '../errors.js'
import {isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit, type Alias, type Document, type Node} from 'yaml'
import {formatPath, fromPointer, type Diagnostic, type SourcePosition} from './diagnostics.js'
import {interpolate} from './interpolate.js'

export interface NodeInfo {
  /** Where the value starts. */
  value: SourcePosition
  /** Where its key starts, for map entries (unknown-key and duplicate errors point here). */
  key?: SourcePosition
}

export interface ParsedSource {
  file: string
  value: unknown
  nodes: Map<string, NodeInfo>
  /** Pointers of values that came (partly) from the environment: never printed. */
  envPaths: Set<string>
  /** Pointers of values written literally (no `${...}` at all). */
  literalPaths: Set<string>
  /** Pointers of values whose interpolation failed: rules skip them (the error is already given). */
  unresolvedPaths: Set<string>
  diagnostics: Diagnostic[]
}

const PLAIN_NUMBER = /^-?[0-9]+(\.[0-9]+)?$/

/**
 * How many values aliases (*name) may expand to, over the whole workspace. A legitimate workspace
 * reuses a few small anchors; nine levels of nine aliases ("billion laughs") expand to 387 million.
 * Counting while expanding stops one at this bound, in memory proportional to it.
 */
export const MAX_ALIAS_EXPANSION = 100_000
/** How deeply mappings and lists may nest: a workspace needs fewer than 10 levels. */
export const MAX_DEPTH = 64

export interface ParseLimits {
  /** Values aliases may still expand to: shared by the files of one workspace, decremented here. */
  aliasBudget: number
  /** An unset ${VAR} without a default: an error (plan, apply), or a warning (validate, offline without secrets). */
  unsetEnv?: 'error' | 'warning'
}

/** Thrown inside the conversion to abandon a file at the first resource limit; never escapes parseSource. */
class LimitExceeded extends Error {}

export function parseSource(file: string, text: string, env: Record<string, string | undefined>, limits: ParseLimits = {aliasBudget: MAX_ALIAS_EXPANSION}): ParsedSource {
  const lineCounter = new LineCounter()
  const out: ParsedSource = {file, value: undefined, nodes: new Map(), envPaths: new Set(), literalPaths: new Set(), unresolvedPaths: new Set(), diagnostics: []}
  const pos = (offset: number | undefined): SourcePosition => {
    const lp = lineCounter.linePos(offset ?? 0)
    return {file, line: lp.line, column: lp.col}
  }
  let doc: Document.Parsed
  try {
    // uniqueKeys: false — yaml compares each key with every earlier one (quadratic: minutes for a
    // map of 80,000 keys); duplicates are found below with a set instead.
    doc = parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: false, strict: true})
  } catch (e) {
    out.diagnostics.push({severity: 'error', code: 'KBK_CONFIG_YAML', message: `not valid YAML: ${(e as Error).message}`, file, line: 1, column: 1, path: ''})
    return out
  }
  for (const err of doc.errors) {
    const p = pos(err.pos[0])
    const duplicate = err.code === 'DUPLICATE_KEY'
    out.diagnostics.push({
      severity: 'error',
      code: duplicate ? 'KBK_CONFIG_DUPLICATE' : 'KBK_CONFIG_YAML',
      message: duplicate ? 'this key appears twice in the same mapping' : `not valid YAML: ${firstLine(err.message)}`,
      file,
      line: p.line,
      column: p.column,
      path: '',
      suggestion: duplicate ? 'Keep one of the two entries (names must be unique).' : 'Fix the YAML syntax at this position (check indentation, quotes and colons).',
    })
  }
  if (doc.errors.length > 0) return out

  // Each alias's anchor, found in one pass in document order (the last anchor of that name
  // before the alias). yaml's Alias.resolve(doc) walks the whole document on every call, which an
  // expansion calls again for every nested alias.
  const anchorOf = new Map<Alias, Node | undefined>()
  const anchors = new Map<string, Node>()
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) anchorOf.set(node, anchors.get(node.source))
      else if (node.anchor) anchors.set(node.anchor, node)
    },
  })

  const seen = new Set<Node>()
  let duplicates = false
  /** The alias written in the file whose expansion is under way (inner ones sit at their anchors). */
  let expanding: SourcePosition | undefined
  const refuse = (at: SourcePosition, pointer: string, message: string, suggestion: string): never => {
    out.diagnostics.push(diag(file, at, pointer, 'KBK_CONFIG_TOO_LARGE', message, suggestion))
    throw new LimitExceeded()
  }
  const convert = (node: unknown, pointer: string, keyPos?: SourcePosition, depth = 0): unknown => {
    if (node === null || node === undefined) {
      out.nodes.set(pointer, {value: keyPos ?? pos(0), ...(keyPos ? {key: keyPos} : {})})
      return null
    }
    const n = node as Node
    const at = pos(n.range?.[0])
    if (expanding && --limits.aliasBudget < 0) {
      refuse(expanding, pointer, `aliases expand to more than ${MAX_ALIAS_EXPANSION.toLocaleString('en-US')} values (nested *aliases multiply: an "alias bomb")`, 'Write the repeated values out, or use fewer levels of aliases of aliases.')
    }
    if (depth > MAX_DEPTH) refuse(at, pointer, `values nest more than ${MAX_DEPTH} levels deep`, 'A workspace needs a few levels of mappings and lists: flatten this value.')
    out.nodes.set(pointer, {value: at, ...(keyPos ? {key: keyPos} : {})})
    if (isAlias(n)) {
      const target = anchorOf.get(n)
      if (!target || seen.has(target)) {
        out.diagnostics.push(diag(file, at, pointer, 'KBK_CONFIG_YAML', 'this alias refers to an unknown or enclosing anchor', 'Define the anchor (&name) before using *name, outside the value that uses it.'))
        return null
      }
      const outer = expanding === undefined
      if (outer) expanding = at
      try {
        return convert(target, pointer, keyPos, depth)
      } finally {
        if (outer) expanding = undefined
        // Errors about this value point at the alias, where it is used, not at its anchor.
        out.nodes.set(pointer, {value: at, ...(keyPos ? {key: keyPos} : {})})
      }
    }
    if (isMap(n)) {
      seen.add(n)
      const obj: Record<string, unknown> = {}
      const names = new Set<string>()
      for (const pair of n.items) {
        const k = pair.key
        if (!isScalar(k) || (k.value !== null && typeof k.value === 'object')) {
          const kp = pos(isScalar(k) || isMap(k) || isSeq(k) ? k.range?.[0] : n.range?.[0])
          out.diagnostics.push(diag(file, kp, pointer, 'KBK_CONFIG_TYPE', 'keys must be plain names, not lists or mappings', 'Write the key as a plain string.'))
          continue
        }
        const name = k.value === null ? '' : String(k.value)
        if (names.has(name)) {
          // As yaml reported it: the whole file is refused (path '' tells the merge so).
          const kp = pos(k.range?.[0])
          out.diagnostics.push({...diag(file, kp, '', 'KBK_CONFIG_DUPLICATE', 'this key appears twice in the same mapping', 'Keep one of the two entries (names must be unique).'), path: ''})
          duplicates = true
          continue
        }
        names.add(name)
        const childPointer = `${pointer}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`
        const value = convert(pair.value, childPointer, pos(k.range?.[0]), depth + 1)
        // defineProperty: a key named __proto__ must stay data, never become the prototype.
        Object.defineProperty(obj, name, {value, enumerable: true, writable: true, configurable: true})
      }
      seen.delete(n)
      return obj
    }
    if (isSeq(n)) {
      seen.add(n)
      const arr = n.items.map((item, i) => convert(item, `${pointer}/${i}`, undefined, depth + 1))
      seen.delete(n)
      return arr
    }
    if (isScalar(n)) return scalarValue(n, pointer, at)
    return null
  }

  const scalarValue = (n: Scalar, pointer: string, at: SourcePosition): unknown => {
    const v = n.value
    if (typeof v !== 'string') {
      if (typeof v === 'number' && !Number.isFinite(v)) return String(n.source ?? v)
      if (typeof v === 'bigint') return Number(v)
      return v
    }
    if (!v.includes('${')) {
      out.literalPaths.add(pointer)
      return v
    }
    const r = interpolate(v, env)
    if (r.fromEnv) out.envPaths.add(pointer)
    for (const name of r.missing) {
      out.unresolvedPaths.add(pointer)
      out.diagnostics.push(
        {
          ...diag(file, at, pointer, 'KBK_CONFIG_ENV_UNSET', `environment variable ${name} is not set (used by ${formatPath(fromPointer(pointer)) || 'the workspace'})`, `Export ${name} before running kbk, or give a default: \${${name}:-value}.`),
          ...(limits.unsetEnv === 'warning' ? {severity: 'warning' as const, suggestion: `plan and apply need ${name}; export it before running them, or give a default: \${${name}:-value}.`} : {}),
        },
      )
    }
    for (const bad of r.malformed) {
      out.unresolvedPaths.add(pointer)
      out.diagnostics.push(diag(file, at, pointer, 'KBK_CONFIG_ENV_SYNTAX', `malformed reference ${JSON.stringify(bad)}`, 'Write ${NAME} or ${NAME:-default} (letters, digits and _), or $${ for a literal ${.'))
    }
    if (!r.interpolated) out.literalPaths.add(pointer)
    // An unquoted `${PORT}` means the same as an unquoted 9092 would: let numbers and booleans be.
    if (n.type === Scalar.PLAIN && r.missing.length === 0) {
      if (PLAIN_NUMBER.test(r.value)) return Number(r.value)
      if (r.value === 'true' || r.value === 'false') return r.value === 'true'
    }
    return r.value
  }

  try {
    out.value = convert(doc.contents, '')
    if (duplicates) {
      out.nodes = new Map()
      out.value = undefined
    }
  } catch (e) {
    if (!(e instanceof LimitExceeded)) throw e
    // Nothing of a refused file is used: drop what was converted so far.
    out.nodes = new Map()
    out.value = undefined
  }
  return out
}

function diag(file: string, at: SourcePosition, pointer: string, code: DiagnosticCode, message: string, suggestion: string): Diagnostic {
  return {severity: 'error', code, message, file, line: at.line, column: at.column, path: formatPath(fromPointer(pointer)), suggestion}
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim()
}
