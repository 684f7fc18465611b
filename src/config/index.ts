// Workspace configuration: read the YAML files → parse with positions and ${ENV} → validate
// against schemas/config.schema.json → normalize (defaults) → named rules → diagnostics.
// Loading never throws for a user mistake: every problem comes back as a diagnostic.
import {createHash} from 'node:crypto'
import {dirname, resolve} from 'node:path'
import {formatPath, fromPointer, sortDiagnostics, toPointer, type ConfigPath, type Diagnostic, type SourcePosition} from './diagnostics.js'
import {normalizeWorkspace} from './normalize.js'
import {readSecretFile, readWorkspaceFiles, type WorkspaceFile} from './read-workspace.js'
import {rules} from './rules/index.js'
import {validateSchema} from './schema.js'
import {isSensitivePath, type Workspace} from './types.js'
import {MAX_ALIAS_EXPANSION, parseSource, type NodeInfo, type ParsedSource} from './yaml-source.js'

export {formatDiagnostic, formatPath, sortDiagnostics, closest, editDistance} from './diagnostics.js'
export type {Diagnostic, SourcePosition, ConfigPath} from './diagnostics.js'
export {Secret, isSecret, reveal} from './secret.js'
export {parseDuration, formatDuration} from './duration.js'
export {builtinTags, checkCompliance, checks as complianceChecks, drillRequirements, allTags} from './compliance.js'
export type {TagDefinition, TagRequirements} from './compliance.js'
export {rules} from './rules/index.js'
export {configSchema, SCHEMA_URL} from './schema.js'
export {DEFAULT_CONFIG_FILE} from './read-workspace.js'
export * from './types.js'

export interface LoadResult {
  /** Undefined when there are errors (warnings alone still give a workspace). */
  workspace?: Workspace
  diagnostics: Diagnostic[]
  /** The files read, as displayed in diagnostics. */
  files: string[]
  /** sha256 over the files' raw bytes in sorted order: changes when any file changes; never contains secrets. */
  digest: string
}

export interface LoadOptions {
  /** Path from --config / KBK_CONFIG: a file, or a directory whose *.yaml / *.yml are merged. */
  config?: string
  cwd?: string
  /** For ${VAR} interpolation (default: process.env). */
  env?: NodeJS.ProcessEnv
  /**
   * An unset ${VAR} without a default: an error (default: plan and apply need the value), or a
   * warning (validate: offline, so a pull request from a fork without secrets can still be checked).
   * As a warning, checks of the values it leaves unknown are skipped.
   */
  unsetEnv?: 'error' | 'warning'
}

/** The top-level sections whose entries are named, and merged by name across files. */
const NAMED_SECTIONS = ['clusters', 'stores', 'retention', 'compliance', 'policies', 'restores', 'offsetResets']

/**
 * The most entries one named section may have, over all files. 10,000 policies validate in a few
 * seconds; checking (and reporting on) many times that is minutes of work no real estate needs.
 */
export const MAX_SECTION_ENTRIES = 20_000

export async function loadWorkspace(opts: LoadOptions = {}): Promise<LoadResult> {
  const cwd = opts.cwd ?? process.cwd()
  const env = opts.env ?? process.env
  const read = await readWorkspaceFiles({config: opts.config, cwd})
  const files = read.files.map((f) => f.display)
  const digest = digestFiles(read.files)
  if (read.files.length === 0) return {diagnostics: sortDiagnostics(read.diagnostics), files, digest}

  const limits = {aliasBudget: MAX_ALIAS_EXPANSION, unsetEnv: opts.unsetEnv ?? 'error'}
  const parsed = read.files.map((f) => parseSource(f.display, f.text, env, limits))
  const merged = mergeSources(parsed, read.files.length > 1)
  const diagnostics: Diagnostic[] = [...read.diagnostics, ...parsed.flatMap((p) => p.diagnostics), ...merged.diagnostics]
  const absoluteOf = new Map(read.files.map((f) => [f.display, f.absolute]))

  const hidden = (pointer: string): boolean => merged.envPaths.has(pointer) || isSensitivePath(fromPointer(pointer))
  // Loops, not push(...list): a list of 100,000 diagnostics as arguments overflows the stack.
  if (merged.ok) for (const d of validateSchema(merged.value, {nodes: merged.nodes, hidden, fallbackFile: files[0]!})) diagnostics.push(d)

  const positionOf = (path: ConfigPath): SourcePosition | undefined => {
    const info = merged.nodes.get(toPointer(path.map(String)))
    return info ? {...info.value} : undefined
  }
  const fileOf = (path: ConfigPath): string | undefined => {
    const pos = positionOf(path)
    return pos ? absoluteOf.get(pos.file) : undefined
  }
  const keyFiles = await readKeyFiles(merged.value, fileOf)
  const ws = normalizeWorkspace(merged.value, {
    fileOf,
    positionOf,
    isFromEnv: (path) => merged.envPaths.has(toPointer(path.map(String))),
    isLiteral: (path) => merged.literalPaths.has(toPointer(path.map(String))),
    keyFiles,
    files,
    digest,
  })
  if (merged.ok) {
    const unresolved = (path: ConfigPath): boolean => merged.unresolvedPaths.has(toPointer(path.map(String)))
    for (const rule of rules) {
      try {
        for (const d of rule.check({ws, raw: merged.value, unresolved})) diagnostics.push(d)
      } catch (e) {
        // A rule that trips over a shape the schema already rejected must not hide the others.
        if (!diagnostics.some((d) => d.severity === 'error')) throw e
      }
    }
  }
  const sorted = sortDiagnostics(opts.unsetEnv === 'warning' ? withoutUnknownValueErrors(diagnostics, merged.unresolvedPaths) : diagnostics)
  const failed = sorted.some((d) => d.severity === 'error')
  return {...(failed ? {} : {workspace: ws}), diagnostics: sorted, files, digest}
}

/**
 * Drops the schema and rule errors about values that hold an unset ${VAR}: with the variable
 * unknown (validate without secrets), `${KAFKA_PORT}` is no more wrong than the value it stands for.
 */
function withoutUnknownValueErrors(diagnostics: Diagnostic[], unresolved: Set<string>): Diagnostic[] {
  if (unresolved.size === 0) return diagnostics
  const paths = new Set([...unresolved].map((p) => formatPath(fromPointer(p))))
  return diagnostics.filter((d) => d.severity !== 'error' || d.code === 'KBK_CONFIG_ENV_SYNTAX' || !paths.has(d.path))
}

function digestFiles(files: WorkspaceFile[]): string {
  const h = createHash('sha256')
  for (const f of [...files].sort((a, b) => a.absolute.localeCompare(b.absolute))) {
    h.update(String(f.bytes.length)).update('\0').update(f.bytes)
  }
  return h.digest('hex')
}

interface Merged {
  /** False when a file is not a mapping at all: nothing further can be checked. */
  ok: boolean
  value: Record<string, unknown>
  nodes: Map<string, NodeInfo>
  envPaths: Set<string>
  literalPaths: Set<string>
  unresolvedPaths: Set<string>
  diagnostics: Diagnostic[]
}

/** Several files → one workspace; a name defined twice is an error naming both places. */
function mergeSources(sources: ParsedSource[], directory: boolean): Merged {
  const m: Merged = {ok: true, value: {}, nodes: new Map(), envPaths: new Set(), literalPaths: new Set(), unresolvedPaths: new Set(), diagnostics: []}
  // Each source's pointers grouped by their first one and two segments (a section, a named entry),
  // once: taking an entry then touches only its own nodes. Scanning every node for every entry
  // made a 10,000-policy workspace take seconds per thousand policies (quadratic).
  const groups = new Map<ParsedSource, Map<string, string[]>>()
  const groupsOf = (src: ParsedSource): Map<string, string[]> => {
    let g = groups.get(src)
    if (!g) {
      g = new Map()
      for (const p of src.nodes.keys()) {
        const second = p.indexOf('/', 1)
        const third = second < 0 ? -1 : p.indexOf('/', second + 1)
        for (const prefix of [second < 0 ? p : p.slice(0, second), second < 0 ? undefined : third < 0 ? p : p.slice(0, third)]) {
          if (prefix === undefined || prefix === '') continue
          const list = g.get(prefix)
          if (list) list.push(p)
          else g.set(prefix, [p])
        }
      }
      groups.set(src, g)
    }
    return g
  }
  const take = (src: ParsedSource, prefix: string): void => {
    const pointers = prefix === '' ? [...src.nodes.keys()] : (groupsOf(src).get(prefix) ?? [])
    for (const p of pointers) {
      if (!m.nodes.has(p)) m.nodes.set(p, src.nodes.get(p)!)
      // Every env/literal/unresolved pointer is a scalar's, and every scalar has a node.
      if (src.envPaths.has(p)) m.envPaths.add(p)
      if (src.literalPaths.has(p)) m.literalPaths.add(p)
      if (src.unresolvedPaths.has(p)) m.unresolvedPaths.add(p)
    }
  }
  const where = (info: NodeInfo | undefined): string => (info ? `${info.value.file}:${(info.key ?? info.value).line}` : 'another file')
  for (const src of sources) {
    if (src.diagnostics.some((d) => d.code === 'KBK_CONFIG_YAML' || d.code === 'KBK_CONFIG_TOO_LARGE' || (d.code === 'KBK_CONFIG_DUPLICATE' && d.path === ''))) {
      m.ok = false
      continue
    }
    const v = src.value
    if (v === null || v === undefined) {
      if (!directory) take(src, '')
      continue // an empty file in a directory adds nothing
    }
    if (typeof v !== 'object' || Array.isArray(v)) {
      const at = src.nodes.get('')?.value
      m.diagnostics.push({severity: 'error', code: 'KBK_CONFIG_TYPE', message: `${src.file}: the workspace must be a mapping of keys (version, clusters, stores, …), got ${Array.isArray(v) ? 'a list' : 'a scalar'}`, file: src.file, line: at?.line ?? 1, column: at?.column ?? 1, path: '', suggestion: 'Start the file with `version: 1` and the sections as keys; run `kbk init` for an example.'})
      m.ok = false
      continue
    }
    if (!m.nodes.has('')) m.nodes.set('', src.nodes.get('')!)
    for (const [key, section] of Object.entries(v)) {
      const ptr = `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`
      const isNamed = NAMED_SECTIONS.includes(key) && section !== null && typeof section === 'object' && !Array.isArray(section)
      const existing = Object.getOwnPropertyDescriptor(m.value, key)?.value
      if (!Object.prototype.hasOwnProperty.call(m.value, key)) {
        define(m.value, key, isNamed ? {} : section)
        if (!isNamed) {
          take(src, ptr)
          continue
        }
        m.nodes.set(ptr, src.nodes.get(ptr)!)
      } else if (!isNamed || existing === null || typeof existing !== 'object' || Array.isArray(existing)) {
        if (JSON.stringify(existing) !== JSON.stringify(section)) {
          const first = m.nodes.get(ptr)
          const here = src.nodes.get(ptr)
          m.diagnostics.push(dup(here, src.file, ptr, `${key} is set in ${where(first)} and again, differently, here`, `Set ${key} in one file only.`))
        }
        continue
      }
      const target = Object.getOwnPropertyDescriptor(m.value, key)!.value as Record<string, unknown>
      for (const [name, entry] of Object.entries(section as Record<string, unknown>)) {
        const entryPtr = `${ptr}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`
        if (Object.prototype.hasOwnProperty.call(target, name)) {
          m.diagnostics.push(dup(src.nodes.get(entryPtr), src.file, entryPtr, `${formatPath([key, name])} is defined twice: in ${where(m.nodes.get(entryPtr))} and here`, `Rename one of them, or delete the copy (names are unique across all workspace files).`))
          continue
        }
        define(target, name, entry)
        take(src, entryPtr)
      }
    }
  }
  for (const key of NAMED_SECTIONS) {
    const section = Object.getOwnPropertyDescriptor(m.value, key)?.value as unknown
    const count = section !== null && typeof section === 'object' && !Array.isArray(section) ? Object.keys(section).length : 0
    if (count <= MAX_SECTION_ENTRIES) continue
    const at = m.nodes.get(`/${key}`)
    m.diagnostics.push({
      severity: 'error',
      code: 'KBK_CONFIG_TOO_LARGE',
      message: `${key} has ${count.toLocaleString('en-US')} entries; kbk checks at most ${MAX_SECTION_ENTRIES.toLocaleString('en-US')} per section`,
      file: at?.key?.file ?? at?.value.file ?? sources[0]?.file ?? '',
      line: (at?.key ?? at?.value)?.line ?? 1,
      column: (at?.key ?? at?.value)?.column ?? 1,
      path: key,
      suggestion: 'Check that the workspace is not generated data by mistake; split a very large estate into several workspaces (one per cluster or team).',
    })
    m.ok = false
  }
  return m
}

function define(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, {value, enumerable: true, writable: true, configurable: true})
}

function dup(info: NodeInfo | undefined, file: string, pointer: string, message: string, suggestion: string): Diagnostic {
  const at = info?.key ?? info?.value
  return {severity: 'error', code: 'KBK_CONFIG_DUPLICATE', message, file: at?.file ?? file, line: at?.line ?? 1, column: at?.column ?? 1, path: formatPath(fromPointer(pointer)), suggestion}
}

/** Reads the encryption key files the workspace names (local files only: validate stays offline). */
async function readKeyFiles(raw: unknown, fileOf: (path: ConfigPath) => string | undefined): Promise<Map<string, Buffer | undefined>> {
  const out = new Map<string, Buffer | undefined>()
  const policies = (raw as {policies?: unknown}).policies
  if (policies === null || typeof policies !== 'object') return out
  const wanted: Array<[ConfigPath, string]> = []
  for (const [name, p] of Object.entries(policies as Record<string, unknown>)) {
    const enc = (p as {encryption?: unknown} | null)?.encryption as {keyFile?: unknown; previousKeys?: unknown} | undefined
    if (!enc || typeof enc !== 'object') continue
    if (typeof enc.keyFile === 'string') wanted.push([['policies', name, 'encryption', 'keyFile'], enc.keyFile])
    if (Array.isArray(enc.previousKeys)) {
      enc.previousKeys.forEach((k: unknown, i) => {
        const f = (k as {keyFile?: unknown} | null)?.keyFile
        if (typeof f === 'string') wanted.push([['policies', name, 'encryption', 'previousKeys', i, 'keyFile'], f])
      })
    }
  }
  for (const [path, file] of wanted) {
    const decl = fileOf(path)
    const abs = resolve(decl ? dirname(decl) : process.cwd(), file)
    if (!out.has(abs)) out.set(abs, (await readSecretFile(abs)).bytes)
  }
  return out
}
