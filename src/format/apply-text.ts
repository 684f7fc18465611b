// The closing summary of an apply, for people.
import type {ApplyOutcome} from '../apply/apply-plan.js'
import {c} from './colors.js'
import {formatBytes, formatCount, formatDuration, formatRate} from './numbers.js'

export function formatApplySummary(outcome: ApplyOutcome): string {
  const s = outcome.summary
  const seconds = (Date.parse(outcome.finished_at) - Date.parse(outcome.started_at)) / 1000
  const lines: string[] = []
  for (const ch of outcome.changes) {
    const mark = ch.status === 'done' ? c.green('✔') : ch.status === 'failed' ? c.red('✖') : c.dim('-')
    lines.push(`${mark} ${ch.address}: ${ch.status === 'failed' ? c.red(`${ch.code}: ${ch.message}`) : ch.message ?? ch.status}`)
  }
  lines.push('')
  const what = `${formatCount(s.records)} record(s) backed up (${formatBytes(s.bytes)} read, ${formatBytes(s.stored_bytes)} stored in ${formatCount(s.segments)} segment(s))` +
    (s.deleted_segments ? `, ${formatCount(s.deleted_segments)} segment(s) expired` : '') +
    (s.restored_records ? `, ${formatCount(s.restored_records)} record(s) restored` : '') +
    (s.masked_records !== undefined ? `, ${formatCount(s.masked_records)} masked, ${formatCount(s.unmasked_records ?? 0)} non-JSON left unmasked` : '')
  const rate = seconds > 0 && s.bytes > 0 ? ` — ${formatRate(s.bytes / seconds)}` : ''
  if (outcome.ok) lines.push(c.green(c.bold(`Apply complete! ${s.done} done, ${s.skipped} skipped. ${what} in ${formatDuration(seconds * 1000)}${rate}.`)))
  else lines.push(c.red(c.bold(`Apply failed: ${s.failed} of ${s.changes} change(s) failed; ${s.done} done. ${what}. Run kbk plan and kbk apply again: completed work is kept.`)))
  return lines.join('\n')
}
