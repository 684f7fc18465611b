// One error type for the whole tool: a stable code, a message for the person reading it,
// a suggestion naming the flag or key that fixes it, whether retrying may help, and the cause.

export type ErrorKind = 'user' | 'environment' | 'conflict' | 'internal'

/**
 * Every code kbk reports, on errors and on diagnostics: its kind, whether the same call may succeed
 * later (the default of `KbkError.retriable`; a call site may say otherwise for one instance), and a
 * one-line summary. docs/errors.md is generated from this table (`node scripts/gen-errors-doc.mjs`;
 * a unit test fails when it is stale), and each entry's anchor there is the code in lower case.
 * Retry loops read `retriable` and `code`, never a message.
 */
export const ERRORS = {
  // Apply, plan files and approval
  KBK_ABORTED: {kind: 'user', retriable: false, summary: 'A read or write was cancelled (Ctrl-C, SIGTERM or a deadline) before it finished.'},
  KBK_APPLY_CANCELLED: {kind: 'user', retriable: false, summary: 'The apply was declined at the confirmation prompt; nothing was changed.'},
  KBK_APPLY_INTERRUPTED: {kind: 'user', retriable: false, summary: 'The apply was interrupted; changes that had not started are reported as not started.'},
  KBK_APPROVAL_REQUIRED: {kind: 'user', retriable: false, summary: 'kbk apply needs approval and no one can give it here; pass --auto-approve or apply a saved plan.'},
  KBK_CONFIRMATION_REQUIRED: {kind: 'user', retriable: false, summary: 'A command asks for confirmation and no one can answer (not a terminal, --json or automation).'},
  KBK_PLAN_FILE_CORRUPT: {kind: 'user', retriable: false, summary: 'The saved plan file cannot be read as a kbk plan.'},
  KBK_PLAN_FILE_INVALID: {kind: 'user', retriable: false, summary: 'The saved plan file is not a valid kbk plan.'},
  KBK_PLAN_FILE_NOT_FOUND: {kind: 'user', retriable: false, summary: 'The saved plan file does not exist.'},
  KBK_PLAN_FILE_VERSION: {kind: 'user', retriable: false, summary: 'The saved plan file was written by an incompatible kbk version.'},
  KBK_PLAN_NOT_APPLYABLE: {kind: 'user', retriable: false, summary: 'The plan has errors, so it cannot be applied.'},
  KBK_PLAN_STALE: {kind: 'user', retriable: false, summary: 'The saved plan no longer matches the workspace or the state; plan again.'},
  KBK_STORE_AMBIGUOUS: {kind: 'user', retriable: false, summary: 'The workspace has several stores and the command needs one; pass --store.'},
  KBK_TARGET_UNKNOWN: {kind: 'user', retriable: false, summary: 'A --target address names nothing kbk manages.'},
  KBK_FILTER_NO_MATCH: {kind: 'user', retriable: false, summary: 'A --policy, --topic or similar filter matches nothing.'},
  KBK_USAGE: {kind: 'user', retriable: false, summary: 'The command line is wrong: an unknown flag, a missing argument or flags that conflict.'},
  KBK_SHARD_INVALID: {kind: 'user', retriable: false, summary: '`--shard` is not I/N or auto/N, or JOB_COMPLETION_INDEX is missing or out of range.'},
  KBK_INIT_EXISTS: {kind: 'user', retriable: false, summary: 'kbk init would overwrite an existing workspace file.'},
  KBK_INIT_PATH: {kind: 'user', retriable: false, summary: 'kbk init cannot write to the given path.'},
  KBK_SCHEMA_OUT: {kind: 'user', retriable: false, summary: 'kbk schema cannot write the --out file.'},
  KBK_NOT_FOUND: {kind: 'user', retriable: false, summary: 'The backup asked for is not recorded in the store.'},
  KBK_NOT_SUPPORTED: {kind: 'internal', retriable: false, summary: 'The operation is not available in this build.'},
  KBK_INTERNAL: {kind: 'internal', retriable: false, summary: 'A bug in kbk: please report it with the command and the whole output.'},
  KBK_BACKUP_INCOMPLETE: {kind: 'environment', retriable: true, summary: 'A backup stopped before the planned offset; the next run continues from the last durable segment.'},
  KBK_AUDIT_CONFLICT: {kind: 'conflict', retriable: false, summary: 'Another writer appended to the audit log at the same time.'},
  KBK_AUDIT_CORRUPT: {kind: 'environment', retriable: false, summary: 'An audit log entry cannot be read or its hash chain does not verify.'},

  // Workspace configuration (diagnostics of kbk validate / plan)
  KBK_CONFIG_BAD_DURATION: {kind: 'user', retriable: false, summary: 'A duration is not a whole number with a unit (ms, s, m, h, d, w, y), or is zero.'},
  KBK_CONFIG_BAD_KEY: {kind: 'user', retriable: false, summary: 'An encryption key is not 32 bytes (AES-256).'},
  KBK_CONFIG_BAD_NAME: {kind: 'user', retriable: false, summary: 'A name is not letters, digits, "-" and "_" (at most 63 characters).'},
  KBK_CONFIG_BAD_REGEX: {kind: 'user', retriable: false, summary: 'A topic pattern is not a valid regular expression.'},
  KBK_CONFIG_BAD_TIMESTAMP: {kind: 'user', retriable: false, summary: 'A point in time is not an ISO 8601 instant with a zone, or "latest".'},
  KBK_CONFIG_CONFLICT: {kind: 'user', retriable: false, summary: 'Two settings are alternatives and both are set.'},
  KBK_CONFIG_DUPLICATE: {kind: 'user', retriable: false, summary: 'The same key, name or item is defined twice.'},
  KBK_CONFIG_ENV_SYNTAX: {kind: 'user', retriable: false, summary: 'A ${...} environment reference is malformed.'},
  KBK_CONFIG_ENV_UNSET: {kind: 'user', retriable: false, summary: 'An environment variable the workspace uses is not set and has no default.'},
  KBK_CONFIG_INCOMPLETE: {kind: 'user', retriable: false, summary: 'Settings that go together are only partly given.'},
  KBK_CONFIG_INVALID: {kind: 'user', retriable: false, summary: 'The workspace is not valid.'},
  KBK_CONFIG_KEY_FILE_UNREADABLE: {kind: 'user', retriable: false, summary: 'An encryption keyFile cannot be read here (plan works; apply and restore will not).'},
  KBK_CONFIG_LITERAL_SECRET: {kind: 'user', retriable: false, summary: 'A secret is written literally in the workspace instead of ${ENV_VAR}.'},
  KBK_CONFIG_MIN_KEEP_ZERO: {kind: 'user', retriable: false, summary: 'minKeep 0 lets expiry delete the last good backup.'},
  KBK_CONFIG_NOT_FOUND: {kind: 'user', retriable: false, summary: 'No workspace file was found (kbk.yaml, or the --config path).'},
  KBK_CONFIG_REQUIRED: {kind: 'user', retriable: false, summary: 'A required key is missing.'},
  KBK_CONFIG_RESTORE_ONTO_SOURCE: {kind: 'user', retriable: false, summary: 'A restore would write onto its own source topics.'},
  KBK_CONFIG_RESTORE_TARGET_BACKED_UP: {kind: 'user', retriable: false, summary: 'A restore writes into topics a policy backs up.'},
  KBK_CONFIG_TOO_LARGE: {kind: 'user', retriable: false, summary: 'The workspace is too large or too deep to read safely (size, entries, nesting or alias expansion past a limit).'},
  KBK_CONFIG_TYPE: {kind: 'user', retriable: false, summary: 'A value has the wrong type (a list where a mapping is expected, …).'},
  KBK_CONFIG_UNDEFINED_REF: {kind: 'user', retriable: false, summary: 'A reference names a cluster, store, tier, tag or policy that is not defined.'},
  KBK_CONFIG_UNKNOWN_KEY: {kind: 'user', retriable: false, summary: 'An unknown key (often a typo; the message suggests the nearest).'},
  KBK_CONFIG_UNREADABLE: {kind: 'user', retriable: false, summary: 'A workspace file cannot be read.'},
  KBK_CONFIG_VALUE: {kind: 'user', retriable: false, summary: 'A value is out of range or not one of the allowed values.'},
  KBK_CONFIG_YAML: {kind: 'user', retriable: false, summary: 'A workspace file is not valid YAML.'},
  KBK_ENCRYPTION_KEY_INVALID: {kind: 'user', retriable: false, summary: 'The encryption key given is not a valid 32-byte key.'},
  KBK_ENCRYPTION_KEY_MISSING: {kind: 'user', retriable: false, summary: 'A segment is encrypted and no key for it is configured.'},

  // Plan diagnostics
  KBK_EXPIRY_COMPACTED_KEPT: {kind: 'user', retriable: false, summary: 'Expiry keeps segments of a compacted topic that still hold the latest value of a key.'},
  KBK_RESTORE_NOTHING_YET: {kind: 'user', retriable: false, summary: 'A restore has no backup to restore from yet.'},
  KBK_RESTORE_NO_TARGET_TOPIC: {kind: 'user', retriable: false, summary: 'A restore target topic does not exist and the restore does not create it.'},
  KBK_RESTORE_TARGET_NOT_EMPTY: {kind: 'user', retriable: false, summary: 'A restore target topic already holds records.'},
  KBK_RETENTION_NOT_ENFORCED_BY_STORE: {kind: 'user', retriable: false, summary: 'A retention tier asks for immutability that the store does not enforce.'},

  // Restores
  KBK_RESTORE_PARTITION: {kind: 'user', retriable: false, summary: 'A restore maps onto a partition the target topic does not have.'},
  KBK_RESTORE_RETENTION: {kind: 'user', retriable: false, summary: 'Records to restore are older than the target retention; the plan is too old.'},
  KBK_RESTORE_TIMESTAMP_REJECTED: {kind: 'environment', retriable: false, summary: 'The target refused records for their timestamps (message.timestamp.*.max.ms).'},

  // Drills and post-backup verification (docs/drills.md)
  KBK_DRILL_UNKNOWN: {kind: 'user', retriable: false, summary: 'kbk drill names a restore intent the workspace does not declare.'},
  KBK_DRILL_TARGET_PRODUCTION: {kind: 'user', retriable: false, summary: 'A drill would restore into topics the policy backs up (production topics).'},
  KBK_DRILL_NOTHING_TO_RESTORE: {kind: 'user', retriable: false, summary: 'A drill has no backup to restore from yet.'},
  KBK_DRILL_FAILED: {kind: 'environment', retriable: false, summary: 'A drill ran and failed: restored data differs from the backup, offsets are missing, or the RTO was missed.'},
  KBK_DRILL_EVIDENCE: {kind: 'environment', retriable: false, summary: 'A drill\'s evidence could not be written to the store.'},
  KBK_BACKUP_VERIFY_FAILED: {kind: 'environment', retriable: false, summary: 'Reading back the segments a backup just wrote found a problem (policies.X.verify).'},
  // Consumer offsets (docs/offsets.md)
  KBK_OFFSETS_NO_GROUP: {kind: 'user', retriable: false, summary: 'An offset reset\'s group patterns match no consumer group on its cluster.'},
  KBK_OFFSETS_NO_SOURCE: {kind: 'user', retriable: false, summary: 'An offset reset has nothing to take its offsets from: no snapshot at or before its timestamp, or its restore has not run.'},
  KBK_OFFSETS_SNAPSHOT_UNKNOWN: {kind: 'user', retriable: false, summary: 'The offset snapshot asked for is not in the store.'},
  KBK_OFFSETS_WAIT_TIMEOUT: {kind: 'conflict', retriable: true, summary: 'A consumer group still had active members when an offset reset\'s waitTimeout ran out.'},

  // Kafka
  KBK_KAFKA_AUTH: {kind: 'environment', retriable: false, summary: 'The cluster rejected kbk\'s credentials or the principal lacks ACLs.'},
  KBK_KAFKA_BAD_RECORDS: {kind: 'environment', retriable: false, summary: 'A broker returned record data kbk cannot decode.'},
  KBK_KAFKA_CORRUPT_BATCH: {kind: 'environment', retriable: false, summary: 'A fetched record batch failed its CRC check.'},
  KBK_KAFKA_ERROR: {kind: 'environment', retriable: false, summary: 'Another broker error; retriable when the broker said the error is transient.'},
  KBK_KAFKA_GROUP_ACTIVE: {kind: 'conflict', retriable: true, summary: 'A consumer group has active members, so its offsets cannot be set.'},
  KBK_KAFKA_NO_BROKERS: {kind: 'user', retriable: false, summary: 'A cluster lists no brokers.'},
  KBK_KAFKA_NO_PARTITION: {kind: 'environment', retriable: false, summary: 'A topic does not have a partition the plan expects.'},
  KBK_KAFKA_NO_TOPIC: {kind: 'environment', retriable: false, summary: 'A topic does not exist on the cluster.'},
  KBK_KAFKA_OFFSET_GONE: {kind: 'environment', retriable: false, summary: 'Planned offsets were deleted by the topic\'s retention before kbk read them.'},
  KBK_KAFKA_RANGE_PAST_END: {kind: 'environment', retriable: false, summary: 'A planned range reaches past the partition\'s end (the topic was recreated or truncated).'},
  KBK_KAFKA_TLS_FILE: {kind: 'user', retriable: false, summary: 'A TLS certificate or key file cannot be read.'},
  KBK_KAFKA_TOO_LARGE: {kind: 'environment', retriable: false, summary: 'A record is larger than the target accepts (max.message.bytes).'},
  KBK_KAFKA_TOPIC_EXISTS: {kind: 'conflict', retriable: false, summary: 'A topic kbk was to create already exists.'},
  KBK_KAFKA_UNREACHABLE: {kind: 'environment', retriable: true, summary: 'The cluster\'s brokers cannot be reached.'},
  KBK_KAFKA_UNSUPPORTED: {kind: 'environment', retriable: false, summary: 'The brokers are too old for a request kbk needs.'},

  // Segments
  KBK_SEGMENT_CORRUPT: {kind: 'environment', retriable: false, summary: 'A backup segment fails its checksums or cannot be parsed.'},
  KBK_SEGMENT_EMPTY: {kind: 'internal', retriable: false, summary: 'A segment was finished with no records (a bug).'},
  KBK_SEGMENT_KEY_INVALID: {kind: 'user', retriable: false, summary: 'A segment encryption key is not valid.'},
  KBK_SEGMENT_KEY_MISSING: {kind: 'user', retriable: false, summary: 'A segment is encrypted with a key id that is not configured.'},
  KBK_SEGMENT_KEY_WRONG: {kind: 'user', retriable: false, summary: 'The configured key does not decrypt the segment.'},
  KBK_SEGMENT_OPTIONS: {kind: 'user', retriable: false, summary: 'Segment writer options are out of range.'},
  KBK_SEGMENT_ORDER: {kind: 'internal', retriable: false, summary: 'Record offsets did not increase within a segment (a bug).'},
  KBK_SEGMENT_RECORD: {kind: 'internal', retriable: false, summary: 'A record has an offset or timestamp a segment cannot store.'},
  KBK_SEGMENT_RECORD_TOO_LARGE: {kind: 'user', retriable: false, summary: 'A record is too large for a segment block.'},
  KBK_SEGMENT_TAIL_SHORT: {kind: 'internal', retriable: false, summary: 'The bytes read for a segment footer were too few (read more and retry).'},
  KBK_SEGMENT_UNSUPPORTED: {kind: 'user', retriable: false, summary: 'A segment uses a codec or feature this kbk does not support.'},
  KBK_SEGMENT_VERSION: {kind: 'user', retriable: false, summary: 'A segment was written by a newer kbk format version.'},

  // State and lock
  KBK_LOCKED: {kind: 'conflict', retriable: true, summary: 'Another kbk run holds the store lock.'},
  KBK_LOCK_LOST: {kind: 'conflict', retriable: false, summary: 'kbk lost the store lock while it ran (it was released or taken over).'},
  KBK_LOCK_NOT_FOUND: {kind: 'user', retriable: false, summary: 'The lock to release is not held, or has another id.'},
  KBK_LOCK_RELEASE_CANCELLED: {kind: 'user', retriable: false, summary: 'kbk lock release was declined at the prompt.'},
  KBK_STATE_BUSY: {kind: 'conflict', retriable: true, summary: 'The state changed under a write; retry.'},
  KBK_STATE_CONFLICT: {kind: 'conflict', retriable: false, summary: 'Another writer changed the state; plan again.'},
  KBK_STATE_CORRUPT: {kind: 'environment', retriable: false, summary: 'A state object fails its digest or cannot be parsed.'},
  KBK_STATE_MISSING: {kind: 'user', retriable: false, summary: 'The store holds backup data but no kbk state.'},
  KBK_STATE_NOT_FOUND: {kind: 'user', retriable: false, summary: 'Nothing is recorded in the state for the address.'},
  KBK_STATE_TOO_NEW: {kind: 'user', retriable: false, summary: 'The state was written by a newer kbk.'},
  KBK_RETENTION_IMMUTABLE: {kind: 'conflict', retriable: false, summary: 'A segment is write-once protected until a later date; kbk never deletes it earlier.'},

  // Object stores
  KBK_STORE_ACCESS_DENIED: {kind: 'environment', retriable: false, summary: 'The store denied access to kbk\'s credentials.'},
  KBK_STORE_BAD_CONDITION: {kind: 'internal', retriable: false, summary: 'A conditional write was asked with a condition the store cannot express (a bug).'},
  KBK_STORE_BAD_KEY: {kind: 'internal', retriable: false, summary: 'An object key is not valid (a bug).'},
  KBK_STORE_BAD_RANGE: {kind: 'internal', retriable: false, summary: 'A byte range asked for is not valid (a bug).'},
  KBK_STORE_CONFIG: {kind: 'user', retriable: false, summary: 'A store\'s settings cannot be used (credentials, endpoint, …).'},
  KBK_STORE_IO: {kind: 'environment', retriable: false, summary: 'A store request failed; retriable for throttling, 5xx and resets.'},
  KBK_STORE_NOT_FOUND: {kind: 'environment', retriable: false, summary: 'An object kbk expected in the store does not exist.'},
  KBK_STORE_NO_BUCKET: {kind: 'user', retriable: false, summary: 'The bucket or container does not exist.'},
  KBK_STORE_NO_OBJECT_LOCK: {kind: 'user', retriable: false, summary: 'The bucket has no object lock, which the retention tier needs.'},
  KBK_STORE_PRECONDITION: {kind: 'conflict', retriable: false, summary: 'A conditional write failed: another writer got there first.'},
  KBK_STORE_RETAINED: {kind: 'user', retriable: false, summary: 'An object is write-once protected; kbk will not delete or overwrite it.'},
  KBK_STORE_UNREACHABLE: {kind: 'environment', retriable: false, summary: 'The store endpoint cannot be reached.'},
  KBK_STORE_WRONG_REGION: {kind: 'user', retriable: false, summary: 'The bucket is in another region than the one configured.'},

  // Observability
  KBK_METRICS_OUTPUT: {kind: 'environment', retriable: false, summary: 'kbk cannot write --metrics-file or serve --metrics-port.'},
  // Replicas (copies of a policy's backups in other stores)
  KBK_CONFIG_REPLICA: {kind: 'user', retriable: false, summary: 'A replica is declared wrongly: it is the policy\'s own store, a store other policies back up to, listed twice, or shorter-lived than a compliance tag allows.'},
  KBK_REPLICA_CHECKSUM: {kind: 'environment', retriable: true, summary: 'A copied segment read back from the replica store does not match its recorded sha256; it was not recorded.'},
  KBK_REPLICA_SOURCE_CORRUPT: {kind: 'environment', retriable: false, summary: 'A segment read from the primary store does not match its recorded sha256, so it was not copied.'},
  KBK_REPLICA_UNREACHABLE: {kind: 'environment', retriable: true, summary: 'A replica store cannot be read; its copies are not planned until it can.'},
  KBK_STORE_UNREADABLE: {kind: 'environment', retriable: true, summary: 'A policy\'s store cannot be read, so nothing of that policy is planned (a restore can read from a replica).'},
  // Schema registry
  KBK_SCHEMA_REGISTRY_ERROR: {kind: 'environment', retriable: false, summary: 'A schema registry answered with an error or could not be reached.'},
  KBK_SCHEMA_REGISTRY_AUTH: {kind: 'user', retriable: false, summary: 'An environment variable a schema registry\'s auth names is not set.'},
  KBK_SCHEMA_INCOMPATIBLE: {kind: 'conflict', retriable: false, summary: 'A schema to restore is incompatible with the target registry; nothing was registered or produced.'},
  KBK_SCHEMA_ID_UNKNOWN: {kind: 'user', retriable: false, summary: 'A restored record carries a schema ID that the schema snapshot does not hold.'},
  KBK_SCHEMA_SNAPSHOT_MISSING: {kind: 'environment', retriable: false, summary: 'No schema snapshot of the policy was taken at or before the restore\'s point in time.'},
  KBK_SCHEMA_SNAPSHOT_CORRUPT: {kind: 'environment', retriable: false, summary: 'A schema snapshot in the store fails its checksum or cannot be read.'},
} as const satisfies Record<string, ErrorSpec>

export interface ErrorSpec {
  kind: ErrorKind
  /** The default of `KbkError.retriable`. */
  retriable: boolean
  summary: string
}

export type ErrorCode = keyof typeof ERRORS

/** Compliance rule violations: one code per tag and rule, e.g. KBK_COMPLIANCE_PCI_DSS_ENCRYPTION. */
export type ComplianceCode = `KBK_COMPLIANCE_${string}`

/** Any code a diagnostic may carry. */
export type DiagnosticCode = ErrorCode | ComplianceCode

/** Where a code is explained, relative to the repository root. */
export function errorDocs(code: ErrorCode): string {
  return `docs/errors.md#${code.toLowerCase()}`
}

export interface KbkErrorOptions {
  /** What to do about it: name the flag, key or command that fixes it. */
  suggestion?: string
  /** True when the same call may succeed later (throttling, 5xx, resets). Defaults to the code's entry in ERRORS. */
  retriable?: boolean
  /** user: a mistake in input; environment: something outside kbk (store, broker); conflict: lost race; internal: a bug. Defaults to the code's entry in ERRORS. */
  kind?: ErrorKind
  cause?: unknown
  /** Extra structured detail for --json output. Never put secrets here. */
  details?: Record<string, unknown>
}

export class KbkError extends Error {
  readonly code: ErrorCode
  readonly suggestion?: string
  readonly retriable: boolean
  readonly kind: ErrorKind
  readonly details?: Record<string, unknown>

  constructor(code: ErrorCode, message: string, options: KbkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'KbkError'
    this.code = code
    this.suggestion = options.suggestion
    this.retriable = options.retriable ?? ERRORS[code].retriable
    this.kind = options.kind ?? ERRORS[code].kind
    this.details = options.details
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      suggestion: this.suggestion,
      retriable: this.retriable,
      kind: this.kind,
      ...(this.details ? {details: this.details} : {}),
    }
  }
}

export function isKbkError(e: unknown): e is KbkError {
  return e instanceof KbkError
}

/** Wraps anything thrown that is not a KbkError as an internal error: it is a bug, and says so. */
export function asKbkError(e: unknown): KbkError {
  if (e instanceof KbkError) return e
  const message = e instanceof Error ? e.message : String(e)
  return new KbkError('KBK_INTERNAL', `Internal error: ${message}`, {
    kind: 'internal',
    cause: e,
    suggestion: 'This is a bug in kbk: please report it with the command you ran and this whole output (it ends with the stack trace).',
  })
}
