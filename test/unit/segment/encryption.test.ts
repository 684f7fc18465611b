import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {isKbkError} from '../../../src/errors.js'
import type {KafkaRecord} from '../../../src/kafka/port.js'
import {readSegmentSummary} from '../../../src/segment/index.js'
import {KEY_A, KEY_B, decode, record, writeSegment} from './helpers.js'

const MARKER = 'ZEBRA-7f3a-SECRET-PAYLOAD'

function markedRecords(): KafkaRecord[] {
  return Array.from({length: 50}, (_, i) =>
    record(i, `{"note":"${MARKER}","i":${i}}`, {key: Buffer.from(`${MARKER}-key-${i}`), headers: [{key: `${MARKER}-header`, value: Buffer.from(MARKER)}]}),
  )
}

describe('segment encryption', () => {
  it('encrypted output holds no plaintext of the records (and unencrypted output does, so the search works)', () => {
    const marker = Buffer.from(MARKER)
    // Also search for short slices: a partial leak is a leak.
    const probes = [marker, marker.subarray(0, 8), marker.subarray(10, 18)]
    for (const codec of ['none', 'zstd'] as const) {
      const plain = writeSegment(markedRecords(), {codec, blockBytes: 512}).bytes
      assert.ok(plain.includes(marker.subarray(0, 8)), `${codec} without encryption shows the marker: the probe can find it`)
      const {bytes} = writeSegment(markedRecords(), {codec, blockBytes: 512, encryption: {keyId: 'key-a', masterKey: KEY_A}})
      for (const p of probes) assert.equal(bytes.indexOf(p), -1, `${codec}: "${p.toString()}" found in encrypted output`)
      assert.equal(bytes.indexOf(KEY_A.subarray(0, 8)), -1, 'the master key is not in the object')
    }
  })

  it('rotation: a segment written with key A reads with a keyring of the new key B and the old key A', async () => {
    const old = writeSegment(markedRecords(), {codec: 'zstd', encryption: {keyId: 'key-a', masterKey: KEY_A}})
    const fresh = writeSegment(markedRecords(), {codec: 'zstd', encryption: {keyId: 'key-b', masterKey: KEY_B}})
    const keyring = new Map([['key-b', KEY_B], ['key-a', KEY_A]])
    for (const s of [old, fresh]) {
      const {records, summary} = await decode(s.bytes, keyring)
      assert.equal(records.length, 50)
      assert.equal(records[7]!.value!.toString(), `{"note":"${MARKER}","i":7}`)
      assert.equal(summary.encrypted, true)
    }
    assert.equal(readSegmentSummary(old.bytes, {objectName: 'x'}).keyId, 'key-a', 'the summary names the key without needing it')
    assert.equal(readSegmentSummary(fresh.bytes, {objectName: 'x'}).keyId, 'key-b')
  })

  it('a missing key is KBK_SEGMENT_KEY_MISSING naming the key id and the object, before any record', async () => {
    const {bytes} = writeSegment(markedRecords(), {codec: 'zstd', encryption: {keyId: 'key-a', masterKey: KEY_A}})
    for (const keyring of [undefined, new Map<string, Buffer>(), new Map([['key-b', KEY_B]])]) {
      await assert.rejects(decode(bytes, keyring), (e: unknown) => {
        assert.ok(isKbkError(e))
        assert.equal(e.code, 'KBK_SEGMENT_KEY_MISSING')
        assert.match(e.message, /"key-a"/)
        assert.match(e.message, /data\/p\/t\/0\/test\.kbs/)
        assert.match(e.suggestion ?? '', /encryption\.previousKeys/)
        assert.equal(e.kind, 'user')
        return true
      })
    }
  })

  it('a wrong key under the right id is KBK_SEGMENT_KEY_WRONG, never garbage records', async () => {
    const {bytes} = writeSegment(markedRecords(), {codec: 'none', encryption: {keyId: 'key-a', masterKey: KEY_A}})
    const almost = Buffer.from(KEY_A)
    almost[31]! ^= 1
    for (const wrong of [KEY_B, almost, Buffer.alloc(16)]) {
      await assert.rejects(decode(bytes, new Map([['key-a', wrong]])), (e: unknown) => {
        assert.ok(isKbkError(e))
        assert.equal(e.code, 'KBK_SEGMENT_KEY_WRONG')
        assert.match(e.message, /"key-a"/)
        assert.match(e.message, /data\/p\/t\/0\/test\.kbs/)
        assert.ok(!e.message.includes(KEY_B.toString('hex')) && !JSON.stringify(e.toJSON()).includes(KEY_B.toString('base64')), 'no key material in the error')
        return true
      })
    }
  })

  it('two segments of the same records under the same key share no ciphertext (fresh data key per segment)', () => {
    const records = markedRecords()
    const a = writeSegment(records, {codec: 'none', encryption: {keyId: 'key-a', masterKey: KEY_A}}).bytes
    const b = writeSegment(records, {codec: 'none', encryption: {keyId: 'key-a', masterKey: KEY_A}}).bytes
    assert.equal(a.length, b.length)
    // Past the header, any 16-byte window of a that appears in b would betray a reused key stream.
    const headerEnd = 200
    for (let i = headerEnd; i + 16 <= a.length - 200; i += 16) assert.equal(b.indexOf(a.subarray(i, i + 16)), -1, `window at ${i} repeats`)
  })
})
