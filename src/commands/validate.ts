// `kbk validate`: schema, cross-field rules and compliance rules, offline (no network at all).
import {KbkCommand} from '../cli/base-command.js'
import {formatDiagnostic, loadWorkspace, type Diagnostic} from '../config/index.js'
import {colorEnabled} from '../format/colors.js'

export interface ValidateResult {
  valid: boolean
  error_count: number
  warning_count: number
  files: string[]
  diagnostics: Array<Required<Omit<Diagnostic, 'suggestion'>> & {suggestion: string | null}>
}

export default class Validate extends KbkCommand<typeof Validate> {
  static override description = `Check the workspace offline: the JSON Schema, references, regexes, durations, restore safety and compliance rules.

Every problem is reported at once as file:line:column with a fix. Exit 0 when valid (warnings allowed), 1 otherwise. Makes no network call and needs no secrets: an unset \${VAR} without a default is a warning here (plan and apply refuse it).`

  static override examples = ['<%= config.bin %> validate', '<%= config.bin %> validate --config ./workspace/ --json']

  async run(): Promise<ValidateResult> {
    // An unset ${VAR} is a warning here: validate runs offline, e.g. on a fork's pull request without secrets.
    const loaded = await loadWorkspace({config: this.flags.config, cwd: process.cwd(), env: process.env, unsetEnv: 'warning'})
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error').length
    const warnings = loaded.diagnostics.length - errors
    const color = colorEnabled()
    for (const d of loaded.diagnostics) this.info(formatDiagnostic(d, {color}))
    const files = loaded.files.length === 1 ? loaded.files[0] : `${loaded.files.length} files`
    if (errors > 0) this.info(`\n✖ ${files ?? 'workspace'}: ${errors} error(s), ${warnings} warning(s).`)
    else this.info(`${warnings > 0 ? '\n' : ''}✔ ${files}: valid${warnings > 0 ? ` with ${warnings} warning(s)` : ''}.`)
    // Invalid config is a result, not a crash: the JSON still prints, and the exit code says it.
    if (errors > 0) process.exitCode = 1
    return {
      valid: errors === 0,
      error_count: errors,
      warning_count: warnings,
      files: loaded.files,
      diagnostics: loaded.diagnostics.map((d) => ({severity: d.severity, code: d.code, message: d.message, file: d.file, line: d.line, column: d.column, path: d.path, suggestion: d.suggestion ?? null})),
    }
  }
}
