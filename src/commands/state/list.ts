// `kbk state list`: every recorded address, one per line (like `terraform state list`), so it
// pipes into grep and `xargs kbk state show`. The counts and sizes are in `kbk state show`; --json
// has both. Reads the head and topic indexes only.
import {Args, Flags} from '@oclif/core'
import {KbkCommand} from '../../cli/base-command.js'
import {openWorkspaceStore} from '../../cli/context.js'
import {describeState, filterStateAddresses, formatStateAddresses} from '../../state/state-view.js'
import type {StateList} from '../../state/state-view.js'

export default class StateListCommand extends KbkCommand<typeof StateListCommand> {
  static override description = `List the recorded addresses, one per line: policy.NAME, backup.POLICY["TOPIC"] and restore.NAME.

\`kbk state show ADDRESS\` shows one of them; \`kbk state show\` summarises the whole state. --json adds the counts (partitions, segments, records, bytes, last backup).`
  static override examples = [
    '<%= config.bin %> state list',
    '<%= config.bin %> state list --policy orders',
    '<%= config.bin %> state list backup.orders restore.drill',
    `<%= config.bin %> state list | grep '^backup\\.' | xargs -d '\\n' -n1 <%= config.bin %> state show`,
    '<%= config.bin %> state list --json',
  ]
  static override strict = false
  static override args = {
    address: Args.string({description: 'Only these addresses, and what is under them: backup.orders lists every backup.orders["…"]. Repeatable.'}),
  }
  static override flags = {
    policy: Flags.string({description: 'Only this policy.'}),
    store: Flags.string({description: 'The store to read (when the workspace has several).'}),
  }

  async run(): Promise<StateList> {
    const s = await openWorkspaceStore(this.flags)
    try {
      const {snapshot} = await s.state.read()
      const {argv} = await this.parse(StateListCommand)
      const view = filterStateAddresses(describeState(s.storeName, snapshot, {policy: this.flags.policy}), argv as string[])
      // Nothing on stdout when nothing is recorded (a script sees no addresses); the why on stderr.
      if (!view.exists) this.info(`No state recorded in store "${view.store}" yet. Run kbk plan and kbk apply.`)
      else if (view.addresses.length > 0) this.out(formatStateAddresses(view))
      return view
    } finally {
      await s.close()
    }
  }
}
