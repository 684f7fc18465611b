// The normalized workspace: defaults applied, durations in milliseconds (null = never), regexes
// compiled beside their source, names resolved, secrets wrapped. This is what the rest of kbk reads.
import type {ConfigPath, SourcePosition} from './diagnostics.js'
import type {Secret} from './secret.js'

export interface Pattern {
  /** As written (for messages, plans and state). */
  source: string
  /** Anchored: matches the whole name only. */
  regex: RegExp
}

export interface Selection {
  include: Pattern[]
  exclude: Pattern[]
}

export interface TlsConfig {
  /** Absolute paths (relative ones are resolved against the declaring file's directory). */
  ca?: string
  cert?: string
  key?: string
  rejectUnauthorized: boolean
}

export interface SaslConfig {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'
  username: Secret
  password: Secret
}

export interface ClusterConfig {
  name: string
  brokers: string[]
  /** Undefined: plaintext. */
  tls?: TlsConfig
  sasl?: SaslConfig
  clientId: string
  connectionTimeoutMs: number
}

export interface FsStoreConfig {
  name: string
  type: 'fs'
  /** For the cost projection of `kbk status --by`. */
  pricePerGiBMonth?: number
  /** Absolute directory. */
  path: string
  prefix: string
}

export interface S3StoreConfig {
  name: string
  type: 's3'
  /** For the cost projection of `kbk status --by`. */
  pricePerGiBMonth?: number
  bucket: string
  region: string
  prefix: string
  endpoint?: string
  forcePathStyle: boolean
  accessKeyId?: Secret
  secretAccessKey?: Secret
  sessionToken?: Secret
  /** unset: detect from the bucket; true: require Object Lock; false: never use it. */
  objectLock?: boolean
}

export interface AzureStoreConfig {
  name: string
  type: 'azure'
  /** For the cost projection of `kbk status --by`. */
  pricePerGiBMonth?: number
  container: string
  prefix: string
  connectionString?: Secret
  accountUrl?: string
  accountName?: string
  accountKey?: Secret
  sasToken?: Secret
}

export interface GcsStoreConfig {
  name: string
  type: 'gcs'
  /** For the cost projection of `kbk status --by`. */
  pricePerGiBMonth?: number
  bucket: string
  prefix: string
  projectId?: string
  apiEndpoint?: string
  /** Absolute path. */
  keyFilename?: string
}

export type StoreConfig = FsStoreConfig | S3StoreConfig | AzureStoreConfig | GcsStoreConfig

export interface SchemaRegistryConfig {
  name: string
  /** Base URL of the Confluent-compatible API, without a trailing slash. */
  url: string
  /** Credentials are named by environment variable; the composition root reads them. */
  auth?: {type: 'basic'; usernameEnv: string; passwordEnv: string} | {type: 'bearer'; tokenEnv: string}
  tls?: {ca?: string; rejectUnauthorized: boolean}
}

export interface RetentionTier {
  name: string
  /** As written: 90d, 7y, never. */
  maxAge: string
  /** null: never expires. */
  maxAgeMs: number | null
  minKeep: number
  immutable: boolean
  allowDestroy: boolean
}

export interface ComplianceTag {
  name: string
  builtin: boolean
  description: string
  minRetentionMs?: number | null
  maxRetentionMs?: number
  requireImmutable: boolean
  requireEncryption: boolean
  requireDrillWithinMs?: number
}

export interface EncryptionKey {
  keyId: string
  /** The 32-byte key, base64. Undefined only when a keyFile could not be read at load time
   * (a plan on a machine without the key still works; apply must refuse). */
  key?: Secret
  keyFile?: string
}

export interface EncryptionConfig extends EncryptionKey {
  previousKeys: EncryptionKey[]
}

export interface PolicyConfig {
  name: string
  description?: string
  cluster: string
  store: string
  topics: Selection
  internalTopics: boolean
  /** The tier's name, and the tier itself. */
  retention: string
  tier: RetentionTier
  tags: string[]
  /** The workspace's default labels overridden by the policy's own. */
  labels: Record<string, string>
  /** The policy's own allowDestroy, else the tier's. */
  allowDestroy: boolean
  rpo?: string
  rpoMs?: number
  compression: {codec: 'zstd' | 'none'; level: number}
  encryption?: EncryptionConfig
  consumerGroups: Selection
  segment: {maxBytes: number; maxRecords?: number}
  masking?: {fields: string[]; mode: 'redact' | 'hash'}
  /** What apply reads back after each backup before it reports success (default shallow). */
  verify: 'deep' | 'shallow' | 'off'
  /** Copies in other stores, each with its own retention tier (the policy's when not given). */
  replicas: ReplicaConfig[]
  /** The registry whose subjects each backup run snapshots. */
  schemaRegistry?: string
  /** Undefined: the TopicNameStrategy subjects of the backed-up topics plus their references. */
  subjects?: Selection  /** Bytes (record keys + values) and records per second over a whole run; sizes resolved to numbers. */
  rateLimit?: {bytesPerSecond: number; recordsPerSecond?: number}

}

export interface ReplicaConfig {
  store: string
  /** The tier's name, and the tier itself. */
  retention: string
  tier: RetentionTier
}

export interface RestoreConfig {
  name: string
  description?: string
  /** `store`: read from this copy (a replica of the policy) instead of the policy's store. */
  from: {policy: string; pointInTime: string; store?: string}
  to: {cluster: string; topicSuffix?: string; rename: Record<string, string>; schemaRegistry?: string}
  topics: Selection
  createTopics: boolean
  partitions?: number
  configs: Record<string, string>
  partitionMapping?: Record<number, number>
  consumerGroups: {translate: string[]}
  ifTargetNotEmpty: 'fail' | 'append'
  extendRetention: boolean
  /** Set when the intent is a recovery drill (docs/drills.md). */
  drill?: DrillConfig
  /** A Kafka Streams application restored as one (docs/offsets.md). */
  streams?: {applicationId: string}
  /** With to.schemaRegistry: a record whose schema ID the snapshot lacks stops the restore, or is copied unchanged. */
  unknownSchemaIds: 'fail' | 'copy'  /** As on policies: the restore produces no faster. */
  rateLimit?: {bytesPerSecond: number; recordsPerSecond?: number}
  /** Compression of the batches produced to the target; absent: auto (none on loopback, lz4 elsewhere). */
  compression?: 'auto' | 'none' | 'lz4' | 'zstd'

}

export interface DrillConfig {
  /** As written, and in ms: due when the last passing drill is older. */
  every?: string
  everyMs?: number
  rto?: string
  rtoMs?: number
  /** Delete the scratch topics afterwards (default true). */
  cleanup: boolean
}

export type OffsetResetTo = 'restored' | 'earliest' | 'latest' | 'timestamp' | 'snapshot'

/** A declared consumer offset reset (docs/offsets.md). */
export interface OffsetResetConfig {
  name: string
  description?: string
  cluster: string
  /** As written; the store it uses is resolved by `offsetResetStore` (config/offset-resets.ts). */
  store?: string
  groups: Pattern[]
  /** Empty: every topic the group has committed offsets for. */
  topics: Pattern[]
  to: OffsetResetTo
  restore?: string
  timestamp?: string
  snapshot?: string
  ifActive: 'fail' | 'wait'
  waitTimeout?: string
  waitTimeoutMs?: number
}

export interface Workspace {
  version: 1
  /** Files it was loaded from, as displayed. */
  files: string[]
  /** sha256 over the files' bytes in sorted order (never over interpolated values). */
  digest: string
  clusters: Record<string, ClusterConfig>
  stores: Record<string, StoreConfig>
  retention: Record<string, RetentionTier>
  /** Workspace-defined tags only; built-ins are in `builtinTags`. */
  compliance: Record<string, ComplianceTag>
  policies: Record<string, PolicyConfig>
  restores: Record<string, RestoreConfig>
  /** Default labels of every policy. */
  labels: Record<string, string>
  /** Absent in workspaces built by hand (tests): read it as `ws.offsetResets ?? {}`. */
  offsetResets?: Record<string, OffsetResetConfig>
  schemaRegistries: Record<string, SchemaRegistryConfig>
  /** Source position of any config path, e.g. ['policies', 'orders', 'retention']. */
  positionOf(path: ConfigPath): SourcePosition | undefined
  /** True when the value at this path came (partly) from the environment: never print it. */
  isFromEnv(path: ConfigPath): boolean
  /** True when the value at this path was written literally in the file (no ${...}). */
  isLiteral(path: ConfigPath): boolean
}

export const DEFAULTS = {
  clientId: 'kbk',
  connectionTimeoutMs: 10_000,
  minKeep: 1,
  compressionLevel: 3,
  // 16 MiB uncompressed: an open segment per partition being backed up is held in memory (compressed)
  // until it is written, so this bounds apply's memory; larger means fewer, bigger objects.
  segmentMaxBytes: 16 * 1024 * 1024,
  pointInTime: 'latest',
  maskingMode: 'redact',
} as const

/** Keys whose values are credentials: always Secret once loaded, and never printed. */
export const SENSITIVE_KEYS: ReadonlySet<string> = new Set(['username', 'password', 'accessKeyId', 'secretAccessKey', 'sessionToken', 'connectionString', 'accountKey', 'sasToken', 'key'])

/** Is this config path a credential? (`key` only counts under encryption, not under tls.) */
export function isSensitivePath(path: ConfigPath): boolean {
  const last = String(path[path.length - 1] ?? '')
  if (!SENSITIVE_KEYS.has(last)) return false
  if (last === 'key') return path.includes('encryption')
  return true
}
