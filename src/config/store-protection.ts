// Store protection: an immutable retention tier is only as write-once as its store. The config
// alone says what kbk will refuse; what the store itself enforces is known only once it has
// been asked (ObjectStore.capabilities()). This rule turns both into findings. Pure: the caller
// probes the stores and passes what they said.
import type {ComplianceDiagnostic} from './compliance.js'
import type {SourcePosition} from './diagnostics.js'
import type {Workspace} from './types.js'
import {pushTo} from '../collections.js'

/** A finding of this rule, shaped like every other diagnostic; the position is the store's, when known. */
export interface StoreProtectionFinding {
  severity: 'warning'
  code: 'KBK_RETENTION_NOT_ENFORCED_BY_STORE'
  message: string
  suggestion: string
  file?: string
  line?: number
  column?: number
}

const FIX: Record<string, (store: string) => string> = {
  fs: () => 'A local directory has no write-once feature: for protection kbk alone cannot give, use an S3 bucket with Object Lock, an Azure container with version-level immutability, or a GCS bucket with object retention.',
  s3: (store) => `Create the bucket with S3 Object Lock (ObjectLockEnabledForBucket) and set stores.${store}.objectLock: true, so a missing lock fails instead of warning.`,
  azure: () => 'Enable version-level immutability (immutable storage with versioning) on the container.',
  gcs: () => 'Create the bucket with object retention enabled (gcloud storage buckets create --enable-per-object-retention).',
}

/** The stores that hold policies with an immutable tier: store → policy names, both sorted by name. */
export function storesHoldingImmutable(ws: Workspace): Map<string, string[]> {
  const byStore = new Map<string, string[]>()
  for (const p of Object.values(ws.policies).sort((a, b) => a.name.localeCompare(b.name))) {
    if (p.tier.immutable && ws.stores[p.store]) pushTo(byStore, p.store, p.name)
  }
  return new Map([...byStore.entries()].sort((a, b) => a[0].localeCompare(b[0])))
}

/**
 * After probing: a store that does not enforce write-once gets a warning naming it and its
 * immutable policies; on one that does, the config-only findings that it lacks a lock
 * (`unlockedStore`) are dropped — the bucket has the lock.
 */
export function applyStoreProtection<D extends Pick<ComplianceDiagnostic, 'code' | 'unlockedStore'>>(
  ws: Workspace,
  findings: readonly D[],
  enforces: ReadonlyMap<string, boolean>,
  position: (store: string) => SourcePosition | undefined,
): {kept: D[]; added: StoreProtectionFinding[]} {
  const added: StoreProtectionFinding[] = []
  for (const [name, policies] of storesHoldingImmutable(ws)) {
    const enforcing = enforces.get(name)
    if (enforcing !== false) continue
    const cfg = ws.stores[name]!
    const pos = position(name)
    added.push({
      severity: 'warning',
      code: 'KBK_RETENTION_NOT_ENFORCED_BY_STORE',
      message: `store "${name}" (${cfg.type}) does not enforce write-once itself: kbk refuses to delete or overwrite the immutable backups of ${policies.map((p) => `policy "${p}"`).join(', ')} before their retention ends, but anyone with direct access to the store can still delete them`,
      suggestion: (FIX[cfg.type] ?? FIX.fs!)(name),
      ...(pos ? {file: pos.file, line: pos.line, column: pos.column} : {}),
    })
  }
  const kept = findings.filter((d) => !(d.unlockedStore !== undefined && enforces.get(d.unlockedStore) === true))
  return {kept, added}
}
