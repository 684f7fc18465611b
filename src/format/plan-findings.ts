// The words of the plan's findings: drift messages and fixes, change notes, why a change is
// blocked. The planners decide and hand over the facts (src/plan/findings.ts); this is where
// they are worded, so changing a sentence never touches a planner. Pure.
import type {BlockedFact, DriftFact, NoteFact} from '../plan/findings.js'
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
