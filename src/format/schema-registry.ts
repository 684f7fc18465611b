// The words kbk uses about schema registries: plan notes and warnings.
import type {SnapshotDiff} from '../schema-registry/snapshot.js'
import {formatCount} from './numbers.js'

const LIST_MAX = 6

/** "2 new subject(s), 3 new version(s) since the last snapshot (…): orders-value v2, v3; …" */
export function formatSnapshotDiffNote(registry: string, diff: SnapshotDiff, lastTakenAt: string | undefined): string {
  const since = lastTakenAt ? `since the last snapshot (${lastTakenAt})` : 'first snapshot'
  if (diff.versionCount === 0 && diff.newSubjects.length === 0) return `schemas: registry "${registry}": no new subjects or versions ${since}; a snapshot is taken after the backup`
  const items = Object.entries(diff.newVersions).map(([s, v]) => `${s} v${v.join(', v')}${diff.newSubjects.includes(s) ? ' (new)' : ''}`)
  const shown = items.slice(0, LIST_MAX).join('; ') + (items.length > LIST_MAX ? `; and ${items.length - LIST_MAX} more subject(s)` : '')
  return `schemas: registry "${registry}": ${formatCount(diff.newSubjects.length)} new subject(s), ${formatCount(diff.versionCount)} new version(s) ${since}: ${shown}; snapshotted after the backup`
}

export function formatRestoreSchemaNote(c: {target: string; same: boolean; snapshot: string | undefined; counts: Array<{topic: string; records: number; withId: number; unknown: number}>; unknownIds: 'fail' | 'copy'}): string[] {
  if (c.same) return [`schemas: target registry "${c.target}" is the source registry: nothing is re-registered and schema IDs stay as they are`]
  if (!c.snapshot) return [`schemas: no schema snapshot of the policy yet: apply will refuse until a backup run has taken one`]
  const lines = [`schemas: registers snapshot ${c.snapshot} in registry "${c.target}" (compatibility checked first) and rewrites schema IDs:`]
  for (const t of c.counts) {
    lines.push(`  ${t.topic}: ${formatCount(t.withId)} of ${formatCount(t.records)} record(s) carry a schema ID and will be rewritten`)
    if (t.unknown > 0) lines.push(`  ${t.topic}: ${formatCount(t.unknown)} record(s) carry an ID the snapshot lacks: ${c.unknownIds === 'copy' ? 'copied unchanged, with a warning' : 'apply will stop at the first (unknownSchemaIds: fail)'}`)
  }
  return lines
}

export function formatUnknownIdWarning(where: {topic: string; partition: number; offset: number}, unknown: {part: 'key' | 'value'; id: number}): string {
  return `record ${where.topic}/${where.partition}@${where.offset} carries schema ID ${unknown.id} (in its ${unknown.part}) that the snapshot lacks: copied unchanged (unknownSchemaIds: copy); later records with this ID are copied without another warning`
}
