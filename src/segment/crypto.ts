// Client-side encryption of segments: a random data key per segment, wrapped with the caller's
// master key (AES-256-GCM), and every block sealed with AES-256-GCM under that data key.
// The nonce of block i is prefix || i (unique within the segment; the key is unique per segment),
// and the additional data binds each block to its segment header and its index, so blocks cannot
// be reordered or moved between segments without failing authentication.
import {createCipheriv, createDecipheriv, randomBytes} from 'node:crypto'
import {KbkError} from '../errors.js'
import {DATA_KEY_BYTES, GCM_TAG_BYTES, NONCE_PREFIX_BYTES, WRAP_NONCE_BYTES} from './layout.js'

export interface WrappedKey {
  wrapNonce: Buffer
  wrapped: Buffer
  wrapTag: Buffer
}

export function checkMasterKey(keyId: string, masterKey: Buffer): void {
  if (!Buffer.isBuffer(masterKey) || masterKey.length !== DATA_KEY_BYTES) {
    throw new KbkError('KBK_SEGMENT_KEY_INVALID', `The encryption key "${keyId}" is ${Buffer.isBuffer(masterKey) ? masterKey.length : 0} bytes; AES-256 needs exactly 32.`, {
      suggestion: 'Set the policy\'s `encryption.key` to 32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`).',
    })
  }
}

export function newDataKey(): {dataKey: Buffer; noncePrefix: Buffer} {
  return {dataKey: randomBytes(DATA_KEY_BYTES), noncePrefix: randomBytes(NONCE_PREFIX_BYTES)}
}

/** `aad` is the header bytes before the wrapped key: it binds the key to the segment's codec and key id. */
export function wrapDataKey(masterKey: Buffer, dataKey: Buffer, aad: Buffer): WrappedKey {
  const wrapNonce = randomBytes(WRAP_NONCE_BYTES)
  const c = createCipheriv('aes-256-gcm', masterKey, wrapNonce)
  c.setAAD(aad)
  const wrapped = Buffer.concat([c.update(dataKey), c.final()])
  return {wrapNonce, wrapped, wrapTag: c.getAuthTag()}
}

/** Returns undefined when the master key does not open the wrapped key (the wrong key). */
export function unwrapDataKey(masterKey: Buffer, w: WrappedKey, aad: Buffer): Buffer | undefined {
  if (masterKey.length !== DATA_KEY_BYTES) return undefined
  try {
    const d = createDecipheriv('aes-256-gcm', masterKey, w.wrapNonce)
    d.setAAD(aad)
    d.setAuthTag(w.wrapTag)
    return Buffer.concat([d.update(w.wrapped), d.final()])
  } catch {
    return undefined
  }
}

function blockNonce(prefix: Buffer, index: number): Buffer {
  const n = Buffer.allocUnsafe(WRAP_NONCE_BYTES)
  prefix.copy(n, 0)
  n.writeUInt32BE(index, NONCE_PREFIX_BYTES)
  return n
}

/** Ciphertext followed by the 16-byte GCM tag. */
export function sealBlock(dataKey: Buffer, prefix: Buffer, index: number, aad: Buffer, plain: Buffer): Buffer[] {
  const c = createCipheriv('aes-256-gcm', dataKey, blockNonce(prefix, index))
  c.setAAD(aad)
  const body = c.update(plain)
  const fin = c.final()
  return fin.length > 0 ? [body, fin, c.getAuthTag()] : [body, c.getAuthTag()]
}

/** Returns undefined when authentication fails. */
export function openBlock(dataKey: Buffer, prefix: Buffer, index: number, aad: Buffer, sealed: Buffer): Buffer | undefined {
  if (sealed.length < GCM_TAG_BYTES) return undefined
  try {
    const d = createDecipheriv('aes-256-gcm', dataKey, blockNonce(prefix, index))
    d.setAAD(aad)
    d.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_BYTES))
    const body = d.update(sealed.subarray(0, sealed.length - GCM_TAG_BYTES))
    const fin = d.final()
    return fin.length > 0 ? Buffer.concat([body, fin]) : body
  } catch {
    return undefined
  }
}
