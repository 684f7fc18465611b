// Words for consumer offset resets: the plan lines (`~ offsets.NAME["group"] topic/3: 1,204 -> 980`),
// the notes and diagnostics the offsets planner hands over as facts, and snapshot listings.
import type {OffsetResetRun, OffsetsChange, RestoreStreamsPlan} from '../plan/types.js'
import type {ErrorCode} from '../errors.js'
import {c} from './colors.js'
import {formatCount, formatDuration} from './numbers.js'
import {renderTable} from './table.js'

export type Member = {member_id: string; client_id: string; host: string}

/** The facts the offsets planner reports; worded here only. */
export type OffsetsFact =
  | {kind: 'offsets-unreadable'; reset: string; cluster: string; code: ErrorCode; error: string}
  | {kind: 'offsets-no-group'; reset: string; cluster: string; patterns: string[]}
  | {kind: 'offsets-group-active'; reset: string; cluster: string; group: string; state: string; members: Member[]}
  | {kind: 'offsets-no-source'; reset: string; cluster: string; to: OffsetResetRun['to']; group: string; timestamp?: string; restore?: string}

export type OffsetsNote =
  | {kind: 'resume'; snapshot: string}
  | {kind: 'wait'; group: string; members: number; timeoutMs: number}
  | {kind: 'clamped'; group: string; topic: string; partition: number; wanted: number; low: number; high: number}
  | {kind: 'topic-gone'; group: string; topic: string}
  | {kind: 'no-commit-in-snapshot'; group: string; topic: string; partition: number; current: number}
  | {kind: 'already-there'}
  | {kind: 'source'; run: OffsetResetRun}

export function membersText(members: Member[]): string {
  return members.map((m) => `${m.member_id} (client ${m.client_id}, ${m.host})`).join(', ')
}

export function offsetsDiagnosticText(f: OffsetsFact): {code: ErrorCode; message: string; suggestion: string} {
  switch (f.kind) {
    case 'offsets-unreadable':
      return {code: f.code, message: `offsets.${f.reset}: cannot read the consumer groups on cluster "${f.cluster}": ${f.error}`, suggestion: `Check that cluster "${f.cluster}" is reachable and that kbk may describe its groups (DESCRIBE on GROUP), then plan again.`}
    case 'offsets-no-group':
      return {code: 'KBK_OFFSETS_NO_GROUP', message: `offsets.${f.reset}: no consumer group on cluster "${f.cluster}" matches ${f.patterns.map((p) => JSON.stringify(p)).join(', ')}`, suggestion: `Fix offsetResets.${f.reset}.groups (patterns match the whole group id), or remove the reset.`}
    case 'offsets-group-active':
      return {
        code: 'KBK_KAFKA_GROUP_ACTIVE',
        message: `offsets.${f.reset}: consumer group "${f.group}" on cluster "${f.cluster}" has ${f.members.length} active member(s) (${f.state}): ${membersText(f.members)}. Its offsets cannot be reset while they consume.`,
        suggestion: `Stop every consumer of "${f.group}" and plan again, or set offsetResets.${f.reset}.ifActive: wait to have apply wait for them to leave.`,
      }
    case 'offsets-no-source':
      return f.to === 'timestamp'
        ? {code: 'KBK_OFFSETS_NO_SOURCE', message: `offsets.${f.reset}: no snapshot of group "${f.group}" on cluster "${f.cluster}" was taken at or before ${f.timestamp}`, suggestion: 'Snapshots come with backups of policies that record consumer groups (consumerGroups.include) and before every reset; `kbk offsets snapshots --group` lists them. Pick a later timestamp.'}
        : f.to === 'restored'
          ? {code: 'KBK_OFFSETS_NO_SOURCE', message: `offsets.${f.reset}: restore "${f.restore}" has not recorded translated positions for group "${f.group}"`, suggestion: `Apply restore "${f.restore}" first (its policy must record the group: consumerGroups.include), then plan again.`}
          : {code: 'KBK_OFFSETS_NO_SOURCE', message: `offsets.${f.reset}: the snapshot holds no offsets of group "${f.group}"`, suggestion: '`kbk offsets snapshots --group GROUP` lists the snapshots that hold a group.'}
  }
}

export function offsetsNoteText(n: OffsetsNote): string {
  switch (n.kind) {
    case 'resume':
      return `an earlier apply took snapshot ${n.snapshot} and was interrupted: this one commits the same offsets, and rolling back goes to that snapshot`
    case 'wait':
      return `group "${n.group}" has ${n.members} active member(s): apply waits up to ${formatDuration(n.timeoutMs)} for them to leave (ifActive: wait)`
    case 'clamped':
      return `"${n.group}" ${n.topic}/${n.partition}: wanted ${formatCount(n.wanted)}, outside the log (${formatCount(n.low)}..${formatCount(n.high)}): the nearest end is used`
    case 'topic-gone':
      return `"${n.group}" ${n.topic}: the topic is not on the cluster now; its offsets are left alone`
    case 'no-commit-in-snapshot':
      return `"${n.group}" ${n.topic}/${n.partition}: no committed offset in the snapshot; left at ${formatCount(n.current)} (Kafka's admin API cannot remove one offset)`
    case 'already-there':
      return 'every offset is already where it should be: apply only records the reset'
    case 'source':
      return sourceText(n.run)
  }
}

function sourceText(run: OffsetResetRun): string {
  const s = run.source
  switch (run.to) {
    case 'earliest':
      return 'to the earliest offset still on the broker (log start)'
    case 'latest':
      return 'to the latest offset (log end, as seen now: pinned)'
    case 'restored':
      return `to the positions restore "${s?.restore ?? '?'}" translated`
    case 'timestamp':
      return `to the committed offsets as of ${s?.timestamp ?? '?'} (snapshot ${s?.snapshot ?? '?'}, taken ${s?.snapshot_taken_at ?? '?'})`
    case 'snapshot':
      return `to snapshot ${s?.snapshot ?? '?'} (taken ${s?.snapshot_taken_at ?? '?'})`
  }
}

function offset(n: number | null): string {
  return n === null ? '(none)' : formatCount(n)
}

/** The per-partition lines of an offsets change. */
export function formatOffsetsLines(ch: OffsetsChange, indent: string): string[] {
  const lines: string[] = []
  for (const g of ch.offsets.groups) {
    for (const [topic, moves] of Object.entries(g.topics)) {
      for (const m of moves) lines.push(`${indent}${c.yellow('~')} ${ch.address}["${g.group}"] ${topic}/${m.partition}: ${offset(m.before)} ${c.dim('->')} ${offset(m.after)}`)
    }
  }
  return lines
}

export function offsetsHeadline(ch: OffsetsChange): string {
  const groups = ch.offsets.groups.length
  const partitions = countMoves(ch.offsets)
  return partitions === 0 ? 'will be recorded (no offset moves)' : `will reset ${formatCount(partitions)} partition offset(s) of ${formatCount(groups)} group(s) on "${ch.offsets.cluster}"`
}

export function countMoves(run: OffsetResetRun): number {
  let n = 0
  for (const g of run.groups) for (const moves of Object.values(g.topics)) n += moves.length
  return n
}

export function formatWaitTimeout(ms: number): string {
  return formatDuration(ms)
}

/** `kbk offsets snapshots` as a table. */
export function formatSnapshotTable(rows: Array<{id: string; taken_at: string; cluster: string; reason: {kind: string; address?: string; policy?: string}; groups: string[]; partitions: number}>): string {
  return renderTable(
    ['ID', 'TAKEN', 'CLUSTER', 'WHY', 'GROUPS', 'PARTITIONS'],
    rows.map((r) => [r.id, r.taken_at, r.cluster, r.reason.kind === 'backup' ? `backup of policy ${r.reason.policy ?? '?'}` : `before ${r.reason.address ?? r.reason.kind}`, r.groups.join(','), formatCount(r.partitions)]),
  )
}

/** The notes under a restore of a Kafka Streams application. */
export function streamsNote(s: RestoreStreamsPlan): string[] {
  const list = (xs: string[]): string => (xs.length > 0 ? xs.join(', ') : '(none)')
  return [
    `Kafka Streams application "${s.application_id}": inputs ${list(s.input_topics)} and changelogs ${list(s.changelog_topics)} restored to the same instant`,
    `repartition topics recreated empty: ${list(s.repartition.map((r) => `${r.target_topic}${r.create ? ` (create, ${r.partitions} partitions)` : ' (exists)'}`))}`,
    `group "${s.application_id}" resumes exactly after the last restored input record of each partition; the application rebuilds its state stores from the changelogs (docs/offsets.md)`,
  ]
}
