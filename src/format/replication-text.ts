// The words of replication (policies.X.replicas) in a plan: the findings about replicas (drift and
// diagnostics), how a replicate change is shown, and the egress estimate line. Pure; the
// planner (plan/planners/replication.ts) decides, this words it.
import type {ReplicateChange, ResourceChange} from '../plan/types.js'
import type {StoreKind} from '../storage/object-store.js'
import {c} from './colors.js'
import {formatAge, formatBytes, formatCount} from './numbers.js'

export type ReplicaDriftFact =
  | {kind: 'replica-behind'; policy: string; store: string; rpoMs: number; oldestMissing: string; ageMs: number; segments: number; bytes: number}
  | {kind: 'replica-missing'; policy: string; store: string; key: string; partition: number; first: number; last: number}
  | {kind: 'replica-changed'; policy: string; store: string; key: string; bytes: number | null; recorded: number; versionChanged: boolean}
  | {kind: 'unknown-object'; store: string; key: string; policy: string}

export function replicaDriftText(f: ReplicaDriftFact): {message: string; fix: string} {
  switch (f.kind) {
    case 'replica-behind':
      return {
        message: `Replica "${f.store}" of policy "${f.policy}" is behind by more than its rpo (${formatAge(f.rpoMs)}): ${formatCount(f.segments)} segment(s), ${formatBytes(f.bytes)}, are not copied yet, the oldest written ${f.oldestMissing} (${formatAge(f.ageMs)} ago).`,
        fix: 'Run kbk apply (it copies them); schedule it at least as often as the rpo.',
      }
    case 'replica-missing':
      return {
        message: `Segment "${f.key}" (partition ${f.partition}, offsets ${f.first}..${f.last}) is recorded in replica "${f.store}" but the object is gone.`,
        fix: 'kbk apply copies it again from the primary; find out what deleted it (a lifecycle rule on the replica bucket?).',
      }
    case 'replica-changed':
      return {
        message: `Segment "${f.key}" in replica "${f.store}" is not the object kbk copied and verified: ${f.bytes === null ? '' : `${f.bytes} bytes (recorded ${f.recorded}), `}${f.versionChanged ? 'its version changed since' : 'its size differs'}.`,
        fix: 'kbk apply copies it again from the primary and checks it; kbk verify --deep --store ' + f.store + ' reads every copy.',
      }
    case 'unknown-object':
      return {
        message: `Object "${f.key}" in replica "${f.store}" is under policy "${f.policy}" but not recorded in the replica's state.`,
        fix: 'An interrupted apply left it: the next apply that copies it overwrites it. Otherwise find out who wrote it, then delete it by hand.',
      }
  }
}

export type ReplicaDiagnosticFact =
  | {kind: 'replica-unreachable'; policy: string; store: string; error: string}
  | {kind: 'store-unreadable'; policy: string; store: string; error: string; replicas: string[]}
  | {kind: 'restore-store-unreadable'; restore: string; policy: string; store: string; error: string; replicas: string[]}

export function replicaDiagnosticText(f: ReplicaDiagnosticFact): {message: string; suggestion: string} {
  switch (f.kind) {
    case 'replica-unreachable':
      return {
        message: `Replica store "${f.store}" of policy "${f.policy}" could not be read, so its copies are not planned: ${f.error}`,
        suggestion: `Check stores.${f.store} (endpoint, credentials, bucket or container); the primary's backups go on meanwhile.`,
      }
    case 'store-unreadable':
      return {
        message: `Store "${f.store}" of policy "${f.policy}" could not be read, so nothing of that policy is planned: ${f.error}`,
        suggestion:
          f.replicas.length > 0
            ? `Check stores.${f.store}. To restore meanwhile, read a replica: set from.store: ${f.replicas[0]} in the restore intent and plan with --target restore.NAME.`
            : `Check stores.${f.store} (endpoint, credentials, bucket or container).`,
      }
    case 'restore-store-unreadable':
      return {
        message: `Restore "${f.restore}" reads policy "${f.policy}" from store "${f.store}", which could not be read: ${f.error}`,
        suggestion:
          f.replicas.length > 0
            ? `Restore from a replica: set restores.${f.restore}.from.store: ${f.replicas[0]}${f.replicas.length > 1 ? ` (or ${f.replicas.slice(1).join(', ')})` : ''}, then kbk plan --target restore.${f.restore}.`
            : `Check stores.${f.store}; policy "${f.policy}" has no replica to restore from (declare policies.${f.policy}.replicas for next time).`,
      }
  }
}

/** Notes under a replicate change. */
export function replicaNote(kind: 'record' | 'expiring-first', store: string): string {
  return kind === 'record'
    ? `The replica's settings are recorded in store "${store}" itself, so a restore from it needs nothing from the primary.`
    : 'Copied before the primary expires them: the replica keeps them by its own tier.'
}

export function formatReplicateChange(ch: ReplicateChange, ind: string): string[] {
  const lines: string[] = []
  const r = ch.replicate
  if (!r) {
    for (const d of ch.diff ?? []) lines.push(`${ind}${c.yellow('~')} ${d.path}: ${JSON.stringify(d.before)} ${c.dim('->')} ${JSON.stringify(d.after)}`)
    if (!ch.diff && ch.after) lines.push(`${ind}${c.green('+')} replica of store "${String((ch.after.replica as {of?: unknown} | undefined)?.of)}", tier "${String((ch.after.replica as {retention?: unknown} | undefined)?.retention)}"`)
    return lines
  }
  lines.push(`${ind}store "${r.source_store}" -> store "${r.store}" (tier "${r.tier}")`)
  for (const p of r.ranges) lines.push(`${ind}partition ${String(p.partition).padStart(3)}: offsets ${p.from}..${p.to}  (${formatCount(p.segments)} segment(s), ${formatBytes(p.bytes)})`)
  const changed = r.segments.filter((s) => s.reason === 'changed').length
  if (r.segments.length > 0) lines.push(`${ind}${formatCount(r.segments.length)} segment(s), ${formatCount(r.records)} record(s), ${formatBytes(r.bytes)} to copy${changed > 0 ? ` (${formatCount(changed)} again: the copy is missing or not what was verified)` : ''}`)
  else lines.push(`${ind}no segment to copy: the replica's record of the topic is brought up to date`)
  return lines
}

/** List prices of internet egress, first tier, USD per GiB: a rough estimate, never a bill. */
const EGRESS_USD_PER_GIB: Record<StoreKind, number> = {s3: 0.09, azure: 0.087, gcs: 0.12, fs: 0}

/** One line per source store: what the replication in this plan reads out of it. */
export function egressLines(changes: readonly ResourceChange[]): string[] {
  const bySource = new Map<string, {bytes: number; to: Set<string>; kind: StoreKind}>()
  for (const ch of changes) {
    if (ch.type !== 'replicate' || !ch.replicate || ch.blocked || ch.replicate.bytes === 0) continue
    const e = bySource.get(ch.replicate.source_store) ?? {bytes: 0, to: new Set<string>(), kind: ch.replicate.source_kind}
    e.bytes += ch.replicate.bytes
    e.to.add(ch.replicate.store)
    bySource.set(ch.replicate.source_store, e)
  }
  return [...bySource.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([store, e]) => {
      const kind = e.kind
      const price = EGRESS_USD_PER_GIB[kind]
      const usd = (e.bytes / 2 ** 30) * price
      const cost = price === 0 ? ' (a local store: no egress charge)' : `, ${usd < 0.01 ? '<$0.01' : `~$${usd.toFixed(2)}`} at ${kind}'s list price for internet egress ($${price}/GiB; your contract and same-region copies may cost less)`
      return `Egress estimate: ${formatBytes(e.bytes)} read out of store "${store}" for ${[...e.to].sort().map((s) => `"${s}"`).join(', ')}${cost}.`
    })
}
