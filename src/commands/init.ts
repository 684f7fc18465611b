// `kbk init [DIR]`: scaffold a workspace. Refuses to overwrite an existing kbk.yaml without --force.
import {existsSync} from 'node:fs'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'
import {Args, Flags} from '@oclif/core'
import {KbkCommand} from '../cli/base-command.js'
import {scaffoldWorkspace} from '../config/scaffold.js'
import {KbkError} from '../errors.js'

export interface InitResult {
  dir: string
  files: Array<{path: string; action: 'created' | 'overwritten' | 'updated' | 'kept'}>
}

export default class Init extends KbkCommand<typeof Init> {
  static override description = 'Create a workspace: a commented kbk.yaml (local fs store), a .gitignore and a CI workflow (plan on pull requests, apply on main).'

  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init infra/kafka-backups']

  static override args = {
    dir: Args.string({description: 'Directory of the new workspace (created if missing).', default: '.'}),
  }

  static override flags = {
    force: Flags.boolean({description: 'Overwrite an existing kbk.yaml and CI workflow.'}),
  }

  async run(): Promise<InitResult> {
    const dir = resolve(process.cwd(), this.args.dir ?? '.')
    const target = join(dir, 'kbk.yaml')
    if (existsSync(target) && !this.flags.force) {
      throw new KbkError('KBK_INIT_EXISTS', `${target} already exists; kbk init does not overwrite a workspace.`, {suggestion: 'Pass --force to overwrite it, or run kbk init in another directory.'})
    }
    const result: InitResult = {dir, files: []}
    for (const f of scaffoldWorkspace()) {
      const path = join(dir, f.path)
      await mkdir(dirname(path), {recursive: true})
      const existing = existsSync(path) ? await readFile(path, 'utf8') : undefined
      if (existing !== undefined && f.appendLines) {
        // Someone's .gitignore: add what is missing, keep the rest.
        const have = new Set(existing.split('\n').map((l) => l.trim()))
        const missing = f.appendLines.filter((l) => !have.has(l))
        if (missing.length > 0) await writeFile(path, existing + (existing.endsWith('\n') || existing === '' ? '' : '\n') + missing.join('\n') + '\n')
        result.files.push({path: f.path, action: missing.length > 0 ? 'updated' : 'kept'})
        continue
      }
      if (existing !== undefined && !this.flags.force) {
        result.files.push({path: f.path, action: 'kept'})
        continue
      }
      await writeFile(path, f.text)
      result.files.push({path: f.path, action: existing === undefined ? 'created' : 'overwritten'})
    }
    for (const f of result.files) this.info(`${f.action.padEnd(11)} ${join(this.args.dir ?? '.', f.path)}`)
    this.info(`\nNext: edit kbk.yaml, then run kbk validate and kbk plan${this.args.dir && this.args.dir !== '.' ? ` (in ${this.args.dir}, or with --config ${join(this.args.dir, 'kbk.yaml')})` : ''}.`)
    return result
  }
}
