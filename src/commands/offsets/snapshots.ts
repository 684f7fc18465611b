// `kbk offsets snapshots [--group G]`: the snapshots of consumer group offsets in the store.
import {Flags} from '@oclif/core'
import {listOffsetSnapshots} from '../../app/offsets.js'
import {chooseStore} from '../../app/workspace.js'
import {KbkCommand} from '../../cli/base-command.js'
import {openWorkspace} from '../../cli/context.js'
import {formatSnapshotTable} from '../../format/offsets-text.js'
import type {OffsetSnapshotSummary} from '../../offsets/snapshots.js'

export default class OffsetsSnapshots extends KbkCommand<typeof OffsetsSnapshots> {
  static override description = `List the snapshots of consumer group offsets in the store, oldest first.

kbk takes one before every offset reset and rollback (so each can be undone with \`kbk offsets rollback ID\`), and one with every backup of a policy that records consumer groups (the history \`to: timestamp\` resets go back to).`

  static override examples = ['<%= config.bin %> offsets snapshots', '<%= config.bin %> offsets snapshots --group orders-service --json']
  static override flags = {
    group: Flags.string({description: 'Only snapshots that hold this consumer group.'}),
    store: Flags.string({description: 'The store to read (when the workspace has several).'}),
  }

  async run(): Promise<{store: string; snapshots: OffsetSnapshotSummary[]}> {
    const ctx = await openWorkspace(this.flags, {kafka: false})
    try {
      const store = chooseStore(ctx.workspace, this.flags.store)
      const snapshots = await listOffsetSnapshots(ctx, store, this.flags.group === undefined ? {} : {group: this.flags.group})
      if (snapshots.length === 0) this.out(`No offset snapshots in store "${store}"${this.flags.group ? ` hold group "${this.flags.group}"` : ''}.`)
      else this.out(formatSnapshotTable(snapshots))
      return {store, snapshots}
    } finally {
      await ctx.close()
    }
  }
}
