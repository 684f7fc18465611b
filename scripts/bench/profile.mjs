// Summarizes a V8 .cpuprofile (node --cpu-prof) by self time, grouped into the categories the
// bench report uses: where does a backup or restore spend its CPU?
import {readFileSync} from 'node:fs'

const CATEGORIES = [
  ['idle (waiting on Kafka/store I/O)', (f) => f === '(idle)'],
  ['GC', (f) => f === '(garbage collector)'],
  ['zstd compress/decompress (native)', (f, u) => /zstd-napi/.test(u) || /^(compress|decompress|_compress|_decompress)$/.test(f) && u === ''],
  ['segment encode/decode (kbk)', (f, u) => /\/segment\//.test(u)],
  ['Kafka record batches: decode fetched, encode produced (kbk)', (f, u) => /\/kafka\/(record-batch|produce-batch)\./.test(u)],
  ['lz4/snappy codecs', (f, u) => /lz4|snappy/.test(u) || (f === 'compress' && /\/kafka\/kafkajs-produce\./.test(u))],
  ['kafkajs record decode/encode', (f, u) => /kafkajs\/src\/protocol\/(recordBatch|message|decoder|encoder|requests\/produce)/.test(u)],
  ['kafkajs other (connections, requests)', (f, u) => /node_modules\/kafkajs\//.test(u)],
  ['storage upload (fs/S3 adapters, AWS SDK)', (f, u) => /\/storage\/|@aws-sdk|@smithy/.test(u)],
  ['hashing (sha256)', (f) => /digest|update|Hash/.test(f)],
  ['backup/restore orchestration (kbk)', (f, u) => /\/(apply|restore|kafka)\//.test(u)],
  ['node internals (streams, buffers, net)', (f, u) => /^node:/.test(u) || u === ''],
  ['other JS', () => true],
]

export function summarizeProfile(file) {
  const prof = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(prof.nodes.map((n) => [n.id, n]))
  const self = new Map()
  const deltas = prof.timeDeltas
  for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (deltas[i] ?? 0))
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const cats = new Map()
  const fns = new Map()
  for (const [id, us] of self) {
    const n = byId.get(id)
    const f = n.callFrame.functionName || '(anonymous)'
    const u = n.callFrame.url || ''
    const cat = CATEGORIES.find(([, test]) => test(f, u))[0]
    cats.set(cat, (cats.get(cat) ?? 0) + us)
    const name = `${f} ${u.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${n.callFrame.lineNumber + 1}`
    fns.set(name, (fns.get(name) ?? 0) + us)
  }
  const pct = (us) => Math.round((us / total) * 1000) / 10
  return {
    totalMs: Math.round(total / 1000),
    categories: [...cats].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({name, ms: Math.round(us / 1000), pct: pct(us)})),
    top: [...fns].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([name, us]) => ({name, ms: Math.round(us / 1000), pct: pct(us)})),
  }
}
