// Restoring a schema snapshot into a target registry: register every version in dependency order
// (referenced subjects' versions first, each subject's versions in their order), check each
// against the target's compatibility settings BEFORE anything is written, and build the
// source-ID → target-ID map that the record rewrite uses.
import {KbkError} from '../errors.js'
import type {SchemaPayload, SchemaReference, SchemaRegistryPort} from './port.js'
import type {SchemaSnapshot, SubjectSnapshot} from './snapshot.js'

export interface VersionRef {
  subject: string
  version: number
}

/**
 * The order to register in (pure): a depth-first walk where a version comes after the versions it
 * references and after the earlier versions of its own subject. Subjects are visited by name, so
 * the order is the same every run. A reference the snapshot lacks is left to the target registry.
 */
export function registrationOrder(snapshot: Pick<SchemaSnapshot, 'subjects'>): VersionRef[] {
  const bySubject = new Map(snapshot.subjects.map((s) => [s.subject, s]))
  const done = new Set<string>()
  const visiting = new Set<string>()
  const out: VersionRef[] = []
  const visit = (subject: string, version: number): void => {
    const id = `${subject}\u0000${version}`
    if (done.has(id) || visiting.has(id)) return // a reference cycle cannot be registered anyway
    const s = bySubject.get(subject)
    const v = s?.versions.find((x) => x.version === version)
    if (!s || !v) return
    visiting.add(id)
    for (const r of v.references) visit(r.subject, r.version)
    for (const earlier of s.versions) if (earlier.version < version) visit(subject, earlier.version)
    visiting.delete(id)
    done.add(id)
    out.push({subject, version})
  }
  for (const s of [...snapshot.subjects].sort((a, b) => (a.subject < b.subject ? -1 : 1))) for (const v of s.versions) visit(s.subject, v.version)
  return out
}

export interface MigrationStep extends VersionRef {
  sourceId: number
  payload: SchemaPayload
  /** Already in the target under the subject: its ID and version there. */
  existing?: {id: number; version: number}
}

export interface MigrationResult {
  /** Source schema ID → target schema ID. */
  ids: Map<number, number>
  registered: number
  existing: number
  /** Subjects whose compatibility level was copied onto a subject the restore created. */
  configured: string[]
}

/**
 * Registers the snapshot in the target. Reads first (what exists, compatibility of what does not),
 * and refuses with the subject and the registry's reason before writing anything; then registers
 * in registrationOrder, rewriting each reference's version to the target's version number.
 */
export async function migrateSnapshot(snapshot: SchemaSnapshot, target: SchemaRegistryPort): Promise<MigrationResult> {
  const order = registrationOrder(snapshot)
  const bySubject = new Map(snapshot.subjects.map((s) => [s.subject, s]))
  // Source (subject, version) → target version, for references.
  const targetVersion = new Map<string, number>()
  const refKey = (s: string, v: number): string => `${s}\u0000${v}`
  const steps: MigrationStep[] = []
  const newSubjects = new Set<string>()
  const existingSubjects = new Map<string, boolean>()

  // 1. Read only: what the target already has.
  for (const {subject, version} of order) {
    const v = bySubject.get(subject)!.versions.find((x) => x.version === version)!
    const payload = {schema: v.schema, schemaType: v.schemaType, references: v.references}
    if (!existingSubjects.has(subject)) existingSubjects.set(subject, (await target.versions(subject)).length > 0)
    // A reference to a version that is new in the target cannot be looked up yet; such a version is new too.
    const resolvable = v.references.every((r) => targetVersion.has(refKey(r.subject, r.version)) || !bySubject.has(r.subject))
    const existing = existingSubjects.get(subject) && resolvable ? await target.lookup(subject, withTargetRefs(payload, targetVersion)) : undefined
    if (existing) targetVersion.set(refKey(subject, version), existing.version)
    if (!existingSubjects.get(subject)) newSubjects.add(subject)
    steps.push({subject, version, sourceId: v.id, payload, ...(existing ? {existing} : {})})
  }

  // 2. Read only: would the target accept each version it lacks, under an existing subject?
  // A subject the restore creates takes its versions in the source's order, as the source did.
  for (const step of steps) {
    if (step.existing || newSubjects.has(step.subject)) continue
    if (!step.payload.references.every((r) => targetVersion.has(refKey(r.subject, r.version)) || !bySubject.has(r.subject))) continue
    const result = await target.testCompatibility(step.subject, withTargetRefs(step.payload, targetVersion))
    if (!result.compatible) {
      const level = (await target.compatibility(step.subject)) ?? (await target.compatibility()) ?? 'its default'
      throw new KbkError(
        'KBK_SCHEMA_INCOMPATIBLE',
        `Subject "${step.subject}" version ${step.version} (source ID ${step.sourceId}) is not compatible with what ${target.description} holds under "${step.subject}" (compatibility ${level})${result.messages.length > 0 ? `: ${result.messages.join('; ')}` : ''}. Nothing was registered and no record was produced.`,
        {
          suggestion: `Restore into a registry without a conflicting "${step.subject}", delete or rename that subject there, or lower its compatibility level (PUT /config/${step.subject}) if the conflict is intended.`,
          details: {subject: step.subject, version: step.version, source_id: step.sourceId, compatibility: level, messages: result.messages},
        },
      )
    }
  }

  // 3. Write: register what is missing, in order.
  const ids = new Map<number, number>()
  let registered = 0
  let existingCount = 0
  for (const step of steps) {
    const payload = withTargetRefs(step.payload, targetVersion)
    let at = step.existing
    if (!at) {
      const id = await target.register(step.subject, payload)
      at = (await target.lookup(step.subject, payload)) ?? {id, version: step.version}
      registered++
    } else {
      existingCount++
    }
    targetVersion.set(refKey(step.subject, step.version), at.version)
    const before = ids.get(step.sourceId)
    // One schema under two subjects has one ID in a registry; keep the first mapping.
    if (before === undefined) ids.set(step.sourceId, at.id)
  }

  // The subject-level compatibility of subjects the restore created, after their history is in.
  const configured: string[] = []
  for (const subject of newSubjects) {
    const level = (bySubject.get(subject) as SubjectSnapshot).compatibility
    if (level) {
      await target.setCompatibility(subject, level)
      configured.push(subject)
    }
  }
  return {ids, registered, existing: existingCount, configured}
}

function withTargetRefs(payload: SchemaPayload, targetVersion: Map<string, number>): SchemaPayload {
  if (payload.references.length === 0) return payload
  const references: SchemaReference[] = payload.references.map((r) => ({...r, version: targetVersion.get(`${r.subject}\u0000${r.version}`) ?? r.version}))
  return {...payload, references}
}
