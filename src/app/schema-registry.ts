// The schema-registry use cases: a snapshot of the policy's subjects after each backup run, the
// plan's notes (new subjects/versions since the last snapshot; records whose schema IDs a restore
// rewrites), and the preparation of a restore (register in the target, map IDs, store the map,
// and the per-record rewrite handed to src/restore).
import type {ApplyOutcome} from '../apply/apply-plan.js'
import type {Reporter} from '../apply/events.js'
import {KbkError} from '../errors.js'
import {formatRestoreSchemaNote, formatSnapshotDiffNote, formatUnknownIdWarning} from '../format/schema-registry.js'
import type {KafkaRecord} from '../kafka/port.js'
import type {Plan, RestoreRun} from '../plan/types.js'
import type {RecordTransform} from '../restore/restore-run.js'
import {migrateSnapshot} from '../schema-registry/migrate.js'
import type {SchemaRegistryPort} from '../schema-registry/port.js'
import {decodeSnapshot, encodeSnapshot, SNAPSHOT_PREFIX, snapshotKey} from '../schema-registry/snapshot-file.js'
import {captureSnapshot, diffSnapshots, snapshotIds, subsetForTopics, type SchemaSnapshot, type SubjectChoice} from '../schema-registry/snapshot.js'
import {rewriteSchemaIdsInPlace, schemaIdOf} from '../schema-registry/wire-format.js'
import {readSegment} from '../segment/index.js'
import type {ObjectStore} from '../storage/object-store.js'
import {topicKey} from '../state/types.js'
import type {WorkspaceContext} from './workspace.js'

type Ctx = Pick<WorkspaceContext, 'workspace' | 'storeHandle' | 'keyring' | 'clock'> & {schemaRegistry(name: string): SchemaRegistryPort}

function choiceOf(ctx: Ctx, policy: string, topics: string[]): SubjectChoice {
  const sel = ctx.workspace.policies[policy]?.subjects
  if (!sel) return {topics}
  return {topics, matches: (s) => sel.include.some((p) => p.regex.test(s)) && !sel.exclude.some((p) => p.regex.test(s))}
}

/** Topics the policy has backed up (the state) and is about to back up (the plan). */
async function policyTopics(ctx: Ctx, policy: string, plan: Plan): Promise<string[]> {
  const store = ctx.workspace.policies[policy]!.store
  const {snapshot} = await ctx.storeHandle(store).state.read()
  const topics = new Set(Object.values(snapshot.topics).filter((t) => t.policy === policy).map((t) => t.topic))
  for (const ch of plan.resource_changes) if (ch.type === 'backup' && ch.name === policy && ch.topic) topics.add(ch.topic)
  return [...topics].sort()
}

/** The policy's newest snapshot in the store (keys sort by time), or undefined. */
export async function latestSnapshot(store: ObjectStore, policy: string, keyring: Map<string, Buffer>): Promise<{key: string; snapshot: SchemaSnapshot} | undefined> {
  let last: string | undefined
  for await (const o of store.list(`${SNAPSHOT_PREFIX}${policy}/`)) if (o.key.endsWith('.json')) last = o.key
  if (!last) return undefined
  return {key: last, snapshot: decodeSnapshot(await store.get(last), last, keyring)}
}

export interface SnapshotTaken {
  policy: string
  key: string
  subjects: number
  versions: number
  notes: string[]
}

/**
 * After the backups of an apply: one immutable snapshot per policy that has a schema registry and
 * ran at least one backup. Taken after the records, so every schema ID a backed-up record
 * carries was registered before the snapshot read the registry.
 */
export async function takeSchemaSnapshots(ctx: Ctx, plan: Plan, outcome: ApplyOutcome): Promise<SnapshotTaken[]> {
  const policies = new Set<string>()
  for (const ch of plan.resource_changes) {
    if (ch.type !== 'backup' || !ch.backup) continue
    if (!ctx.workspace.policies[ch.name]?.schemaRegistry) continue
    if (outcome.changes.some((o) => o.address === ch.address && o.status === 'done')) policies.add(ch.name)
  }
  const taken: SnapshotTaken[] = []
  for (const policy of [...policies].sort()) {
    const p = ctx.workspace.policies[policy]!
    const now = ctx.clock()
    const snapshot = await captureSnapshot(ctx.schemaRegistry(p.schemaRegistry!), choiceOf(ctx, policy, await policyTopics(ctx, policy, plan)), {policy, registry: p.schemaRegistry!, now})
    const key = snapshotKey(policy, snapshot.taken_at)
    const master = p.encryption ? ctx.keyring(policy).get(p.encryption.keyId) : undefined
    if (p.encryption && !master) {
      throw new KbkError('KBK_SEGMENT_KEY_MISSING', `Policy "${policy}" encrypts, but its key "${p.encryption.keyId}" could not be read: the schema snapshot was not written.`, {suggestion: `Make policies.${policy}.encryption.key or keyFile readable here.`})
    }
    const body = encodeSnapshot(snapshot, master ? {keyId: p.encryption!.keyId, key: master} : undefined)
    const retainUntil = p.tier.immutable && p.tier.maxAgeMs !== null ? new Date(now.getTime() + p.tier.maxAgeMs) : undefined
    await ctx.storeHandle(p.store).store.put(key, body, {ifNoneMatch: '*', contentType: 'application/json', ...(retainUntil ? {retainUntil} : {})})
    taken.push({policy, key, subjects: snapshot.subjects.length, versions: snapshot.subjects.reduce((n, s) => n + s.versions.length, 0), notes: snapshot.notes})
  }
  return taken
}

/**
 * The plan's words about schemas, as notes on its changes: for a backup, what the registry holds
 * that the last snapshot lacks; for a restore into a registry, how many records of which topics
 * carry a schema ID that will be rewritten (this reads the segments to restore).
 */
export async function addSchemaRegistryNotes(ctx: Ctx, plan: Plan): Promise<void> {
  const seen = new Set<string>()
  for (const ch of plan.resource_changes) {
    if (ch.type !== 'backup' || !ch.backup || seen.has(ch.name)) continue
    const p = ctx.workspace.policies[ch.name]
    if (!p?.schemaRegistry) continue
    seen.add(ch.name)
    const store = ctx.storeHandle(p.store).store
    const last = await latestSnapshot(store, ch.name, ctx.keyring(ch.name))
    const now = await captureSnapshot(ctx.schemaRegistry(p.schemaRegistry), choiceOf(ctx, ch.name, await policyTopics(ctx, ch.name, plan)), {policy: ch.name, registry: p.schemaRegistry, now: ctx.clock()})
    ch.notes = [...(ch.notes ?? []), formatSnapshotDiffNote(p.schemaRegistry, diffSnapshots(last?.snapshot, now), last?.snapshot.taken_at)]
  }
  for (const ch of plan.resource_changes) {
    if (ch.type !== 'restore' || !ch.restore) continue
    const prepared = schemaRestoreSettings(ctx, ch.restore)
    if (!prepared) continue
    const store = ctx.storeHandle(ch.restore.store).store
    const last = await latestSnapshot(store, ch.restore.policy, ctx.keyring(ch.restore.policy))
    const known = last ? snapshotIds(subsetForTopics(last.snapshot, ch.restore.topics.map((t) => t.source_topic), ctx.workspace.policies[ch.restore.policy]?.subjects !== undefined)) : new Set<number>()
    const counts = await countSchemaRecords(ctx, ch.restore, known)
    ch.notes = [...(ch.notes ?? []), ...formatRestoreSchemaNote({target: prepared.target, same: prepared.same, snapshot: last?.key, counts, unknownIds: prepared.unknownIds})]
  }
}

function schemaRestoreSettings(ctx: Ctx, run: RestoreRun): {target: string; source: string; same: boolean; unknownIds: 'fail' | 'copy'} | undefined {
  const r = ctx.workspace.restores[run.name]
  const target = r?.to.schemaRegistry
  const source = ctx.workspace.policies[run.policy]?.schemaRegistry
  if (!r || !target || !source) return undefined
  const same = target === source || ctx.workspace.schemaRegistries[target]?.url === ctx.workspace.schemaRegistries[source]?.url
  return {target, source, same, unknownIds: r.unknownSchemaIds}
}

export interface TopicSchemaCount {
  topic: string
  records: number
  withId: number
  unknown: number
}

async function countSchemaRecords(ctx: Ctx, run: RestoreRun, known: Set<number>): Promise<TopicSchemaCount[]> {
  const handle = ctx.storeHandle(run.store)
  const {snapshot} = await handle.state.read()
  const pit = Date.parse(run.point_in_time)
  const keyring = ctx.keyring(run.policy)
  const out: TopicSchemaCount[] = []
  for (const t of run.topics) {
    const c: TopicSchemaCount = {topic: t.source_topic, records: 0, withId: 0, unknown: 0}
    if (!snapshot.topics[topicKey(run.policy, t.source_topic)]) continue
    for (const seg of await handle.state.loadSegments(snapshot, run.policy, t.source_topic)) {
      if (seg.min_timestamp > pit) continue
      for await (const block of readSegment([await handle.store.get(seg.key)], {keyring, objectName: seg.key})) {
        for (const r of block) {
          if (r.timestamp > pit) continue
          c.records++
          const k = schemaIdOf(r.key)
          const v = schemaIdOf(r.value)
          if (k === undefined && v === undefined) continue
          c.withId++
          if ((k !== undefined && !known.has(k)) || (v !== undefined && !known.has(v))) c.unknown++
        }
      }
    }
    out.push(c)
  }
  return out
}

export interface SchemaRestorePrepared {
  transform?: RecordTransform
  mapKey?: string
  registered: number
  ids: number
}

/**
 * Before a restore produces anything: register the policy's latest snapshot in the target registry
 * (compatibility checked before any write; KBK_SCHEMA_INCOMPATIBLE names the subject), store the
 * source → target ID map beside the restore's offset map, and return the record rewrite.
 * Restoring into the source registry itself re-registers nothing and rewrites nothing.
 */
export async function prepareSchemaRestore(ctx: Ctx, run: RestoreRun, store: ObjectStore, reporter: Reporter, address: string): Promise<SchemaRestorePrepared | undefined> {
  const settings = schemaRestoreSettings(ctx, run)
  if (!settings) return undefined
  if (settings.same) return {registered: 0, ids: 0}
  const last = await latestSnapshot(store, run.policy, ctx.keyring(run.policy))
  if (!last) {
    throw new KbkError('KBK_SCHEMA_SNAPSHOT_MISSING', `Restore "${run.name}" registers schemas in "${settings.target}", but policy "${run.policy}" has no schema snapshot in its store yet: nothing was restored.`, {
      suggestion: `Run a backup of policy "${run.policy}" (kbk apply) so it snapshots schema registry "${settings.source}", then apply the restore again.`,
      kind: 'environment',
    })
  }
  const needed = subsetForTopics(last.snapshot, run.topics.map((t) => t.source_topic), ctx.workspace.policies[run.policy]?.subjects !== undefined)
  const result = await migrateSnapshot(needed, ctx.schemaRegistry(settings.target))
  const mapKey = `restores/${run.name}/${run.point_in_time.replace(/[:.]/g, '')}/schema-id-map.json`
  const map = {restore: run.name, point_in_time: run.point_in_time, snapshot: last.key, source_registry: settings.source, target_registry: settings.target, ids: Object.fromEntries([...result.ids].sort((a, b) => a[0] - b[0]))}
  await store.put(mapKey, Buffer.from(JSON.stringify(map)), {contentType: 'application/json'})
  const ids = result.ids
  const warned = new Set<number>()
  // In place: the records handed to the transform are freshly decoded for this restore and read by
  // nothing else, and copying each key/value cost ~25 % more restore CPU (scripts/bench/schema-remap.mjs).
  const transform: RecordTransform = (r: KafkaRecord, where): KafkaRecord => {
    const unknown = rewriteSchemaIdsInPlace(r.key, r.value, ids)
    if (unknown) {
      if (settings.unknownIds === 'fail') {
        throw new KbkError('KBK_SCHEMA_ID_UNKNOWN', `Record ${where.topic}/${where.partition}@${where.offset} carries schema ID ${unknown.id} in its ${unknown.part}, which snapshot ${last.key} does not hold: restore "${run.name}" stopped (records before it were produced; a rerun resumes there).`, {
          suggestion: `Set restores.${run.name}.unknownSchemaIds: copy to produce such records unchanged (with a warning), or take a newer snapshot (a backup run) if the schema was registered after it.`,
          details: {topic: where.topic, partition: where.partition, offset: where.offset, part: unknown.part, schema_id: unknown.id},
        })
      }
      if (!warned.has(unknown.id)) {
        warned.add(unknown.id)
        reporter.emit({type: 'warning', address, message: formatUnknownIdWarning(where, unknown)})
      }
      return r
    }
    return r
  }
  return {transform, mapKey, registered: result.registered, ids: ids.size}
}
