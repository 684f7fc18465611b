import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {KafkaRecord} from '../../../src/kafka/port.js'
import {isKbkError} from '../../../src/errors.js'
import {TRAILER_BYTES, parseSegmentFooter, readSegment, readSegmentSummary} from '../../../src/segment/index.js'
import type {SegmentOptions, SegmentReadOptions} from '../../../src/segment/index.js'
import {createHash} from 'node:crypto'
import {CompressPool} from '../../../src/segment/compress-pool.js'
import {KEY_A, record, writeSegment} from './helpers.js'

const keyring = new Map([['key-a', KEY_A]])
const encrypted: SegmentOptions = {codec: 'zstd', blockBytes: 64, encryption: {keyId: 'key-a', masterKey: KEY_A}}
const plainZstd: SegmentOptions = {codec: 'zstd', blockBytes: 64}
const plainNone: SegmentOptions = {codec: 'none', blockBytes: 64}

function flip(bytes: Buffer, bit: number): Buffer {
  const copy = Buffer.from(bytes)
  copy[bit >> 3]! ^= 1 << (bit & 7)
  return copy
}

/**
 * Reads the damaged copy block by block. It must fail with `code`, and every block it yielded
 * before failing must be exactly a block of the original (nothing from a damaged block escapes).
 */
async function expectRejected(damaged: Buffer, originalBlocks: string[], code: string, what: string, extra: Partial<SegmentReadOptions> = {}): Promise<string> {
  const yielded: string[] = []
  try {
    for await (const block of readSegment([damaged], {objectName: 'data/p/t/0/x.kbs', keyring, ...extra})) yielded.push(fingerprint(block))
  } catch (e) {
    assert.ok(isKbkError(e), `${what}: threw a non-KbkError: ${String(e)}`)
    assert.equal(e.code, code, `${what}: ${e.message}`)
    assert.match(e.message, /data\/p\/t\/0\/x\.kbs/, 'the error names the object')
    assert.deepEqual(yielded, originalBlocks.slice(0, yielded.length), `${what}: yielded records that were not in the original`)
    return e.message
  }
  assert.fail(`${what}: the damaged segment was read without an error`)
}

function fingerprint(records: KafkaRecord[]): string {
  const b = (x: Buffer | null): string => (x === null ? '-' : x.toString('hex'))
  return records.map((r) => `${r.offset}/${r.timestamp}/${r.timestampType}/${b(r.key)}/${b(r.value)}/${r.headers.map((h) => `${h.key}=${b(h.value)}`).join(',')}`).join(';')
}

async function blocksOf(bytes: Buffer): Promise<string[]> {
  const out: string[] = []
  for await (const block of readSegment([bytes], {objectName: 'x', keyring})) out.push(fingerprint(block))
  return out
}

const small: KafkaRecord[] = [
  record(0, 'alpha', {headers: [{key: 'h', value: null}]}),
  record(1, null),
  record(7, 'gamma-gamma-gamma', {key: null, timestamp: 5}),
]

describe('segment corruption', () => {
  for (const [label, options] of [['encrypted', encrypted], ['unencrypted zstd', plainZstd], ['unencrypted none', plainNone]] as const) {
    it(`detects every single flipped bit of a small ${label} segment (exhaustive)`, async () => {
      const {bytes} = writeSegment(small, options)
      const original = await blocksOf(bytes)
      assert.equal(original.length, 3, 'three blocks, so flips land in headers, payloads and checksums of several blocks')
      const reasons = new Set<string>()
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const message = await expectRejected(flip(bytes, bit), original, 'KBK_SEGMENT_CORRUPT', `bit ${bit} (byte ${bit >> 3} of ${bytes.length})`)
        reasons.add(message.replace(/[0-9]+/g, 'N'))
      }
      assert.ok(reasons.size >= 6, `flips are caught by several different checks: ${[...reasons].join(' | ')}`)
    })
  }

  it('detects every flipped bit the same way when, as restores read, blocks decompress on a worker and the caller hashed the object (no second hash)', async () => {
    const pool = new CompressPool(1)
    for (const options of [encrypted, plainZstd]) {
      const {bytes} = writeSegment(small, options)
      const original = await blocksOf(bytes)
      // What restore-run does: the sha256 of the bytes in hand before the trailer, then the reader.
      const restoreRead = (b: Buffer): Partial<SegmentReadOptions> => ({decompress: (packed) => pool.decompress(packed), digestBeforeTrailer: createHash('sha256').update(b.subarray(0, b.length - TRAILER_BYTES)).digest()})
      const clean: string[] = []
      for await (const block of readSegment([bytes], {objectName: 'x', keyring, ...restoreRead(bytes)})) clean.push(fingerprint(block))
      assert.deepEqual(clean, original)
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const damaged = flip(bytes, bit)
        await expectRejected(damaged, original, 'KBK_SEGMENT_CORRUPT', `bit ${bit} (byte ${bit >> 3} of ${bytes.length})`, restoreRead(damaged))
      }
    }
  })

  it('detects sampled flipped bits of a bigger segment of many blocks', async () => {
    const records = Array.from({length: 200}, (_, i) => record(1000 + i, JSON.stringify({id: i, name: `customer-${i % 17}`, total: i * 13.5})))
    for (const options of [{...encrypted, blockBytes: 1024}, {...plainZstd, blockBytes: 1024}]) {
      const {bytes} = writeSegment(records, options)
      const original = await blocksOf(bytes)
      assert.ok(original.length > 10)
      const bits = bytes.length * 8
      // Deterministic sample: a stride through every region plus the first and last 64 bytes.
      const sample = new Set<number>()
      for (let bit = 0; bit < bits; bit += 211) sample.add(bit)
      for (let bit = 0; bit < 512; bit++) sample.add(bit).add(bits - 1 - bit)
      for (const bit of sample) await expectRejected(flip(bytes, bit), original, 'KBK_SEGMENT_CORRUPT', `bit ${bit}`)
    }
  })

  it('detects truncation anywhere and bytes appended after the trailer', async () => {
    const {bytes} = writeSegment(small, encrypted)
    const original = await blocksOf(bytes)
    for (let n = 0; n < bytes.length; n++) await expectRejected(bytes.subarray(0, n), original, 'KBK_SEGMENT_CORRUPT', `truncated to ${n}`)
    await expectRejected(Buffer.concat([bytes, Buffer.from([0])]), original, 'KBK_SEGMENT_CORRUPT', 'one byte appended')
    await expectRejected(Buffer.concat([bytes, bytes]), original, 'KBK_SEGMENT_CORRUPT', 'the object twice')
  })

  it('a block copied from another segment fails before any of its records is yielded', async () => {
    for (const options of [plainNone, encrypted]) {
      const a = writeSegment([record(0, 'aaaa'), record(1, 'bbbb')], options)
      const b = writeSegment([record(0, 'cccc'), record(1, 'dddd')], options)
      const ia = parseSegmentFooter(a.bytes, {objectName: 'a'}).blocks
      const ib = parseSegmentFooter(b.bytes, {objectName: 'b'}).blocks
      assert.equal(ia[1]!.size, ib[1]!.size, 'same-size blocks, so only the content differs')
      const spliced = Buffer.from(a.bytes)
      b.bytes.copy(spliced, ia[1]!.offset, ib[1]!.offset, ib[1]!.offset + ib[1]!.size)
      const message = await expectRejected(spliced, await blocksOf(a.bytes), 'KBK_SEGMENT_CORRUPT', 'spliced block')
      assert.match(message, /block 1/)
    }
  })

  it('a damaged block stops the read before that block: earlier blocks only, and the error names the block', async () => {
    const records = Array.from({length: 40}, (_, i) => record(i, `payload-${i}`.repeat(4)))
    const {bytes} = writeSegment(records, {codec: 'zstd', blockBytes: 200})
    const {blocks} = parseSegmentFooter(bytes, {objectName: 'x'})
    const damaged = Buffer.from(bytes)
    damaged[blocks[3]!.offset + 20]! ^= 0xff
    const yielded: number[] = []
    await assert.rejects(
      (async () => {
        for await (const block of readSegment([damaged], {objectName: 'x'})) yielded.push(block[0]!.offset)
      })(),
      (e: unknown) => isKbkError(e) && e.code === 'KBK_SEGMENT_CORRUPT' && /block 3 checksum/.test(e.message) && e.details?.block === 3,
    )
    assert.deepEqual(yielded, blocks.slice(0, 3).map((b) => b.firstOffset))
  })

  it('checks the recorded sha256 and size when the caller knows them', async () => {
    const {bytes, fin} = writeSegment(small, plainZstd)
    const read = (opts: {expectedSha256?: string; expectedSize?: number}) =>
      (async () => {
        for await (const _ of readSegment([bytes], {objectName: 'x', ...opts})) void _
      })()
    await read({expectedSha256: fin.sha256, expectedSize: fin.size})
    await assert.rejects(read({expectedSha256: 'ab'.repeat(32)}), {code: 'KBK_SEGMENT_CORRUPT'})
    await assert.rejects(read({expectedSize: fin.size + 1}), {code: 'KBK_SEGMENT_CORRUPT'})
  })

  it('the summary from the tail checks the footer and trailer: any flip there is caught without reading blocks', () => {
    const records = Array.from({length: 30}, (_, i) => record(i, `v${i}`))
    const {bytes} = writeSegment(records, {...encrypted, blockBytes: 100})
    const {summary, blocks} = parseSegmentFooter(bytes, {objectName: 'x'})
    assert.equal(blocks.length, summary.blockCount)
    const footerStart = blocks[blocks.length - 1]!.offset + blocks[blocks.length - 1]!.size
    const tail = bytes.subarray(footerStart)
    assert.deepEqual(readSegmentSummary(tail, {objectName: 'x'}), summary, 'exactly the footer and trailer are enough')
    for (let bit = 0; bit < tail.length * 8; bit++) {
      assert.throws(() => readSegmentSummary(flip(tail, bit), {objectName: 'x'}), {code: 'KBK_SEGMENT_CORRUPT'}, `bit ${bit}`)
    }
    assert.throws(() => readSegmentSummary(tail.subarray(1), {objectName: 'x'}), (e: unknown) => isKbkError(e) && e.code === 'KBK_SEGMENT_TAIL_SHORT' && e.details?.needBytes === tail.length)
    assert.throws(() => readSegmentSummary(tail.subarray(tail.length - TRAILER_BYTES + 1), {objectName: 'x'}), {code: 'KBK_SEGMENT_TAIL_SHORT'})
  })
})
