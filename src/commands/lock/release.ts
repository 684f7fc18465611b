// `kbk lock release ID`: break a lock deliberately. Its holder, if still alive, learns at its
// next heartbeat and stops before writing the state; the state's own conditional writes mean
// even a late writer cannot overwrite another run's commit.
import {Args, Flags} from '@oclif/core'
import {KbkCommand} from '../../cli/base-command.js'
import {openWorkspaceStore} from '../../cli/context.js'
import {KbkError} from '../../errors.js'
import {readLocks, releaseLock} from '../../state/lock.js'
import type {LockInfo} from '../../state/lock.js'

export default class LockRelease extends KbkCommand<typeof LockRelease> {
  static override description = `Release (break) the store lock with this id. Only do this when you are sure its holder is dead: see \`kbk lock list\`.`
  static override examples = ['<%= config.bin %> lock release 0b9e1c4e-…', '<%= config.bin %> lock release 0b9e1c4e-… --force   # no confirmation (scripts)']
  static override args = {id: Args.string({description: 'The lock id, from `kbk lock list` or the KBK_LOCKED error.', required: true})}
  static override flags = {
    store: Flags.string({description: 'The store (when the workspace has several).'}),
    force: Flags.boolean({description: "Don't ask for confirmation (required when no one can answer: no terminal, --json, KBK_IN_AUTOMATION)."}),
  }

  async run(): Promise<{store: string; released: LockInfo}> {
    // Like `terraform force-unlock`: breaking a live run's lock is rare and dangerous, so a person
    // confirms; a script says --force. Checked before the store is opened.
    if (!this.flags.force && !this.canPrompt()) {
      throw new KbkError('KBK_CONFIRMATION_REQUIRED', 'kbk lock release asks for confirmation, and no one can answer here (stdin is not a terminal, or --json or KBK_IN_AUTOMATION is set).', {
        suggestion: `Pass --force to release lock ${this.args.id} without asking.`,
      })
    }
    const s = await openWorkspaceStore(this.flags)
    try {
      if (!this.flags.force) {
        const held = (await readLocks(s.store)).find((l) => l.id === this.args.id)
        const holder = held ? ` It is held by ${held.who} for ${held.operation} since ${held.created} (last heartbeat ${held.heartbeat}).` : ''
        const ok = await this.askYes(`Do you really want to release lock ${this.args.id}?${holder}`, 'A run still holding it stops at its next heartbeat; release it only when you are sure that run is dead.')
        if (!ok) throw new KbkError('KBK_LOCK_RELEASE_CANCELLED', 'Lock release cancelled: the lock is still held.', {suggestion: "Type 'yes' to release it, or pass --force."})
      }
      const released = await releaseLock(s.store, this.args.id)
      this.out(`Released lock ${released.id}, held by ${released.who} for ${released.operation} since ${released.created}. If that run is still alive, it stops at its next heartbeat.`)
      return {store: s.storeName, released}
    } finally {
      await s.close()
    }
  }
}
