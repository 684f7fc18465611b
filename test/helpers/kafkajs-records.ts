// Record-level fixes to kafkajs for the tests' own kafkajs producers and consumers (kbk itself
// encodes and decodes record batches without kafkajs: src/kafka/record-batch.ts, produce-batch.ts).
//
// kafkajs decodes record headers into an object: duplicate keys become arrays, the interleaving
// of different keys is lost, and integer-like keys are reordered by JavaScript. Its encoder takes
// the same object, so it cannot send `a, b, a`, and it throws on a null header value
// (Buffer.byteLength(null)). kbk must keep order, duplicates and nulls, so we swap kafkajs' record
// decoder and encoder for equivalents that also carry an ordered header list. kafkajs is
// CommonJS and its final release (2.2.4) is frozen, so replacing a module's exports in the
// require cache (and evicting the modules that captured the old ones) is stable.
import {createRequire} from 'node:module'
import {dirname, join, sep} from 'node:path'
import type {RecordHeader} from '../../src/kafka/port.js'

const require = createRequire(import.meta.url)

/** Ordered headers, attached to decoded messages and read from produced messages' headers object. */
export const ORDERED_HEADERS = Symbol.for('kbk.orderedHeaders')
/** Marks the stand-in message for a record batch that compaction emptied (see patchBatchDecoder). */
export const EMPTY_BATCH = Symbol.for('kbk.emptyBatch')

interface Decoder {
  readInt8(): number
  readVarLong(): {add(n: unknown): {toString(): string}}
  readVarInt(): number
  readVarIntBytes(): Buffer | null
  readVarIntString(): string | null
}
interface Encoder {
  writeVarInt(n: number): Encoder
  writeInt8(n: number): Encoder
  writeVarLong(n: unknown): Encoder
  writeVarIntBytes(b: Buffer | string | null): Encoder
  writeVarIntString(s: string): Encoder
  writeVarIntArray(a: Encoder[]): Encoder
  readonly size?: unknown
}
interface EncoderClass {
  new (): Encoder
  sizeOfVarInt(n: number): number
  sizeOfVarLong(n: unknown): number
  sizeOfVarIntBytes(b: Buffer | string | null): number
}
interface LongStatic {
  fromValue(v: unknown): {add(n: unknown): {toString(): string}}
}

export interface BatchContext {
  firstOffset: string
  lastOffsetDelta: number
  firstTimestamp: string
  maxTimestamp: string
  timestampType: number
  isControlBatch?: boolean
  inTransaction?: boolean
}

/** The message object kafkajs hands to eachBatch, as our decoder builds it. */
export interface DecodedMessage {
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, Buffer | null | (Buffer | null)[]>
  isControlRecord: boolean
  batchContext: BatchContext
  [ORDERED_HEADERS]?: RecordHeader[]
  [EMPTY_BATCH]?: true
}

let installed = false

function kafkajsRoot(): string {
  return dirname(require.resolve('kafkajs/package.json'))
}

/** Installs the ordered-header record codec into kafkajs. Idempotent. */
export function installRecordPatches(): void {
  if (installed) return
  const root = join(kafkajsRoot(), 'src')
  const Long = require(join(root, 'utils/long.js')) as LongStatic
  const Encoder = require(join(root, 'protocol/encoder.js')) as EncoderClass
  const TimestampTypes = require(join(root, 'protocol/timestampTypes.js')) as {LOG_APPEND_TIME: number}

  const decodeRecord = (decoder: Decoder, ctx: BatchContext & {magicByte?: number}): DecodedMessage => {
    const attributes = decoder.readInt8()
    const timestampDelta = decoder.readVarLong()
    const timestamp =
      ctx.timestampType === TimestampTypes.LOG_APPEND_TIME && ctx.maxTimestamp
        ? ctx.maxTimestamp
        : Long.fromValue(ctx.firstTimestamp).add(timestampDelta).toString()
    const offsetDelta = decoder.readVarInt()
    const offset = Long.fromValue(ctx.firstOffset).add(offsetDelta).toString()
    const key = decoder.readVarIntBytes()
    const value = decoder.readVarIntBytes()
    const count = decoder.readVarInt()
    const ordered: RecordHeader[] = []
    for (let i = 0; i < count; i++) {
      const hk = decoder.readVarIntString() ?? ''
      const hv = decoder.readVarIntBytes()
      ordered.push({key: hk, value: hv})
    }
    // kafkajs' own shape, kept for anything inside kafkajs that reads it; kbk reads ORDERED_HEADERS.
    const headers: DecodedMessage['headers'] = Object.create(null)
    for (const h of ordered) {
      const prev = headers[h.key]
      headers[h.key] = prev === undefined ? h.value : Array.isArray(prev) ? [...prev, h.value] : [prev, h.value]
    }
    return {
      magicByte: ctx.magicByte,
      attributes,
      timestamp,
      offset,
      key,
      value,
      headers,
      isControlRecord: ctx.isControlBatch ?? false,
      batchContext: ctx,
      [ORDERED_HEADERS]: ordered,
    } as DecodedMessage
  }

  const encodeRecord = ({offsetDelta = 0, timestampDelta = 0, key, value, headers = {}}: {
    offsetDelta?: number
    timestampDelta?: unknown
    key: Buffer | string | null
    value: Buffer | string | null
    headers?: Record<string, unknown> & {[ORDERED_HEADERS]?: RecordHeader[]}
  }): Encoder => {
    const list: {key: string; value: Buffer | string | null}[] =
      headers[ORDERED_HEADERS] ??
      Object.keys(headers).flatMap((k) => {
        const v = headers[k] as Buffer | string | null | (Buffer | string | null)[]
        return Array.isArray(v) ? v.map((x) => ({key: k, value: x})) : [{key: k, value: v}]
      })
    let headerSize = Encoder.sizeOfVarInt(list.length)
    for (const h of list) headerSize += Encoder.sizeOfVarIntBytes(h.key) + Encoder.sizeOfVarIntBytes(h.value)
    const sizeOfBody =
      1 +
      Encoder.sizeOfVarLong(timestampDelta) +
      Encoder.sizeOfVarInt(offsetDelta) +
      Encoder.sizeOfVarIntBytes(key) +
      Encoder.sizeOfVarIntBytes(value) +
      headerSize
    return new Encoder()
      .writeVarInt(sizeOfBody)
      .writeInt8(0)
      .writeVarLong(timestampDelta)
      .writeVarInt(offsetDelta)
      .writeVarIntBytes(key)
      .writeVarIntBytes(value)
      .writeVarIntArray(list.map((h) => new Encoder().writeVarIntString(h.key).writeVarIntBytes(h.value)))
  }

  // Evict every module that captured the originals, so the next fetch/produce re-requires ours.
  const protocol = join(root, 'protocol') + sep
  const captured = [join(protocol, 'recordBatch', 'v0') + sep, join(protocol, 'requests', 'fetch') + sep, join(protocol, 'requests', 'produce') + sep]
  for (const id of Object.keys(require.cache)) {
    if (captured.some((p) => id.startsWith(p) && !id.endsWith(`${sep}index.js`))) delete require.cache[id]
  }
  setExports(join(protocol, 'recordBatch/record/v0/decoder.js'), decodeRecord)
  setExports(join(protocol, 'recordBatch/record/v0/index.js'), encodeRecord)
  patchBatchDecoder(join(protocol, 'recordBatch/v0/decoder.js'))
  installed = true
}

function setExports(path: string, exports: unknown): void {
  require(path)
  const mod = require.cache[require.resolve(path)]
  if (!mod) throw new Error(`kafkajs module ${path} did not load`)
  mod.exports = exports
}

/**
 * Compaction can leave a record batch with no records (kept for the producer's sequence state).
 * kafkajs decodes it to nothing, so a reader positioned inside it would never learn that the
 * batch's offsets are passed. We emit one stand-in control message at the batch's last offset:
 * kafkajs drops control messages from `batch.messages` but keeps them in `rawMessages` and moves
 * its own position past them, and kbk's reader reads the batch end from it.
 */
function patchBatchDecoder(path: string): void {
  type BatchDecoder = (d: unknown) => Promise<BatchContext & {records: DecodedMessage[]}>
  const original = require(path) as BatchDecoder
  const patched: BatchDecoder = async (d) => {
    const batch = await original(d)
    if (batch.records.length === 0) {
      const last = (BigInt(batch.firstOffset) + BigInt(batch.lastOffsetDelta)).toString()
      batch.records = [
        {
          offset: last,
          timestamp: batch.maxTimestamp,
          key: null,
          value: null,
          headers: {},
          isControlRecord: true,
          batchContext: batch,
          [ORDERED_HEADERS]: [],
          [EMPTY_BATCH]: true,
        },
      ]
    }
    return batch
  }
  const mod = require.cache[require.resolve(path)]
  if (!mod) throw new Error(`kafkajs module ${path} did not load`)
  mod.exports = patched
}

/** The offset after the record batch a decoded message came from. */
export function batchEndOf(message: DecodedMessage): number {
  return Number(message.batchContext.firstOffset) + message.batchContext.lastOffsetDelta + 1
}

/**
 * Headers to hand to kafkajs' producer: an object (its validation wants one) that also carries the
 * ordered list our encoder writes. Non-symbol keys are a best effort for code that only sees them.
 */
export function toKafkajsHeaders(headers: RecordHeader[]): Record<string, Buffer[]> {
  // No prototype: a header named "__proto__" must be a plain key, not Object.prototype.
  const obj = Object.create(null) as Record<string, Buffer[]> & {[ORDERED_HEADERS]?: RecordHeader[]}
  for (const h of headers) {
    if (h.value !== null) (obj[h.key] ??= []).push(h.value)
  }
  Object.defineProperty(obj, ORDERED_HEADERS, {value: headers.map((h) => ({key: h.key, value: h.value})), enumerable: false})
  return obj
}

/** The ordered headers of a message decoded by our decoder; throws if kafkajs' own decoder ran. */
export function orderedHeadersOf(message: DecodedMessage): RecordHeader[] {
  const list = message[ORDERED_HEADERS]
  if (!list) {
    throw new Error('kafkajs decoded this record with its own decoder: header order would be lost (installRecordPatches ran too late)')
  }
  return list
}
