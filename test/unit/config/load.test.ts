// loadWorkspace end to end over real files: positions, every problem at once, env, merging.
import assert from 'node:assert/strict'
import {readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {fileURLToPath} from 'node:url'
import {formatDiagnostic, isSecret, loadWorkspace} from '../../../src/config/index.js'
import {BASE, codes, errors, load, tempDir, writeFiles} from './helpers.js'

const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url))

describe('loadWorkspace', () => {
  test('a valid workspace loads with defaults applied and no diagnostics', async () => {
    const r = await load(BASE)
    assert.deepEqual(r.diagnostics, [])
    const ws = r.workspace!
    const p = ws.policies.orders!
    assert.equal(p.name, 'orders')
    assert.equal(p.tier.maxAgeMs, 90 * 86_400_000)
    assert.equal(p.allowDestroy, false, 'policy inherits the tier default')
    assert.deepEqual(p.compression, {codec: 'zstd', level: 3})
    assert.equal(p.topics.include[0]!.source, 'orders\\..*')
    assert.ok(p.topics.include[0]!.regex.test('orders.created'))
    assert.ok(!p.topics.include[0]!.regex.test('xorders.created'), 'patterns are anchored')
    assert.equal(ws.retention.compliance!.maxAgeMs, 7 * 365 * 86_400_000)
    assert.equal(ws.clusters.prod!.clientId, 'kbk')
    assert.equal(ws.stores.primary!.type, 'fs')
    assert.ok((ws.stores.primary as {path: string}).path.endsWith('/backups'))
    assert.deepEqual(ws.positionOf(['policies', 'orders', 'retention']), {file: 'kbk.yaml', line: 20, column: 16})
    assert.equal(ws.positionOf(['policies', 'nope']), undefined)
  })

  test('three different mistakes give three diagnostics, each with its position and a fix', async () => {
    const text = BASE.replace('    retention: production\n', '    retention: production\n    compresion: {codec: zstd}\n')
      .replace('    store: primary\n    topics', '    store: primry\n    topics')
      .replace('dev: {maxAge: 7d,', 'dev: {maxAge: 7days,')
    const r = await load(text)
    assert.equal(r.workspace, undefined)
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.line, d.column, d.path]),
      [
        ['KBK_CONFIG_BAD_DURATION', 12, 17, 'retention.dev.maxAge'],
        ['KBK_CONFIG_UNDEFINED_REF', 18, 12, 'policies.orders.store'],
        ['KBK_CONFIG_UNKNOWN_KEY', 21, 5, 'policies.orders.compresion'],
      ],
    )
    assert.match(r.diagnostics[0]!.suggestion!, /7d/)
    assert.match(r.diagnostics[1]!.suggestion!, /Did you mean "primary"/)
    assert.match(r.diagnostics[2]!.suggestion!, /Did you mean "compression"/)
    assert.equal(formatDiagnostic(r.diagnostics[2]!), 'kbk.yaml:21:5: error KBK_CONFIG_UNKNOWN_KEY: unknown key "compresion" in policies.orders\n    fix: Did you mean "compression"? (rename "compresion" to "compression")')
  })

  test('a sox-tagged policy on a 90-day tier fails with the rule, the policy and the fix', async () => {
    const r = await load(BASE + '    tags: [sox]\n')
    const d = r.diagnostics.find((x) => x.code === 'KBK_COMPLIANCE_SOX_MIN_RETENTION')
    assert.ok(d, codes(r).join(','))
    assert.equal(d.severity, 'error')
    assert.equal(d.line, 20)
    assert.match(d.message, /policy "orders" is tagged sox, which requires backups kept at least 7y; its retention tier "production" keeps them 90d/)
    assert.match(d.suggestion!, /"compliance"/)
    assert.ok(codes(r).includes('KBK_COMPLIANCE_SOX_IMMUTABLE'))
    assert.equal(r.workspace, undefined)
  })

  test('missing required keys and wrong types point at the entry and the value', async () => {
    const r = await load(BASE.replace('    retention: production\n', '').replace('minKeep: 3}', 'minKeep: three}'))
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.path, d.line]),
      [
        ['KBK_CONFIG_TYPE', 'retention.production.minKeep', 13],
        ['KBK_CONFIG_REQUIRED', 'policies.orders', 16],
      ],
    )
    assert.match(r.diagnostics[1]!.message, /missing the required key "retention"/)
  })

  test('unknown store type and enum values suggest the closest valid one', async () => {
    const r = await load(BASE.replace('type: fs', 'type: s4').replace('    retention: production\n', '    retention: production\n    compression: {codec: zstandard}\n'))
    const store = r.diagnostics.find((d) => d.path === 'stores.primary.type')!
    assert.match(store.suggestion!, /"s3"/)
    const codec = r.diagnostics.find((d) => d.path === 'policies.orders.compression.codec')!
    assert.match(codec.message, /expected zstd or none, got "zstandard"/)
  })

  test('YAML syntax errors carry a position and stop nothing else from loading safely', async () => {
    const r = await load('version: 1\nclusters:\n  prod: {brokers: [a, b}\n')
    assert.equal(r.diagnostics[0]!.code, 'KBK_CONFIG_YAML')
    assert.equal(r.diagnostics[0]!.line, 3)
    const dup = await load('version: 1\nclusters:\n  a: {brokers: [x]}\n  a: {brokers: [y]}\n')
    assert.deepEqual(
      dup.diagnostics.map((d) => [d.code, d.line]),
      [['KBK_CONFIG_DUPLICATE', 4]],
    )
  })

  test('no kbk.yaml: KBK_CONFIG_NOT_FOUND says to run kbk init or pass --config', async () => {
    const r = await loadWorkspace({cwd: tempDir(), env: {}})
    assert.equal(r.diagnostics.length, 1)
    assert.equal(r.diagnostics[0]!.code, 'KBK_CONFIG_NOT_FOUND')
    assert.match(r.diagnostics[0]!.suggestion!, /kbk init/)
    assert.match(r.diagnostics[0]!.suggestion!, /--config/)
    const explicit = await loadWorkspace({cwd: tempDir(), config: 'nope.yaml', env: {}})
    assert.match(explicit.diagnostics[0]!.message, /no workspace at nope\.yaml/)
  })
})

describe('${ENV} interpolation', () => {
  test('values come from the environment, defaults apply, $${ escapes, secrets are wrapped', async () => {
    const text = BASE.replace('brokers: ["127.0.0.1:9092"]', () => 'brokers: ["${BOOT}", "${OTHER:-10.0.0.1:9092}"]\n    sasl: {mechanism: plain, username: "${U}", password: "${P}"}\n    clientId: "a$${b}"')
    const r = await load(text, {BOOT: 'k1:9092', U: 'svc', P: 's3cr3t-value'})
    assert.deepEqual(r.diagnostics, [])
    const c = r.workspace!.clusters.prod!
    assert.deepEqual(c.brokers, ['k1:9092', '10.0.0.1:9092'])
    assert.equal(c.clientId, 'a${b}')
    assert.ok(isSecret(c.sasl!.password))
    assert.equal(c.sasl!.password.reveal(), 's3cr3t-value')
    assert.ok(r.workspace!.isFromEnv(['clusters', 'prod', 'brokers', 0]))
    assert.ok(!r.workspace!.isFromEnv(['clusters', 'prod', 'brokers', 1]))
    const dumped = JSON.stringify(r.workspace) + String(c.sasl!.password) + JSON.stringify(r)
    assert.ok(!dumped.includes('s3cr3t-value'), 'a secret never appears in JSON or strings')
  })

  test('an unset variable is an error naming the variable and where it is used, never an empty string', async () => {
    const r = await load(BASE.replace('path: ./backups', 'path: "${BACKUP_DIR}"'), {BACKUP_DIR: ''})
    assert.equal(r.workspace, undefined)
    const d = r.diagnostics.find((x) => x.code === 'KBK_CONFIG_ENV_UNSET')!
    assert.match(d.message, /BACKUP_DIR/)
    assert.match(d.message, /stores\.primary\.path/)
    assert.equal(d.line, 10)
  })

  test('rateLimit: sizes resolve to bytes per second; a malformed one is one error at its position with the fix', async () => {
    const ok = await load(BASE + '    rateLimit: {bytesPerSecond: 40MiB, recordsPerSecond: 5000}\n')
    assert.deepEqual(ok.diagnostics, [])
    assert.deepEqual(ok.workspace!.policies.orders!.rateLimit, {bytesPerSecond: 40 * 1024 * 1024, recordsPerSecond: 5000})
    const bad = await load(BASE + '    rateLimit: {bytesPerSecond: 50 MB}\n')
    assert.deepEqual(codes(bad), ['KBK_CONFIG_VALUE'])
    const d = bad.diagnostics[0]!
    assert.match(d.message, /policies\.orders\.rateLimit\.bytesPerSecond: "50 MB" is not a byte rate/)
    assert.match(d.suggestion ?? '', /50MB/)
    assert.equal(d.line, 21)
    const zero = await load(BASE + '    rateLimit: {bytesPerSecond: 0}\n')
    assert.equal(errors(zero).length, 1)
  })

  test('restores.X.compression: auto, none, lz4 or zstd reach the restore; anything else is an error at its position', async () => {
    const restore = (value: string): string => BASE + `restores:\n  again:\n    from: {policy: orders, pointInTime: latest}\n    to: {cluster: prod, topicSuffix: -again}\n    compression: ${value}\n`
    for (const v of ['auto', 'none', 'lz4', 'zstd'] as const) {
      const ok = await load(restore(v))
      assert.deepEqual(ok.diagnostics, [], v)
      assert.equal(ok.workspace!.restores.again!.compression, v)
    }
    const unset = await load(BASE + 'restores:\n  again:\n    from: {policy: orders, pointInTime: latest}\n    to: {cluster: prod, topicSuffix: -again}\n')
    assert.equal(unset.workspace!.restores.again!.compression, undefined, 'unset: the producer decides (auto)')
    const text = restore('gzip')
    const bad = await load(text)
    assert.equal(errors(bad).length, 1)
    assert.match(errors(bad)[0]!.message, /compression/)
    // At the value itself: its line and column in the file.
    const lines = text.split('\n')
    const line = lines.findIndex((l) => l.includes('compression: gzip')) + 1
    assert.equal(errors(bad)[0]!.line, line)
    assert.equal(errors(bad)[0]!.column, lines[line - 1]!.indexOf('gzip') + 1)
  })

  test('a value from the environment is never echoed in a diagnostic', async () => {
    const r = await load(BASE.replace('maxAge: 90d', 'maxAge: "${AGE}"'), {AGE: 'topsecret-ninety'})
    const d = r.diagnostics.find((x) => x.code === 'KBK_CONFIG_BAD_DURATION')!
    assert.ok(d)
    assert.ok(!JSON.stringify(r.diagnostics).includes('topsecret-ninety'))
  })

  test('an unquoted ${VAR} that holds a number is a number', async () => {
    const r = await load(BASE.replace('production: {maxAge: 90d, minKeep: 3}', 'production:\n    maxAge: 90d\n    minKeep: ${KEEP}'), {KEEP: '5'})
    assert.deepEqual(r.diagnostics, [])
    assert.equal(r.workspace!.retention.production!.minKeep, 5)
  })

  test('the digest covers the files, not the environment', async () => {
    const dir = tempDir()
    writeFiles(dir, {'kbk.yaml': BASE.replace('path: ./backups', 'path: "${D:-./b}"')})
    const a = await loadWorkspace({cwd: dir, env: {D: 'x'}})
    const b = await loadWorkspace({cwd: dir, env: {D: 'y'}})
    assert.equal(a.digest, b.digest)
    assert.match(a.digest, /^[0-9a-f]{64}$/)
    writeFileSync(join(dir, 'kbk.yaml'), BASE + '\n')
    assert.notEqual((await loadWorkspace({cwd: dir, env: {}})).digest, a.digest)
  })
})

describe('a directory workspace', () => {
  test('merges *.yaml files; a name defined twice is an error naming both places', async () => {
    const dir = tempDir()
    writeFiles(dir, {
      'ws/a.yaml': BASE,
      'ws/b.yml': 'policies:\n  payments:\n    cluster: prod\n    store: primary\n    topics: {include: ["payments"]}\n    retention: dev\n',
      'ws/notes.txt': 'ignored',
    })
    const ok = await loadWorkspace({cwd: dir, config: 'ws', env: {}})
    assert.deepEqual(ok.diagnostics, [])
    assert.deepEqual(ok.files, ['ws/a.yaml', 'ws/b.yml'])
    assert.deepEqual(Object.keys(ok.workspace!.policies).sort(), ['orders', 'payments'])
    assert.equal(ok.workspace!.positionOf(['policies', 'payments'])!.file, 'ws/b.yml')

    writeFiles(dir, {'ws/c.yaml': 'policies:\n  orders:\n    cluster: prod\n    store: primary\n    topics: {include: ["x"]}\n    retention: dev\n'})
    const dup = await loadWorkspace({cwd: dir, config: 'ws', env: {}})
    const d = errors(dup)
    assert.equal(d.length, 1)
    assert.equal(d[0]!.code, 'KBK_CONFIG_DUPLICATE')
    assert.equal(d[0]!.file, 'ws/c.yaml')
    assert.match(d[0]!.message, /ws\/a\.yaml:16/)
  })
})

describe('examples/', () => {
  const dirs = readdirSync(examplesDir).filter((n) => statSync(join(examplesDir, n)).isDirectory())
  test('there are examples for every case the docs promise', () => {
    for (const name of ['quickstart', 's3-minio', 'azure', 'gcs', 'tiers', 'kafka-streams', 'compliance', 'restore-drill']) assert.ok(dirs.includes(name), name)
  })
  for (const name of dirs) {
    test(`${name} validates with no environment set`, async () => {
      const single = join(examplesDir, name, 'kbk.yaml')
      const config = readdirSync(join(examplesDir, name)).includes('kbk.yaml') ? single : join(examplesDir, name)
      const r = await loadWorkspace({config, cwd: examplesDir, env: {}})
      assert.deepEqual(errors(r).map((d) => formatDiagnostic(d)), [])
      assert.ok(r.workspace)
    })
  }

  test('the quickstart backs up demo.* from the local cluster into ./.kbk-backups and restores with -restored', async () => {
    const r = await loadWorkspace({config: join(examplesDir, 'quickstart/kbk.yaml'), cwd: examplesDir, env: {}})
    const ws = r.workspace!
    assert.deepEqual(r.diagnostics, [])
    assert.deepEqual(ws.clusters.local!.brokers, ['127.0.0.1:39092'])
    const store = Object.values(ws.stores)[0]!
    assert.equal(store.type, 'fs')
    assert.ok((store as {path: string}).path.endsWith('examples/quickstart/.kbk-backups'))
    const policy = Object.values(ws.policies)[0]!
    assert.ok(policy.topics.include.some((p) => p.source === 'demo\\..*'))
    const restore = Object.values(ws.restores)[0]!
    assert.equal(restore.to.cluster, policy.cluster)
    assert.equal(restore.to.topicSuffix, '-restored')
    const env = await loadWorkspace({config: join(examplesDir, 'quickstart/kbk.yaml'), cwd: examplesDir, env: {KBK_KAFKA_BOOTSTRAP: 'broker:1'}})
    assert.deepEqual(env.workspace!.clusters.local!.brokers, ['broker:1'])
  })
})
