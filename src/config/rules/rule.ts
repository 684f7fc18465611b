// The shape of a named rule (a cross-field check beyond the schema) and how it places diagnostics.
import type {DiagnosticCode} from '../../errors.js'
import {formatPath, type ConfigPath, type Diagnostic} from '../diagnostics.js'
import type {Workspace} from '../types.js'

export interface RuleInput {
  ws: Workspace
  /** The merged raw value (schema-shaped when the schema passed; anything otherwise). */
  raw: unknown
  /** True when the value at this path has an unset ${VAR}: its error is already reported. */
  unresolved(path: ConfigPath): boolean
}

export interface Rule {
  name: string
  /** One sentence, for docs and --help. */
  description: string
  check(input: RuleInput): Diagnostic[]
}

/** A diagnostic at a config path, or at its nearest written ancestor when it was defaulted. */
export function diagnosticAt(ws: Workspace, path: ConfigPath, severity: Diagnostic['severity'], code: DiagnosticCode, message: string, suggestion?: string): Diagnostic {
  let p = [...path]
  let pos = ws.positionOf(p)
  while (!pos && p.length > 0) {
    p = p.slice(0, -1)
    pos = ws.positionOf(p)
  }
  return {
    severity,
    code,
    message,
    file: pos?.file ?? ws.files[0] ?? '',
    line: pos?.line ?? 0,
    column: pos?.column ?? 0,
    path: formatPath(path),
    ...(suggestion ? {suggestion} : {}),
  }
}
