// Typed events the applier emits. The engine never writes to the terminal: listr2, NDJSON and
// plain CI logs are three subscribers (src/format/progress.ts), and tests use a recording reporter.

export type ApplyEvent =
  | {type: 'apply.start'; changes: number; run_id: string}
  | {type: 'lock.acquired'; store: string; lock_id: string}
  | {type: 'change.start'; address: string; action: string; detail?: string}
  | {type: 'backup.progress'; address: string; records: number; bytes: number; stored_bytes: number; partitions_done: number; partitions: number; elapsed_ms: number}
  | {type: 'segment.written'; address: string; key: string; partition: number; first_offset: number; last_offset: number; records: number; bytes: number}
  | {type: 'restore.progress'; address: string; records: number; bytes: number; topic: string}
  | {type: 'change.done'; address: string; summary: string; records?: number; bytes?: number; duration_ms: number}
  | {type: 'change.failed'; address: string; code: string; message: string}
  | {type: 'warning'; address?: string; message: string}
  | {type: 'apply.done'; ok: boolean; summary: ApplySummary; duration_ms: number; interrupted?: string}

/**
 * Counts of one apply. records, bytes, stored_bytes and segments are what the run committed (in
 * segments whose checkpoint is durable in the state), also when it failed or was interrupted.
 */
export interface ApplySummary {
  changes: number
  done: number
  failed: number
  skipped: number
  /** Changes a signal stopped part-way (present only when one did). */
  interrupted?: number
  records: number
  bytes: number
  stored_bytes: number
  segments: number
  deleted_segments: number
  restored_records: number
  /** GDPR masking (only when a policy masks): values changed, and non-JSON values left as is. */
  masked_records?: number
  unmasked_records?: number
  /** Replication (only when a plan copies to replicas): segments copied and verified, and their bytes. */
  replicated_segments?: number
  replicated_bytes?: number
}

export interface Reporter {
  emit(event: ApplyEvent): void
}

export class RecordingReporter implements Reporter {
  readonly events: ApplyEvent[] = []
  emit(event: ApplyEvent): void {
    this.events.push(event)
  }
}

export const silentReporter: Reporter = {emit: () => {}}
