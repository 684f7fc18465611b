// Diagnostics: every config problem as `file:line:column: severity CODE: message` plus a fix.
// Pure helpers: formatting, ordering, paths, and "did you mean" suggestions.

import type {DiagnosticCode} from '../errors.js'
export interface Diagnostic {
  severity: 'error' | 'warning'
  code: DiagnosticCode
  message: string
  /** The file as the user named it (relative to the working directory when inside it). */
  file: string
  /** 1-based; 0 when the problem is about the file as a whole (e.g. it does not exist). */
  line: number
  column: number
  /** Dotted config path, e.g. policies.orders.retention; '' for the whole workspace. */
  path: string
  suggestion?: string
}

export interface SourcePosition {
  file: string
  line: number
  column: number
}

export type ConfigPath = ReadonlyArray<string | number>

/** JSON pointer (as ajv's instancePath) for a config path. */
export function toPointer(path: ConfigPath): string {
  return path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('')
}

export function fromPointer(pointer: string): string[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
}

const SIMPLE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/

/** policies.orders.topics.include[0]; names that are not simple are quoted: restores["a.b"]. */
export function formatPath(path: ConfigPath): string {
  let s = ''
  for (const p of path) {
    if (typeof p === 'number' || /^[0-9]+$/.test(p)) s += `[${p}]`
    else if (SIMPLE_KEY.test(p)) s += (s === '' ? '' : '.') + p
    else s += `[${JSON.stringify(p)}]`
  }
  return s
}

export function formatDiagnostic(d: Diagnostic, opts: {color?: boolean} = {}): string {
  const color = opts.color ?? false
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file
  const sev = d.severity === 'error' ? 'error' : 'warning'
  const sevText = color ? ansi(d.severity === 'error' ? 31 : 33, sev) : sev
  const head = `${color ? ansi(1, where) : where}: ${sevText} ${d.code}: ${d.message}`
  return d.suggestion ? `${head}\n    fix: ${d.suggestion}` : head
}

// Plain SGR codes: the caller decided on color (TTY, NO_COLOR, --no-color), so no second guessing here.
function ansi(code: number, s: string): string {
  return `\u001b[${code}m${s}\u001b[${code === 1 ? 22 : 39}m`
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code.localeCompare(b.code) || a.message.localeCompare(b.message)
}

/** Sorted by position, with exact repeats (same place, code and path) dropped. */
export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>()
  const out: Diagnostic[] = []
  for (const d of [...list].sort(compareDiagnostics)) {
    const key = `${d.file}\0${d.line}\0${d.column}\0${d.code}\0${d.path}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(d)
  }
  return out
}

export function editDistance(a: string, b: string): number {
  const prev = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!
    prev[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!
      const cost = a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + cost)
      diag = tmp
    }
  }
  return prev[b.length]!
}

/** The candidate closest to `word`, when it is close enough to be what was meant. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates]
  const w = word.toLowerCase()
  // A prefix either way ("prod" for "production") is what people mean more often than a
  // shorter word at a smaller edit distance.
  const prefixed = list.filter((c) => c.toLowerCase().startsWith(w) || w.startsWith(c.toLowerCase())).sort((a, b) => a.length - b.length || a.localeCompare(b))
  if (prefixed.length > 0 && w.length >= 2) return prefixed[0]
  let best: string | undefined
  let bestScore = Number.POSITIVE_INFINITY
  for (const c of list) {
    const d = editDistance(word, c)
    if (d < bestScore || (d === bestScore && best !== undefined && c < best)) {
      best = c
      bestScore = d
    }
  }
  if (best === undefined) return undefined
  const limit = Math.max(2, Math.floor(Math.max(word.length, best.length) / 3))
  return bestScore <= limit ? best : undefined
}

/** "a, b or c" */
export function listOr(items: readonly string[]): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`
}
