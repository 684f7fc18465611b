// Wraps the restore executor for drills (docs/drills.md): a plain restore passes through; for a
// drill (a restore into scratch topics, planned by plan/planners/drill.ts) the restore is followed
// by validation record by record (drill/validate.ts), the RTO measured from the start to the last
// record validated, cleanup of the scratch topics, and an evidence object linked into the audit
// trail — pass or fail.
import {createHash} from 'node:crypto'
import {performance} from 'node:perf_hooks'
import type {RestoreExecutor} from '../apply/apply-plan.js'
import {appendAuditEntry} from '../audit/audit-log.js'
import {writeEvidence, type DrillEvidence} from '../audit/evidence.js'
import {KbkError, asKbkError} from '../errors.js'
import type {WorkspaceContext} from './workspace.js'

export interface DrillOutcome {
  evidence: DrillEvidence
  evidence_key: string
}

/**
 * Wraps the restore executor: a plain restore passes through; a drill is validated, timed,
 * cleaned up and evidenced. Results land in `results` by address, for `kbk drill` to print.
 */
export function drillingExecutor(ctx: Pick<WorkspaceContext, 'kafka' | 'keyring' | 'who' | 'kbkVersion' | 'workspace'>, inner: RestoreExecutor, results: Map<string, DrillOutcome>): RestoreExecutor {
  return async (run, address, deps) => {
    const drill = run.drill
    if (!drill) return inner(run, address, deps)
    const t0 = performance.now()
    const startedAt = deps.now().toISOString()
    const kafka = ctx.kafka(run.cluster)
    const reasons: string[] = []
    let validation: Awaited<ReturnType<typeof import('../drill/validate.js').validateDrillRestore>> | undefined
    let tally = deps.tally
    let failure: unknown
    try {
      tally = await inner(run, address, deps)
      const restored = deps.committer.current.snapshot.restores[run.name]
      if (!restored) throw new KbkError('KBK_INTERNAL', `Drill "${drill.intent}": the restore left no record in the state.`, {kind: 'internal'})
      const {validateDrillRestore} = await import('../drill/validate.js')
      validation = await validateDrillRestore(run, restored, {
        store: deps.store,
        kafka,
        snapshot: deps.committer.current.snapshot,
        loadSegments: (policy, topic) => deps.state.loadSegments(deps.committer.current.snapshot, policy, topic),
        keyring: ctx.keyring(run.policy),
      })
      reasons.push(...validation.reasons)
    } catch (error) {
      failure = error
      const e = asKbkError(error)
      reasons.push(`the drill did not complete: ${e.code}: ${e.message}`)
    }
    const measured = Math.round(performance.now() - t0)
    const rtoOk = drill.rto_ms === null || measured <= drill.rto_ms
    if (!rtoOk) reasons.push(`measured RTO ${formatMs(measured)} is over the target ${formatMs(drill.rto_ms!)}`)
    let cleanup: DrillEvidence['cleanup'] = 'kept'
    if (drill.cleanup && kafka.deleteTopics) {
      try {
        await kafka.deleteTopics(run.topics.map((t) => t.target_topic))
        cleanup = 'deleted'
      } catch (error) {
        cleanup = 'failed'
        deps.reporter.emit({type: 'warning', address, message: `could not delete the drill's scratch topics: ${asKbkError(error).message}`})
      }
    }
    const result = reasons.length === 0 ? 'pass' : 'fail'
    const evidence: DrillEvidence = {
      kind: 'kbk.drill-evidence',
      version: 1,
      drill: drill.intent,
      run_id: createHash('sha256').update(`${run.name}|${startedAt}`).digest('hex').slice(0, 12),
      who: ctx.who,
      started_at: startedAt,
      finished_at: deps.now().toISOString(),
      kbk_version: ctx.kbkVersion,
      workspace_digest: ctx.workspace.digest,
      policy: run.policy,
      store: run.store,
      cluster: run.cluster,
      point_in_time: run.point_in_time,
      plan_digest: `sha256:${createHash('sha256').update(JSON.stringify(run)).digest('hex')}`,
      plan: run,
      topics: validation?.topics ?? [],
      consumer_groups: validation?.consumer_groups ?? [],
      rto: {target_ms: drill.rto_ms, measured_ms: measured, ok: rtoOk},
      records: validation?.records ?? 0,
      bytes: tally.records > 0 ? tally.bytes : 0,
      cleanup,
      result,
      reasons,
    }
    const {key, sha256} = await writeEvidence(deps.store, evidence)
    // Linked into the hash chain: `kbk audit verify` re-hashes the evidence object.
    await appendAuditEntry(deps.store, {
      at: evidence.finished_at,
      who: ctx.who,
      kbk_version: ctx.kbkVersion,
      run_id: evidence.run_id,
      plan_digest: evidence.plan_digest,
      config_digest: ctx.workspace.digest,
      outcome: result === 'pass' ? 'success' : 'failed',
      actions: [{address, action: 'drill', status: result === 'pass' ? 'passed' : 'failed'}],
      counts: {records: evidence.records, rto_ms: measured, ...(drill.rto_ms !== null ? {rto_target_ms: drill.rto_ms} : {})},
      evidence: {key, sha256},
    })
    results.set(address, {evidence, evidence_key: key})
    if (failure !== undefined) throw failure
    if (result === 'fail') {
      throw new KbkError('KBK_DRILL_FAILED', `Drill "${drill.intent}" failed: ${reasons.join('; ')}. Evidence: ${key}.`, {
        suggestion: `Read the evidence (kbk drill report --format markdown), fix the cause, then run kbk drill ${drill.intent} again.`,
        details: {evidence: key, reasons},
      })
    }
    return tally
  }
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)}s`
  return `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`
}
