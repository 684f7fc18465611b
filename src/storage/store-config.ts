// Store configuration as the config loader hands it over (keys match the workspace YAML), and the
// context every adapter error is labelled with. No I/O here.

/**
 * A secret arrives either as a plain string or as src/config/secret.ts's `Secret` (anything with
 * `reveal()`). Typed structurally: the storage layer must not import the config layer.
 */
export type SecretValue = string | {reveal(): string}

export function revealSecret(v: SecretValue | undefined): string | undefined {
  if (v === undefined) return undefined
  return typeof v === 'string' ? v : v.reveal()
}

export interface FsStoreConfig {
  type: 'fs'
  /** A directory; relative paths are resolved against the workspace directory (ctx.cwd). */
  path: string
  prefix?: string
}

export interface S3StoreConfig {
  type: 's3'
  bucket: string
  region: string
  prefix?: string
  /** MinIO and other S3-compatible servers. */
  endpoint?: string
  forcePathStyle?: boolean
  /** Omit all three to use the SDK's default chain (env, shared files, SSO, instance roles). */
  accessKeyId?: SecretValue
  secretAccessKey?: SecretValue
  sessionToken?: SecretValue
  /**
   * Object Lock: undefined = detect from the bucket; true = require it (capabilities() fails when the
   * bucket lacks it); false = never ask for it, even on a bucket that has it.
   */
  objectLock?: boolean
}

export interface AzureStoreConfig {
  type: 'azure'
  container: string
  prefix?: string
  /** Either a connection string, or accountUrl with accountName+accountKey, or accountUrl with sasToken,
   *  or accountUrl alone (DefaultAzureCredential: env, workload/managed identity, az login). */
  connectionString?: SecretValue
  accountUrl?: string
  accountName?: string
  accountKey?: SecretValue
  sasToken?: SecretValue
}

export interface GcsStoreConfig {
  type: 'gcs'
  bucket: string
  prefix?: string
  projectId?: string
  /** fake-gcs-server and other emulators, e.g. http://127.0.0.1:4443 */
  apiEndpoint?: string
  /** A service-account key file; omit for Application Default Credentials. */
  keyFilename?: string
}

export type StoreConfig = FsStoreConfig | S3StoreConfig | AzureStoreConfig | GcsStoreConfig

export interface SourcePosition {
  file: string
  line: number
  column: number
}

/** Who is asking: lets every error say `store "primary" (kbk.yaml:12:5)`. */
export interface StoreContext {
  /** The store's name in the workspace (stores.<name>). */
  name: string
  position?: SourcePosition
  /** The workspace directory; fs paths are resolved against it. Defaults to process.cwd(). */
  cwd?: string
}
