// The clock port: every plan and apply reads the time through it, so a test can move it.
import {KbkError} from '../errors.js'

export type Clock = () => Date

/**
 * The system clock, shifted when `override` (an ISO timestamp) is given — for tests only, so
 * that expiry can be proven without waiting days: time still moves, from that instant on. The
 * composition root passes `KBK_NOW`; nothing else reads it. A malformed override fails on the
 * first reading of the clock, so commands that never ask for the time are not affected.
 */
export function systemClock(override?: string): Clock {
  if (override === undefined || override === '') return () => new Date()
  let offset: number | undefined
  return () => {
    offset ??= parseClockOverride(override) - Date.now()
    return new Date(Date.now() + offset)
  }
}

function parseClockOverride(text: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN
  if (!Number.isFinite(ms)) {
    throw new KbkError('KBK_USAGE', `KBK_NOW "${text}" is not an ISO timestamp.`, {suggestion: 'Unset KBK_NOW: it is for tests only. Tests set it to e.g. 2026-03-22T14:30:00Z.'})
  }
  return ms
}
