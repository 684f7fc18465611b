// Finding and reading the workspace files: ./kbk.yaml, or --config / KBK_CONFIG naming a file or a
// directory whose *.yaml / *.yml files are merged. The only file-system reads of loading live here.
import {readdir, readFile, stat} from 'node:fs/promises'
import {isAbsolute, join, relative, resolve, sep} from 'node:path'
import type {Diagnostic} from './diagnostics.js'

export interface WorkspaceFile {
  /** As shown in diagnostics: relative to cwd when inside it. */
  display: string
  absolute: string
  text: string
  bytes: Buffer
}

export type ReadResult = {files: WorkspaceFile[]; diagnostics: Diagnostic[]}

export const DEFAULT_CONFIG_FILE = 'kbk.yaml'

/**
 * The most YAML a workspace may hold, all files together. 10,000 policies take under 2 MiB;
 * loading costs roughly 100 bytes of memory per byte of YAML, so this bound keeps any workspace
 * under about 1 GiB, and a 50 MB file is refused before it is read instead of running for minutes.
 */
export const MAX_WORKSPACE_BYTES = 8 * 1024 * 1024

export function displayPath(absolute: string, cwd: string): string {
  const rel = relative(cwd, absolute)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : absolute
}

export async function readWorkspaceFiles(opts: {config?: string; cwd: string}): Promise<ReadResult> {
  const explicit = opts.config !== undefined && opts.config !== ''
  const target = resolve(opts.cwd, explicit ? opts.config! : DEFAULT_CONFIG_FILE)
  const shown = displayPath(target, opts.cwd)
  const info = await stat(target).catch(() => undefined)
  if (!info) {
    return {
      files: [],
      diagnostics: [
        {
          severity: 'error',
          code: 'KBK_CONFIG_NOT_FOUND',
          message: explicit ? `no workspace at ${shown}` : `no ${DEFAULT_CONFIG_FILE} in ${displayPath(opts.cwd, opts.cwd) || '.'}`,
          file: shown,
          line: 0,
          column: 0,
          path: '',
          suggestion: explicit ? 'Check the --config / KBK_CONFIG path (a kbk.yaml file or a directory of *.yaml files).' : 'Run `kbk init` to create one, or pass --config PATH (or set KBK_CONFIG).',
        },
      ],
    }
  }
  let paths: string[]
  if (info.isDirectory()) {
    const names = (await readdir(target)).filter((n) => /\.ya?ml$/i.test(n) && !n.startsWith('.')).sort()
    paths = names.map((n) => join(target, n))
    if (paths.length === 0) {
      return {
        files: [],
        diagnostics: [
          {severity: 'error', code: 'KBK_CONFIG_NOT_FOUND', message: `directory ${shown} has no *.yaml or *.yml files`, file: shown, line: 0, column: 0, path: '', suggestion: 'Point --config at a kbk.yaml file, or put the workspace YAML files in this directory.'},
        ],
      }
    }
  } else {
    paths = [target]
  }
  const files: WorkspaceFile[] = []
  const diagnostics: Diagnostic[] = []
  // Sizes first, so an absurd workspace is refused without reading (or parsing) it.
  const sizes = await Promise.all(paths.map(async (p) => ({p, size: (await stat(p).catch(() => undefined))?.size ?? 0})))
  const total = sizes.reduce((n, s) => n + s.size, 0)
  if (total > MAX_WORKSPACE_BYTES) {
    const largest = sizes.reduce((a, b) => (b.size > a.size ? b : a))
    const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`
    return {
      files: [],
      diagnostics: [
        {
          severity: 'error',
          code: 'KBK_CONFIG_TOO_LARGE',
          message: `the workspace is ${mib(total)} of YAML${paths.length > 1 ? ` in ${paths.length} files (largest: ${displayPath(largest.p, opts.cwd)}, ${mib(largest.size)})` : ''}; kbk reads at most ${mib(MAX_WORKSPACE_BYTES)}`,
          file: displayPath(largest.p, opts.cwd),
          line: 0,
          column: 0,
          path: '',
          suggestion: 'Check that --config points at the workspace and not at generated data; a workspace of 10,000 policies takes under 2 MiB. Split very large estates into several workspaces.',
        },
      ],
    }
  }
  for (const p of paths) {
    try {
      const bytes = await readFile(p)
      files.push({display: displayPath(p, opts.cwd), absolute: p, bytes, text: bytes.toString('utf8')})
    } catch (e) {
      diagnostics.push({severity: 'error', code: 'KBK_CONFIG_UNREADABLE', message: `cannot read ${displayPath(p, opts.cwd)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file: displayPath(p, opts.cwd), line: 0, column: 0, path: '', suggestion: 'Check the file permissions.'})
    }
  }
  return {files, diagnostics}
}

/** Reads a key or other secret file named by the workspace; undefined with a reason when it cannot. */
export async function readSecretFile(path: string): Promise<{bytes?: Buffer; error?: string}> {
  try {
    return {bytes: await readFile(path)}
  } catch (e) {
    return {error: (e as NodeJS.ErrnoException).code ?? 'unreadable'}
  }
}
