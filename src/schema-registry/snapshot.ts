// A schema snapshot: every selected subject's full version history (schema text, type,
// references, ID, version) with subject- and global-level compatibility and mode, as the registry
// had them at one moment. One per backup run, written once to the store and never changed.
import type {RegisteredVersion, SchemaRegistryPort} from './port.js'

export const SNAPSHOT_FORMAT = 1

export interface SubjectSnapshot {
  subject: string
  /** The subject's own level; null when it has none (the global level applies). */
  compatibility: string | null
  mode: string | null
  versions: Array<Omit<RegisteredVersion, 'subject'>>
}

export interface SchemaSnapshot {
  format: typeof SNAPSHOT_FORMAT
  policy: string
  registry: string
  taken_at: string
  global: {compatibility: string | null; mode: string | null}
  /** What could not be backed up, and why (e.g. the registry has no /mode endpoint). */
  notes: string[]
  subjects: SubjectSnapshot[]
}

/** Which subjects a policy backs up: its own selection, else the TopicNameStrategy subjects of its topics. */
export interface SubjectChoice {
  /** Undefined: `<topic>-key` and `<topic>-value` of `topics`. */
  matches?: (subject: string) => boolean
  topics: string[]
}

/** The subjects to snapshot, given the registry's subject list: chosen ones first, references added by capture. */
export function chosenSubjects(all: string[], choice: SubjectChoice): string[] {
  if (choice.matches) return all.filter(choice.matches).sort()
  const wanted = new Set(choice.topics.flatMap((t) => [`${t}-key`, `${t}-value`]))
  return all.filter((s) => wanted.has(s)).sort()
}

/** Reads the chosen subjects, and every subject their schemas reference, from the registry. */
export async function captureSnapshot(port: SchemaRegistryPort, choice: SubjectChoice, meta: {policy: string; registry: string; now: Date}): Promise<SchemaSnapshot> {
  const all = await port.subjects()
  const queue = chosenSubjects(all, choice)
  const seen = new Set(queue)
  const subjects: SubjectSnapshot[] = []
  const notes: string[] = []
  const globalMode = await port.mode()
  const modeSupported = globalMode !== 'unsupported'
  if (!modeSupported) notes.push(`${port.description} has no /mode endpoint (404): modes were not backed up`)
  while (queue.length > 0) {
    const subject = queue.shift()!
    const versions: SubjectSnapshot['versions'] = []
    for (const v of await port.versions(subject)) {
      const {subject: _s, ...rest} = await port.version(subject, v)
      versions.push(rest)
      for (const r of rest.references) {
        if (seen.has(r.subject)) continue
        seen.add(r.subject)
        queue.push(r.subject)
      }
    }
    const mode = modeSupported ? await port.mode(subject) : undefined
    subjects.push({subject, compatibility: (await port.compatibility(subject)) ?? null, mode: mode === undefined || mode === 'unsupported' ? null : mode, versions})
  }
  subjects.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0))
  return {
    format: SNAPSHOT_FORMAT,
    policy: meta.policy,
    registry: meta.registry,
    taken_at: meta.now.toISOString(),
    global: {compatibility: (await port.compatibility()) ?? null, mode: modeSupported && globalMode !== undefined ? globalMode : null},
    notes,
    subjects,
  }
}

export interface SnapshotDiff {
  newSubjects: string[]
  /** subject → version numbers the earlier snapshot lacks (subjects new or not). */
  newVersions: Record<string, number[]>
  versionCount: number
}

/** What a registry holds now that the last snapshot does not (pure; for the plan). */
export function diffSnapshots(previous: Pick<SchemaSnapshot, 'subjects'> | undefined, current: Pick<SchemaSnapshot, 'subjects'>): SnapshotDiff {
  const before = new Map((previous?.subjects ?? []).map((s) => [s.subject, new Set(s.versions.map((v) => v.version))]))
  const out: SnapshotDiff = {newSubjects: [], newVersions: {}, versionCount: 0}
  for (const s of current.subjects) {
    const known = before.get(s.subject)
    if (!known) out.newSubjects.push(s.subject)
    const added = s.versions.map((v) => v.version).filter((v) => !known?.has(v))
    if (added.length > 0) {
      out.newVersions[s.subject] = added
      out.versionCount += added.length
    }
  }
  return out
}

/** Every schema ID of the snapshot, for the unknown-ID check of a same-registry restore. */
export function snapshotIds(snapshot: SchemaSnapshot): Set<number> {
  return new Set(snapshot.subjects.flatMap((s) => s.versions.map((v) => v.id)))
}

/**
 * The part of a snapshot a restore of these topics needs (pure): their TopicNameStrategy subjects
 * and every subject those reference. With `all` (the policy chose its subjects itself, e.g. for
 * RecordNameStrategy), the whole snapshot.
 */
export function subsetForTopics(snapshot: SchemaSnapshot, topics: string[], all: boolean): SchemaSnapshot {
  if (all) return snapshot
  const bySubject = new Map(snapshot.subjects.map((s) => [s.subject, s]))
  const keep = new Set<string>()
  const queue = topics.flatMap((t) => [`${t}-key`, `${t}-value`]).filter((s) => bySubject.has(s))
  while (queue.length > 0) {
    const s = queue.shift()!
    if (keep.has(s)) continue
    keep.add(s)
    for (const v of bySubject.get(s)!.versions) for (const r of v.references) if (bySubject.has(r.subject) && !keep.has(r.subject)) queue.push(r.subject)
  }
  return {...snapshot, subjects: snapshot.subjects.filter((s) => keep.has(s.subject))}
}
