// Flag types shared by commands. Values are checked while oclif parses, before any work is done:
// a bad --lock-timeout must not surface after a plan was refreshed and approved.
import {Flags} from '@oclif/core'
import {DURATION_HELP, parseDuration} from '../config/duration.js'
import {KbkError} from '../errors.js'

/** A duration flag in the workspace's syntax (`90s`, `2m`, `1m30s`), parsed to milliseconds. */
export const durationFlag = Flags.custom<number>({
  helpValue: '<duration>',
  async parse(input) {
    const ms = parseDuration(input.trim(), {allowNever: false})
    if (ms === undefined || ms === null) throw new KbkError('KBK_USAGE', `"${input}" is not a duration.`, {suggestion: `${DURATION_HELP}.`})
    return ms
  },
})
