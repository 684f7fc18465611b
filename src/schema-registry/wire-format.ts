// The Confluent wire format of a serialized key or value: magic byte 0, then the schema ID as a
// 4-byte big-endian integer, then the payload (for Protobuf, message indexes come first; they are
// part of the payload here and are never touched). Pure functions, on the restore hot path.

export const MAGIC_BYTE = 0
/** Magic byte + schema ID. */
export const WIRE_HEADER_BYTES = 5

/** The schema ID a buffer carries, or undefined when it does not start with the wire format's header. */
export function schemaIdOf(buf: Buffer | null | undefined): number | undefined {
  if (!buf || buf.length < WIRE_HEADER_BYTES || buf[0] !== MAGIC_BYTE) return undefined
  return buf.readUInt32BE(1)
}

export interface RewriteOutcome {
  key: Buffer | null
  value: Buffer | null
  /** Set when a carried ID is not in the map; key and value are then returned unchanged. */
  unknown?: {part: 'key' | 'value'; id: number}
  /** True when key or value was rewritten (a new buffer; the input is never modified). */
  rewritten: boolean
}

/**
 * Rewrites the schema ID of a key and a value that carry one, by the source → target ID map.
 * A buffer without the magic byte is returned as is (the same Buffer, byte-identical); so is one
 * whose ID maps to itself. A rewritten buffer is a copy: the input may be shared (a decoded block).
 */
export function rewriteSchemaIds(key: Buffer | null, value: Buffer | null, ids: ReadonlyMap<number, number>): RewriteOutcome {
  let rewritten = false
  let outKey = key
  const keyId = schemaIdOf(key)
  if (keyId !== undefined) {
    const to = ids.get(keyId)
    if (to === undefined) return {key, value, unknown: {part: 'key', id: keyId}, rewritten: false}
    if (to !== keyId) {
      outKey = withId(key!, to)
      rewritten = true
    }
  }
  let outValue = value
  const valueId = schemaIdOf(value)
  if (valueId !== undefined) {
    const to = ids.get(valueId)
    if (to === undefined) return {key, value, unknown: {part: 'value', id: valueId}, rewritten: false}
    if (to !== valueId) {
      outValue = withId(value!, to)
      rewritten = true
    }
  }
  return {key: outKey, value: outValue, rewritten}
}

function withId(buf: Buffer, id: number): Buffer {
  const out = Buffer.allocUnsafe(buf.length)
  buf.copy(out)
  out.writeUInt32BE(id, 1)
  return out
}

/**
 * The restore hot path's variant: writes the target ID into the 4 bytes of key and value that
 * carry one, in place — no allocation, no copy. Only for buffers the caller owns (the restore's
 * freshly decoded records, read by nothing else). Returns the unknown ID, if any, before changing
 * anything; undefined when every carried ID was mapped.
 */
export function rewriteSchemaIdsInPlace(key: Buffer | null, value: Buffer | null, ids: ReadonlyMap<number, number>): {part: 'key' | 'value'; id: number} | undefined {
  const keyId = schemaIdOf(key)
  const valueId = schemaIdOf(value)
  let keyTo: number | undefined
  let valueTo: number | undefined
  if (keyId !== undefined && (keyTo = ids.get(keyId)) === undefined) return {part: 'key', id: keyId}
  if (valueId !== undefined && (valueTo = ids.get(valueId)) === undefined) return {part: 'value', id: valueId}
  if (keyTo !== undefined && keyTo !== keyId) key!.writeUInt32BE(keyTo, 1)
  if (valueTo !== undefined && valueTo !== valueId) value!.writeUInt32BE(valueTo, 1)
  return undefined
}
