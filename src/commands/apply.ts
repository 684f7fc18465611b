// `kbk apply [PLANFILE]`: apply a saved plan exactly, or plan, show and ask for `yes`.
import {Args, Flags} from '@oclif/core'
import type {ApplyOutcome} from '../apply/apply-plan.js'
import type {ApplySummary, Reporter} from '../apply/events.js'
import {KbkCommand} from '../cli/base-command.js'
import {durationFlag} from '../cli/flags.js'
import {parseShardSpec, planToApply, runApply} from '../app/apply.js'
import type {ShardSpec} from '../apply/shard.js'
import type {ShardedApplyOutcome} from '../app/apply.js'
import {jobCompletionIndex, openWorkspace} from '../cli/context.js'
import {KbkError} from '../errors.js'
import {formatPlanText} from '../format/plan-text.js'
import {formatApplySummary, SIGNAL_EXIT_CODES} from '../format/apply-text.js'
import {formatNdjsonLine, listrReporter, ndjsonReporter, plainReporter, planTotals} from '../format/progress.js'
import {readPlanFile} from '../cli/plan-file-io.js'
import {readEnvNames} from '../config/env-names.js'
import {decodePlanFile} from '../plan/plan-file.js'
import {metricsFlags, publishPolicyLabels, startMetrics} from '../cli/metrics.js'
import {ApplyMetricsReporter, recordNoopApply} from '../metrics/apply-metrics.js'
import type {MetricsSession} from '../metrics/outputs.js'
import {formatCount} from '../format/numbers.js'

export default class ApplyCommand extends KbkCommand<typeof ApplyCommand> {
  static override description = `Run backups, expiry and restores: exactly the saved PLANFILE, or a fresh plan after you approve it.

Takes the store's lock for the whole run. Offsets are recorded only after the segment holding them is durably written, so an interrupted apply loses and duplicates nothing: run it again.

--shard I/N applies worker I's share of a saved plan, so N workers (e.g. the pods of a Kubernetes Indexed Job, --shard auto/N) apply it together; see docs/scale-out.md.

SIGINT or SIGTERM (Ctrl-C, a cancelled CI job) stops it gracefully: what is durable is committed, the lock released, and kbk exits 130 or 143 saying what was and was not done. A second signal exits at once (the lock then expires by its TTL).`

  static override examples = ['<%= config.bin %> apply', '<%= config.bin %> apply plan.kbk', '<%= config.bin %> apply --auto-approve --json   # CI: NDJSON events on stdout', '<%= config.bin %> apply plan.kbk --shard 2/4      # worker 2 of 4', '<%= config.bin %> apply plan.kbk --shard auto/4   # Indexed Job pod: JOB_COMPLETION_INDEX + 1']

  static override args = {
    planfile: Args.string({description: 'A plan saved with `kbk plan --out FILE`.', ignoreStdin: true}),
  }

  static override flags = {
    'auto-approve': Flags.boolean({description: 'Apply without asking for confirmation.'}),
    'no-input': Flags.boolean({description: 'Never prompt: fail when approval would be needed.'}),
    'lock-timeout': durationFlag({description: 'How long to wait for the lock held by another run (e.g. 90s, 2m, 1m30s).', default: 0}),
    target: Flags.string({description: 'Limit the run to this address (and what is under it). Repeatable.', multiple: true}),
    ...metricsFlags,
    shard: Flags.string({
      description: 'Apply only share I of N of the saved plan (I from 1), balanced by planned bytes; auto/N takes I from JOB_COMPLETION_INDEX + 1 (Kubernetes Indexed Jobs).',
      helpValue: 'I/N|auto/N',
    }),
  }

  async run(): Promise<ApplyOutcome | undefined> {
    // Decided before any work: an unattended job must fail at once, not after a refresh, waiting
    // for a "yes" nobody will type.
    // Checked before the workspace is opened: a misconfigured Job fails at once, saying why.
    const shard = this.flags.shard === undefined ? undefined : parseShardSpec(this.flags.shard, jobCompletionIndex())
    if (shard && !this.args.planfile) {
      throw new KbkError('KBK_USAGE', '--shard needs a saved plan: every worker must compute its share from the same plan file.', {suggestion: 'Run `kbk plan --out plan.kbk` once, then `kbk apply plan.kbk --shard I/N` on each worker.'})
    }
    if (!this.args.planfile && !this.flags['auto-approve']) this.assertCanAskApproval()
    const metrics = await startMetrics('apply', this.flags)
    try {
      return await this.apply(metrics, shard)
    } finally {
      await metrics?.finish()
    }
  }

  private async apply(session: MetricsSession | undefined, shard: ShardSpec | undefined): Promise<ApplyOutcome | undefined> {
    const ws = await openWorkspace(this.flags, session ? {metrics: session.metrics} : {})
    const policies = Object.fromEntries(Object.values(ws.workspace.policies).map((p) => [p.name, {labels: p.labels}]))
    if (session) publishPolicyLabels(session.metrics, ws.workspace)
    try {
      let saved
      if (this.args.planfile) {
        if (this.flags.target) throw new KbkError('KBK_USAGE', '--target cannot be combined with a saved plan: the plan already says what to do.', {suggestion: 'Pass --target to `kbk plan --out FILE` instead.'})
        saved = decodePlanFile(await readPlanFile(this.args.planfile), this.args.planfile)
      }
      const plan = await planToApply(ws, saved ? {saved} : {targets: this.flags.target ?? [], autoApprove: this.flags['auto-approve']}, {
        showPlan: (p) => {
          if (!this.jsonEnabled()) process.stderr.write(formatPlanText(p) + '\n\n')
        },
        approve: () => this.confirm(),
      })
      if (!plan) {
        if (session) recordNoopApply(session.metrics, policies)
        this.nothingToDo()
        return undefined
      }
      let reporter: Reporter
      let listr: ReturnType<typeof listrReporter> | undefined
      if (this.jsonEnabled()) reporter = ndjsonReporter()
      else if (process.stderr.isTTY && !this.inAutomation) {
        listr = listrReporter(plan.resource_changes.filter((ch) => !ch.blocked).map((ch) => ch.address), planTotals(plan.resource_changes))
        reporter = listr.reporter
      } else reporter = plainReporter({totals: planTotals(plan.resource_changes)})
      if (session) reporter = new ApplyMetricsReporter(session.metrics, reporter, plan, {policies})
      const rendering = listr?.run()
      let outcome: ShardedApplyOutcome
      const stop = trapStopSignals(reporter, this.jsonEnabled())
      try {
        const runbooks = {envNames: readEnvNames(ws.workspace.files, process.cwd()), configFile: ws.workspace.files.length === 1 ? ws.workspace.files[0]! : 'kbk.yaml'}
        outcome = await runApply(ws, plan, {reporter, lockTimeoutMs: this.flags['lock-timeout'], signal: stop.signal, runbooks, ...(shard ? {shard} : {})})
      } catch (error) {
        // Stopped before the lock was taken: nothing changed, and the exit code still says why.
        if (stop.received && error instanceof KbkError && error.code === 'KBK_APPLY_INTERRUPTED') {
          if (this.jsonEnabled()) process.stdout.write(formatNdjsonLine({type: 'error', error: error.toJSON()}))
          else process.stderr.write(`${error.message}\n`)
          process.exitCode = SIGNAL_EXIT_CODES[stop.received] ?? 1
          return undefined
        }
        throw error
      } finally {
        stop.dispose()
        listr?.finish()
        await rendering
      }
      if (this.jsonEnabled()) {
        process.stdout.write(formatNdjsonLine({type: 'apply.result', ...outcome}))
      } else {
        process.stderr.write('\n' + (outcome.shard ? formatShardLine(outcome.shard) + '\n' : '') + formatApplySummary(outcome) + '\n')
      }
      if (outcome.interrupted) process.exitCode = SIGNAL_EXIT_CODES[outcome.interrupted] ?? 1
      else if (!outcome.ok) process.exitCode = 1
      return undefined
    } finally {
      await ws.close()
    }
  }

  private nothingToDo(): void {
    // The same shape as a run's result line, so a script reads both alike.
    const summary: ApplySummary = {changes: 0, done: 0, failed: 0, skipped: 0, records: 0, bytes: 0, stored_bytes: 0, segments: 0, deleted_segments: 0, restored_records: 0}
    if (this.jsonEnabled()) process.stdout.write(formatNdjsonLine({type: 'apply.result', ok: true, changes: [], summary}))
    else this.info('Apply complete! Nothing to do.')
  }

  /**
   * With --json, stdout is an NDJSON stream: an error is one more event line with its `ts`, not a
   * document of another shape that breaks line-by-line readers.
   */
  protected override writeJsonError(e: KbkError): void {
    process.stdout.write(formatNdjsonLine({type: 'error', error: e.toJSON()}))
  }

  /** Approval needs a person at a terminal; say which flag to use when there is none. */
  private assertCanAskApproval(): void {
    if (this.canPrompt(this.flags['no-input'])) return
    const why = this.flags['no-input']
      ? '--no-input forbids asking for it'
      : this.jsonEnabled()
        ? '--json output is for programs, which cannot answer'
        : this.inAutomation
          ? 'KBK_IN_AUTOMATION is set, so kbk never prompts'
          : 'stdin is not a terminal, so nobody can type "yes"'
    throw new KbkError('KBK_APPROVAL_REQUIRED', `kbk apply needs approval, and ${why}.`, {
      suggestion: 'Pass --auto-approve to apply without asking, or review first: `kbk plan --out plan.kbk`, then `kbk apply plan.kbk`.',
    })
  }

  private async confirm(): Promise<void> {
    this.assertCanAskApproval()
    if (!(await this.askYes('Do you want to perform these actions?', 'kbk will perform the actions described above.'))) throw new KbkError('KBK_APPLY_CANCELLED', 'Apply cancelled: nothing was changed.', {suggestion: "Type 'yes' to approve, or pass --auto-approve in automation."})
  }
}

/** "Shard 2/4: 13 work item(s) of this plan's 48 …": which share this worker applied. */
function formatShardLine(s: NonNullable<ShardedApplyOutcome['shard']>): string {
  const total = s.planned_bytes.reduce((a, b) => a + b, 0)
  const mine = s.planned_bytes[s.index - 1] ?? 0
  const pct = total > 0 ? ` (${Math.round((100 * mine) / total)}% of the planned bytes)` : ''
  return `Shard ${s.index}/${s.count}: ${formatCount(s.items)} work item(s), ${formatCount(mine)} planned byte(s)${pct}. Run \`kbk plan\` once every shard is done: it shows what is left.`
}

/**
 * SIGINT and SIGTERM (Ctrl-C, a cancelled CI job, a stopped Kubernetes Job) stop an apply
 * gracefully: the first one aborts the returned signal, and the apply commits what is durable,
 * releases the lock and returns. A second one exits at once; the lock then expires by its TTL.
 */
function trapStopSignals(reporter: Reporter, json: boolean): {signal: AbortSignal; readonly received: NodeJS.Signals | undefined; dispose(): void} {
  const controller = new AbortController()
  let received: NodeJS.Signals | undefined
  const onSignal = (sig: NodeJS.Signals): void => {
    if (received !== undefined) {
      process.stderr.write(`\n${sig} again: exiting at once. The lock is not released: it expires by its TTL, or run \`kbk lock release ID\`.\n`)
      process.exit(SIGNAL_EXIT_CODES[sig] ?? 1)
    }
    received = sig
    const message = `${sig} received: stopping. Segments not yet written are dropped, what is durable is committed and the lock released. ${sig === 'SIGINT' ? 'Press Ctrl-C again' : 'Send it again'} to exit at once.`
    if (json) reporter.emit({type: 'warning', message})
    else process.stderr.write(`\n${message}\n`)
    controller.abort(sig)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    get received() {
      return received
    },
    dispose() {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}
