// How a schema snapshot is stored: one JSON envelope per backup run under
// schemas/<policy>/<taken_at>.json, written create-only (never overwritten), with the sha256 of the
// snapshot's bytes; when the policy encrypts, those bytes are sealed with AES-256-GCM under a
// fresh data key wrapped by the policy's master key — the same primitives as segments.
import {createHash} from 'node:crypto'
import {KbkError} from '../errors.js'
import {newDataKey, openBlock, sealBlock, unwrapDataKey, wrapDataKey} from '../segment/crypto.js'
import type {SchemaSnapshot} from './snapshot.js'

export const SNAPSHOT_PREFIX = 'schemas/'

interface Envelope {
  kbk_schema_snapshot: 1
  /** sha256 of the snapshot's JSON bytes (before encryption). */
  sha256: string
  encryption: null | {key_id: string; wrap_nonce: string; wrapped: string; wrap_tag: string; nonce_prefix: string}
  /** The snapshot's JSON text, or base64 ciphertext when encrypted. */
  body: string
}

/** Sorts by time: a listing of the policy's prefix is oldest first. */
export function snapshotKey(policy: string, takenAt: string): string {
  return `${SNAPSHOT_PREFIX}${policy}/${takenAt.replace(/[-:.]/g, '')}.json`
}

export function encodeSnapshot(snapshot: SchemaSnapshot, encryption?: {keyId: string; key: Buffer}): Buffer {
  const plain = Buffer.from(JSON.stringify(snapshot))
  const sha256 = createHash('sha256').update(plain).digest('hex')
  if (!encryption) return Buffer.from(JSON.stringify({kbk_schema_snapshot: 1, sha256, encryption: null, body: plain.toString('utf8')} satisfies Envelope))
  const aad = Buffer.from(`kbk-schema-snapshot:${encryption.keyId}`)
  const {dataKey, noncePrefix} = newDataKey()
  const w = wrapDataKey(encryption.key, dataKey, aad)
  const sealed = Buffer.concat(sealBlock(dataKey, noncePrefix, 0, aad, plain))
  const env: Envelope = {
    kbk_schema_snapshot: 1,
    sha256,
    encryption: {key_id: encryption.keyId, wrap_nonce: w.wrapNonce.toString('base64'), wrapped: w.wrapped.toString('base64'), wrap_tag: w.wrapTag.toString('base64'), nonce_prefix: noncePrefix.toString('base64')},
    body: sealed.toString('base64'),
  }
  return Buffer.from(JSON.stringify(env))
}

export function decodeSnapshot(bytes: Buffer, key: string, keyring: Map<string, Buffer>): SchemaSnapshot {
  const corrupt = (why: string): KbkError =>
    new KbkError('KBK_SCHEMA_SNAPSHOT_CORRUPT', `Schema snapshot ${key} ${why}.`, {suggestion: 'Restore the object from a bucket version or another copy, or pick a point in time covered by another snapshot.', kind: 'environment'})
  let env: Envelope
  try {
    env = JSON.parse(bytes.toString('utf8')) as Envelope
  } catch {
    throw corrupt('is not JSON')
  }
  if (env.kbk_schema_snapshot !== 1 || typeof env.body !== 'string') throw corrupt('is not a kbk schema snapshot')
  let plain: Buffer
  if (env.encryption) {
    const e = env.encryption
    const master = keyring.get(e.key_id)
    if (!master) {
      throw new KbkError('KBK_SEGMENT_KEY_MISSING', `Schema snapshot ${key} is encrypted with key "${e.key_id}", which is not configured.`, {suggestion: 'Add the key under the policy\'s encryption.previousKeys.'})
    }
    const aad = Buffer.from(`kbk-schema-snapshot:${e.key_id}`)
    const dataKey = unwrapDataKey(master, {wrapNonce: Buffer.from(e.wrap_nonce, 'base64'), wrapped: Buffer.from(e.wrapped, 'base64'), wrapTag: Buffer.from(e.wrap_tag, 'base64')}, aad)
    const opened = dataKey && openBlock(dataKey, Buffer.from(e.nonce_prefix, 'base64'), 0, aad, Buffer.from(env.body, 'base64'))
    if (!opened) throw new KbkError('KBK_SEGMENT_KEY_WRONG', `The key "${e.key_id}" does not decrypt schema snapshot ${key}.`, {suggestion: 'Check the policy\'s encryption key (a rotated key belongs under previousKeys).'})
    plain = opened
  } else {
    plain = Buffer.from(env.body, 'utf8')
  }
  if (createHash('sha256').update(plain).digest('hex') !== env.sha256) throw corrupt('does not match its sha256')
  return JSON.parse(plain.toString('utf8')) as SchemaSnapshot
}
