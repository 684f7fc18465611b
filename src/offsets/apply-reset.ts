// Applies an offsets change: (1) waits for or refuses active groups, (2) snapshots every affected
// group's committed offsets into the store (create-only object), (3) records the reset as
// in-progress with the offsets it will commit, (4) commits them through the admin API (OffsetCommit
// without joining the group), (5) records it complete. A crash after (3) leaves the record: the next
// plan commits the same pinned offsets, and the first snapshot stays the one a rollback goes to.
import {KbkError} from '../errors.js'
import type {KafkaPort} from '../kafka/port.js'
import type {OffsetResetRun} from '../plan/types.js'
import type {ObjectStore} from '../storage/object-store.js'
import type {OffsetResetRecord} from '../state/types.js'
import type {StateCommitter} from '../apply/state-committer.js'
import {membersText} from '../format/offsets-text.js'
import {describe} from './read-offsets.js'
import {newSnapshotId, writeSnapshot, type OffsetSnapshot} from './snapshots.js'

export interface OffsetsDeps {
  kafka: KafkaPort
  store: ObjectStore
  committer: StateCommitter
  now: () => Date
  /** The change's settings: recorded so the next plan shows no change. */
  settings: Record<string, unknown>
  address: string
  signal?: AbortSignal
  /** Tests only: called once the snapshot and the in-progress record are durable, before any commit. */
  afterSnapshot?: () => void
  /** How long to sleep between looks at a group that has members (ifActive: wait). */
  pollMs?: number
  sleep?: (ms: number) => Promise<void>
}

export interface OffsetsResult {
  snapshot: string
  committed: number
  groups: number
}

export async function applyOffsetReset(run: OffsetResetRun, deps: OffsetsDeps): Promise<OffsetsResult> {
  const groups = run.groups.map((g) => g.group)
  const moving = run.groups.filter((g) => Object.keys(g.topics).length > 0).map((g) => g.group)
  await waitUntilInactive(run, moving, deps)

  let snapshotId = run.resume_snapshot
  const prior = deps.committer.current.snapshot.offset_resets?.[run.name]
  if (snapshotId === undefined || prior?.status !== 'in-progress') {
    const described = await describe(deps.kafka, groups)
    const snapshot: OffsetSnapshot = {
      format_version: 1,
      id: newSnapshotId(deps.now()),
      taken_at: deps.now().toISOString(),
      cluster: run.cluster,
      reason: {kind: run.name.startsWith('rollback-') ? 'rollback' : 'reset', address: deps.address},
      groups: Object.fromEntries(described.map((g) => [g.group, {state: g.state, members: g.members, offsets: g.offsets}])),
    }
    await writeSnapshot(deps.store, snapshot)
    snapshotId = snapshot.id
  }
  // What this reset commits, pinned: a rerun after a crash commits exactly these, whatever moved since.
  const offsets: OffsetResetRecord['offsets'] = prior?.status === 'in-progress' && run.resume_snapshot !== undefined ? structuredClone(prior.offsets) : {}
  if (run.resume_snapshot === undefined) {
    for (const g of run.groups) for (const [topic, moves] of Object.entries(g.topics)) for (const m of moves) ((offsets[g.group] ??= {})[topic] ??= {})[m.partition] = m.after
  }
  const record = (status: OffsetResetRecord['status']): OffsetResetRecord => ({name: run.name, settings: {...deps.settings}, applied_at: deps.now().toISOString(), cluster: run.cluster, status, snapshot_id: snapshotId, offsets})
  deps.committer.setOffsetReset(record('in-progress'))
  await deps.committer.flush()
  deps.afterSnapshot?.()

  let committed = 0
  for (const g of run.groups) {
    for (const [topic, moves] of Object.entries(g.topics)) {
      if (moves.length === 0) continue
      if (deps.signal?.aborted) throw new KbkError('KBK_APPLY_INTERRUPTED', `Offset reset ${deps.address} stopped before committing "${g.group}" ${topic}; the next apply finishes it.`, {kind: 'user'})
      await deps.kafka.commitGroupOffsets(g.group, topic, moves.map((m) => ({partition: m.partition, offset: m.after})))
      committed += moves.length
    }
  }
  deps.committer.setOffsetReset(record('complete'))
  await deps.committer.flush()
  return {snapshot: snapshotId, committed, groups: moving.length}
}

/** ifActive: fail refuses a group with members (naming them); wait polls until it has none or the timeout passes. */
async function waitUntilInactive(run: OffsetResetRun, groups: string[], deps: OffsetsDeps): Promise<void> {
  if (groups.length === 0) return
  const started = deps.now().getTime()
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  for (;;) {
    const active = (await describe(deps.kafka, groups)).filter((g) => g.members.length > 0)
    if (active.length === 0) return
    const first = active[0]!
    const waited = deps.now().getTime() - started
    if (run.if_active === 'fail' || waited >= run.wait_timeout_ms || deps.signal?.aborted) {
      const code = run.if_active === 'wait' && !deps.signal?.aborted ? 'KBK_OFFSETS_WAIT_TIMEOUT' : 'KBK_KAFKA_GROUP_ACTIVE'
      throw new KbkError(code, `Consumer group "${first.group}" on cluster "${run.cluster}" has ${first.members.length} active member(s): ${membersText(first.members)}. Nothing was committed${run.if_active === 'wait' ? ` (waited ${Math.round(waited / 1000)} s)` : ''}.`, {
        suggestion: `Stop every consumer of "${first.group}", then run \`kbk apply\` again${run.if_active === 'fail' ? ' (or set ifActive: wait on the reset)' : ''}.`,
        kind: 'conflict',
        retriable: true,
        details: {cluster: run.cluster, group: first.group, members: first.members},
      })
    }
    await sleep(deps.pollMs ?? 1000)
  }
}
