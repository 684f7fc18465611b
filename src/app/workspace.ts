// The ports every use case works through, bundled per workspace: the validated config, the
// desired state derived from it, and lazily opened stores and clusters. The composition root
// (src/cli/context.ts) builds one with the real adapters; a test can build one with fakes.
import type {StoreHandle} from '../apply/apply-plan.js'
import type {BackupRuntime} from '../apply/backup-run.js'
import type {ComplianceDiagnostic} from '../config/compliance.js'
import {builtinTags, checkCompliance, formatDiagnostic} from '../config/index.js'
import type {Diagnostic, LoadResult, Workspace} from '../config/index.js'
import {KbkError} from '../errors.js'
import type {KafkaPort} from '../kafka/port.js'
import {desiredFromWorkspace} from '../plan/desired.js'
import type {Desired, PlanDiagnostic} from '../plan/types.js'
import type {SchemaRegistryPort} from '../schema-registry/port.js'
import type {Clock} from './clock.js'

export interface WorkspaceContext {
  workspace: Workspace
  desired: Desired
  /** Warnings from loading (errors stop openWorkspace). */
  warnings: Diagnostic[]
  /** The config's findings (load warnings, compliance) as typed data; desired.diagnostics renders them. */
  findings: ComplianceDiagnostic[]
  storeHandle(name: string): StoreHandle
  kafka(cluster: string): KafkaPort
  backupRuntime(policy: string): BackupRuntime
  keyring(policy: string): Map<string, Buffer>
  /** The registry named under schemaRegistries (credentials read from the environment). */
  schemaRegistry(name: string): SchemaRegistryPort
  /** The clock of every plan and apply. */
  clock: Clock
  kbkVersion: string
  /** user@host, recorded in locks and audit records. */
  who: string
  /** Fault injection for integration tests (the composition root sets them from the environment). */
  testHooks?: {afterOffsetSnapshot?: () => void; afterReplicaCopy?: () => void}
  close(): Promise<void>
}

/** The parts of a WorkspaceContext that come from the config alone. */
export interface ValidWorkspace {
  workspace: Workspace
  desired: Desired
  warnings: Diagnostic[]
  findings: ComplianceDiagnostic[]
}

/** A loaded workspace with errors stops here, with every diagnostic; else its desired state. */
export function validWorkspace(loaded: LoadResult): ValidWorkspace {
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length > 0 || !loaded.workspace) {
    throw new KbkError('KBK_CONFIG_INVALID', `The workspace has ${errors.length} error(s):\n${errors.map((d) => formatDiagnostic(d)).join('\n')}`, {
      suggestion: 'Fix the errors above (`kbk validate` lists them too), then run the command again.',
      details: {diagnostics: errors},
    })
  }
  const ws = loaded.workspace
  const warnings = loaded.diagnostics.filter((d) => d.severity === 'warning')
  const tags = (name: string) => ws.compliance[name] ?? builtinTags[name]
  const findings = dedupe([...warnings, ...checkCompliance(ws)])
  const desired = desiredFromWorkspace(ws, tags, findings.map(toPlanDiagnostic))
  return {workspace: ws, desired, warnings, findings}
}

export function toPlanDiagnostic(d: Diagnostic): PlanDiagnostic {
  return {severity: d.severity, code: d.code, message: d.message, ...(d.suggestion ? {suggestion: d.suggestion} : {}), file: d.file, line: d.line, column: d.column}
}

function dedupe<D extends Diagnostic>(list: D[]): D[] {
  const seen = new Set<string>()
  return list.filter((d) => {
    const k = `${d.code}|${d.file}|${d.line}|${d.column}|${d.message}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

/** The store a store-only command reads: the one asked for, else the only one in use or defined. */
export function chooseStore(ws: Workspace, asked: string | undefined): string {
  const names = Object.keys(ws.stores)
  const used = [...new Set(Object.values(ws.policies).map((p) => p.store))]
  const name = asked ?? (used.length === 1 ? used[0]! : names.length === 1 ? names[0]! : undefined)
  if (!name) throw new KbkError('KBK_STORE_AMBIGUOUS', `The workspace has ${names.length} stores (${names.join(', ')}); say which one.`, {suggestion: 'Pass --store NAME.'})
  return name
}
