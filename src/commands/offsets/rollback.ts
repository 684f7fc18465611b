// `kbk offsets rollback SNAPSHOT`: plan putting the snapshot's groups back to exactly its offsets,
// show it, and apply it like any change (locked, snapshotted first, recorded, audited).
import {Args, Flags} from '@oclif/core'
import {runApply} from '../../app/apply.js'
import {planRollback} from '../../app/offsets.js'
import {chooseStore} from '../../app/workspace.js'
import type {ApplyOutcome} from '../../apply/apply-plan.js'
import {KbkCommand} from '../../cli/base-command.js'
import {openWorkspace} from '../../cli/context.js'
import {KbkError} from '../../errors.js'
import {formatApplySummary} from '../../format/apply-text.js'
import {formatPlanText} from '../../format/plan-text.js'
import {plainReporter, planTotals} from '../../format/progress.js'
import {hasChanges, type Plan} from '../../plan/types.js'

export default class OffsetsRollback extends KbkCommand<typeof OffsetsRollback> {
  static override description = `Put consumer groups back to the committed offsets of a snapshot (from \`kbk offsets snapshots\`).

Planned and shown like any change, per group and partition, then applied through the admin API after a new snapshot of the offsets it replaces — so a rollback can be rolled back too. Refuses a group that has active members, naming them.`

  static override examples = ['<%= config.bin %> offsets rollback 20260322T143000123Z-1a2b3c4d', '<%= config.bin %> offsets rollback 20260322T143000123Z-1a2b3c4d --auto-approve --json']
  static override args = {snapshot: Args.string({description: 'A snapshot id from `kbk offsets snapshots`.', required: true})}
  static override flags = {
    'auto-approve': Flags.boolean({description: 'Apply without asking for confirmation.'}),
    store: Flags.string({description: 'The store holding the snapshot (when the workspace has several).'}),
  }

  async run(): Promise<{plan: Plan; outcome?: ApplyOutcome}> {
    const ctx = await openWorkspace(this.flags)
    try {
      const store = chooseStore(ctx.workspace, this.flags.store)
      const plan = await planRollback(ctx, store, this.args.snapshot)
      if (!this.jsonEnabled()) process.stderr.write(formatPlanText(plan) + '\n\n')
      const errors = plan.diagnostics.filter((d) => d.severity === 'error')
      if (errors.length > 0) {
        throw new KbkError(errors[0]!.code === 'KBK_KAFKA_GROUP_ACTIVE' ? 'KBK_KAFKA_GROUP_ACTIVE' : 'KBK_PLAN_NOT_APPLYABLE', `The rollback cannot be applied: ${errors.map((d) => d.message).join(' ')}`, {
          ...(errors[0]!.suggestion ? {suggestion: errors[0]!.suggestion} : {}),
          details: {diagnostics: errors},
        })
      }
      if (!hasChanges(plan)) return {plan}
      if (!this.flags['auto-approve']) {
        if (!this.canPrompt(false)) throw new KbkError('KBK_APPROVAL_REQUIRED', 'kbk offsets rollback needs approval, and nobody can answer here.', {suggestion: 'Pass --auto-approve.'})
        if (!(await this.askYes('Do you want to perform these actions?', 'kbk will commit the offsets shown above.'))) throw new KbkError('KBK_APPLY_CANCELLED', 'Rollback cancelled: nothing was changed.', {suggestion: "Type 'yes' to approve, or pass --auto-approve."})
      }
      const reporter = this.jsonEnabled() ? {emit: () => {}} : plainReporter({totals: planTotals(plan.resource_changes)})
      const outcome = await runApply(ctx, plan, {reporter, lockTimeoutMs: 0})
      if (!this.jsonEnabled()) process.stderr.write('\n' + formatApplySummary(outcome) + '\n')
      if (!outcome.ok) process.exitCode = 1
      return {plan, outcome}
    } finally {
      await ctx.close()
    }
  }
}
