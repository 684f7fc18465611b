// `kbk state show [ADDRESS]`: the head summary, or one recorded policy, topic (its partitions
// and segments) or restore. Only a topic address loads a segment list, and only that topic's.
import {Args, Flags} from '@oclif/core'
import {KbkCommand} from '../../cli/base-command.js'
import {openWorkspaceStore} from '../../cli/context.js'
import {KbkError} from '../../errors.js'
import {parseAddress} from '../../plan/addresses.js'
import {buildStateItem, describeState, findStateItem, formatStateItem, formatStateList} from '../../state/state-view.js'
import type {StateItem, StateList, StateTarget} from '../../state/state-view.js'

export default class StateShow extends KbkCommand<typeof StateShow> {
  static override description = `Show the recorded state: a summary, or one address.

ADDRESS is a plan address: policy.NAME, backup.POLICY["TOPIC"] (partitions and segments) or restore.NAME.`
  static override examples = ['<%= config.bin %> state show', `<%= config.bin %> state show 'backup.orders["orders.created"]'`, '<%= config.bin %> state show policy.orders --json']
  static override args = {address: Args.string({description: 'What to show (default: a summary of the whole state).'})}
  static override flags = {
    store: Flags.string({description: 'The store to read (when the workspace has several).'}),
    partition: Flags.integer({description: 'With a topic address: only this partition’s segments. Repeatable.', multiple: true}),
  }

  async run(): Promise<StateList | StateItem> {
    const target = this.args.address === undefined ? undefined : parseTarget(this.args.address)
    const s = await openWorkspaceStore(this.flags)
    try {
      const {snapshot} = await s.state.read()
      if (!target) {
        const view = describeState(s.storeName, snapshot)
        this.out(formatStateList(view))
        return view
      }
      const found = findStateItem(snapshot, target, s.storeName)
      const segments = found.type === 'topic' && target.type === 'topic' ? await s.state.loadSegments(snapshot, target.policy, target.topic, this.flags.partition ? {partitions: this.flags.partition} : {}) : []
      const item = buildStateItem(snapshot, target, segments, s.storeName)
      this.out(formatStateItem(item))
      return item
    } finally {
      await s.close()
    }
  }
}

function parseTarget(address: string): StateTarget {
  const a = parseAddress(address)
  if (a?.type === 'policy' || (a && a.type !== 'restore' && a.topic === undefined)) return {type: 'policy', name: a.name}
  if (a?.type === 'restore') return {type: 'restore', name: a.name}
  if (a?.topic !== undefined) return {type: 'topic', policy: a.name, topic: a.topic}
  throw new KbkError('KBK_USAGE', `"${address}" is not a state address.`, {
    suggestion: `Use policy.NAME, backup.POLICY["TOPIC"] or restore.NAME, e.g. kbk state show 'backup.orders["orders.created"]' (quote it for the shell).`,
  })
}
