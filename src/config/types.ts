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
  /** Absolute directory. */
  path: string
  prefix: string
}

export interface S3StoreConfig {
  name: string
  type: 's3'
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
  bucket: string
  prefix: string
  projectId?: string
  apiEndpoint?: string
  /** Absolute path. */
  keyFilename?: string
}

export type StoreConfig = FsStoreConfig | S3StoreConfig | AzureStoreConfig | GcsStoreConfig

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
  /** The policy's own allowDestroy, else the tier's. */
  allowDestroy: boolean
  rpo?: string
  rpoMs?: number
  compression: {codec: 'zstd' | 'none'; level: number}
  encryption?: EncryptionConfig
  consumerGroups: Selection
  segment: {maxBytes: number; maxRecords?: number}
  masking?: {fields: string[]; mode: 'redact' | 'hash'}
  /** Bytes (record keys + values) and records per second over a whole run; sizes resolved to numbers. */
  rateLimit?: {bytesPerSecond: number; recordsPerSecond?: number}
}

export interface RestoreConfig {
  name: string
  description?: string
  from: {policy: string; pointInTime: string}
  to: {cluster: string; topicSuffix?: string; rename: Record<string, string>}
  topics: Selection
  createTopics: boolean
  partitions?: number
  configs: Record<string, string>
  partitionMapping?: Record<number, number>
  consumerGroups: {translate: string[]}
  ifTargetNotEmpty: 'fail' | 'append'
  extendRetention: boolean
  /** As on policies: the restore produces no faster. */
  rateLimit?: {bytesPerSecond: number; recordsPerSecond?: number}
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
