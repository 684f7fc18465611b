// `kbk fmt [--check] [--diff]`: rewrite the workspace files in canonical form (schema key order,
// two-space indentation), keeping comments. --check changes nothing and exits 1 if a file would.
import {readFile, writeFile} from 'node:fs/promises'
import {Flags} from '@oclif/core'
import {KbkCommand} from '../cli/base-command.js'
import {formatDiagnostic, type Diagnostic} from '../config/index.js'
import {formatWorkspaceYaml, unifiedDiff} from '../config/format-yaml.js'
import {readWorkspaceFiles} from '../config/read-workspace.js'
import {colorEnabled} from '../format/colors.js'

export interface FmtResult {
  files: Array<{file: string; changed: boolean}>
  changed: number
  diagnostics: Diagnostic[]
}

export default class Fmt extends KbkCommand<typeof Fmt> {
  static override description = 'Format the workspace YAML: canonical key order and indentation, comments kept.'

  static override examples = ['<%= config.bin %> fmt', '<%= config.bin %> fmt --check --diff   # in CI: fail when a file is not formatted']

  static override flags = {
    check: Flags.boolean({description: 'Write nothing; exit 1 when a file is not formatted.'}),
    diff: Flags.boolean({description: 'Print what changes as a unified diff.'}),
  }

  async run(): Promise<FmtResult> {
    const read = await readWorkspaceFiles({config: this.flags.config, cwd: process.cwd()})
    const result: FmtResult = {files: [], changed: 0, diagnostics: [...read.diagnostics]}
    for (const f of read.files) {
      const formatted = formatWorkspaceYaml(f.display, f.text)
      result.diagnostics.push(...formatted.diagnostics)
      if (formatted.text === undefined) continue
      const changed = formatted.text !== f.text
      result.files.push({file: f.display, changed})
      if (!changed) continue
      result.changed++
      if (this.flags.diff) this.out(unifiedDiff(f.display, f.text, formatted.text).trimEnd())
      if (!this.flags.check) {
        // Re-read right before writing: never clobber an edit made while we formatted.
        if ((await readFile(f.absolute, 'utf8')) === f.text) await writeFile(f.absolute, formatted.text)
      }
      this.info(this.flags.check ? `${f.display}: not formatted` : `${f.display}: formatted`)
    }
    for (const d of result.diagnostics) this.info(formatDiagnostic(d, {color: colorEnabled()}))
    if (result.diagnostics.some((d) => d.severity === 'error') || (this.flags.check && result.changed > 0)) process.exitCode = 1
    return result
  }
}
