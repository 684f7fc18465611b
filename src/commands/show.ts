// `kbk show [PLANFILE]`: a saved plan, or the current state, for people or --json.
import {Args, Flags} from '@oclif/core'
import {KbkCommand} from '../cli/base-command.js'
import {openWorkspaceStore} from '../cli/context.js'
import {formatPlanText} from '../format/plan-text.js'
import {formatCount} from '../format/numbers.js'
import {formatTable} from './backups/list.js'
import {listBackups} from '../inventory/backups.js'
import {readPlanFile} from '../cli/plan-file-io.js'
import {decodePlanFile} from '../plan/plan-file.js'
import type {Plan} from '../plan/types.js'
import type {StateSnapshot} from '../state/types.js'

export default class Show extends KbkCommand<typeof Show> {
  static override description = 'Show a saved plan, or (without PLANFILE) the current recorded state.'
  static override args = {planfile: Args.string({description: 'A plan saved with `kbk plan --out FILE`.', ignoreStdin: true})}
  static override flags = {store: Flags.string({description: 'The store whose state to show (when the workspace has several).'})}

  async run(): Promise<{plan: Plan} | {state: StateSnapshot}> {
    if (this.args.planfile) {
      const plan = decodePlanFile(await readPlanFile(this.args.planfile), this.args.planfile)
      this.out(`Saved plan made ${plan.created_at} by kbk ${plan.kbk_version} against ${Object.entries(plan.states).map(([s, v]) => `store "${s}" serial ${v.serial}`).join(', ')}\n`)
      this.out(formatPlanText(plan))
      return {plan}
    }
    const s = await openWorkspaceStore(this.flags)
    try {
      const {snapshot} = await s.state.read()
      this.out(`State of store "${s.storeName}": lineage ${snapshot.lineage}, serial ${snapshot.serial}, written by kbk ${snapshot.kbk_version} at ${snapshot.updated_at}`)
      this.out(`Policies: ${Object.keys(snapshot.policies).sort().join(', ') || '(none)'}`)
      this.out(`Restores: ${Object.values(snapshot.restores).map((r) => `${r.name} (${r.status}, ${r.point_in_time}, ${formatCount(r.records)} records)`).join(', ') || '(none)'}\n`)
      const rows = listBackups(snapshot)
      if (rows.length > 0) this.out(formatTable(rows))
      return {state: snapshot}
    } finally {
      await s.close()
    }
  }
}
