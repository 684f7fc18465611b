// Object keys of segments: `data/<policy>/<topic>/<partition>/<first:020d>-<last:020d>.kbs`.
// Zero-padded offsets make a lexicographic listing (what every store returns) offset order.
import {KbkError} from '../errors.js'

export const SEGMENT_KEY_PREFIX = 'data/'
export const SEGMENT_EXTENSION = '.kbs'

const KEY_PATTERN = /^data\/([^/]+)\/([^/]+)\/(0|[1-9][0-9]*)\/([0-9]{20})-([0-9]{20})\.kbs$/

export interface SegmentKeyParts {
  policy: string
  topic: string
  partition: number
  firstOffset: number
  lastOffset: number
}

export function segmentKey(policy: string, topic: string, partition: number, firstOffset: number, lastOffset: number): string {
  for (const [what, v] of [['policy', policy], ['topic', topic]] as const) {
    // Kafka topic names cannot hold "/" and policy names come from YAML keys; refuse rather than nest.
    if (v.length === 0 || v.includes('/') || v === '.' || v === '..') throw new KbkError('KBK_INTERNAL', `Cannot name a segment for ${what} "${v}": this is a bug in kbk.`, {kind: 'internal'})
  }
  for (const n of [partition, firstOffset, lastOffset]) {
    if (!Number.isSafeInteger(n) || n < 0) throw new KbkError('KBK_INTERNAL', `Cannot name a segment with ${n} as partition or offset: this is a bug in kbk.`, {kind: 'internal'})
  }
  return `${SEGMENT_KEY_PREFIX}${policy}/${topic}/${partition}/${pad(firstOffset)}-${pad(lastOffset)}${SEGMENT_EXTENSION}`
}

/** The parts of a segment key, or undefined for any other key. */
export function parseSegmentKey(key: string): SegmentKeyParts | undefined {
  const m = KEY_PATTERN.exec(key)
  if (!m) return undefined
  const partition = Number(m[3])
  const firstOffset = Number(m[4])
  const lastOffset = Number(m[5])
  if (!Number.isSafeInteger(partition) || !Number.isSafeInteger(firstOffset) || !Number.isSafeInteger(lastOffset) || firstOffset > lastOffset) return undefined
  return {policy: m[1]!, topic: m[2]!, partition, firstOffset, lastOffset}
}

function pad(n: number): string {
  return String(n).padStart(20, '0')
}
