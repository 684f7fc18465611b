// `kbk plan`: refresh, diff, print. Read-only: creates no topic, joins no group, writes no object
// (except the plan file given with --out, on the local disk).
import {writeFile} from 'node:fs/promises'
import {Flags} from '@oclif/core'
import {KbkCommand} from '../cli/base-command.js'
import {makePlan} from '../app/plan.js'
import {readEnvNames} from '../config/env-names.js'
import {openWorkspace} from '../cli/context.js'
import {setColorEnabled} from '../format/colors.js'
import {formatPlanMarkdown, formatPlanText} from '../format/plan-text.js'
import {encodePlanFile} from '../plan/plan-file.js'
import {FAIL_ON_LEVELS, failingDrift, hasChanges} from '../plan/types.js'
import type {FailOn, Plan} from '../plan/types.js'
import {metricsFlags, publishPolicyLabels, startMetrics} from '../cli/metrics.js'
import {recordPlan} from '../metrics/plan-metrics.js'
import type {MetricsSession} from '../metrics/outputs.js'

export default class PlanCommand extends KbkCommand<typeof PlanCommand> {
  static override description = `Show what kbk apply would do: backups to run (exact offset ranges), policies to record, backups to expire, restores to run, and drift.

Read-only: it creates no topic, joins no consumer group and writes nothing to the store.`

  static override examples = [
    '<%= config.bin %> plan',
    '<%= config.bin %> plan --out plan.kbk && <%= config.bin %> apply plan.kbk',
    '<%= config.bin %> plan --refresh-only --detailed-exitcode   # drift job: exit 2 on warning or critical drift',
    '<%= config.bin %> plan --refresh-only --detailed-exitcode --fail-on error   # page only on critical drift',
    '<%= config.bin %> plan --format markdown > comment.md       # pull-request comment',
    `<%= config.bin %> plan --target 'backup.orders["orders.created"]'`,
  ]

  static override flags = {
    out: Flags.string({description: 'Save the plan to this file, for `kbk apply FILE`.'}),
    'detailed-exitcode': Flags.boolean({
      description: `Exit 0: nothing to do. Exit 2: changes to apply, or drift findings at or above --fail-on. Exit 1: an error (the plan is incomplete).`,
    }),
    'fail-on': Flags.string({
      description: `With --detailed-exitcode: the least severe drift that exits 2 (default: warning). error: critical findings only (data-loss, segment-missing, segment-changed, rpo-exceeded, topic-recreated, cluster-unreachable). warning: those and topic-deleted, unknown-object, drill-overdue. info: every finding, also new-topic and partitions-added, which the next apply takes care of.`,
      options: [...FAIL_ON_LEVELS],
      // No oclif default: given without --detailed-exitcode it would change nothing, silently.
      dependsOn: ['detailed-exitcode'],
    }),
    'refresh-only': Flags.boolean({description: 'Only report drift between the recorded state, the store and the clusters; propose no actions.'}),
    target: Flags.string({description: 'Limit the plan to this address (and what is under it). Repeatable.', multiple: true}),
    format: Flags.string({description: 'Output format.', options: ['text', 'json', 'markdown'], default: 'text'}),
    ...metricsFlags,
  }

  async run(): Promise<Plan> {
    const metrics = await startMetrics('plan', this.flags)
    try {
      return await this.plan(metrics)
    } finally {
      await metrics?.finish()
    }
  }

  private async plan(session: MetricsSession | undefined): Promise<Plan> {
    const ws = await openWorkspace(this.flags, session ? {metrics: session.metrics} : {})
    try {
      const runbooks = {envNames: readEnvNames(ws.workspace.files, process.cwd()), configFile: ws.workspace.files.length === 1 ? ws.workspace.files[0]! : 'kbk.yaml'}
      const plan = await makePlan(ws, {refreshOnly: this.flags['refresh-only'], targets: this.flags.target ?? [], listObjects: this.flags['refresh-only'], runbooks})
      if (session) {
        publishPolicyLabels(session.metrics, ws.workspace)
        recordPlan(session.metrics, plan, ws.workspace.policies)
      }
      if (this.flags.out) {
        await writeFile(this.flags.out, encodePlanFile(plan))
        this.info(`Saved the plan to ${this.flags.out}.`)
        this.hint(`Apply exactly this plan with: kbk apply ${this.flags.out}`)
      }
      if (!this.jsonEnabled()) {
        if (this.flags.format === 'json') process.stdout.write(JSON.stringify(plan, null, 2) + '\n')
        else if (this.flags.format === 'markdown') {
          setColorEnabled(false)
          process.stdout.write(formatPlanMarkdown(plan))
        } else process.stdout.write(formatPlanText(plan) + '\n')
      }
      const errors = plan.diagnostics.filter((d) => d.severity === 'error')
      if (errors.length > 0) process.exitCode = 1
      else if (this.flags['detailed-exitcode']) {
        const failOn = (this.flags['fail-on'] ?? 'warning') as FailOn
        const failing = failingDrift(plan.drift, failOn)
        const changed = failing.length > 0 || (!plan.refresh_only && hasChanges(plan))
        process.exitCode = changed ? 2 : 0
        const ignored = plan.drift.length - failing.length
        if (ignored > 0 && !changed) this.info(`${ignored} drift finding(s) below --fail-on ${failOn}: reported, not counted for the exit code.`)
      }
      return plan
    } finally {
      await ws.close()
    }
  }
}
