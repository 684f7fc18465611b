// `kbk lock list`: who holds the store's lock, since when, and whether it is still renewed.
import {Flags} from '@oclif/core'
import {KbkCommand} from '../../cli/base-command.js'
import {openWorkspaceStore} from '../../cli/context.js'
import {readLocks} from '../../state/lock.js'
import {describeLocks, formatLocks} from '../../state/state-view.js'
import type {LockRow} from '../../state/state-view.js'

export default class LockList extends KbkCommand<typeof LockList> {
  static override description = 'Show who holds the store lock (id, who, operation, created, heartbeat, expiry). An expired lock is one whose holder stopped renewing it.'
  static override examples = ['<%= config.bin %> lock list', '<%= config.bin %> lock list --json']
  static override flags = {store: Flags.string({description: 'The store to read (when the workspace has several).'})}

  async run(): Promise<{store: string; locks: LockRow[]}> {
    const s = await openWorkspaceStore(this.flags)
    try {
      const locks = describeLocks(await readLocks(s.store), new Date())
      this.out(formatLocks(s.storeName, locks))
      return {store: s.storeName, locks}
    } finally {
      await s.close()
    }
  }
}
