// Bench datasets: deterministic JSON records of a chosen size, produced once per bench run with
// kcat (librdkafka is far faster than a node producer on 2 cores) and reused by every kbk/kcat
// measurement. Values vary like real events (ids, names, amounts, free text), so zstd sees a
// realistic ratio rather than a run of identical bytes.
import {spawn} from 'node:child_process'

const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu order payment refund shipped pending cancelled express standard priority warehouse berlin paris madrid lisbon dublin vienna prague warsaw'.split(' ')
const STATUSES = ['created', 'paid', 'packed', 'shipped', 'delivered', 'returned']

/** xorshift32: fast and deterministic, so every run produces the same bytes. */
function rng(seed) {
  let x = seed | 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 4294967296
  }
}

/** One ~1 KiB order event as a JSON line (no newline inside). */
export function largeRecord(i, r) {
  const items = []
  const n = 3 + Math.floor(r() * 4)
  for (let k = 0; k < n; k++) items.push({sku: `SKU-${Math.floor(r() * 100000)}`, qty: 1 + Math.floor(r() * 5), price: Math.round(r() * 50000) / 100, name: `${WORDS[Math.floor(r() * WORDS.length)]} ${WORDS[Math.floor(r() * WORDS.length)]}`})
  let note = ''
  while (note.length < 420) note += WORDS[Math.floor(r() * WORDS.length)] + ' '
  const rec = {
    id: i,
    orderId: `ord-${(i * 2654435761) >>> 0}`,
    ts: 1_790_000_000_000 + i * 13,
    customer: {id: `c-${Math.floor(r() * 1e6)}`, name: `${WORDS[Math.floor(r() * WORDS.length)]} ${WORDS[Math.floor(r() * WORDS.length)]}`, email: `user${Math.floor(r() * 1e6)}@example.com`, tier: r() < 0.2 ? 'gold' : 'standard'},
    status: STATUSES[Math.floor(r() * STATUSES.length)],
    currency: r() < 0.7 ? 'EUR' : 'USD',
    items,
    shipping: {city: WORDS[40 + Math.floor(r() * 8)] ?? 'berlin', zip: String(10000 + Math.floor(r() * 89999)), method: r() < 0.5 ? 'standard' : 'express'},
    note: note.trim(),
  }
  let s = JSON.stringify(rec)
  if (s.length < 1000) s = s.slice(0, -1) + `,"pad":"${'x'.repeat(1000 - s.length)}"}`
  return s
}

/**
 * One keyed event of 200–2,000 bytes (value), as real traffic looks: the key is an entity id
 * (`cust-NNNNNN`, so records of one customer share a partition), the value a JSON event whose
 * size varies evenly over the range. Returns [key, value].
 */
export function keyedRecord(i, r) {
  const target = 200 + Math.floor(r() * 1801)
  const key = `cust-${String(Math.floor(r() * 200000)).padStart(6, '0')}`
  const rec = {id: i, ts: 1_790_000_000_000 + i * 7, type: STATUSES[Math.floor(r() * STATUSES.length)], customer: key, amount: Math.round(r() * 100000) / 100, currency: r() < 0.7 ? 'EUR' : 'USD', text: ''}
  let text = ''
  const base = JSON.stringify(rec).length
  while (base + text.length < target) text += WORDS[Math.floor(r() * WORDS.length)] + ' '
  rec.text = text.slice(0, Math.max(0, target - base))
  return [key, JSON.stringify(rec)]
}

/** One ~100-byte metric event. */
export function smallRecord(i, r) {
  return JSON.stringify({id: i, ts: 1_790_000_000_000 + i, m: WORDS[Math.floor(r() * WORDS.length)], v: Math.round(r() * 1e6) / 100, h: `h-${Math.floor(r() * 512)}`, ok: r() < 0.9})
}

/**
 * Generates records until `bytes` of values are reached; calls sink(lineBuffer) with ~1 MiB chunks
 * of newline-terminated records. Returns {records, bytes} (value bytes, newline not counted).
 */
export async function generate(kind, bytes, seed, sink) {
  const r = rng(seed)
  let records = 0
  let total = 0
  let chunk = []
  let chunkBytes = 0
  while (total < bytes) {
    let s
    if (kind === 'keyed') {
      // key TAB value: kcat -P -K '\t' splits it (JSON never holds a raw tab). Keys count as bytes.
      const [key, value] = keyedRecord(records, r)
      s = `${key}\t${value}`
      total += key.length + value.length
    } else {
      s = kind === 'small' ? smallRecord(records, r) : largeRecord(records, r)
      total += s.length
    }
    chunk.push(s)
    chunkBytes += s.length + 1
    records++
    if (chunkBytes >= 1 << 20) {
      await sink(Buffer.from(chunk.join('\n') + '\n'))
      chunk = []
      chunkBytes = 0
    }
  }
  if (chunk.length > 0) await sink(Buffer.from(chunk.join('\n') + '\n'))
  return {records, bytes: total}
}

/**
 * Produces a dataset into `topic` with kcat -P (one line = one record; kind 'keyed' has a key,
 * the others none). `headers` (["name=value", ...]) are added to every record.
 */
export async function produceWithKcat({kcat, bootstrap, topic, kind, bytes, seed, compression, headers = []}) {
  const child = spawn(kcat, [
    '-P', '-b', bootstrap, '-t', topic, '-z', compression,
    ...(kind === 'keyed' ? ['-K', '\t'] : []),
    ...headers.flatMap((h) => ['-H', h]),
    '-X', 'linger.ms=50', '-X', 'batch.size=1000000', '-X', 'batch.num.messages=100000',
    '-X', 'queue.buffering.max.kbytes=262144', '-X', 'message.max.bytes=10000000',
  ], {stdio: ['pipe', 'inherit', 'inherit']})
  const done = new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`kcat -P exited ${code}`))))
  })
  const result = await generate(kind, bytes, seed, (buf) => new Promise((resolve) => (child.stdin.write(buf) ? resolve() : child.stdin.once('drain', resolve))))
  child.stdin.end()
  await done
  return result
}
