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
  /** Default labels of every policy (a policy's own labels override them by key). */
  labels?: RawLabels
  /** Confluent-API schema registries (Confluent Schema Registry, Apicurio's ccompat API, Karapace), by name: policies back up their subjects, restores register them and remap schema IDs. */
  schemaRegistries?: Record<string, RawSchemaRegistry>
  /** Backup policies, by name. */
  policies?: Record<string, RawPolicy>
  /** Declared restores, by name. Once applied they are recorded and the next plan shows no change. */
  restores?: Record<string, RawRestore>
  /** Consumer group offset resets, by name: planned per group and partition, applied through the admin API after a snapshot of the groups' committed offsets (docs/offsets.md). Once applied they are recorded and the next plan shows no change. */
  offsetResets?: Record<string, RawOffsetReset>
}

/** A name: letters, digits, '-' and '_', starting with a letter or digit. */
export type RawName = string

/** Labels for reporting and cost allocation (environment, team, compliance tier), in Kubernetes syntax: keys are [prefix/]name, name up to 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit, prefix a DNS subdomain; values are up to 63 such characters, or empty. Quote values YAML reads as numbers or booleans. */
export type RawLabels = Record<string, string>

/** What a GiB stored here costs per month (any currency), for the cost projection of `kbk status --by`. */
export type RawPricePerGiBMonth = number

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
  pricePerGiBMonth?: RawPricePerGiBMonth
}

export interface RawS3Store {
  type: "s3"
  bucket: string
  region: string
  prefix?: RawPrefix
  pricePerGiBMonth?: RawPricePerGiBMonth
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
  pricePerGiBMonth?: RawPricePerGiBMonth
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
  pricePerGiBMonth?: RawPricePerGiBMonth
  projectId?: string
  /** For fake-gcs-server and other emulators. */
  apiEndpoint?: string
  /** Service account key file; omit for Application Default Credentials. */
  keyFilename?: string
}

export interface RawSchemaRegistry {
  /** Base URL of the Confluent-compatible API, e.g. http://registry:8081 or http://apicurio:8080/apis/ccompat/v7. */
  url: string
  /** Credentials, named by environment variable (the config never holds their values). */
  auth?: {
    type: "basic" | "bearer"
    /** basic: environment variable holding the user name. */
    usernameEnv?: string
    /** basic: environment variable holding the password. */
    passwordEnv?: string
    /** bearer: environment variable holding the token. */
    tokenEnv?: string
  }
  tls?: {
    /** PEM file of the CA that signed the registry's certificate. */
    ca?: string
    /** Check the registry's certificate (default: true). */
    rejectUnauthorized?: boolean
  }
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
  /** The policy's labels, over the workspace's default labels; recorded in the state with each apply, shown by `kbk backups list --label` and `kbk status`, and carried into metrics. */
  labels?: RawLabels
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
  /** Name of a registry under schemaRegistries whose subjects each backup run snapshots. */
  schemaRegistry?: RawName
  /** Subjects to back up (regexes, whole-name match; default: <topic>-key and <topic>-value of the backed-up topics, plus the subjects their schemas reference). */
  subjects?: RawSelection
  /** Fields of JSON record values to mask before they are written (GDPR data minimisation). */
  masking?: {
    fields: Array<string>
    /** redact replaces the value; hash replaces it with a SHA-256 (default: redact). */
    mode?: "redact" | "hash"
  }
  /** Read back what each backup just wrote before apply reports success: deep (checksums, decryption, decoding, offset continuity), shallow (each object exists with its size; the default) or off. */
  verify?: "deep" | "shallow" | "off"
  /** Copies of this policy's backups in other stores (e.g. another cloud), each self-sufficient for restores. */
  replicas?: Array<{
    /** Name of a store under stores (not the policy's own store). */
    store: RawName
    /** Name of a retention tier for this copy (default: the policy's). */
    retention?: RawName
  }>
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
    /** Read from this copy: the policy's store or one of its replicas (default: the policy's store). */
    store?: RawName
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
    /** Name of a registry under schemaRegistries: the policy's schema snapshot is registered there and schema IDs in the restored records are rewritten to its IDs. */
    schemaRegistry?: RawName
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
  /** A record whose schema ID is not in the snapshot: fail (default) names it and stops; copy produces it unchanged and warns. */
  unknownSchemaIds?: "fail" | "copy"
  /** fail (default) or append when a target topic already has records. */
  ifTargetNotEmpty?: "fail" | "append"
  rateLimit?: RawRateLimit
  /** How the record batches produced to the target cluster are compressed: auto (default) sends them uncompressed to a broker on this machine's loopback interface and lz4 to any other; none, lz4 or zstd choose outright (lz4 puts a third of the bytes on the link and the target's disk, at CPU cost on both ends; zstd, compressed on kbk's worker threads at level 3, about a fifth, and needs Kafka 2.1 or newer). */
  compression?: "auto" | "none" | "lz4" | "zstd"
  /** Run this restore as a recovery drill: into scratch topics, validated record by record against the backup, timed against rto, with evidence in the store (docs/drills.md). */
  drill?: {
    /** The plan shows the drill as due when its last passing run is older than this, e.g. 30d. */
    every?: RawDuration
    /** Recovery time objective: a drill whose restore and validation take longer fails, e.g. 15m. */
    rto?: RawDuration
    /** Delete the scratch topics after the drill (default: true). */
    cleanup?: boolean
  }
  /** Restore a Kafka Streams application as one: its changelog (APP-*-changelog) and repartition (APP-*-repartition) topics are found by application.id; repartition topics are recreated empty, and the application's group resumes exactly after the last restored input record of each partition (docs/offsets.md). */
  streams?: {
    /** The application.id: the Streams app's consumer group and the prefix of its internal topics. */
    applicationId: string
  }
}

export interface RawOffsetReset {
  description?: string
  /** Name of a cluster under clusters: where the groups are. */
  cluster: RawName
  /** Name of a store under stores: where the snapshots of the groups' offsets and the record of the reset go (default: the store of the policies backing up this cluster, when they use one). */
  store?: RawName
  /** Consumer groups to reset: regular expressions matched against the whole group id. */
  groups: Array<RawRegex>
  /** Topics whose offsets are reset: regular expressions matched against the whole topic name (default: every topic the group has committed offsets for). */
  topics?: RawRegexList
  /** restored: the positions a restore translated (needs restore); earliest / latest: the log start / end; timestamp: the committed offsets as of a point in time, from kbk's snapshots (needs timestamp); snapshot: the offsets of one snapshot (needs snapshot). */
  to: "restored" | "earliest" | "latest" | "timestamp" | "snapshot"
  /** With to: restored, the name of a restore under restores. */
  restore?: RawName
  /** With to: timestamp, an ISO 8601 instant with a zone: the newest snapshot taken at or before it gives the offsets. */
  timestamp?: string
  /** With to: snapshot, a snapshot id from `kbk offsets snapshots`. */
  snapshot?: string
  /** When a group has active members: fail (default: the plan refuses and names them) or wait (apply waits up to waitTimeout for them to leave). */
  ifActive?: "fail" | "wait"
  /** With ifActive: wait, how long apply waits for a group to have no members (default 5m). */
  waitTimeout?: RawDuration
}
