// The words of the plan's findings: drift messages and fixes, change notes, why a change is
// blocked. The planners decide and hand over the facts (src/plan/findings.ts); this is where
// they are worded, so changing a sentence never touches a planner. Pure.
import type {ErrorCode} from '../errors.js'
import type {BlockedFact, ConfigOrigin, DiagnosticFact, DriftFact, NoteFact, RestoreTarget} from '../plan/findings.js'
import type {PlanDiagnostic} from '../plan/types.js'
import {formatAge} from './numbers.js'

export function driftText(f: DriftFact): {message: string; fix: string} {
  switch (f.kind) {
    case 'topic-deleted':
      return {
        message: `Topic "${f.topic}" was backed up but no longer exists on cluster "${f.cluster}".`,
        fix: `Its backups are kept and restorable. If the deletion was intended, nothing to do; otherwise restore it with a restore intent from policy "${f.policy}".`,
      }
    case 'new-topic':
      return {message: `Topic "${f.topic}" matches policy "${f.policy}" and has never been backed up (${f.records} record(s) on the broker).`, fix: 'kbk apply backs it up.'}
    case 'partitions-added':
      return {message: `Topic "${f.topic}" grew from ${f.from} to ${f.to} partitions.`, fix: 'kbk apply backs up the new partitions from their earliest offset.'}
    case 'topic-recreated':
      return {
        message: `Partition ${f.partition} of "${f.topic}" is at offset ${f.high} but kbk has backed it up to ${f.next}: the topic was deleted and recreated, or truncated.`,
        fix: 'The old backups stay restorable. kbk backs up the new records from the earliest offset; check whether the recreation was intended.',
      }
    case 'data-loss':
      return {
        message: `DATA LOSS: partition ${f.partition} of "${f.topic}": offsets ${f.from}..${f.low - 1} (${f.low - f.from} record(s)) were deleted by Kafka's retention before kbk backed them up.`,
        fix: `Run kbk apply more often than the topic's retention.ms (lower the policy's rpo and schedule), or raise the topic's retention. The lost range is recorded as a gap.`,
      }
    case 'rpo-exceeded':
      return {
        message:
          `The newest backup of ${f.topics === 1 ? `topic "${f.worstTopic}"` : `${f.topics} topics (oldest: "${f.worstTopic}")`} of policy "${f.policy}" is ` +
          `${f.worstAgeMs !== null ? formatAge(f.worstAgeMs) + ' old' : 'missing'}, over its rpo of ${formatAge(f.rpoMs)}, with ${f.pending} record(s) on the cluster not backed up.`,
        fix: 'Run kbk apply now, and schedule it more often than the rpo.',
      }
    case 'drill-overdue':
      if ('cause' in f && f.cause === 'compliance') {
        return {
          message: `Policy "${f.policy}" is out of compliance${f.since ? ` since ${f.since}` : ''}: its tags (${f.tags.join(', ')}) require a passing restore drill within ${formatAge(f.withinMs)}${f.lastPass ? `; the last passing drill was ${f.lastPass}` : '; it was never drilled (no passing drill)'}.`,
          fix: `Run a drill of a restore intent from policy "${f.policy}": kbk drill NAME, or mark the intent with drill: {every: ...} and kbk apply runs it when due.`,
        }
      }
      if ('cause' in f && f.cause === 'schedule') {
        return {
          message: `Drill "${f.drill}" is overdue: its last passing run ${f.lastPass ? `was ${f.lastPass}` : 'never happened'}, and it must pass every ${formatAge(f.everyMs)}${f.lastRun && f.lastResult === 'fail' ? ` (the last run, ${f.lastRun}, failed)` : ''}.`,
          fix: `Run kbk apply (it runs due drills), or kbk drill ${f.drill}.`,
        }
      }
      return {
        message: `No restore drill of policy "${f.policy}" within ${formatAge(f.withinMs)}${f.last ? ` (last: ${f.last})` : ' (never drilled)'}, as its compliance tags require.`,
        fix: `Declare a restore intent from policy "${f.policy}" into a non-production cluster (or change its point in time) and kbk apply it.`,
      }
    case 'unknown-object':
      switch (f.cause) {
        case 'listed':
          return {message: `Object "${f.key}" is in store "${f.store}" but no state knows it${f.why ? `: ${f.why}` : ' (left by an interrupted run, or written by someone else)'}.`, fix: unknownFix(f.key)}
        case 'folder':
          return {message: `${f.count} object(s) under "${f.folder}" in store "${f.store}" are not known to any state (e.g. "${f.example}").`, fix: unknownFix(f.example)}
        case 'data-without-state':
          return {
            message: `Store "${f.store}" holds backup data (e.g. "${f.example}") but no kbk state: the state under _kbk/ was deleted, another workspace shares this prefix, or the first apply was interrupted.`,
            fix: 'Do not apply until you know which: a new backup run may remove segments it finds past its checkpoint. Restore _kbk/ from a bucket version, or give this workspace its own store prefix.',
          }
        case 'older-than-recorded':
          return {
            message: `Object "${f.key}" (partition ${f.partition} of "${f.topic}", offset ${f.offset}) is older than the oldest recorded segment (offset ${f.recordedFrom}): no state knows it (an interrupted expiry, or a copy by someone else).`,
            fix: 'Check it and delete it by hand; kbk plan --refresh-only lists every unknown object.',
          }
      }
      break
    case 'segment-missing':
      switch (f.cause) {
        case 'listed':
          return {
            message: `Segment "${f.key}" (partition ${f.partition}, offsets ${f.first}..${f.last}, ${f.records} record(s)) is recorded but missing from store "${f.store}".`,
            fix: 'Those records cannot be restored from this store. Check the bucket lifecycle rules and who deleted it; if the records are still in Kafka, restore the object from a bucket version or re-copy them.',
          }
        case 'all-of-partition':
          return {
            message: `All ${f.segments} recorded segment(s) of partition ${f.partition} (offsets ${f.first}..${f.next - 1}) are missing from store "${f.store}".`,
            fix: 'Those records cannot be restored from this store. Check the bucket lifecycle rules and who deleted them; kbk plan --refresh-only lists every missing segment.',
          }
        case 'oldest-of-partition':
          return {
            message: `The oldest segment(s) of partition ${f.partition} are missing from store "${f.store}": recorded from offset ${f.recordedFrom}, but the first object is "${f.firstKey}" (offset ${f.firstOffset}), so offsets ${f.recordedFrom}..${f.firstOffset - 1} cannot be restored.`,
            fix: 'A bucket lifecycle rule shorter than the retention tier, or a manual deletion, removed them. Fix the rule; restore the objects from a bucket version if you can. kbk plan --refresh-only lists every missing segment.',
          }
      }
      break
    case 'segment-changed':
      return {
        message: `Segment "${f.key}" in store "${f.store}" has ${f.bytes} bytes; kbk wrote ${f.written}.`,
        fix: 'Run kbk verify --deep to see whether its records can still be read; restore the object from a bucket version if not.',
      }
  }
}

function unknownFix(key: string): string {
  if (key.startsWith('_kbk/state/')) return 'Harmless to the recorded state. Delete it by hand once no kbk apply is running.'
  if (key.startsWith('data/')) return 'If an interrupted kbk apply left it, the next apply of that topic removes it; otherwise find out who wrote it, then move or delete it by hand.'
  return 'kbk does not use it: find out who wrote it, then move or delete it by hand (keep kbk\'s prefix for kbk alone).'
}

export function noteText(n: NoteFact): string {
  switch (n.kind) {
    case 'policy-unmanaged':
      return `The policy is no longer in the config${n.movedStore ? ` for store "${n.store}"` : ''}: kbk stops managing it.`
    case 'policy-backups-kept':
      return `Its ${n.segments} segment(s) in store "${n.store}" are kept and stay restorable; no backup data is deleted.`
    case 'topic-gone':
      return 'The topic was deleted from the cluster: kbk records that, and keeps its backups restorable.'
    case 'restore-changed':
      return 'The intent changed since it was applied: the restore runs again with the new settings.'
    case 'restore-resumed':
      return 'A previous run was interrupted: this run resumes it.'
    case 'retention-extended':
      return (
        `${n.targetTopic}: created with retention.ms ${n.toMs} (${formatAge(n.toMs)}) instead of ${n.fromMs} (${formatAge(n.fromMs)}): ` +
        `its oldest restored record is from ${n.oldest}, and Kafka would delete it at once (extendRetention). Lower it when you no longer need the old records.`
      )
  }
}

export function blockedText(b: BlockedFact): string {
  return `allowDestroy is not set on retention tier "${b.tier}" or policy "${b.policy}": expiry is shown but not performed. Set allowDestroy: true to let kbk delete expired backups.`
}

const DIAGNOSTIC_CODE: Record<Exclude<DiagnosticFact['kind'], 'cluster-unreachable'>, ErrorCode> = {
  'compacted-kept': 'KBK_EXPIRY_COMPACTED_KEPT',
  'restore-nothing-yet': 'KBK_RESTORE_NOTHING_YET',
  'restore-no-target-topic': 'KBK_RESTORE_NO_TARGET_TOPIC',
  'restore-target-not-empty': 'KBK_RESTORE_TARGET_NOT_EMPTY',
  'restore-timestamp-rejected': 'KBK_RESTORE_TIMESTAMP_REJECTED',
  'restore-retention': 'KBK_RESTORE_RETENTION',
}

/** The code and words of a planner's diagnostic; the planner decides its severity. */
export function diagnosticText(f: DiagnosticFact): Pick<PlanDiagnostic, 'code' | 'message' | 'suggestion'> {
  const code = f.kind === 'cluster-unreachable' ? f.code : DIAGNOSTIC_CODE[f.kind]
  switch (f.kind) {
    case 'cluster-unreachable':
      return {
        code,
        message: `Cluster "${f.cluster}" could not be read, so the backups of policy "${f.policy}" cannot be planned: ${f.error ?? 'not refreshed'}`,
        suggestion: `Check clusters.${f.cluster}.brokers, TLS/SASL settings, and that the brokers are reachable from here.`,
      }
    case 'compacted-kept': {
      const ranges = f.ranges.map((r) => `partition ${r.partition} offsets ${r.from}..${r.to} (${r.segments})`)
      const shown = ranges.length > 5 ? [...ranges.slice(0, 5), `${ranges.length - 5} more partition(s)`] : ranges
      return {
        code,
        message:
          `${f.address}: ${f.segments} segment(s) older than maxAge ${formatAge(f.maxAgeMs)} of tier "${f.tier}" are kept, not expired — ` +
          `${shown.join(', ')}; ${f.bytes} bytes, written ${f.writtenFrom} .. ${f.writtenTo}. ` +
          `Topic "${f.topic}" is compacted (cleanup.policy=${f.cleanupPolicy}): those segments hold the only copy of keys not updated since, and dropping them would lose those keys.`,
        suggestion:
          'Nothing to do to keep the state restorable: kbk keeps them on purpose, and the backup of this topic grows with its history (kbk does not compact backups yet). ' +
          'To make that explicit and silence this warning, back compacted topics up under a policy whose tier has maxAge: never.',
      }
    }
    case 'restore-nothing-yet':
      return {
        code,
        message: `${f.address}: policy "${f.policy}" has no backup of a topic matching the restore's topics yet, so there is nothing to restore; it will be planned once there is.`,
        suggestion: `Run kbk apply to back up policy "${f.policy}" first, or check restores.${f.restore}.topics.include.`,
      }
    case 'restore-no-target-topic':
      return {
        code,
        message: `${f.address}: target topic "${f.targetTopic}" does not exist on cluster "${f.cluster}".`,
        suggestion: `Set restores.${f.restore}.createTopics: true, or create the topic first.`,
      }
    case 'restore-target-not-empty':
      return {
        code,
        message: `${f.address}: target topic "${f.targetTopic}" on cluster "${f.cluster}" is not empty; restoring into it would mix records.`,
        suggestion: `Restore under another name (restores.${f.restore}.to.topicSuffix or rename), delete the topic, or set restores.${f.restore}.ifTargetNotEmpty: append.`,
      }
    case 'restore-timestamp-rejected':
      return {
        code,
        message: `${at(f)} would reject restored records (INVALID_TIMESTAMP): ${f.tooOld ? `the oldest is from ${f.oldest} (${formatAge(f.ageMs)} old)` : `the newest is from ${f.newest}, ahead of now`}, but its ${f.key} is ${f.value} (${formatAge(f.valueMs)}, from ${originText(f.origin)}).`,
        suggestion: f.create
          ? `Set restores.${f.restore}.configs."${f.key}": "${f.needed}" (or a later point in time).`
          : `Raise it first: kafka-configs.sh --alter --entity-type topics --entity-name ${f.targetTopic} --add-config ${f.key}=${f.needed}; or restore into a new topic (to.topicSuffix with createTopics: true).`,
      }
    case 'restore-retention':
      return {
        code,
        message:
          `${at(f)} would delete restored records right after the restore: the oldest is from ${f.oldest} (${formatAge(f.ageMs)} old), ` +
          `but its retention.ms is ${f.retention} (${formatAge(f.retentionMs)}, from ${originText(f.origin)}); Kafka deletes by record timestamp at its next retention check.`,
        suggestion: f.create
          ? `Set restores.${f.restore}.extendRetention: true (kbk creates the topic with retention.ms ${f.needed}, ${formatAge(f.needed)}: the oldest record is kept ${formatAge(f.retentionMs)} from now), ` +
            `or set restores.${f.restore}.configs."retention.ms" to at least ${f.atLeast} (or -1), or restore from a later point in time.`
          : `Raise the topic's retention first: kafka-configs.sh --alter --entity-type topics --entity-name ${f.targetTopic} --add-config retention.ms=${f.needed} (or -1); ` +
            `or restore into a new topic (restores.${f.restore}.to.topicSuffix, createTopics: true, extendRetention: true).`,
      }
  }
}

function at(t: RestoreTarget): string {
  return `${t.address}: target topic "${t.targetTopic}" on cluster "${t.cluster}"`
}

function originText(o: ConfigOrigin): string {
  switch (o.kind) {
    case 'intent':
      return `restores.${o.restore}.configs`
    case 'source-recorded':
      return `the recorded configs of source topic "${o.sourceTopic}"`
    case 'topic-own':
      return `the topic's own config on cluster "${o.cluster}"`
    case 'broker-default':
      return `the broker default of cluster "${o.cluster}"`
    case 'kafka-default':
      return `Kafka's default (the broker settings of cluster "${o.cluster}" could not be read)`
  }
}
