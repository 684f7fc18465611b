// oclif's command_not_found hook: `kbk pla` says "did you mean plan?" and exits 1 (a usage
// error, like a bad flag), as one JSON object on stdout with --json. Our own ~20 lines instead
// of @oclif/plugin-not-found: that plugin prompts "Did you mean …? (Y/n)" in a terminal, runs the
// guess, exits 127 in CI and pulls in a prompt library; kbk runs unattended and wants exit 1.
import type {Hook} from '@oclif/core'
import {formatErrorForHuman} from '../cli/base-command.js'
import {closest} from '../config/diagnostics.js'
import {KbkError} from '../errors.js'

const hook: Hook<'command_not_found'> = async function (opts) {
  const typed = opts.id.replaceAll(':', ' ')
  const commands = opts.config.commandIDs.map((id) => id.replaceAll(':', ' '))
  const topics = opts.config.topics.map((t) => t.name.replaceAll(':', ' '))
  // Commands first: "backups lis" means `backups list`, not the `backups` topic it starts with.
  const guess = closest(typed, commands) ?? closest(typed, topics) ?? closest(typed.split(' ')[0]!, [...commands, ...topics])
  const e = new KbkError('KBK_USAGE', `"${typed}" is not a kbk command.${guess ? ` Did you mean ${guess}?` : ''}`, {
    suggestion: guess ? `Run \`kbk ${guess} --help\`, or \`kbk --help\` for all commands.` : 'Run `kbk --help` for all commands.',
  })
  const argv = opts.argv ?? []
  const json = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).includes('--json')
  if (json) process.stdout.write(JSON.stringify({error: e.toJSON()}) + '\n')
  else process.stderr.write(formatErrorForHuman(e))
  process.exitCode = 1
}

export default hook
