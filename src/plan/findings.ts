// What the planners found, as data: the facts behind each drift finding and note. The words
// people read are rendered from these in src/format/plan-findings.ts (the planners decide, the
// formatter words it), and land in the plan's `message`, `fix` and `notes` unchanged.

/** The facts of one drift finding, by kind (and, where one kind has several causes, by cause). */
export type DriftFact =
  | {kind: 'topic-deleted'; topic: string; cluster: string; policy: string}
  | {kind: 'new-topic'; topic: string; policy: string; records: number}
  | {kind: 'partitions-added'; topic: string; from: number; to: number}
  | {kind: 'topic-recreated'; topic: string; partition: number; high: number; next: number}
  | {kind: 'data-loss'; topic: string; partition: number; from: number; low: number}
  | {kind: 'rpo-exceeded'; policy: string; rpoMs: number; topics: number; worstTopic: string; worstAgeMs: number | null; pending: number}
  | {kind: 'drill-overdue'; policy: string; withinMs: number; last: string | undefined}
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
