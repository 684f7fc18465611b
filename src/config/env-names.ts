// The environment variables a workspace reads (`${NAME}` and `${NAME:-default}`), by name only:
// runbooks list them as prerequisites, and must never hold their values.
import {readFileSync} from 'node:fs'
import {resolve} from 'node:path'

export function envNamesOf(text: string): string[] {
  const names = new Set<string>()
  // `$${` is a literal `${`, not a reference.
  for (const m of text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g)) names.add(m[1]!)
  return [...names].sort()
}

/** The names referenced by the workspace's files (paths as loaded, relative to cwd). */
export function readEnvNames(files: string[], cwd: string): string[] {
  const names = new Set<string>()
  for (const f of files) {
    try {
      for (const n of envNamesOf(readFileSync(resolve(cwd, f), 'utf8'))) names.add(n)
    } catch {
      // A file that cannot be read again was read at load time; nothing to add.
    }
  }
  return [...names].sort()
}
