// The base every kbk command extends: --json, --config, --no-color, and errors turned into
// the exit codes of the contract (user mistakes: message + fix, no stack trace).
import {Command, Flags, Interfaces} from '@oclif/core'
import {asKbkError, KbkError} from '../errors.js'
import {setColorEnabled} from '../format/colors.js'

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

  /** Data for humans on stdout (suppressed with --json, where the returned value is the output). */
  protected out(message: string): void {
    if (!this.jsonEnabled()) process.stdout.write(message + '\n')
  }

  protected get inAutomation(): boolean {
    return process.env.KBK_IN_AUTOMATION !== undefined && process.env.KBK_IN_AUTOMATION !== ''
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // oclif's own parse errors and exits (bad flag, --help) keep oclif's behaviour.
    if (!(err instanceof KbkError) && (err.oclif !== undefined || err.name === 'ExitError')) return super.catch(err)
    const e = asKbkError(err)
    if (this.jsonEnabled()) {
      process.stdout.write(JSON.stringify({error: e.toJSON()}, null, 2) + '\n')
    } else {
      process.stderr.write(formatErrorForHuman(e))
    }
    process.exitCode = 1
    return undefined
  }
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
