// What rewriting schema IDs costs a restore: one topic of Avro records in the Confluent wire
// format, backed up once with its registry snapshot, then restored alternately without a target
// registry (records produced as stored) and with one (subjects registered in the second registry,
// every record's ID rewritten). Same records, same store, same target cluster; only the rewrite
// differs. Needs a build and env:up (both registries). Prints one JSON line.
//
//   node scripts/bench/schema-remap.mjs [records = 1000000] [rounds = 2]
// The median of `rounds` restores each way; the cost is reported for wall time and for kbk's CPU time.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import kafkajs from 'kafkajs'

const root = new URL('../../', import.meta.url).pathname
const env = Object.fromEntries(readFileSync(join(root, '.env.test'), 'utf8').split('\n').filter((l) => l.includes('=') && !l.startsWith('#')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
const RECORDS = Number(process.argv[2] ?? 1_000_000)
const ROUNDS = Number(process.argv[3] ?? 2)
const tag = `sr-bench-${Date.now().toString(36)}`
const topic = `${tag}.orders`
const dir = join(tmpdir(), tag)
mkdirSync(dir, {recursive: true})
const SRC_REG = env.KBK_TEST_SCHEMA_REGISTRY_URL
const TGT_REG = env.KBK_TEST_SCHEMA_REGISTRY_TARGET_URL
if (!SRC_REG || !TGT_REG) throw new Error('run `npm run env:up` first: .env.test lacks the schema registries')

async function register(url, subject, schema) {
  const r = await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions`, {method: 'POST', headers: {'content-type': 'application/vnd.schemaregistry.v1+json'}, body: JSON.stringify({schema})})
  if (!r.ok) throw new Error(`register ${subject}: ${r.status} ${await r.text()}`)
  return (await r.json()).id
}

// The target already holds other schemas, so the IDs differ and every record is rewritten.
await register(TGT_REG, `${tag}.other-value`, JSON.stringify({type: 'record', name: 'Other', fields: [{name: 'x', type: 'long'}]}))
const schema = JSON.stringify({type: 'record', name: 'Order', namespace: 'bench', fields: [{name: 'id', type: 'long'}, {name: 'customer', type: 'string'}, {name: 'note', type: 'string'}]})
const id = await register(SRC_REG, `${topic}-value`, schema)

// Avro binary of {id, customer, note}: zig-zag varint long, then length-prefixed strings.
function zigzag(n) {
  const out = []
  let v = (BigInt(n) << 1n) ^ (BigInt(n) >> 63n)
  while (v > 0x7fn) {
    out.push(Number((v & 0x7fn) | 0x80n))
    v >>= 7n
  }
  out.push(Number(v))
  return out
}
function avroString(s) {
  const b = Buffer.from(s)
  return [...zigzag(b.length), ...b]
}
function value(i) {
  const body = [...zigzag(i), ...avroString(`customer-${i % 5000}`), ...avroString(`order note ${i} `.padEnd(60, 'x'))]
  const out = Buffer.alloc(5 + body.length)
  out.writeUInt32BE(id, 1)
  Buffer.from(body).copy(out, 5)
  return out
}

const {Kafka, logLevel, CompressionTypes} = kafkajs
const source = new Kafka({clientId: 'kbk-bench', brokers: [env.KBK_TEST_KAFKA_BOOTSTRAP], logLevel: logLevel.NOTHING})
const admin = source.admin()
await admin.connect()
await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: 4}]})
await admin.disconnect()
const producer = source.producer({allowAutoTopicCreation: false})
await producer.connect()
const now = Date.now() - 3_600_000
for (let start = 0; start < RECORDS; start += 10_000) {
  const messages = []
  for (let i = start; i < Math.min(RECORDS, start + 10_000); i++) messages.push({partition: i % 4, key: `k${i}`, value: value(i), timestamp: String(now + Math.floor(i / 100))})
  await producer.send({topic, compression: CompressionTypes.None, messages})
}
await producer.disconnect()

const restores = []
for (let r = 0; r < ROUNDS; r++) restores.push(`plain${r}`, `remap${r}`)
writeFileSync(join(dir, 'kbk.yaml'), `version: 1
clusters:
  source: {brokers: ["${env.KBK_TEST_KAFKA_BOOTSTRAP}"]}
  target: {brokers: ["${env.KBK_TEST_KAFKA_TARGET_BOOTSTRAP}"]}
stores:
  bench: {type: fs, path: ${JSON.stringify(join(dir, 'backups'))}}
schemaRegistries:
  src: {url: "${SRC_REG}"}
  tgt: {url: "${TGT_REG}"}
retention:
  bench: {maxAge: 7d}
policies:
  bench:
    cluster: source
    store: bench
    topics: {include: ["${topic.replace(/\./g, '\\\\.')}"]}
    retention: bench
    schemaRegistry: src
restores:
${restores.map((name) => `  ${name}:
    from: {policy: bench}
    to: {cluster: target, topicSuffix: -${name}${name.startsWith('remap') ? ', schemaRegistry: tgt' : ''}}
    createTopics: true
`).join('')}`)

// kbk's own CPU seconds (user + system, via GNU time) beside wall time: on a shared, loaded
// machine the wall time of one restore swings by 2x, its CPU time far less.
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined
function kbk(args) {
  const t = process.hrtime.bigint()
  const argv = [join(root, 'bin/run.js'), ...args]
  const r = timeBin ? spawnSync(timeBin, ['-v', process.execPath, ...argv], {cwd: dir, encoding: 'utf8', env: {...process.env, KBK_IN_AUTOMATION: '1', NO_COLOR: '1'}, maxBuffer: 1 << 28}) : spawnSync(process.execPath, argv, {cwd: dir, encoding: 'utf8', env: {...process.env, KBK_IN_AUTOMATION: '1', NO_COLOR: '1'}, maxBuffer: 1 << 28})
  if (r.status !== 0) throw new Error(`kbk ${args.join(' ')} failed: ${r.stderr}\n${r.stdout.slice(-2000)}`)
  const user = /User time \(seconds\): ([\d.]+)/.exec(r.stderr)
  const sys = /System time \(seconds\): ([\d.]+)/.exec(r.stderr)
  return {wall: Number(process.hrtime.bigint() - t) / 1e9, cpu: user && sys ? Number(user[1]) + Number(sys[1]) : undefined}
}

kbk(['apply', '--auto-approve', '--target', 'policy.bench'])
const seconds = {plain: [], remap: []}
const cpu = {plain: [], remap: []}
for (const name of restores) {
  kbk(['plan', '--target', `restore.${name}`, '--out', `${name}.plan`])
  const s = kbk(['apply', `${name}.plan`])
  seconds[name.replace(/[0-9]+$/, '')].push(s.wall)
  if (s.cpu !== undefined) cpu[name.replace(/[0-9]+$/, '')].push(s.cpu)
  process.stderr.write(`schema-remap: restore ${name}: ${s.wall.toFixed(2)} s wall, ${s.cpu?.toFixed(2)} s kbk CPU\n`)
}

const del = async (brokers, topics) => {
  const a = new Kafka({clientId: 'kbk-bench', brokers: [brokers], logLevel: logLevel.NOTHING}).admin()
  await a.connect()
  await a.deleteTopics({topics}).catch(() => undefined)
  await a.disconnect()
}
await del(env.KBK_TEST_KAFKA_BOOTSTRAP, [topic])
await del(env.KBK_TEST_KAFKA_TARGET_BOOTSTRAP, restores.map((n) => `${topic}-${n}`))

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const bytes = RECORDS * value(RECORDS - 1).length
process.stdout.write(JSON.stringify({records: RECORDS, value_bytes: value(RECORDS - 1).length, plain_s: median(seconds.plain), remap_s: median(seconds.remap), plain_mb_s: bytes / 1e6 / median(seconds.plain), remap_mb_s: bytes / 1e6 / median(seconds.remap), remap_cost: median(seconds.remap) / median(seconds.plain) - 1, plain_cpu_s: cpu.plain.length ? median(cpu.plain) : null, remap_cpu_s: cpu.remap.length ? median(cpu.remap) : null, remap_cpu_cost: cpu.plain.length ? median(cpu.remap) / median(cpu.plain) - 1 : null, runs: seconds, cpu}) + '\n')
