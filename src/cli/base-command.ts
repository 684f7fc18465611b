// The base every kbk command extends: --json, --config, --no-color, and errors turned into
// the exit codes of the contract (user mistakes: message + fix, no stack trace).
import {createInterface} from 'node:readline/promises'
import {Command, Flags, Interfaces} from '@oclif/core'
import {closest} from '../config/diagnostics.js'
import {asKbkError, KbkError} from '../errors.js'
import {c, setColorEnabled} from '../format/colors.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof KbkCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export abstract class KbkCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    config: Flags.string({
      char: 'c',
      description: 'Workspace: a kbk.yaml file, or a directory whose *.yaml/*.yml files are merged.',
      env: 'KBK_CONFIG',
      helpGroup: 'GLOBAL',
    }),
    'no-color': Flags.boolean({description: 'Disable colors (NO_COLOR is honoured too).', helpGroup: 'GLOBAL'}),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>

  public override async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof KbkCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    const noColor = Boolean(this.flags['no-color']) || process.env.NO_COLOR !== undefined || this.jsonEnabled()
    setColorEnabled(!noColor && Boolean(process.stdout.isTTY || process.env.FORCE_COLOR))
  }

  /** Logs and progress go to stderr; data goes to stdout. */
  protected info(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(message + '\n')
  }

  /** A tip for a person at a terminal ("apply it with …"): left out in automation and with --json. */
  protected hint(message: string): void {
    if (!this.inAutomation) this.info(message)
  }

  /** Data for humans on stdout (suppressed with --json, where the returned value is the output). */
  protected out(message: string): void {
    if (!this.jsonEnabled()) process.stdout.write(message + '\n')
  }

  /**
   * KBK_IN_AUTOMATION set (terraform's TF_IN_AUTOMATION): kbk runs unattended, so it never
   * prompts (as with --no-input), never draws spinners, and drops hints meant for a person.
   */
  protected get inAutomation(): boolean {
    return isInAutomation()
  }

  /** True when a person may answer a prompt: stdin is a terminal and nothing forbids asking. */
  protected canPrompt(noInput = false): boolean {
    return !noInput && !this.jsonEnabled() && !this.inAutomation && Boolean(process.stdin.isTTY)
  }

  /**
   * terraform's confirmation: prints the question on stderr and reads one line; only `yes`
   * approves. Callers check canPrompt() first (and fail with the flag to use when it is false).
   */
  protected async askYes(question: string, detail: string): Promise<boolean> {
    process.stderr.write(`${c.bold(question)}\n  ${detail}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: `)
    const rl = createInterface({input: process.stdin, terminal: false})
    const answer = await new Promise<string>((resolve) => {
      rl.once('line', resolve)
      rl.once('close', () => resolve(''))
    })
    rl.close()
    process.stderr.write('\n')
    return answer.trim() === 'yes'
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // oclif's own exits (this.exit, --help, --version) keep oclif's behaviour.
    if (!(err instanceof KbkError) && err.name === 'ExitError') return super.catch(err)
    // oclif prefixes an error thrown by a flag's parser: "Parsing --f \n\t<message>\nSee more help…".
    const flagParse = /^Parsing (--\S+) \n\t([\s\S]*?)(?:\nSee more help with --help)?$/.exec(err.message)
    if (flagParse) {
      err.message = `${flagParse[1]}: ${flagParse[2]}`
      if (err instanceof KbkError) err.message = `${flagParse[1]} ${flagParse[2]}`
      else return this.catch(new KbkError('KBK_USAGE', err.message, {suggestion: `Run \`kbk ${(this.id ?? '').replaceAll(':', ' ')} --help\` for its flags and arguments.`}))
    }
    // A parse error (unknown flag, missing argument, bad value) is a usage error: exit 1 like any
    // other mistake. oclif exits 2, which `--detailed-exitcode` reserves for "changes/drift", so a
    // typo in a drift job would read as drift.
    const e = isParseError(err) ? usageError(err, this.id, this.ctor.flags, this.ctor.baseFlags) : asKbkError(err)
    if (this.jsonEnabled()) {
      this.writeJsonError(e)
    } else {
      process.stderr.write(formatErrorForHuman(e))
    }
    process.exitCode = 1
    return undefined
  }
  /** One compact object, one line: what a CI step can pipe into jq. Never oclif's error dump. */
  protected writeJsonError(e: KbkError): void {
    process.stdout.write(JSON.stringify({error: e.toJSON()}) + '\n')
  }

}

export function isInAutomation(): boolean {
  const v = process.env.KBK_IN_AUTOMATION
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false'
}

function isParseError(err: Error & {oclif?: {exit?: number}; parse?: unknown}): boolean {
  return err.parse !== undefined || (err.oclif?.exit === 2 && !(err instanceof KbkError))
}

/** oclif's parse error as a KbkError: its first lines, a did-you-mean for an unknown flag, and where to look. */
function usageError(err: Error & {flags?: string[]}, id: string | undefined, ...flagSets: Array<Record<string, {char?: string}> | undefined>): KbkError {
  const message = err.message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^See more help with/.test(l) && !/^The following errors? occurred:$/.test(l))
    .join('\n')
    .trim()
  const command = `kbk ${(id ?? '').replaceAll(':', ' ')}`.trim()
  let hint = ''
  if (Array.isArray(err.flags) && err.flags.length > 0) {
    const known = ['--json', '--help', ...flagSets.flatMap((set) => Object.keys(set ?? {}).map((f) => `--${f}`))]
    const guess = closest(err.flags[0]!.split('=')[0]!, known)
    if (guess) hint = `Did you mean ${guess}?`
  }
  return new KbkError('KBK_USAGE', message, {
    suggestion: `${hint ? hint + ' ' : ''}Run \`${command} --help\` for its flags and arguments.`,
    kind: 'user',
  })
}

export function formatErrorForHuman(e: KbkError): string {
  const lines = [`Error: ${e.message}`]
  if (e.code) lines.push(`Code: ${e.code}`)
  if (e.suggestion) lines.push(`Try this: ${e.suggestion}`)
  let cause: unknown = e.cause
  let depth = 0
  while (cause instanceof Error && depth < 3) {
    lines.push(`Cause: ${cause.message}`)
    cause = (cause as Error & {cause?: unknown}).cause
    depth++
  }
  if (e.kind === 'internal' && e.cause instanceof Error && e.cause.stack) lines.push(e.cause.stack)
  return lines.join('\n') + '\n'
}
