#!/usr/bin/env node
// `npm run quickstart`: kbk's main job on the embedded default — a local directory store and the
// local source Kafka that the project starts — walking validate → plan → apply → backups list →
// plan (new ranges only, and the restore drill) → apply (the restore) → a record-by-record check.
// Re-runnable: it starts from a clean workspace in .quickstart/ and fresh demo topics each time.
import {spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import kafkajs from 'kafkajs'

const {Kafka, logLevel, CompressionTypes} = kafkajs
const root = fileURLToPath(new URL('..', import.meta.url))
const dir = join(root, '.quickstart')

function step(title) {
  process.stdout.write(`\n\x1b[1m━━ ${title}\x1b[0m\n`)
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {stdio: 'inherit', ...opts})
  if (r.status !== 0 && !(opts.okCodes ?? [0]).includes(r.status)) {
    process.stderr.write(`quickstart: \`${[cmd, ...args].join(' ')}\` failed (exit ${r.status})\n`)
    process.exit(1)
  }
  return r.status
}

function kbk(args, okCodes = [0]) {
  process.stdout.write(`\n$ kbk ${args.join(' ')}\n`)
  return sh(process.execPath, [join(root, 'bin/run.js'), ...args], {cwd: dir, env: {...process.env, KBK_KAFKA_BOOTSTRAP: bootstrap}, okCodes})
}

step('Building kbk and starting the local Kafka (first run downloads Kafka from Maven Central)')
sh(process.execPath, [join(root, 'scripts/build.mjs')])
sh(process.execPath, [join(root, 'scripts/env/up.mjs'), '--only', 'kafka-source'])
// The demo producer compresses with lz4 and zstd: register kbk's codecs with kafkajs (built above).
const {registerKafkaCodecs} = await import(join(root, 'dist/kafka/kafkajs-codecs.js'))
registerKafkaCodecs()
const envText = readFileSync(join(root, '.env.test'), 'utf8')
const bootstrap = /^KBK_TEST_KAFKA_BOOTSTRAP=(.*)$/m.exec(envText)?.[1] ?? '127.0.0.1:39092'

step(`Creating demo topics on ${bootstrap} and producing records (keys, null keys, headers, tombstones; lz4 and zstd batches)`)
const kafka = new Kafka({clientId: 'kbk-quickstart', brokers: [bootstrap], logLevel: logLevel.NOTHING})
const admin = kafka.admin()
await admin.connect()
const existing = (await admin.listTopics()).filter((t) => t.startsWith('demo.'))
if (existing.length > 0) {
  await admin.deleteTopics({topics: existing})
  // Topic deletion is asynchronous in Kafka: wait until they are gone before recreating them.
  for (let i = 0; i < 50 && (await admin.listTopics()).some((t) => existing.includes(t)); i++) await new Promise((r) => setTimeout(r, 200))
}
await admin.createTopics({waitForLeaders: true, topics: [{topic: 'demo.orders', numPartitions: 3}, {topic: 'demo.payments', numPartitions: 1, configEntries: [{name: 'retention.ms', value: String(7 * 86_400_000)}]}]})
const producer = kafka.producer({allowAutoTopicCreation: false})
await producer.connect()
async function produce(topic, n, from, compression) {
  const messages = []
  for (let i = from; i < from + n; i++) {
    messages.push({
      key: i % 10 === 0 ? null : `customer-${i % 97}`,
      value: i % 50 === 49 ? null : JSON.stringify({id: i, amount: (i * 7) % 1000, currency: 'EUR'}),
      headers: {source: 'quickstart', seq: String(i)},
      timestamp: String(Date.now() - (from + n - i) * 10),
    })
  }
  await producer.send({topic, messages, compression})
}
await produce('demo.orders', 3000, 0, CompressionTypes.LZ4)
await produce('demo.payments', 1000, 0, CompressionTypes.ZSTD)
process.stdout.write('produced 3,000 records to demo.orders (3 partitions) and 1,000 to demo.payments\n')

step('A workspace: examples/quickstart/kbk.yaml copied to .quickstart/ (fs store in .quickstart/.kbk-backups)')
rmSync(dir, {recursive: true, force: true})
mkdirSync(dir, {recursive: true})
cpSync(join(root, 'examples/quickstart/kbk.yaml'), join(dir, 'kbk.yaml'))

step('Validate (offline)')
kbk(['validate'])
step('Plan: exact offset ranges per partition')
kbk(['plan', '--detailed-exitcode'], [2])
step('Apply')
kbk(['apply', '--auto-approve'])
step('What is restorable now')
kbk(['backups', 'list'])

step('The next plan pins the restore drill (point in time `latest` becomes a concrete timestamp); save it and apply exactly that')
kbk(['plan', '--out', 'restore.plan', '--detailed-exitcode'], [2])
kbk(['apply', 'restore.plan'])

step('Checking the restore record by record against the source')
async function readAll(topic) {
  const offsets = await admin.fetchTopicOffsets(topic)
  const total = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
  const out = []
  if (total === 0) return out
  const consumer = kafka.consumer({groupId: `kbk-quickstart-check-${Date.now()}`, allowAutoTopicCreation: false})
  await consumer.connect()
  await consumer.subscribe({topic, fromBeginning: true})
  await new Promise((resolve) => {
    consumer.run({
      eachMessage: async ({partition, message}) => {
        out.push({partition, key: message.key?.toString('base64') ?? null, value: message.value?.toString('base64') ?? null, timestamp: message.timestamp, headers: JSON.stringify(message.headers)})
        if (out.length >= total) resolve()
      },
    })
  })
  await consumer.disconnect()
  await admin.deleteGroups([consumer.groupId]).catch(() => undefined)
  return out
}
const sortKey = (r) => `${r.partition}/${r.timestamp}/${r.value}`
const source = (await readAll('demo.orders')).sort((a, b) => sortKey(a).localeCompare(sortKey(b)))
const restored = existsSync(dir) ? (await readAll('demo.orders-restored')).sort((a, b) => sortKey(a).localeCompare(sortKey(b))) : []
const same = restored.length > 0 && restored.every((r, i) => JSON.stringify(r) === JSON.stringify(source[i]))
process.stdout.write(`source demo.orders: ${source.length} records; restored demo.orders-restored: ${restored.length} records; identical keys, values, headers, timestamps and partitions: ${same ? 'yes' : 'NO'}\n`)

step('500 more records arrive: the next plan copies only the new ranges')
await produce('demo.orders', 500, 3000, CompressionTypes.LZ4)
kbk(['plan', '--detailed-exitcode'], [2])
kbk(['apply', '--auto-approve'])
step('Plan again: nothing to do')
kbk(['plan', '--detailed-exitcode'])
await producer.disconnect()
await admin.disconnect()
if (!same || restored.length !== source.length) process.exit(1)
process.stdout.write('\nQuickstart complete. Try: cd .quickstart && node ../bin/run.js state list\nStop the local Kafka with: npm run env:down\n')
