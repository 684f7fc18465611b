// `kbk version`: the version, with --json.
import {KbkCommand} from '../cli/base-command.js'

export default class Version extends KbkCommand<typeof Version> {
  static override description = 'Show the kbk version.'

  async run(): Promise<{version: string; node: string}> {
    const result = {version: this.config.version, node: process.version}
    this.out(`kbk ${result.version} (node ${result.node})`)
    return result
  }
}
