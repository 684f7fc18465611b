// The saved-plan file codec (`kbk plan --out FILE`, `kbk apply FILE`): the plan as JSON with a
// checksum, so a hand-edited or truncated plan file is refused rather than applied. Pure: the
// command reads and writes the bytes. Plans never hold secrets, so neither do plan files.
import {createHash} from 'node:crypto'
import {KbkError} from '../errors.js'
import type {Plan, ResourceChange} from './types.js'
import {PLAN_FORMAT_VERSION} from './types.js'

const KIND = 'kbk-plan'

export function encodePlanFile(plan: Plan): Buffer {
  const body = JSON.stringify(plan)
  const checksum = createHash('sha256').update(body).digest('hex')
  return Buffer.from(JSON.stringify({kind: KIND, format_version: PLAN_FORMAT_VERSION, checksum, plan: JSON.parse(body) as unknown}, null, 1) + '\n')
}

export function decodePlanFile(bytes: Buffer, source: string): Plan {
  let doc: {kind?: unknown; format_version?: unknown; checksum?: unknown; plan?: unknown}
  try {
    doc = JSON.parse(bytes.toString('utf8')) as typeof doc
  } catch (error) {
    throw new KbkError('KBK_PLAN_FILE_INVALID', `${source} is not a kbk plan file (not JSON).`, {
      cause: error,
      suggestion: 'Pass a file written by `kbk plan --out FILE`.',
    })
  }
  if (doc.kind !== KIND) {
    throw new KbkError('KBK_PLAN_FILE_INVALID', `${source} is not a kbk plan file.`, {suggestion: 'Pass a file written by `kbk plan --out FILE`.'})
  }
  if (typeof doc.format_version !== 'string' || doc.format_version.split('.')[0] !== PLAN_FORMAT_VERSION.split('.')[0]) {
    throw new KbkError('KBK_PLAN_FILE_VERSION', `${source} has plan format ${String(doc.format_version)}; this kbk reads ${PLAN_FORMAT_VERSION}.`, {
      suggestion: 'Create the plan again with this version of kbk.',
    })
  }
  const checksum = createHash('sha256').update(JSON.stringify(doc.plan)).digest('hex')
  if (checksum !== doc.checksum) {
    throw new KbkError('KBK_PLAN_FILE_CORRUPT', `${source} was changed after kbk wrote it (checksum mismatch).`, {
      suggestion: 'Never edit a saved plan: run `kbk plan --out FILE` again.',
    })
  }
  return withStores(doc.plan as Plan)
}

/**
 * Plans saved before every change carried its `store` (kbk 0.1 until the typed changes): the
 * store is in the change's payload or its settings, so fill it in rather than refuse the file.
 * The checksum was verified on the bytes as written, before this.
 */
function withStores(plan: Plan): Plan {
  const changes = plan.resource_changes as Array<ResourceChange & {store?: string}>
  if (changes.every((ch) => typeof ch.store === 'string')) return plan
  return {
    ...plan,
    resource_changes: changes.map((ch) => {
      if (typeof ch.store === 'string') return ch
      const store = ch.backup?.store ?? ch.expire?.store ?? ch.restore?.store ?? settingsStore(ch.after) ?? settingsStore(ch.before)
      if (store === undefined) {
        throw new KbkError('KBK_PLAN_FILE_VERSION', `The saved plan's change ${ch.address} does not say which store it belongs to.`, {suggestion: 'Create the plan again with this version of kbk.'})
      }
      return {...ch, store}
    }),
  }
}

function settingsStore(v: unknown): string | undefined {
  const store = v !== null && typeof v === 'object' ? (v as {store?: unknown}).store : undefined
  return typeof store === 'string' ? store : undefined
}
