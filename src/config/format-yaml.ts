// `kbk fmt`: canonical key order (the schema's property order), two-space indentation, comments
// and quoting kept. Pure: text in, text out; the command does the reading and writing.
import {isMap, isScalar, isSeq, parseDocument, type Node} from 'yaml'
import type {Diagnostic} from './diagnostics.js'
import {configSchema, deref, type JsonSchema} from './schema.js'

export interface FormatResult {
  /** Undefined when the file is not valid YAML (see diagnostics). */
  text?: string
  diagnostics: Diagnostic[]
}

export function formatWorkspaceYaml(file: string, text: string): FormatResult {
  const doc = parseDocument(text, {keepSourceTokens: false, uniqueKeys: false})
  if (doc.errors.length > 0) {
    return {
      diagnostics: doc.errors.map((e) => ({
        severity: 'error' as const,
        code: 'KBK_CONFIG_YAML',
        message: `not valid YAML: ${e.message.split('\n')[0]}`,
        file,
        line: e.linePos?.[0].line ?? 1,
        column: e.linePos?.[0].col ?? 1,
        path: '',
        suggestion: 'Fix the YAML syntax first; kbk fmt only formats valid files.',
      })),
    }
  }
  if (isMap(doc.contents) && doc.contents.items.length > 0) {
    // A comment above the first key is the file's header, not that key's: keep it on top.
    const first = doc.contents.items[0]!.key as Node | null
    const header = isScalar(first) ? first.commentBefore : undefined
    if (isScalar(first) && header) first.commentBefore = undefined
    reorder(doc.contents, configSchema())
    const top = doc.contents.items[0]!.key as Node | null
    if (header && isScalar(top)) top.commentBefore = top.commentBefore ? `${header}\n${top.commentBefore}` : header
  } else if (doc.contents) reorder(doc.contents, configSchema())
  const out = doc.toString({indent: 2, indentSeq: true, lineWidth: 0, minContentWidth: 0, flowCollectionPadding: false})
  return {text: out, diagnostics: []}
}

/** The branch of a oneOf that describes this node (a store's `type`, tls: true | {…}). */
function branchFor(node: Node, schema: JsonSchema): JsonSchema | undefined {
  const s = deref(schema)
  if (!s?.oneOf) return s
  const branches = s.oneOf.map((b) => deref(b)).filter((b): b is JsonSchema => b !== undefined)
  if (isMap(node)) {
    const type = node.get('type')
    const tagged = branches.find((b) => (b.properties?.type as JsonSchema | undefined)?.const === type)
    return tagged ?? branches.find((b) => b.properties !== undefined)
  }
  return undefined
}

function reorder(node: Node, schema: JsonSchema | undefined): void {
  const s = schema ? branchFor(node, schema) : undefined
  if (isMap(node)) {
    const props = s?.properties
    if (props) {
      const order = Object.keys(props)
      const rank = (k: unknown): number => {
        const i = order.indexOf(String(isScalar(k) ? k.value : k))
        return i < 0 ? order.length : i
      }
      // A stable sort: unknown keys keep their relative order, after the known ones.
      node.items = node.items.map((item, i) => ({item, i})).sort((a, b) => rank(a.item.key) - rank(b.item.key) || a.i - b.i).map((x) => x.item)
    }
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined
      const child = key !== undefined && props?.[key] ? props[key] : typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined
      if (pair.value && typeof pair.value === 'object') reorder(pair.value as Node, child)
    }
  } else if (isSeq(node)) {
    for (const item of node.items) if (item && typeof item === 'object') reorder(item as Node, s?.items)
  }
}

/** A unified diff of two texts (for `kbk fmt --diff`), or '' when they are equal. */
export function unifiedDiff(file: string, before: string, after: string, context = 3): string {
  if (before === after) return ''
  const a = before.split('\n')
  const b = after.split('\n')
  // LCS table from the end: workspace files are small, O(n·m) is fine.
  const lcs: number[][] = Array.from({length: a.length + 1}, () => new Array<number>(b.length + 1).fill(0))
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!)
  type Op = {t: ' ' | '-' | '+'; line: string; ai: number; bi: number}
  const ops: Op[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({t: ' ', line: a[i++]!, ai: i, bi: ++j})
    else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({t: '-', line: a[i++]!, ai: i, bi: j})
    else ops.push({t: '+', line: b[j++]!, ai: i, bi: j})
  }
  const out = [`--- ${file}`, `+++ ${file} (formatted)`]
  let k = 0
  while (k < ops.length) {
    if (ops[k]!.t === ' ') {
      k++
      continue
    }
    const start = Math.max(0, k - context)
    let end = k
    // Extend the hunk while changes are within 2·context lines of each other.
    while (end < ops.length) {
      if (ops[end]!.t !== ' ') {
        end++
        continue
      }
      let run = 0
      while (end + run < ops.length && ops[end + run]!.t === ' ') run++
      if (end + run >= ops.length || run > 2 * context) {
        end = Math.min(ops.length, end + context)
        break
      }
      end += run
    }
    const hunk = ops.slice(start, end)
    const aStart = hunk.find((o) => o.t !== '+')?.ai ?? 0
    const bStart = hunk.find((o) => o.t !== '-')?.bi ?? 0
    const aLen = hunk.filter((o) => o.t !== '+').length
    const bLen = hunk.filter((o) => o.t !== '-').length
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`)
    for (const o of hunk) out.push(`${o.t}${o.line}`)
    k = end
  }
  return out.join('\n') + '\n'
}
