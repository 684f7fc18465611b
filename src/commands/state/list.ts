// `kbk state list`: the recorded state of a store — policies, topics with partitions, segments,
// records, bytes and last backup, and restores. Reads the head and topic indexes only.
import {Flags} from '@oclif/core'
import {KbkCommand} from '../../cli/base-command.js'
import {openWorkspaceStore} from '../../cli/context.js'
import {describeState, formatStateList} from '../../state/state-view.js'
import type {StateList} from '../../state/state-view.js'

export default class StateListCommand extends KbkCommand<typeof StateListCommand> {
  static override description = 'List the recorded state: policies, topics (partitions, segments, records, bytes, last backup) and restores.'
  static override examples = ['<%= config.bin %> state list', '<%= config.bin %> state list --policy orders --json']
  static override flags = {
    policy: Flags.string({description: 'Only this policy.'}),
    store: Flags.string({description: 'The store to read (when the workspace has several).'}),
  }

  async run(): Promise<StateList> {
    const s = await openWorkspaceStore(this.flags)
    try {
      const {snapshot} = await s.state.read()
      const view = describeState(s.storeName, snapshot, {policy: this.flags.policy})
      this.out(formatStateList(view))
      return view
    } finally {
      await s.close()
    }
  }
}
