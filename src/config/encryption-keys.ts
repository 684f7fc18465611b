// A policy's encryption keys as bytes: the current key (required to write) and the previous
// ones (to read older segments). The key file, if the config names one instead of a value, is
// read here, when the key is first needed.
import {readFileSync} from 'node:fs'
import {KbkError} from '../errors.js'
import type {EncryptionKey, PolicyConfig} from './types.js'

/** The 32-byte AES-256 key; a missing or malformed key is a user mistake with a fix. */
export function decodeKey(k: EncryptionKey, policy: string): Buffer {
  let b64 = k.key?.reveal()
  if (b64 === undefined && k.keyFile) b64 = readFileSync(k.keyFile, 'utf8').trim()
  if (b64 === undefined) {
    throw new KbkError('KBK_ENCRYPTION_KEY_MISSING', `The encryption key "${k.keyId}" of policy "${policy}" is not available here.`, {
      suggestion: `Set the environment variable or key file that policies.${policy}.encryption names.`,
    })
  }
  const key = Buffer.from(b64, 'base64')
  if (key.length !== 32) {
    throw new KbkError('KBK_ENCRYPTION_KEY_INVALID', `The encryption key "${k.keyId}" of policy "${policy}" is ${key.length} bytes after base64 decoding; AES-256 needs 32.`, {
      suggestion: 'Generate one with `openssl rand -base64 32`.',
    })
  }
  return key
}

/** keyId → key, for reading: the current key must decode; an old one may be absent. */
export function keyringOf(policy: PolicyConfig | undefined): Map<string, Buffer> {
  const ring = new Map<string, Buffer>()
  if (!policy?.encryption) return ring
  const keys = [policy.encryption, ...policy.encryption.previousKeys]
  for (const k of keys) {
    try {
      ring.set(k.keyId, decodeKey(k, policy.name))
    } catch (error) {
      // An old key may be absent; segments that need it then fail clearly when read.
      if (k === keys[0]) throw error
    }
  }
  return ring
}
