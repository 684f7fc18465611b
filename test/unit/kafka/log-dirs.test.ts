// Decoding DescribeLogDirs v1 responses (kbk's own, kafkajs 2.2.4 has none): sizes per partition,
// per log dir, with the error code and the "future" flag of a replica being moved between dirs.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {parseDescribeLogDirsV1} from '../../../src/kafka/kafkajs-log-dirs.js'

const i16 = (n: number) => {
  const b = Buffer.alloc(2)
  b.writeInt16BE(n)
  return b
}
const i32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}
const i64 = (n: bigint) => {
  const b = Buffer.alloc(8)
  b.writeBigInt64BE(n)
  return b
}
const str = (s: string) => Buffer.concat([i16(Buffer.byteLength(s)), Buffer.from(s)])

describe('DescribeLogDirs v1 response', () => {
  it('decodes every dir, topic and partition', () => {
    const partition = (p: number, size: bigint, future: boolean) => Buffer.concat([i32(p), i64(size), i64(0n), Buffer.from([future ? 1 : 0])])
    const body = Buffer.concat([
      i32(0), // throttle
      i32(2), // results
      i16(0),
      str('/var/kafka/a'),
      i32(1),
      str('orders'),
      i32(2),
      partition(0, 5_000_000_000n, false),
      partition(1, 42n, true),
      i16(31), // CLUSTER_AUTHORIZATION_FAILED
      str(''),
      i32(0),
    ])
    assert.deepEqual(parseDescribeLogDirsV1(body), [
      {errorCode: 0, topics: [{name: 'orders', partitions: [{partition: 0, size: 5_000_000_000, isFuture: false}, {partition: 1, size: 42, isFuture: true}]}]},
      {errorCode: 31, topics: []},
    ])
  })
})
