// What the planners share: deterministic iteration, full-match patterns, notes, findings. Pure.
import {diagnosticText, driftText} from '../../format/plan-findings.js'
import type {DiagnosticFact, DriftFact} from '../findings.js'
import type {Drift, PlanDiagnostic} from '../types.js'

export const DAY = 86_400_000

export function sortedValues<T>(record: Record<string, T>): T[] {
  return Object.keys(record)
    .sort()
    .map((k) => record[k]!)
}

export function sortedEntries<T>(record: Record<string, T>): Array<[string, T]> {
  return Object.keys(record)
    .sort()
    .map((k) => [k, record[k]!])
}

/** A workspace pattern matches the whole name, never a part of it. */
export {fullMatch} from '../topic-selection.js'

export function notesField(notes: string[]): {notes?: string[]} {
  return notes.length > 0 ? {notes} : {}
}

/**
 * A drift finding: the planner decides its address, severity and evidence; the words come from
 * the formatter (format/plan-findings.ts). Keys in the order the plan JSON has always had.
 */
export function finding(address: string, severity: Drift['severity'], fact: DriftFact, evidence: {expected?: unknown; found?: unknown} = {}): Drift {
  const {message, fix} = driftText(fact)
  return {address, kind: fact.kind, severity, message, ...('expected' in evidence ? {expected: evidence.expected} : {}), ...('found' in evidence ? {found: evidence.found} : {}), fix}
}

/** A planner's diagnostic: the planner decides its severity, the formatter its code and words. */
export function diagnostic(severity: PlanDiagnostic['severity'], fact: DiagnosticFact): PlanDiagnostic {
  const {code, message, suggestion} = diagnosticText(fact)
  return {severity, code, message, ...(suggestion !== undefined ? {suggestion} : {})}
}
