// `kbk lock release ID`: break a lock deliberately. Its holder, if still alive, learns at its
// next heartbeat and stops before writing the state; the state's own conditional writes mean
// even a late writer cannot overwrite another run's commit.
import {Args, Flags} from '@oclif/core'
import {KbkCommand} from '../../cli/base-command.js'
import {openWorkspaceStore} from '../../cli/context.js'
import {releaseLock} from '../../state/lock.js'
import type {LockInfo} from '../../state/lock.js'

export default class LockRelease extends KbkCommand<typeof LockRelease> {
  static override description = `Release (break) the store lock with this id. Only do this when you are sure its holder is dead: see \`kbk lock list\`.`
  static override examples = ['<%= config.bin %> lock release 0b9e1c4e-…']
  static override args = {id: Args.string({description: 'The lock id, from `kbk lock list` or the KBK_LOCKED error.', required: true})}
  static override flags = {store: Flags.string({description: 'The store (when the workspace has several).'})}

  async run(): Promise<{store: string; released: LockInfo}> {
    const s = await openWorkspaceStore(this.flags)
    try {
      const released = await releaseLock(s.store, this.args.id)
      this.out(`Released lock ${released.id}, held by ${released.who} for ${released.operation} since ${released.created}. If that run is still alive, it stops at its next heartbeat.`)
      return {store: s.storeName, released}
    } finally {
      await s.close()
    }
  }
}
