// What the planners found, as data: the facts behind each drift finding and note. The words
// people read are rendered from these in src/format/plan-findings.ts (the planners decide, the
// formatter words it), and land in the plan's `message`, `fix` and `notes` unchanged.
import type {ErrorCode} from '../errors.js'

/** The facts of one drift finding, by kind (and, where one kind has several causes, by cause). */
export type DriftFact =
  | {kind: 'topic-deleted'; topic: string; cluster: string; policy: string}
  | {kind: 'new-topic'; topic: string; policy: string; records: number}
  | {kind: 'partitions-added'; topic: string; from: number; to: number}
  | {kind: 'topic-recreated'; topic: string; partition: number; high: number; next: number}
  | {kind: 'data-loss'; topic: string; partition: number; from: number; low: number}
  | {kind: 'rpo-exceeded'; policy: string; rpoMs: number; topics: number; worstTopic: string; worstAgeMs: number | null; pending: number}
  | {kind: 'drill-overdue'; policy: string; withinMs: number; last: string | undefined}
  | {kind: 'drill-overdue'; cause: 'compliance'; policy: string; withinMs: number; lastPass: string | undefined; since: string | undefined; tags: string[]}
  | {kind: 'drill-overdue'; cause: 'schedule'; drill: string; everyMs: number; lastPass: string | undefined; lastRun: string | undefined; lastResult: 'pass' | 'fail' | undefined}
  | {kind: 'unknown-object'; cause: 'listed'; store: string; key: string; why: string | undefined}
  | {kind: 'unknown-object'; cause: 'folder'; store: string; folder: string; count: number; example: string}
  | {kind: 'unknown-object'; cause: 'data-without-state'; store: string; example: string}
  | {kind: 'unknown-object'; cause: 'older-than-recorded'; key: string | null; partition: number; topic: string; offset: number; recordedFrom: number}
  | {kind: 'segment-missing'; cause: 'listed'; store: string; key: string; partition: number; first: number; last: number; records: number}
  | {kind: 'segment-missing'; cause: 'all-of-partition'; store: string; partition: number; segments: number; first: number; next: number}
  | {kind: 'segment-missing'; cause: 'oldest-of-partition'; store: string; partition: number; recordedFrom: number; firstKey: string | null; firstOffset: number}
  | {kind: 'segment-changed'; store: string; key: string; bytes: number; written: number}

/** The facts of one note under a change. */
export type NoteFact =
  | {kind: 'policy-unmanaged'; store: string; movedStore: boolean}
  | {kind: 'policy-backups-kept'; store: string; segments: number}
  | {kind: 'topic-gone'}
  | {kind: 'restore-changed'}
  | {kind: 'restore-resumed'}
  | {kind: 'retention-extended'; targetTopic: string; fromMs: number; toMs: number; oldest: string | undefined}

/** Why a change is shown but not performed. */
export type BlockedFact = {kind: 'allow-destroy-unset'; tier: string; policy: string}

/** Where a target topic's effective config value comes from (restore checks name it). */
export type ConfigOrigin =
  | {kind: 'intent'; restore: string}
  | {kind: 'source-recorded'; sourceTopic: string}
  | {kind: 'topic-own'; cluster: string}
  | {kind: 'broker-default'; cluster: string}
  | {kind: 'kafka-default'; cluster: string}

/** The target topic a restore check is about. */
export interface RestoreTarget {
  address: string
  restore: string
  targetTopic: string
  cluster: string
}

/** The facts of a plan diagnostic found by the planners (not by the config rules). */
export type DiagnosticFact =
  | {kind: 'cluster-unreachable'; code: ErrorCode; cluster: string; policy: string; error: string | undefined}
  | {
      kind: 'compacted-kept'
      address: string
      topic: string
      tier: string
      maxAgeMs: number
      cleanupPolicy: string | undefined
      segments: number
      ranges: Array<{partition: number; from: number; to: number; segments: number}>
      bytes: number
      writtenFrom: string
      writtenTo: string
    }
  | {kind: 'restore-nothing-yet'; address: string; restore: string; policy: string}
  | ({kind: 'restore-no-target-topic' | 'restore-target-not-empty'} & RestoreTarget)
  | ({
      kind: 'restore-timestamp-rejected'
      create: boolean
      tooOld: boolean
      oldest: string
      ageMs: number
      newest: string
      key: string
      value: string | undefined
      valueMs: number
      origin: ConfigOrigin
      needed: number
    } & RestoreTarget)
  | ({
      kind: 'restore-retention'
      create: boolean
      oldest: string
      ageMs: number
      retention: string | undefined
      retentionMs: number
      origin: ConfigOrigin
      needed: number
      atLeast: number
    } & RestoreTarget)
