// GENERATED from schemas/config.schema.json by test/unit/config/schema-to-ts.ts — do not edit.
// The raw workspace as written in YAML (before defaults). Regenerate: KBK_UPDATE_RAW_TYPES=1 node scripts/test.mjs --quick raw-types

/** A kbk workspace: Kafka clusters, backup stores, retention tiers, compliance tags, backup policies and restore intents. Property order here is the canonical key order `kbk fmt` writes. */
export interface RawWorkspace {
  /** Workspace format version. Always 1. */
  version: 1
  /** Kafka connections, by name. */
  clusters?: Record<string, RawCluster>
  /** Where backups and kbk's own state live, by name. One store holds one state. */
  stores?: Record<string, RawStore>
  /** Retention tiers, by name. */
  retention?: Record<string, RawRetentionTier>
  /** Workspace-defined compliance tags beside the built-ins (gdpr, sox, hipaa, pci-dss, dora). */
  compliance?: Record<string, RawComplianceTag>
  /** Backup policies, by name. */
  policies?: Record<string, RawPolicy>
  /** Declared restores, by name. Once applied they are recorded and the next plan shows no change. */
  restores?: Record<string, RawRestore>
}

/** A name: letters, digits, '-' and '_', starting with a letter or digit. */
export type RawName = string

/** A duration: a whole number and a unit (ms, s, m, h, d, w, y = 365d), e.g. 30m, 1h, 7d, 7y. */
export type RawDuration = string

/** A duration (e.g. 7d, 90d, 7y) or `never`. */
export type RawDurationOrNever = string

/** A JavaScript regular expression matched against the whole name (it is anchored). */
export type RawRegex = string

export type RawRegexList = Array<RawRegex>

export interface RawSelection {
  /** Regexes; a name matching any is selected. */
  include: Array<RawRegex>
  /** Regexes; a name matching any is left out, even if included. */
  exclude?: RawRegexList
}

export interface RawCluster {
  /** Bootstrap brokers, host:port. */
  brokers: Array<string>
  /** true for TLS with the system CAs, or file paths for a private CA and client certificate. */
  tls?: boolean | RawTlsFiles
  sasl?: RawSasl
  /** Kafka client id (default: kbk). */
  clientId?: string
  /** How long to wait for a broker connection (default: 10s). */
  connectionTimeout?: RawDuration
}

export interface RawTlsFiles {
  /** Path of a PEM file with the CA certificate(s). */
  ca?: string
  /** Path of a PEM client certificate (mutual TLS). */
  cert?: string
  /** Path of the PEM private key of the client certificate. */
  key?: string
  /** Verify the broker certificate (default: true). Only turn off for local tests. */
  rejectUnauthorized?: boolean
}

export interface RawSasl {
  mechanism: "plain" | "scram-sha-256" | "scram-sha-512"
  /** From ${ENV}. */
  username: string
  /** From ${ENV}; never written literally. */
  password: string
}

export type RawStore = RawFsStore | RawS3Store | RawAzureStore | RawGcsStore

/** Key prefix inside the bucket/container/directory, e.g. prod/. */
export type RawPrefix = string

export interface RawFsStore {
  type: "fs"
  /** Directory, relative to the file that declares it. */
  path: string
  prefix?: RawPrefix
}

export interface RawS3Store {
  type: "s3"
  bucket: string
  region: string
  prefix?: RawPrefix
  /** For MinIO and other S3-compatible servers, e.g. http://127.0.0.1:9000. */
  endpoint?: string
  /** Path-style URLs (MinIO needs this). */
  forcePathStyle?: boolean
  /** From ${ENV}; omit to use the AWS default credential chain. */
  accessKeyId?: string
  /** From ${ENV}. */
  secretAccessKey?: string
  /** From ${ENV}. */
  sessionToken?: string
  /** The bucket has S3 Object Lock enabled: immutable tiers set a retention date on every object. */
  objectLock?: boolean
}

export interface RawAzureStore {
  type: "azure"
  container: string
  prefix?: RawPrefix
  /** From ${ENV}. Alternative to accountUrl. */
  connectionString?: string
  /** https://<account>.blob.core.windows.net (or an Azurite URL). Without a key or SAS token, DefaultAzureCredential is used. */
  accountUrl?: string
  /** With accountKey: shared key auth. */
  accountName?: string
  /** From ${ENV}. */
  accountKey?: string
  /** From ${ENV}; used with accountUrl. */
  sasToken?: string
}

export interface RawGcsStore {
  type: "gcs"
  bucket: string
  prefix?: RawPrefix
  projectId?: string
  /** For fake-gcs-server and other emulators. */
  apiEndpoint?: string
  /** Service account key file; omit for Application Default Credentials. */
  keyFilename?: string
}

export interface RawRetentionTier {
  /** How long a backup is kept, counted from when kbk wrote it: e.g. 7d, 90d, 7y, or never. */
  maxAge: RawDurationOrNever
  /** Never delete the newest N backup runs, whatever their age (default: 1). */
  minKeep?: number
  /** Write-once: the store's object lock where it has one; kbk never deletes before maxAge (default: false). */
  immutable?: boolean
  /** Let apply delete expired backups (default: false: expiry is only shown). */
  allowDestroy?: boolean
}

export interface RawComplianceTag {
  description?: string
  /** The policy's tier must keep backups at least this long. */
  minRetention?: RawDurationOrNever
  /** The policy's tier must not keep backups longer than this. */
  maxRetention?: RawDuration
  /** The policy's tier must be immutable. */
  requireImmutable?: boolean
  /** The policy must encrypt its backups client-side. */
  requireEncryption?: boolean
  /** A restore drill of the policy must be declared, and applied at least this often. */
  requireDrillWithin?: RawDuration
}

export interface RawPolicy {
  description?: string
  /** Name of a cluster under clusters. */
  cluster: RawName
  /** Name of a store under stores. */
  store: RawName
  /** Topics to back up (regexes, whole-name match). */
  topics: RawSelection
  /** Let patterns match internal topics such as __consumer_offsets (default: false). */
  internalTopics?: boolean
  /** Name of a retention tier under retention. */
  retention: RawName
  /** Compliance tags: gdpr, sox, hipaa, pci-dss, dora, or one defined under compliance. */
  tags?: Array<RawName>
  /** Overrides the tier's allowDestroy for this policy. */
  allowDestroy?: boolean
  /** How stale the newest backup may get before the plan reports drift, e.g. 1h. */
  rpo?: RawDuration
  compression?: {
    codec?: "zstd" | "none"
    /** zstd level 1-19 (default: 3). */
    level?: number
  }
  encryption?: RawEncryption
  /** Consumer groups whose committed offsets are captured with each backup. */
  consumerGroups?: RawSelection
  segment?: {
    /** Roll a segment after this many uncompressed bytes (default: 16 MiB). */
    maxBytes?: number
    /** Roll a segment after this many records. */
    maxRecords?: number
  }
  /** Fields of JSON record values to mask before they are written (GDPR data minimisation). */
  masking?: {
    fields: Array<string>
    /** redact replaces the value; hash replaces it with a SHA-256 (default: redact). */
    mode?: "redact" | "hash"
  }
  rateLimit?: RawRateLimit
}

/** The brakes: at most this rate over all partitions of a run (record key + value bytes), so a backup or restore does not saturate the cluster. Split over --shard I/N, each process takes 1/N. */
export interface RawRateLimit {
  /** Bytes per second: a number, or a size such as 50MB, 40MiB, 500KiB. */
  bytesPerSecond: number | string
  /** Records per second, as well (optional). */
  recordsPerSecond?: number
}

/** Client-side AES-256-GCM encryption of segments. */
export interface RawEncryption {
  /** 32-byte key, base64, from ${ENV}. */
  key?: string
  /** File holding the key (32 raw bytes or base64). Alternative to key. */
  keyFile?: string
  /** Recorded in each segment so rotation can find the right key (default: a fingerprint of the key). */
  keyId?: string
  /** Older keys that can still decrypt older segments after a rotation. */
  previousKeys?: Array<{
    keyId: string
    key?: string
    keyFile?: string
  }>
}

export interface RawRestore {
  description?: string
  from: {
    /** Name of a policy under policies. */
    policy: RawName
    /** Restore records with timestamp <= this ISO timestamp, or `latest` (default), which the plan pins. */
    pointInTime?: string
  }
  to: {
    /** Name of a cluster under clusters. */
    cluster: RawName
    /** Appended to each source topic name, e.g. -restored. */
    topicSuffix?: string
    /** Source topic -> target topic. */
    rename?: Record<string, string>
  }
  /** Which of the policy's topics to restore (default: all). */
  topics?: RawSelection
  /** Create missing target topics with their recorded configs (default: false). */
  createTopics?: boolean
  /** Partition count of created topics (default: as recorded). */
  partitions?: number
  /** Topic config overrides for created topics. */
  configs?: Record<string, string | number | boolean>
  /** When restored records are older than a created topic's retention.ms, create it with a retention.ms that keeps them (the plan shows it) instead of refusing (default: false). */
  extendRetention?: boolean
  /** Source partition -> target partition. */
  partitionMapping?: Record<string, number>
  consumerGroups?: {
    /** Consumer groups whose committed offsets are translated onto the restored topics. */
    translate?: Array<string>
  }
  /** fail (default) or append when a target topic already has records. */
  ifTargetNotEmpty?: "fail" | "append"
  rateLimit?: RawRateLimit
}
