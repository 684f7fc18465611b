// Compliance as code: what each tag requires (data), and one small named check per requirement.
// Built-in tags and workspace-defined tags share the same requirements; docs/compliance.md says
// where each built-in requirement comes from. `checkCompliance` is called by validate and by plan.
import type {ComplianceCode} from '../errors.js'
import {durationAtLeast, formatDuration, parseDuration} from './duration.js'
import type {ConfigPath, Diagnostic} from './diagnostics.js'
import {diagnosticAt} from './rules/rule.js'
import type {ComplianceTag, PolicyConfig, RetentionTier, Workspace} from './types.js'

/** What a tag requires of every policy that carries it. Durations as written (7y, 90d). */
export interface TagRequirements {
  /** The policy's tier keeps backups at least this long (maxAge >= it, or never). */
  minRetention?: string
  /** The policy's tier keeps backups no longer than this (never fails). */
  maxRetention?: string
  /** The tier must not keep backups forever (storage limitation). */
  requireFiniteRetention?: boolean
  requireImmutable?: boolean
  requireEncryption?: boolean
  /** A restore intent from the policy must exist; the plan checks it was applied within this. */
  requireDrillWithin?: string
  /** Warnings: good practice the regulation expects, that kbk cannot fully verify. */
  recommendMasking?: boolean
  recommendTls?: boolean
  recommendEncryption?: boolean
  recommendRpo?: boolean
}

/** A tag: its requirements as written, and the same as a normalized ComplianceTag (ms values). */
export interface TagDefinition extends ComplianceTag {
  title: string
  requirements: TagRequirements
}

function defineTag(name: string, builtin: boolean, title: string, requirements: TagRequirements): TagDefinition {
  const ms = (d: string | undefined, never = true): number | null | undefined => (d === undefined ? undefined : parseDuration(d, {allowNever: never}))
  const min = ms(requirements.minRetention)
  const max = ms(requirements.maxRetention, false)
  const drill = ms(requirements.requireDrillWithin, false)
  return {
    name,
    builtin,
    title,
    description: title,
    requirements,
    ...(min !== undefined ? {minRetentionMs: min} : {}),
    ...(typeof max === 'number' ? {maxRetentionMs: max} : {}),
    requireImmutable: requirements.requireImmutable ?? false,
    requireEncryption: requirements.requireEncryption ?? false,
    ...(typeof drill === 'number' ? {requireDrillWithinMs: drill} : {}),
  }
}

export const builtinTags: Readonly<Record<string, TagDefinition>> = {
  gdpr: defineTag('gdpr', true, 'EU General Data Protection Regulation', {requireFiniteRetention: true, recommendMasking: true, recommendEncryption: true}),
  sox: defineTag('sox', true, 'Sarbanes-Oxley Act (financial records)', {minRetention: '7y', requireImmutable: true}),
  hipaa: defineTag('hipaa', true, 'HIPAA Security Rule (protected health information)', {requireEncryption: true, recommendTls: true}),
  'pci-dss': defineTag('pci-dss', true, 'PCI DSS v4 (cardholder data)', {requireEncryption: true, requireFiniteRetention: true, recommendTls: true}),
  dora: defineTag('dora', true, 'EU Digital Operational Resilience Act', {requireDrillWithin: '1y', recommendRpo: true}),
}

/** Every tag the workspace can use: the built-ins and its own. */
export function allTags(ws: Workspace): Record<string, TagDefinition> {
  const out: Record<string, TagDefinition> = {...builtinTags}
  for (const [name, raw] of Object.entries(ws.compliance)) {
    if (name in builtinTags) continue // redefinition is reported by references-resolve
    const r: TagRequirements = {}
    if (raw.minRetentionMs !== undefined) r.minRetention = formatDuration(raw.minRetentionMs)
    if (raw.maxRetentionMs !== undefined) r.maxRetention = formatDuration(raw.maxRetentionMs)
    if (raw.requireImmutable) r.requireImmutable = true
    if (raw.requireEncryption) r.requireEncryption = true
    if (raw.requireDrillWithinMs !== undefined) r.requireDrillWithin = formatDuration(raw.requireDrillWithinMs)
    out[name] = defineTag(name, false, raw.description, r)
  }
  return out
}

interface CheckArgs<V> {
  ws: Workspace
  policy: PolicyConfig
  tag: TagDefinition
  value: V
}

/**
 * A compliance finding. `unlockedStore`: set on the finding that a store does not enforce
 * write-once itself (…_OBJECT_LOCK), naming that store; the plan drops the finding once it has
 * asked the store and found that it does (store-protection.ts).
 */
export interface ComplianceDiagnostic extends Diagnostic {
  unlockedStore?: string
}

type Check<K extends keyof TagRequirements> = (args: CheckArgs<NonNullable<TagRequirements[K]>>) => ComplianceDiagnostic[]

function code(tag: string, rule: string): ComplianceCode {
  return `KBK_COMPLIANCE_${tag.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_${rule}`
}

/** A tier that exists and whose maxAge parses: retention checks on anything else would only echo
 * an error the references or durations rule already gives. */
function tierKnown(t: RetentionTier): boolean {
  return parseDuration(t.maxAge) !== undefined
}

function tierFix(ws: Workspace, policy: PolicyConfig, ok: (ms: number | null) => boolean, want: string): string {
  const good = Object.values(ws.retention)
    .filter((t) => tierKnown(t) && ok(t.maxAgeMs))
    .map((t) => t.name)
  const use = good.length > 0 ? `point policies.${policy.name}.retention at a tier that ${want} (e.g. ${good.map((g) => `"${g}"`).join(', ')})` : `add a retention tier that ${want} and use it in policies.${policy.name}.retention`
  return `${use[0]!.toUpperCase()}${use.slice(1)}, or remove the tag.`
}

/** One named check per requirement: `requirements.X` is enforced by `checks.X`. */
export const checks: {[K in keyof Required<TagRequirements>]: Check<K>} = {
  minRetention({ws, policy, tag, value}) {
    const min = parseDuration(value)
    if (min === undefined || !tierKnown(policy.tier) || durationAtLeast(policy.tier.maxAgeMs, min)) return []
    return [
      diagnosticAt(
        ws,
        ['policies', policy.name, 'retention'],
        'error',
        code(tag.name, 'MIN_RETENTION'),
        `policy "${policy.name}" is tagged ${tag.name}, which requires backups kept at least ${value}; its retention tier "${policy.tier.name}" keeps them ${policy.tier.maxAge} (maxAge)`,
        tierFix(ws, policy, (ms) => durationAtLeast(ms, min), `keeps backups ${value} or longer`),
      ),
    ]
  },
  maxRetention({ws, policy, tag, value}) {
    const max = parseDuration(value)
    if (max === undefined || max === null || !tierKnown(policy.tier) || durationAtLeast(max, policy.tier.maxAgeMs)) return []
    return [
      diagnosticAt(
        ws,
        ['policies', policy.name, 'retention'],
        'error',
        code(tag.name, 'MAX_RETENTION'),
        `policy "${policy.name}" is tagged ${tag.name}, which allows backups kept at most ${value}; its retention tier "${policy.tier.name}" keeps them ${policy.tier.maxAge}`,
        tierFix(ws, policy, (ms) => ms !== null && ms <= max, `keeps backups ${value} or less`),
      ),
    ]
  },
  requireFiniteRetention({ws, policy, tag, value}) {
    if (!value || !tierKnown(policy.tier) || policy.tier.maxAgeMs !== null) return []
    return [
      diagnosticAt(
        ws,
        ['policies', policy.name, 'retention'],
        'error',
        code(tag.name, 'FINITE_RETENTION'),
        `policy "${policy.name}" is tagged ${tag.name}, which forbids keeping personal or cardholder data forever; its retention tier "${policy.tier.name}" has maxAge: never`,
        tierFix(ws, policy, (ms) => ms !== null, 'has a finite maxAge'),
      ),
    ]
  },
  requireImmutable({ws, policy, tag, value}) {
    if (!value || !ws.retention[policy.tier.name]) return []
    if (!policy.tier.immutable) {
      return [
        diagnosticAt(
          ws,
          ['policies', policy.name, 'retention'],
          'error',
          code(tag.name, 'IMMUTABLE'),
          `policy "${policy.name}" is tagged ${tag.name}, which requires write-once backups; its retention tier "${policy.tier.name}" is not immutable`,
          `Set retention.${policy.tier.name}.immutable: true, or use an immutable tier, or remove the tag.`,
        ),
      ]
    }
    const store = ws.stores[policy.store]
    if (store?.type === 's3' && !store.objectLock) {
      return [
        {
          ...diagnosticAt(
            ws,
            ['policies', policy.name, 'store'],
            'warning',
            code(tag.name, 'OBJECT_LOCK'),
            `policy "${policy.name}" (${tag.name}) is immutable in kbk, but store "${store.name}" does not enforce it: objectLock is not set, so anyone with bucket access can still delete`,
            `Create the bucket with S3 Object Lock and set stores.${store.name}.objectLock: true.`,
          ),
          unlockedStore: store.name,
        },
      ]
    }
    return []
  },
  requireEncryption({ws, policy, tag, value}) {
    if (!value || policy.encryption) return []
    return [
      diagnosticAt(
        ws,
        ['policies', policy.name, 'tags'],
        'error',
        code(tag.name, 'ENCRYPTION'),
        `policy "${policy.name}" is tagged ${tag.name}, which requires client-side encryption of its backups; it has no encryption`,
        `Add policies.${policy.name}.encryption: { key: "\${KBK_${policy.name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_KEY}" } (32 bytes, base64: openssl rand -base64 32).`,
      ),
    ]
  },
  requireDrillWithin({ws, policy, tag, value}) {
    if (Object.values(ws.restores).some((r) => r.from.policy === policy.name)) return []
    return [
      diagnosticAt(
        ws,
        ['policies', policy.name, 'tags'],
        'error',
        code(tag.name, 'DRILL'),
        `policy "${policy.name}" is tagged ${tag.name}, which requires a restore drill at least every ${value}; no restore intent restores from it`,
        `Declare a drill under restores: with from: { policy: ${policy.name} } into a non-production cluster, and kbk apply it at least every ${value}.`,
      ),
    ]
  },
  recommendMasking({ws, policy, tag, value}) {
    if (!value || (policy.masking && policy.masking.fields.length > 0)) return []
    return [
      diagnosticAt(ws, ['policies', policy.name, 'tags'], 'warning', code(tag.name, 'MASKING'), `policy "${policy.name}" is tagged ${tag.name} but masks no fields: personal data is copied into backups as is`, `List the personal fields under policies.${policy.name}.masking.fields (e.g. ["$.customer.email"]), or confirm the topics hold none.`),
    ]
  },
  recommendTls({ws, policy, tag, value}) {
    const cluster = ws.clusters[policy.cluster]
    if (!value || !cluster || cluster.tls) return []
    return [
      diagnosticAt(ws, ['policies', policy.name, 'cluster'], 'warning', code(tag.name, 'TLS'), `policy "${policy.name}" is tagged ${tag.name} but cluster "${cluster.name}" is read without TLS`, `Set clusters.${cluster.name}.tls: true (or its CA files).`),
    ]
  },
  recommendEncryption({ws, policy, tag, value}) {
    if (!value || policy.encryption) return []
    return [
      diagnosticAt(ws, ['policies', policy.name, 'tags'], 'warning', code(tag.name, 'ENCRYPTION'), `policy "${policy.name}" is tagged ${tag.name} and its backups are not encrypted client-side`, `Add policies.${policy.name}.encryption with a key from the environment.`),
    ]
  },
  recommendRpo({ws, policy, tag, value}) {
    if (!value || policy.rpoMs !== undefined) return []
    return [
      diagnosticAt(ws, ['policies', policy.name, 'tags'], 'warning', code(tag.name, 'RPO'), `policy "${policy.name}" is tagged ${tag.name} but declares no rpo, so staleness of its backups is not tracked`, `Set policies.${policy.name}.rpo (e.g. 1h).`),
    ]
  },
}

function runCheck<K extends keyof TagRequirements>(key: K, args: Omit<CheckArgs<unknown>, 'value'>, value: TagRequirements[K]): Diagnostic[] {
  if (value === undefined) return []
  return (checks[key] as Check<K>)({...args, value: value as NonNullable<TagRequirements[K]>})
}

/** Every compliance violation in the workspace, for every tagged policy. Pure. */
export function checkCompliance(ws: Workspace): ComplianceDiagnostic[] {
  const tags = allTags(ws)
  const out: ComplianceDiagnostic[] = []
  for (const policy of Object.values(ws.policies)) {
    for (const name of policy.tags) {
      const tag = tags[name]
      if (!tag) continue // references-resolve reports unknown tags
      for (const key of Object.keys(tag.requirements) as Array<keyof TagRequirements>) {
        for (const d of runCheck(key, {ws, policy, tag}, tag.requirements[key])) out.push(d)
      }
    }
    policy.replicas.forEach((replica, i) => {
      if (!ws.stores[replica.store]) return // replicas-valid reports it
      for (const d of checkReplica(ws, policy, replica, i, tags)) out.push(d)
    })
  }
  return out
}

/** The requirements about where and how long backups are kept, which every copy must meet. */
const COPY_CHECKS = ['minRetention', 'maxRetention', 'requireFiniteRetention', 'requireImmutable'] as const

/**
 * Compliance applies to every copy: the retention and write-once checks run again on each replica
 * as if it were the policy (its tier, its store), placed at the replica's entry in the file. A
 * replica on the policy's own tier repeats no tier finding the policy already has.
 */
function checkReplica(ws: Workspace, policy: PolicyConfig, replica: PolicyConfig['replicas'][number], i: number, tags: Record<string, TagDefinition>): ComplianceDiagnostic[] {
  const copy: PolicyConfig = {...policy, store: replica.store, retention: replica.retention, tier: replica.tier, replicas: []}
  const base = ['policies', policy.name]
  const remap = (path: ConfigPath): ConfigPath =>
    path.length === 3 && path[0] === 'policies' && path[1] === policy.name && (path[2] === 'retention' || path[2] === 'store') ? [...base, 'replicas', i, path[2]] : path
  const view: Workspace = {...ws, positionOf: (path) => ws.positionOf(remap(path)) ?? ws.positionOf([...base, 'replicas', i])}
  const sameTier = replica.retention === policy.retention
  const out: ComplianceDiagnostic[] = []
  for (const name of policy.tags) {
    const tag = tags[name]
    if (!tag) continue
    for (const key of COPY_CHECKS) {
      for (const d of runCheck(key, {ws: view, policy: copy, tag}, tag.requirements[key])) {
        // The tier findings are the policy's own when the copy uses the policy's tier.
        if (sameTier && !(d as ComplianceDiagnostic).unlockedStore) continue
        const at = (p: string): string => (p === `policies.${policy.name}.retention` || p === `policies.${policy.name}.store` ? `policies.${policy.name}.replicas[${i}].${p.slice(p.lastIndexOf('.') + 1)}` : p)
        out.push({
          ...d,
          ...(d.path !== undefined ? {path: at(d.path)} : {}),
          message: `replica "${replica.store}" of ${d.message}`,
          ...(d.suggestion ? {suggestion: d.suggestion.split(`policies.${policy.name}.retention`).join(`policies.${policy.name}.replicas[${i}].retention`)} : {}),
        })
      }
    }
  }
  return out
}

/** Per policy: the strictest drill period its tags require, in ms (the plan's drillWithinMs). */
export function drillRequirements(ws: Workspace): Record<string, number> {
  const tags = allTags(ws)
  const out: Record<string, number> = {}
  for (const policy of Object.values(ws.policies)) {
    for (const name of policy.tags) {
      const within = tags[name]?.requirements.requireDrillWithin
      const ms = within === undefined ? undefined : parseDuration(within, {allowNever: false})
      if (typeof ms === 'number') out[policy.name] = Math.min(out[policy.name] ?? Number.POSITIVE_INFINITY, ms)
    }
  }
  return out
}
