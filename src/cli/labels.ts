// --label k=v (repeatable) and --by label:KEY, shared by `kbk status` and `kbk backups list`.
import {Flags} from '@oclif/core'
import {KbkError} from '../errors.js'

export const labelFlag = Flags.string({description: 'Only policies with this label (KEY=VALUE). Repeatable: all must match.', multiple: true, helpValue: 'KEY=VALUE'})

export function parseLabelFilter(values: readonly string[] | undefined): Record<string, string> | undefined {
  if (!values || values.length === 0) return undefined
  const out: Record<string, string> = {}
  for (const v of values) {
    const i = v.indexOf('=')
    if (i <= 0) throw new KbkError('KBK_USAGE', `--label "${v}" is not KEY=VALUE.`, {suggestion: 'Write it as --label env=prod (repeat the flag for several labels).'})
    out[v.slice(0, i)] = v.slice(i + 1)
  }
  return out
}

/** `--by label:team` → "team". */
export function parseBy(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const m = /^label:(.+)$/.exec(value)
  if (!m) throw new KbkError('KBK_USAGE', `--by "${value}" is not label:KEY.`, {suggestion: 'Group by a label key, e.g. --by label:team.'})
  return m[1]
}
