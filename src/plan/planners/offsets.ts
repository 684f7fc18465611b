// Planner for consumer offset resets: per group and partition, the committed offset now and the
// one apply commits. Pure: what the groups hold, their members and the topics' watermarks were
// read by the refresh (offsets/read-offsets.ts); no clock, no I/O. A group with members is
// refused unless the intent says to wait; a reset applied with the same settings is not planned
// again; an interrupted one is planned to the offsets it pinned.
import {isDeepStrictEqual} from 'node:util'
import {offsetsDiagnosticText, offsetsNoteText, type OffsetsFact, type OffsetsNote} from '../../format/offsets-text.js'
import type {StateSnapshot} from '../../state/types.js'
import type {Desired, DesiredOffsetReset, Observed, OffsetMove, OffsetResetGroupPlan, OffsetResetRun, OffsetResetView, OffsetsChange, PlanDiagnostic, ResourceChange} from '../types.js'
import {sortedValues} from './shared.js'

type Offsets = Record<string, Record<string, Record<number, number>>>

export function offsetsDiagnostic(severity: PlanDiagnostic['severity'], fact: OffsetsFact): PlanDiagnostic {
  const {code, message, suggestion} = offsetsDiagnosticText(fact)
  return {severity, code, message, suggestion}
}

export function planOffsetResets(desired: Desired, observed: Observed, changes: ResourceChange[], diagnostics: PlanDiagnostic[]): void {
  for (const reset of sortedValues(desired.offsetResets ?? {})) {
    const state = observed.states[reset.store]
    const view = observed.offsets?.[reset.name]
    if (!state || !view) continue
    const change = planOffsetReset(reset, state, view, diagnostics)
    if (change) changes.push(change)
  }
}

export function planOffsetReset(reset: DesiredOffsetReset, state: StateSnapshot, view: OffsetResetView, diagnostics: PlanDiagnostic[]): OffsetsChange | undefined {
  const fact = <F extends OffsetsFact>(f: F): F => f
  if (view.error) {
    diagnostics.push(offsetsDiagnostic('error', fact({kind: 'offsets-unreadable', reset: reset.name, cluster: reset.cluster, code: view.error.code, error: view.error.message})))
    return undefined
  }
  const recorded = state.offset_resets?.[reset.name]
  const same = recorded !== undefined && isDeepStrictEqual(recorded.settings, reset.settings)
  if (same && recorded.status === 'complete') return undefined
  const resume = same && recorded.status === 'in-progress' ? recorded : undefined
  const notes: OffsetsNote[] = []

  let targets: Offsets
  const source: OffsetResetRun['source'] = {}
  if (resume) {
    targets = resume.offsets
    notes.push({kind: 'resume', snapshot: resume.snapshot_id})
  } else {
    if (view.groups.length === 0) {
      diagnostics.push(offsetsDiagnostic('warning', fact({kind: 'offsets-no-group', reset: reset.name, cluster: reset.cluster, patterns: reset.groups.map((r) => r.source.replace(/^\^\(\?:(.*)\)\$$/, '$1'))})))
      return undefined
    }
    if (reset.to === 'snapshot' || reset.to === 'timestamp') {
      if (view.snapshot) Object.assign(source, {snapshot: view.snapshot.id, snapshot_taken_at: view.snapshot.taken_at})
      if (reset.timestamp) source.timestamp = reset.timestamp
    }
    if (reset.to === 'restored' && reset.restore) source.restore = reset.restore
    const computed = targetsOf(reset, view, notes, diagnostics)
    if (!computed) return undefined
    targets = computed
  }

  const run: OffsetResetRun = {
    name: reset.name,
    cluster: reset.cluster,
    store: reset.store,
    to: reset.to,
    ...(Object.keys(source).length > 0 ? {source} : {}),
    groups: movesOf(targets, view, notes),
    if_active: reset.ifActive,
    wait_timeout_ms: reset.waitTimeoutMs,
    ...(resume ? {resume_snapshot: resume.snapshot_id} : {}),
  }
  return finish(`offsets.${reset.name}`, run, recorded?.settings ?? null, reset.settings, notes, diagnostics)
}

/**
 * A rollback: the groups of a snapshot back to exactly the offsets it holds. Planned like any
 * reset (and snapshotted first when applied, so it can be rolled back too).
 */
export function planOffsetRollback(snapshot: {id: string; taken_at: string; cluster: string; groups: Offsets}, store: string, view: OffsetResetView, diagnostics: PlanDiagnostic[]): OffsetsChange | undefined {
  const name = `rollback-${snapshot.id}`
  const notes: OffsetsNote[] = []
  const run: OffsetResetRun = {
    name,
    cluster: snapshot.cluster,
    store,
    to: 'snapshot',
    source: {snapshot: snapshot.id, snapshot_taken_at: snapshot.taken_at},
    groups: movesOf(snapshot.groups, view, notes),
    if_active: 'fail',
    wait_timeout_ms: 0,
  }
  // Committed offsets the snapshot does not know cannot be taken back through the admin API: say so.
  for (const g of view.groups) {
    for (const [topic, parts] of Object.entries(g.offsets)) {
      for (const [p, current] of Object.entries(parts)) if (snapshot.groups[g.group]?.[topic]?.[Number(p)] === undefined) notes.push({kind: 'no-commit-in-snapshot', group: g.group, topic, partition: Number(p), current})
    }
  }
  return finish(`offsets.${name}`, run, null, {rollback: snapshot.id, cluster: snapshot.cluster, store}, notes, diagnostics)
}

function finish(address: string, run: OffsetResetRun, before: Record<string, unknown> | null, after: Record<string, unknown>, notes: OffsetsNote[], diagnostics: PlanDiagnostic[]): OffsetsChange {
  let blocked: string | undefined
  for (const g of run.groups) {
    if (g.members.length === 0 || Object.keys(g.topics).length === 0) continue
    if (run.if_active === 'wait') {
      notes.push({kind: 'wait', group: g.group, members: g.members.length, timeoutMs: run.wait_timeout_ms})
      continue
    }
    const d = offsetsDiagnostic('error', {kind: 'offsets-group-active', reset: run.name, cluster: run.cluster, group: g.group, state: g.state, members: g.members})
    diagnostics.push(d)
    blocked ??= d.message
  }
  if (run.groups.every((g) => Object.keys(g.topics).length === 0)) notes.push({kind: 'already-there'})
  const texts = [offsetsNoteText({kind: 'source', run}), ...notes.map(offsetsNoteText)]
  return {address, type: 'offsets', name: run.name, store: run.store, actions: ['update'], before, after, offsets: run, notes: texts, ...(blocked ? {blocked} : {})}
}

/** group -> topic -> partition -> the offset wanted, from the intent's `to`; undefined when a source is missing (diagnosed). */
function targetsOf(reset: DesiredOffsetReset, view: OffsetResetView, notes: OffsetsNote[], diagnostics: PlanDiagnostic[]): Offsets | undefined {
  const wanted = (t: string): boolean => reset.topics.length === 0 || reset.topics.some((r) => r.test(t))
  const out: Offsets = {}
  let missing = false
  for (const g of view.groups) {
    const mine: Record<string, Record<number, number>> = {}
    if (reset.to === 'earliest' || reset.to === 'latest') {
      // Without topic patterns: the topics the group consumes; with them: every matching topic.
      const topics = reset.topics.length === 0 ? Object.keys(g.offsets) : Object.keys(view.watermarks).filter(wanted)
      for (const t of topics) {
        const wm = view.watermarks[t] ?? []
        if (wm.length === 0) {
          notes.push({kind: 'topic-gone', group: g.group, topic: t})
          continue
        }
        mine[t] = Object.fromEntries(wm.map((w) => [w.partition, reset.to === 'earliest' ? w.low : w.high]))
      }
    } else {
      const src = reset.to === 'restored' ? view.restored?.[g.group] : view.snapshot?.groups[g.group]
      if (!src) {
        diagnostics.push(offsetsDiagnostic('error', {kind: 'offsets-no-source', reset: reset.name, cluster: reset.cluster, to: reset.to, group: g.group, ...(reset.timestamp ? {timestamp: reset.timestamp} : {}), ...(reset.restore ? {restore: reset.restore} : {})}))
        missing = true
        continue
      }
      for (const [t, parts] of Object.entries(src)) {
        if (!wanted(t)) continue
        const wm = view.watermarks[t] ?? []
        if (wm.length === 0) {
          notes.push({kind: 'topic-gone', group: g.group, topic: t})
          continue
        }
        const byPartition = new Map(wm.map((w) => [w.partition, w]))
        for (const [p, o] of Object.entries(parts)) {
          const w = byPartition.get(Number(p))
          if (!w) continue
          // Kafka keeps an offset outside the log, and the consumer then jumps by auto.offset.reset: decide here instead.
          const clamped = Math.min(Math.max(o, w.low), w.high)
          if (clamped !== o) notes.push({kind: 'clamped', group: g.group, topic: t, partition: Number(p), wanted: o, low: w.low, high: w.high})
          ;(mine[t] ??= {})[Number(p)] = clamped
        }
      }
    }
    out[g.group] = mine
  }
  return missing ? undefined : out
}

/** The partitions whose committed offset differs from the target, per group, sorted. */
function movesOf(targets: Offsets, view: OffsetResetView, notes: OffsetsNote[]): OffsetResetGroupPlan[] {
  const out: OffsetResetGroupPlan[] = []
  for (const group of Object.keys(targets).sort()) {
    const g = view.groups.find((x) => x.group === group) ?? {group, state: 'Dead', members: [], offsets: {}}
    const topics: Record<string, OffsetMove[]> = {}
    for (const topic of Object.keys(targets[group]!).sort()) {
      const moves: OffsetMove[] = []
      for (const [p, after] of Object.entries(targets[group]![topic]!).sort(([a], [b]) => Number(a) - Number(b))) {
        const partition = Number(p)
        if (!view.watermarks[topic]?.some((w) => w.partition === partition) && view.watermarks[topic] !== undefined) {
          if (!notes.some((n) => n.kind === 'topic-gone' && n.group === group && n.topic === topic)) notes.push({kind: 'topic-gone', group, topic})
          continue
        }
        const before = g.offsets[topic]?.[partition] ?? null
        if (before !== after) moves.push({partition, before, after})
      }
      if (moves.length > 0) topics[topic] = moves
    }
    out.push({group, state: g.state, members: g.members, topics})
  }
  return out
}
