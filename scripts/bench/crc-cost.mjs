// The cost of checking every fetched batch's CRC-32C (kafkajs-fetch.ts), against what the read
// does with the same bytes anyway: decoding them into records. One process, no broker: a fetch
// response's record set is built with kbk's own batch writer (the shape a broker returns: 4 MiB
// of batches), then each step runs over it many times. Needs a build (npm run build).
// Prints one JSON line per record size: MiB per CPU second of the CRC check and of decoding, the
// check's CPU seconds per GiB fetched, and its share of (check + decode).
//
//   node scripts/bench/crc-cost.mjs [MiB of record sets per measurement = 256]
import {randomBytes} from 'node:crypto'
import {join} from 'node:path'

const root = new URL('../../', import.meta.url).pathname
const {writeBatch} = await import(join(root, 'dist/kafka/produce-batch.js'))
const {batchesOf, decodePartition, firstCorruptBatch} = await import(join(root, 'dist/kafka/record-batch.js'))
const TOTAL = Number(process.argv[2] ?? 256) * 1024 * 1024
const RESPONSE = 4 * 1024 * 1024
const BATCH = 64 * 1024

function recordSet(valueBytes) {
  const buf = Buffer.alloc(RESPONSE + BATCH * 2)
  let pos = 0
  let seq = 0
  while (pos < RESPONSE) {
    const records = []
    for (let n = 0; n * (valueBytes + 40) < BATCH; n++) records.push({timestamp: 1_700_000_000_000 + n, key: randomBytes(16), value: randomBytes(valueBytes), headers: [{key: 'h', value: Buffer.from('v')}]})
    const end = writeBatch(buf, pos, records, {producerId: 1n, producerEpoch: 0}, seq)
    buf.writeBigInt64BE(BigInt(seq), pos) // base offset, as the broker sets it (outside the CRC)
    seq += records.length
    pos = end
  }
  return buf.subarray(0, pos)
}

// CPU time of this process, not wall time: on a shared, loaded machine wall time mostly measures
// the other processes. Both steps run on the main thread (no decompression here).
async function time(fn, bytes) {
  await fn() // warm up
  const rounds = Math.max(1, Math.round(TOTAL / bytes))
  const t0 = process.cpuUsage()
  for (let i = 0; i < rounds; i++) await fn()
  const used = process.cpuUsage(t0)
  const s = (used.user + used.system) / 1e6
  return (rounds * bytes) / 1024 / 1024 / s
}

for (const valueBytes of [100, 1024, 10_240]) {
  const set = recordSet(valueBytes)
  const batches = batchesOf(set)
  if (firstCorruptBatch(set, batches) !== -1) throw new Error('the writer produced a batch whose CRC does not match')
  const crc = await time(() => firstCorruptBatch(set, batchesOf(set)), set.length)
  const decode = await time(() => decodePartition(set, 0, [], {}), set.length)
  const share = 1 / crc / (1 / crc + 1 / decode)
  console.log(JSON.stringify({value_bytes: valueBytes, batches: batches.length, crc_mib_s: Math.round(crc), decode_mib_s: Math.round(decode), crc_cpu_s_per_gib: Number((1024 / crc).toFixed(2)), crc_share_of_check_plus_decode: Number(share.toFixed(3))}))
}
