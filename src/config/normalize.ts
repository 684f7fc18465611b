// Raw (schema-shaped) values → the normalized Workspace. Pure and tolerant: it never throws on a
// wrong shape (the schema has already reported it), it falls back to defaults so that the named
// rules can still run over everything else and report every problem at once.
import {createHash} from 'node:crypto'
import {dirname, resolve} from 'node:path'
import {parseDuration} from './duration.js'
import {Secret} from './secret.js'
import {
  DEFAULTS,
  type ClusterConfig,
  type ComplianceTag,
  type DrillConfig,
  type EncryptionConfig,
  type EncryptionKey,
  type Pattern,
  type PolicyConfig,
  type RestoreConfig,
  type RetentionTier,
  type SaslConfig,
  type SchemaRegistryConfig,
  type Selection,
  type StoreConfig,
  type Workspace,
  type OffsetResetConfig,
} from './types.js'
import type {ConfigPath, SourcePosition} from './diagnostics.js'

export interface NormalizeContext {
  /** Absolute path of the file that declared a config path (to resolve relative paths). */
  fileOf(path: ConfigPath): string | undefined
  positionOf(path: ConfigPath): SourcePosition | undefined
  isFromEnv(path: ConfigPath): boolean
  isLiteral(path: ConfigPath): boolean
  /** Contents of key files read by the loader, by absolute path. */
  keyFiles: Map<string, Buffer | undefined>
  files: string[]
  digest: string
}

type Obj = Record<string, unknown>

const NEVER = /(?!)/

function obj(v: unknown): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {}
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}
function bool(v: unknown, d: boolean): boolean {
  return typeof v === 'boolean' ? v : d
}
function int(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined
}
function strList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}
/** A string map (labels): entries whose value is not a string were reported by the schema. */
function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, x] of Object.entries(obj(v))) if (typeof x === 'string') out[k] = x
  return out
}
function entries(v: unknown): Array<[string, Obj]> {
  return Object.entries(obj(v)).map(([k, x]) => [k, obj(x)])
}

/** Anchored, so `orders\..*` matches whole topic names only; an invalid regex matches nothing. */
export function compilePattern(source: string): Pattern {
  try {
    return {source, regex: new RegExp(`^(?:${source})$`)}
  } catch {
    return {source, regex: NEVER}
  }
}

function selection(v: unknown, defaultInclude: string[] = []): Selection {
  const o = obj(v)
  const include = o.include === undefined ? defaultInclude : strList(o.include)
  return {include: include.map(compilePattern), exclude: strList(o.exclude).map(compilePattern)}
}

function secret(v: unknown, path: ConfigPath, ctx: NormalizeContext): Secret | undefined {
  const s = str(v)
  if (s === undefined) return undefined
  return new Secret(s, ctx.isFromEnv(path) ? 'environment' : 'config file')
}

/** `{[k]: v}`, or nothing when v is undefined (exactOptionalPropertyTypes). */
function present<K extends string, V>(k: K, v: V | undefined): Partial<Record<K, V>> {
  return v === undefined ? {} : ({[k]: v} as Record<K, V>)
}

function filePath(v: unknown, path: ConfigPath, ctx: NormalizeContext): string | undefined {
  const s = str(v)
  if (s === undefined) return undefined
  const file = ctx.fileOf(path)
  return resolve(file ? dirname(file) : process.cwd(), s)
}

/** A key as base64 text; key files may hold 32 raw bytes or base64 text. */
export function keyFromFile(bytes: Buffer): string {
  if (bytes.length === 32) return bytes.toString('base64')
  return bytes.toString('utf8').trim()
}

/** A stable, non-secret id for a key: recorded in segments so rotation finds the right key. */
export function keyFingerprint(base64Key: string): string {
  return 'sha256:' + createHash('sha256').update('kbk-key-id\0').update(base64Key).digest('hex').slice(0, 16)
}

function encryptionKey(o: Obj, path: ConfigPath, ctx: NormalizeContext): EncryptionKey {
  let key = secret(o.key, [...path, 'key'], ctx)
  const keyFile = filePath(o.keyFile, [...path, 'keyFile'], ctx)
  if (!key && keyFile) {
    const bytes = ctx.keyFiles.get(keyFile)
    if (bytes) key = new Secret(keyFromFile(bytes), 'key file')
  }
  const keyId = str(o.keyId) ?? (key ? keyFingerprint(key.reveal()) : 'unknown')
  return {keyId, ...(key ? {key} : {}), ...(keyFile ? {keyFile} : {})}
}

export function normalizeWorkspace(raw: unknown, ctx: NormalizeContext): Workspace {
  const root = obj(raw)

  const clusters: Record<string, ClusterConfig> = {}
  for (const [name, c] of entries(root.clusters)) {
    const p = ['clusters', name]
    const tlsRaw = c.tls
    const tlsObj = obj(tlsRaw)
    const tls =
      tlsRaw === true || (tlsRaw !== null && typeof tlsRaw === 'object')
        ? {
            ...(tlsObj.ca !== undefined ? {ca: filePath(tlsObj.ca, [...p, 'tls', 'ca'], ctx)} : {}),
            ...(tlsObj.cert !== undefined ? {cert: filePath(tlsObj.cert, [...p, 'tls', 'cert'], ctx)} : {}),
            ...(tlsObj.key !== undefined ? {key: filePath(tlsObj.key, [...p, 'tls', 'key'], ctx)} : {}),
            rejectUnauthorized: bool(tlsObj.rejectUnauthorized, true),
          }
        : undefined
    const s = obj(c.sasl)
    const mechanism = str(s.mechanism)
    const sasl =
      c.sasl !== undefined && (mechanism === 'plain' || mechanism === 'scram-sha-256' || mechanism === 'scram-sha-512')
        ? {mechanism: mechanism as SaslConfig['mechanism'], username: secret(s.username, [...p, 'sasl', 'username'], ctx) ?? new Secret(''), password: secret(s.password, [...p, 'sasl', 'password'], ctx) ?? new Secret('')}
        : undefined
    clusters[name] = {
      name,
      brokers: strList(c.brokers),
      ...(tls ? {tls} : {}),
      ...(sasl ? {sasl} : {}),
      clientId: str(c.clientId) ?? DEFAULTS.clientId,
      connectionTimeoutMs: (typeof c.connectionTimeout === 'string' ? parseDuration(c.connectionTimeout, {allowNever: false}) : undefined) ?? DEFAULTS.connectionTimeoutMs,
    }
  }

  const stores: Record<string, StoreConfig> = {}
  for (const [name, s] of entries(root.stores)) {
    const p = ['stores', name]
    const prefix = str(s.prefix) ?? ''
    const opt = <K extends string, V>(k: K, v: V | undefined): Partial<Record<K, V>> => (v === undefined ? {} : ({[k]: v} as Record<K, V>))
    switch (s.type) {
      case 'fs':
        stores[name] = {name, type: 'fs', path: filePath(s.path, [...p, 'path'], ctx) ?? '', prefix}
        break
      case 's3':
        stores[name] = {
          name,
          type: 's3',
          bucket: str(s.bucket) ?? '',
          region: str(s.region) ?? '',
          prefix,
          ...opt('endpoint', str(s.endpoint)),
          forcePathStyle: bool(s.forcePathStyle, false),
          ...opt('accessKeyId', secret(s.accessKeyId, [...p, 'accessKeyId'], ctx)),
          ...opt('secretAccessKey', secret(s.secretAccessKey, [...p, 'secretAccessKey'], ctx)),
          ...opt('sessionToken', secret(s.sessionToken, [...p, 'sessionToken'], ctx)),
          // Unset means "detect from the bucket" (docs/stores.md), not false: keep it unset.
          ...opt('objectLock', typeof s.objectLock === 'boolean' ? s.objectLock : undefined),
        }
        break
      case 'azure':
        stores[name] = {
          name,
          type: 'azure',
          container: str(s.container) ?? '',
          prefix,
          ...opt('connectionString', secret(s.connectionString, [...p, 'connectionString'], ctx)),
          ...opt('accountUrl', str(s.accountUrl)),
          ...opt('accountName', str(s.accountName)),
          ...opt('accountKey', secret(s.accountKey, [...p, 'accountKey'], ctx)),
          ...opt('sasToken', secret(s.sasToken, [...p, 'sasToken'], ctx)),
        }
        break
      case 'gcs':
        stores[name] = {
          name,
          type: 'gcs',
          bucket: str(s.bucket) ?? '',
          prefix,
          ...opt('projectId', str(s.projectId)),
          ...opt('apiEndpoint', str(s.apiEndpoint)),
          ...opt('keyFilename', filePath(s.keyFilename, [...p, 'keyFilename'], ctx)),
        }
        break
      default:
        break // the schema reported the unknown type
    }
    if (stores[name] && typeof s.pricePerGiBMonth === 'number') stores[name].pricePerGiBMonth = s.pricePerGiBMonth
  }

  const retention: Record<string, RetentionTier> = {}
  for (const [name, t] of entries(root.retention)) {
    const maxAge = str(t.maxAge) ?? 'never'
    const ms = parseDuration(maxAge)
    retention[name] = {
      name,
      maxAge,
      maxAgeMs: ms === undefined ? null : ms,
      minKeep: int(t.minKeep) ?? DEFAULTS.minKeep,
      immutable: bool(t.immutable, false),
      allowDestroy: bool(t.allowDestroy, false),
    }
  }

  const compliance: Record<string, ComplianceTag> = {}
  for (const [name, t] of entries(root.compliance)) {
    const min = typeof t.minRetention === 'string' ? parseDuration(t.minRetention) : undefined
    const max = typeof t.maxRetention === 'string' ? parseDuration(t.maxRetention, {allowNever: false}) : undefined
    const drill = typeof t.requireDrillWithin === 'string' ? parseDuration(t.requireDrillWithin, {allowNever: false}) : undefined
    compliance[name] = {
      name,
      builtin: false,
      description: str(t.description) ?? `workspace tag ${name}`,
      ...(min !== undefined ? {minRetentionMs: min} : {}),
      ...(typeof max === 'number' ? {maxRetentionMs: max} : {}),
      requireImmutable: bool(t.requireImmutable, false),
      requireEncryption: bool(t.requireEncryption, false),
      ...(typeof drill === 'number' ? {requireDrillWithinMs: drill} : {}),
    }
  }

  const labels = stringMap(root.labels)
  const policies: Record<string, PolicyConfig> = {}
  for (const [name, pol] of entries(root.policies)) {
    const p = ['policies', name]
    const tierName = str(pol.retention) ?? ''
    const tier = retention[tierName] ?? {name: tierName, maxAge: '', maxAgeMs: null, minKeep: DEFAULTS.minKeep, immutable: false, allowDestroy: false}
    const comp = obj(pol.compression)
    const codec = comp.codec === 'none' ? 'none' : 'zstd'
    const rpo = str(pol.rpo)
    const rpoMs = rpo === undefined ? undefined : parseDuration(rpo, {allowNever: false})
    let encryption: EncryptionConfig | undefined
    if (pol.encryption !== undefined) {
      const e = obj(pol.encryption)
      const previous = Array.isArray(e.previousKeys) ? e.previousKeys : []
      encryption = {
        ...encryptionKey(e, [...p, 'encryption'], ctx),
        previousKeys: previous.map((k, i) => encryptionKey(obj(k), [...p, 'encryption', 'previousKeys', i], ctx)),
      }
    }
    const seg = obj(pol.segment)
    const maxRecords = int(seg.maxRecords)
    const mask = obj(pol.masking)
    policies[name] = {
      name,
      ...(str(pol.description) !== undefined ? {description: str(pol.description)} : {}),
      cluster: str(pol.cluster) ?? '',
      store: str(pol.store) ?? '',
      topics: selection(pol.topics),
      internalTopics: bool(pol.internalTopics, false),
      retention: tierName,
      tier,
      tags: strList(pol.tags),
      labels: {...labels, ...stringMap(pol.labels)},
      allowDestroy: bool(pol.allowDestroy, tier.allowDestroy),
      ...(rpo !== undefined ? {rpo} : {}),
      ...(typeof rpoMs === 'number' ? {rpoMs} : {}),
      compression: {codec, level: codec === 'none' ? 0 : (int(comp.level) ?? DEFAULTS.compressionLevel)},
      ...(encryption ? {encryption} : {}),
      consumerGroups: selection(pol.consumerGroups),
      segment: {maxBytes: int(seg.maxBytes) ?? DEFAULTS.segmentMaxBytes, ...(maxRecords !== undefined ? {maxRecords} : {})},
      ...(pol.masking !== undefined ? {masking: {fields: strList(mask.fields), mode: mask.mode === 'hash' ? ('hash' as const) : ('redact' as const)}} : {}),
      verify: pol.verify === 'deep' || pol.verify === 'off' ? pol.verify : 'shallow',
      replicas: (Array.isArray(pol.replicas) ? pol.replicas : []).map((raw) => {
        const r = obj(raw)
        const name = str(r.retention) ?? tierName
        return {store: str(r.store) ?? '', retention: name, tier: retention[name] ?? {...tier, name, maxAge: '', maxAgeMs: null}}
      }),
      ...present('schemaRegistry', str(pol.schemaRegistry)),
      ...(pol.subjects !== undefined ? {subjects: selection(pol.subjects)} : {}),
      ...rateLimitOf(pol.rateLimit),
    }
  }

  const restores: Record<string, RestoreConfig> = {}
  for (const [name, r] of entries(root.restores)) {
    const from = obj(r.from)
    const to = obj(r.to)
    const rename: Record<string, string> = {}
    for (const [k, v] of Object.entries(obj(to.rename))) if (typeof v === 'string') rename[k] = v
    const configs: Record<string, string> = {}
    for (const [k, v] of Object.entries(obj(r.configs))) if (['string', 'number', 'boolean'].includes(typeof v)) configs[k] = String(v)
    let partitionMapping: Record<number, number> | undefined
    if (r.partitionMapping !== undefined) {
      partitionMapping = {}
      for (const [k, v] of Object.entries(obj(r.partitionMapping))) if (/^[0-9]+$/.test(k) && int(v) !== undefined) partitionMapping[Number(k)] = v as number
    }
    const partitions = int(r.partitions)
    const suffix = str(to.topicSuffix)
    restores[name] = {
      name,
      ...(str(r.description) !== undefined ? {description: str(r.description)} : {}),
      from: {policy: str(from.policy) ?? '', pointInTime: str(from.pointInTime) ?? DEFAULTS.pointInTime, ...(str(from.store) !== undefined ? {store: str(from.store)} : {})},
      to: {cluster: str(to.cluster) ?? '', ...(suffix !== undefined ? {topicSuffix: suffix} : {}), rename, ...present('schemaRegistry', str(to.schemaRegistry))},
      topics: selection(r.topics, ['.*']),
      createTopics: bool(r.createTopics, false),
      ...(partitions !== undefined ? {partitions} : {}),
      configs,
      ...(partitionMapping ? {partitionMapping} : {}),
      consumerGroups: {translate: strList(obj(r.consumerGroups).translate)},
      ifTargetNotEmpty: r.ifTargetNotEmpty === 'append' ? 'append' : 'fail',
      extendRetention: bool(r.extendRetention, false),
      ...(r.drill !== undefined ? {drill: drillConfig(obj(r.drill))} : {}),
      ...(str(obj(r.streams).applicationId) !== undefined ? {streams: {applicationId: str(obj(r.streams).applicationId)!}} : {}),
      unknownSchemaIds: r.unknownSchemaIds === 'copy' ? 'copy' : 'fail',
      ...rateLimitOf(r.rateLimit),
      ...(r.compression === 'auto' || r.compression === 'none' || r.compression === 'lz4' || r.compression === 'zstd' ? {compression: r.compression} : {}),
    }
  }

  const offsetResets: Record<string, OffsetResetConfig> = {}
  for (const [name, o] of entries(root.offsetResets)) {
    const waitTimeout = str(o.waitTimeout)
    const waitTimeoutMs = waitTimeout === undefined ? undefined : parseDuration(waitTimeout, {allowNever: false})
    const to = (['restored', 'earliest', 'latest', 'timestamp', 'snapshot'] as const).find((t) => t === o.to) ?? 'latest'
    offsetResets[name] = {
      name,
      ...(str(o.description) !== undefined ? {description: str(o.description)} : {}),
      cluster: str(o.cluster) ?? '',
      ...(str(o.store) !== undefined ? {store: str(o.store)} : {}),
      groups: strList(o.groups).map(compilePattern),
      topics: strList(o.topics).map(compilePattern),
      to,
      ...(str(o.restore) !== undefined ? {restore: str(o.restore)} : {}),
      ...(str(o.timestamp) !== undefined ? {timestamp: str(o.timestamp)} : {}),
      ...(str(o.snapshot) !== undefined ? {snapshot: str(o.snapshot)} : {}),
      ifActive: o.ifActive === 'wait' ? 'wait' : 'fail',
      ...(waitTimeout !== undefined ? {waitTimeout} : {}),
      ...(typeof waitTimeoutMs === 'number' ? {waitTimeoutMs} : {}),
    }
  }

  const schemaRegistries: Record<string, SchemaRegistryConfig> = {}
  for (const [name, sr] of entries(root.schemaRegistries)) {
    const a = obj(sr.auth)
    const t = obj(sr.tls)
    const auth: SchemaRegistryConfig['auth'] =
      a.type === 'basic' ? {type: 'basic', usernameEnv: str(a.usernameEnv) ?? '', passwordEnv: str(a.passwordEnv) ?? ''} : a.type === 'bearer' ? {type: 'bearer', tokenEnv: str(a.tokenEnv) ?? ''} : undefined
    schemaRegistries[name] = {
      name,
      url: (str(sr.url) ?? '').replace(/\/+$/, ''),
      ...(auth ? {auth} : {}),
      ...(sr.tls !== undefined ? {tls: {...present('ca', filePath(t.ca, ['schemaRegistries', name, 'tls', 'ca'], ctx)), rejectUnauthorized: bool(t.rejectUnauthorized, true)}} : {}),
    }
  }

  return {
    version: 1,
    files: ctx.files,
    digest: ctx.digest,
    clusters,
    stores,
    retention,
    compliance,
    policies,
    restores,
    labels,
    offsetResets,
    schemaRegistries,
    positionOf: ctx.positionOf,
    isFromEnv: ctx.isFromEnv,
    isLiteral: ctx.isLiteral,
  }
}

/** A restore's drill targets; durations that do not parse are reported by durations-parse. */
function drillConfig(d: Record<string, unknown>): DrillConfig {
  const every = typeof d.every === 'string' ? d.every : undefined
  const rto = typeof d.rto === 'string' ? d.rto : undefined
  const everyMs = every !== undefined ? parseDuration(every, {allowNever: false}) : undefined
  const rtoMs = rto !== undefined ? parseDuration(rto, {allowNever: false}) : undefined
  return {
    ...(every !== undefined ? {every} : {}),
    ...(typeof everyMs === 'number' ? {everyMs} : {}),
    ...(rto !== undefined ? {rto} : {}),
    ...(typeof rtoMs === 'number' ? {rtoMs} : {}),
    cleanup: d.cleanup !== false,
  }
}

const SIZE_UNITS: Record<string, number> = {B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3}

/** A byte rate as the schema admits it (an integer, or a size such as 50MB or 40MiB) in bytes. */
export function parseByteRate(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? v : undefined
  if (typeof v !== 'string') return undefined
  const m = /^([0-9]+(?:\.[0-9]+)?)(B|KB|MB|GB|KiB|MiB|GiB)$/.exec(v)
  if (!m) return undefined
  const n = Math.round(Number(m[1]) * SIZE_UNITS[m[2]!]!)
  return n > 0 ? n : undefined
}

/** `rateLimit` of a policy or restore intent, resolved (the schema checked its shape). */
function rateLimitOf(raw: unknown): {rateLimit?: {bytesPerSecond: number; recordsPerSecond?: number}} {
  if (raw === undefined || raw === null || typeof raw !== 'object') return {}
  const r = raw as {bytesPerSecond?: unknown; recordsPerSecond?: unknown}
  const bytesPerSecond = parseByteRate(r.bytesPerSecond)
  if (bytesPerSecond === undefined) return {}
  const records = typeof r.recordsPerSecond === 'number' && r.recordsPerSecond > 0 ? r.recordsPerSecond : undefined
  return {rateLimit: {bytesPerSecond, ...(records !== undefined ? {recordsPerSecond: records} : {})}}
}
