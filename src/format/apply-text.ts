// The closing summary of an apply, for people.
import type {ApplyOutcome} from '../apply/apply-plan.js'
import {c} from './colors.js'
import {formatBytes, formatCount, formatDuration, formatRate} from './numbers.js'

/** Exit codes of an apply stopped by a signal, as shells report a process killed by one. */
export const SIGNAL_EXIT_CODES: Record<string, number> = {SIGINT: 130, SIGTERM: 143}

/**
 * One line for an apply a signal stopped: what was committed, what stopped part-way, what never
 * started. The counts are what is durable in the state, so they match `kbk state show`.
 */
export function formatInterruptedSummary(outcome: ApplyOutcome): string {
  const s = outcome.summary
  const stopped = outcome.changes.filter((ch) => ch.status === 'interrupted').map((ch) => ch.address)
  const notStarted = outcome.changes.filter((ch) => ch.status === 'skipped' && ch.code === 'KBK_APPLY_INTERRUPTED').length
  const committed =
    `committed ${formatCount(s.records)} record(s) in ${s.segments} segment(s) (${formatBytes(s.stored_bytes)} stored)` +
    (s.restored_records ? `, ${formatCount(s.restored_records)} record(s) restored` : '') +
    (s.deleted_segments ? `, ${s.deleted_segments} segment(s) expired` : '')
  const not = [`${s.done} change(s) done`, ...(stopped.length > 0 ? [`${stopped.join(', ')} stopped part-way`] : []), `${notStarted} not started`, ...(s.failed ? [`${s.failed} failed`] : [])]
  return c.yellow(c.bold(`Apply interrupted by ${outcome.interrupted}: ${committed}; ${not.join(', ')}. The lock is released; run kbk plan and kbk apply again to finish the rest.`))
}

export function formatApplySummary(outcome: ApplyOutcome): string {
  if (outcome.interrupted) return formatInterruptedSummary(outcome)
  const s = outcome.summary
  const seconds = (Date.parse(outcome.finished_at) - Date.parse(outcome.started_at)) / 1000
  const lines: string[] = []
  for (const ch of outcome.changes) {
    const mark = ch.status === 'done' ? c.green('✔') : ch.status === 'failed' || ch.status === 'interrupted' ? c.red('✖') : c.dim('-')
    lines.push(`${mark} ${ch.address}: ${ch.status === 'failed' ? c.red(`${ch.code}: ${ch.message}`) : ch.message ?? ch.status}`)
  }
  lines.push('')
  const what = `${formatCount(s.records)} record(s) backed up (${formatBytes(s.bytes)} read, ${formatBytes(s.stored_bytes)} stored in ${formatCount(s.segments)} segment(s))` +
    (s.deleted_segments ? `, ${formatCount(s.deleted_segments)} segment(s) expired` : '') +
    (s.restored_records ? `, ${formatCount(s.restored_records)} record(s) restored` : '') +
    (s.masked_records !== undefined ? `, ${formatCount(s.masked_records)} masked, ${formatCount(s.unmasked_records ?? 0)} non-JSON left unmasked` : '')
  const rate = seconds > 0 && s.bytes > 0 ? ` — ${formatRate(s.bytes / seconds)}` : ''
  if (outcome.ok) lines.push(c.green(c.bold(`Apply complete! ${s.done} done, ${s.skipped} skipped. ${what} in ${formatDuration(seconds * 1000)}${rate}.`)))
  else lines.push(c.red(c.bold(`Apply failed: ${s.failed} of ${s.changes} change(s) failed; ${s.done} done. Committed before it stopped: ${what}. Run kbk plan and kbk apply again: committed work is kept.`)))
  return lines.join('\n')
}
