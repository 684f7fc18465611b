// `kbk runbook`: runbooks for this workspace, with its own names, exact commands, checks,
// rollback and time estimates (docs/drills.md).
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Flags} from '@oclif/core'
import {buildRunbooks, readRunbookFacts, renderRunbooks} from '../app/runbook.js'
import {KbkCommand} from '../cli/base-command.js'
import {openWorkspace} from '../cli/context.js'
import {readEnvNames} from '../config/env-names.js'
import type {RunbookSet} from '../format/runbook.js'

export default class RunbookCommand extends KbkCommand<typeof RunbookCommand> {
  static override description = `Generate runbooks for this workspace: full cluster restore, single-topic point-in-time restore, consumer offset recovery, backup failure investigation, storage failover, configuration change rollout.

Each has prerequisites (environment variable names, never values), numbered steps with exact commands and a check after each, rollback, and a time estimate from the restore throughput measured by past drills and the bytes involved. kbk apply keeps the current runbooks in the store under _kbk/runbooks/, readable when everything else is down.`

  static override examples = ['<%= config.bin %> runbook --out runbooks/', '<%= config.bin %> runbook --format html --out runbooks/']

  static override flags = {
    out: Flags.string({description: 'Write one file per runbook into this directory (default: all to stdout).'}),
    format: Flags.string({description: 'Output format.', options: ['markdown', 'html'], default: 'markdown'}),
  }

  async run(): Promise<RunbookSet & {files?: string[]}> {
    const ws = await openWorkspace(this.flags, {kafka: false})
    try {
      const configFile = ws.workspace.files.length === 1 ? ws.workspace.files[0]! : 'kbk.yaml'
      const set = buildRunbooks(await readRunbookFacts(ws, readEnvNames(ws.workspace.files, process.cwd()), configFile))
      const files = renderRunbooks(set, this.flags.format === 'html' ? 'html' : 'markdown')
      if (this.flags.out) {
        mkdirSync(this.flags.out, {recursive: true})
        for (const [name, text] of Object.entries(files)) writeFileSync(join(this.flags.out, name), text)
        if (!this.jsonEnabled()) this.info(`Wrote ${Object.keys(files).length} runbook(s) to ${this.flags.out}: ${Object.keys(files).join(', ')}`)
        return {...set, files: Object.keys(files).map((f) => join(this.flags.out!, f))}
      }
      if (!this.jsonEnabled()) process.stdout.write(Object.values(files).join(this.flags.format === 'html' ? '\n' : '\n---\n\n'))
      return set
    } finally {
      await ws.close()
    }
  }
}
