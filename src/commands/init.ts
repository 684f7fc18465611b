// `kbk init [DIR]`: scaffold a workspace. Refuses to overwrite an existing kbk.yaml without --force.
// The CI workflow goes where GitHub reads it, the repository root's .github/workflows, with
// `working-directory` pointing back at DIR when DIR is a subfolder.
import {existsSync, statSync} from 'node:fs'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {dirname, isAbsolute, join, relative, resolve, sep} from 'node:path'
import {Args, Flags} from '@oclif/core'
import {KbkCommand} from '../cli/base-command.js'
import {SCHEMA_URL} from '../config/index.js'
import {SCHEMA_FILE, scaffoldWorkspace} from '../config/scaffold.js'
import {KbkError} from '../errors.js'

export interface InitResult {
  dir: string
  /** The repository root the workflow was written for (the nearest enclosing git repository, else the current directory). */
  repositoryRoot: string
  /** Paths relative to the current directory. */
  files: Array<{path: string; action: 'created' | 'overwritten' | 'updated' | 'kept'}>
}

export default class Init extends KbkCommand<typeof Init> {
  static override description = `Create a workspace: a commented kbk.yaml, its JSON Schema (${SCHEMA_FILE}, for editors), a .gitignore, and a GitHub Actions workflow (plan as a PR comment, apply on main, a drift check).

The workflow is written to .github/workflows/ of the enclosing git repository (or of the current directory when there is none), with working-directory set when the workspace is in a subfolder.`

  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init infra/kafka-backups']

  static override args = {
    dir: Args.string({description: 'Directory of the new workspace (created if missing).', default: '.'}),
  }

  static override flags = {
    force: Flags.boolean({description: 'Overwrite an existing kbk.yaml and CI workflow.'}),
  }

  async run(): Promise<InitResult> {
    const cwd = process.cwd()
    const dir = resolve(cwd, this.args.dir ?? '.')
    checkTarget(dir, this.args.dir ?? '.')
    const repositoryRoot = findRepositoryRoot(dir, cwd)
    const target = join(dir, 'kbk.yaml')
    if (existsSync(target) && !this.flags.force) {
      throw new KbkError('KBK_INIT_EXISTS', `${target} already exists; kbk init does not overwrite a workspace.`, {suggestion: 'Pass --force to overwrite it, or run kbk init in another directory.'})
    }
    const files = scaffoldWorkspace({
      workspaceDir: relative(repositoryRoot, dir).split(sep).join('/'),
      kbkVersion: this.config.version,
      schemaText: await readFile(SCHEMA_URL, 'utf8'),
    })
    const result: InitResult = {dir, repositoryRoot, files: []}
    for (const f of files) {
      const path = join(repositoryRoot, ...f.path.split('/'))
      const shown = relative(cwd, path) || path
      const existing = existsSync(path) ? await readFile(path, 'utf8') : undefined
      let action: InitResult['files'][number]['action']
      let text: string | undefined = f.text
      if (existing !== undefined && f.appendLines) {
        // Someone's .gitignore: add what is missing, keep the rest.
        const have = new Set(existing.split('\n').map((l) => l.trim()))
        const missing = f.appendLines.filter((l) => !have.has(l))
        text = missing.length > 0 ? existing + (existing.endsWith('\n') || existing === '' ? '' : '\n') + missing.join('\n') + '\n' : undefined
        action = missing.length > 0 ? 'updated' : 'kept'
      } else if (existing !== undefined && f.generated) {
        text = existing === f.text ? undefined : f.text
        action = existing === f.text ? 'kept' : 'updated'
      } else if (existing !== undefined && !this.flags.force) {
        text = undefined
        action = 'kept'
      } else {
        action = existing === undefined ? 'created' : 'overwritten'
      }
      if (text !== undefined) await writeTarget(path, text, shown)
      result.files.push({path: shown, action})
    }
    for (const f of result.files) this.info(`${f.action.padEnd(11)} ${f.path}`)
    const inDir = relative(cwd, dir)
    this.info(`\nNext: edit kbk.yaml, then run kbk validate and kbk plan${inDir !== '' ? ` (in ${inDir}, or with --config ${join(inDir, 'kbk.yaml')})` : ''}.`)
    this.info(`Before CI runs: fill in the "remote" store in kbk.yaml and read the comments at the top of ${result.files.at(-1)?.path}.`)
    return result
  }
}

/** A target that cannot hold a workspace is a user mistake: one line, no stack trace. */
function checkTarget(dir: string, given: string): void {
  let at = dir
  // The nearest part of the path that exists must be a directory we can write into.
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at)
  const st = statSync(at, {throwIfNoEntry: false})
  if (st && !st.isDirectory()) {
    throw new KbkError('KBK_INIT_PATH', `Cannot create a workspace in ${given}: ${at} is a file, not a directory.`, {suggestion: 'Pass a directory to kbk init (a new one is created).'})
  }
}

async function writeTarget(path: string, text: string, shown: string): Promise<void> {
  try {
    await mkdir(dirname(path), {recursive: true})
    await writeFile(path, text)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOTDIR' ? 'a part of the path is a file, not a directory' : code === 'EROFS' ? 'the file system is read-only' : (e as Error).message
    throw new KbkError('KBK_INIT_PATH', `Cannot write ${shown}: ${why}.`, {suggestion: 'Pass a directory you can write to, or fix its permissions.'})
  }
}

/** The nearest directory at or above `dir` holding .git; else the current directory if it encloses `dir`; else `dir`. */
function findRepositoryRoot(dir: string, cwd: string): string {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, '.git'))) return at
    if (dirname(at) === at) break
  }
  const rel = relative(cwd, dir)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? cwd : dir
}
