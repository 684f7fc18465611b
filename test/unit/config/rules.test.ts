// Each named rule on its own: what it reports, where, and what it leaves alone.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {drillRequirements} from '../../../src/config/index.js'
import {BASE, codes, load} from './helpers.js'

const withPolicy = (extra: string) => BASE + extra
const RESTORE = (to: string, topics = '{include: ["orders\\\\.created"]}') => `restores:\n  r1:\n    from: {policy: orders}\n    to: ${to}\n    topics: ${topics}\n`

describe('references-resolve', () => {
  test('undefined cluster, store, tier, tag, policy and restore cluster are each reported with a guess', async () => {
    const text = BASE.replace('cluster: prod', 'cluster: prd').replace('retention: production', 'retention: prod') + '    tags: [soxx]\n' + 'restores:\n  r1:\n    from: {policy: order}\n    to: {cluster: stagin, topicSuffix: -r}\n'
    const r = await load(text)
    const refs = r.diagnostics.filter((d) => d.code === 'KBK_CONFIG_UNDEFINED_REF')
    assert.deepEqual(
      refs.map((d) => [d.path, d.suggestion]),
      [
        ['policies.orders.cluster', 'Did you mean "prod"?'],
        ['policies.orders.retention', 'Did you mean "production"?'],
        ['policies.orders.tags[0]', 'Did you mean "sox"?'],
        ['restores.r1.from.policy', 'Did you mean "orders"?'],
        ['restores.r1.to.cluster', 'Did you mean "staging"?'],
      ],
    )
  })
  test('a name far from any defined one lists what exists', async () => {
    const r = await load(BASE.replace('store: primary', 'store: zzzzzzzz'))
    assert.match(r.diagnostics[0]!.suggestion!, /Use one of: primary/)
  })
  test('redefining a built-in tag is an error', async () => {
    const r = await load(BASE + 'compliance:\n  sox: {minRetention: 1y}\n')
    assert.ok(codes(r).includes('KBK_CONFIG_DUPLICATE'))
  })
})

describe('regexes-compile', () => {
  test('a glob where a regex belongs is reported with the regex to write', async () => {
    const r = await load(BASE.replace('exclude: [".*-repartition"]', 'exclude: ["*-repartition", "(open"]'))
    const bad = r.diagnostics.filter((d) => d.code === 'KBK_CONFIG_BAD_REGEX')
    assert.deepEqual(bad.map((d) => d.path), ['policies.orders.topics.exclude[0]', 'policies.orders.topics.exclude[1]'])
    assert.match(bad[0]!.suggestion!, /".\*-repartition"/)
    assert.equal(bad[0]!.line, 19)
  })
})

describe('durations-parse', () => {
  test('bad, zero and overflowing durations; never only where allowed', async () => {
    const r = await load(BASE.replace('maxAge: 7d', 'maxAge: 0d').replace('maxAge: 90d', 'maxAge: 99999999999999y') + '    rpo: never\n')
    assert.deepEqual(
      r.diagnostics.filter((d) => d.code === 'KBK_CONFIG_BAD_DURATION').map((d) => d.path),
      ['retention.dev.maxAge', 'retention.production.maxAge', 'policies.orders.rpo'],
    )
  })
  test('never is a valid maxAge and normalizes to null', async () => {
    const r = await load(BASE.replace('maxAge: 7d', 'maxAge: never'))
    assert.deepEqual(r.diagnostics, [])
    assert.equal(r.workspace!.retention.dev!.maxAgeMs, null)
  })
  test('a timestamp that matches the pattern but is not a real instant', async () => {
    const r = await load(BASE + 'restores:\n  r1:\n    from: {policy: orders, pointInTime: "2026-02-30T10:00:00Z"}\n    to: {cluster: staging}\n')
    assert.deepEqual(codes(r), ['KBK_CONFIG_BAD_TIMESTAMP'])
  })
})

describe('retention-sane', () => {
  test('minKeep 0 on an expiring tier warns (the last good backup could go)', async () => {
    const r = await load(BASE.replace('minKeep: 1, allowDestroy', 'minKeep: 0, allowDestroy'))
    assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.code]), [['warning', 'KBK_CONFIG_MIN_KEEP_ZERO']])
    assert.ok(r.workspace, 'warnings still give a workspace')
  })
})

describe('restore-not-onto-source', () => {
  test('same cluster without suffix or rename is an error', async () => {
    const r = await load(BASE + RESTORE('{cluster: prod}'))
    assert.deepEqual(codes(r), ['KBK_CONFIG_RESTORE_ONTO_SOURCE'])
    assert.match(r.diagnostics[0]!.suggestion!, /topicSuffix/)
  })
  test('a suffix, another cluster, or a full rename is fine', async () => {
    for (const to of ['{cluster: prod, topicSuffix: -copy}', '{cluster: staging}', '{cluster: prod, rename: {orders.created: orders.created.copy}}']) {
      const r = await load(BASE + RESTORE(to))
      assert.deepEqual(codes(r).filter((c) => c.startsWith('KBK_CONFIG_RESTORE_ONTO')), [], to)
    }
  })
  test('renaming a topic onto itself, or a regex not covered by rename, is an error', async () => {
    const self = await load(BASE + RESTORE('{cluster: prod, rename: {orders.created: orders.created}}'))
    assert.ok(codes(self).includes('KBK_CONFIG_RESTORE_ONTO_SOURCE'))
    const partial = await load(BASE + RESTORE('{cluster: prod, rename: {orders.created: x}}', '{include: ["orders\\\\..*"]}'))
    assert.deepEqual(codes(partial), ['KBK_CONFIG_RESTORE_ONTO_SOURCE'])
  })
})

describe('restore-targets-not-backed-up', () => {
  test('warns when the restored copies match the policy of the target cluster, and names the exclude to add', async () => {
    const r = await load(BASE.replace('exclude: [".*-repartition"]', 'exclude: []') + RESTORE('{cluster: prod, topicSuffix: -copy}'))
    assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.code]), [['warning', 'KBK_CONFIG_RESTORE_TARGET_BACKED_UP']])
    assert.match(r.diagnostics[0]!.suggestion!, /\.\*-copy/)
    const excluded = await load(BASE.replace('exclude: [".*-repartition"]', 'exclude: [".*-copy"]') + RESTORE('{cluster: prod, topicSuffix: -copy}'))
    assert.deepEqual(excluded.diagnostics, [])
  })
})

describe('secrets and credentials', () => {
  test('a literal password warns; one from ${ENV} does not', async () => {
    const lit = await load(BASE.replace('brokers: ["127.0.0.1:9092"]', 'brokers: ["a:1"]\n    sasl: {mechanism: plain, username: "${U}", password: hunter2}'), {U: 'u'})
    assert.deepEqual(lit.diagnostics.map((d) => [d.code, d.path]), [['KBK_CONFIG_LITERAL_SECRET', 'clusters.prod.sasl.password']])
    assert.ok(!JSON.stringify(lit.diagnostics).includes('hunter2'), 'the literal secret is not echoed')
  })
  test('encryption: key and keyFile together, neither, or a key of the wrong length', async () => {
    const good = Buffer.alloc(32, 1).toString('base64')
    const both = await load(withPolicy(`    encryption: {key: "\${K}", keyFile: ./k}\n`), {K: good})
    assert.ok(codes(both).includes('KBK_CONFIG_CONFLICT'))
    const none = await load(withPolicy('    encryption: {keyId: a}\n'))
    assert.deepEqual(codes(none), ['KBK_CONFIG_REQUIRED'])
    const short = await load(withPolicy('    encryption: {key: "${K}"}\n'), {K: Buffer.alloc(16).toString('base64')})
    assert.deepEqual(codes(short), ['KBK_CONFIG_BAD_KEY'])
    const ok = await load(withPolicy('    encryption: {key: "${K}"}\n'), {K: good})
    assert.deepEqual(ok.diagnostics, [])
    const enc = ok.workspace!.policies.orders!.encryption!
    assert.equal(enc.key!.reveal(), good)
    assert.match(enc.keyId, /^sha256:[0-9a-f]{16}$/, 'a fingerprint, not the key')
  })
  test('azure: connectionString mixed with account settings is a conflict', async () => {
    const r = await load(BASE.replace('type: fs\n    path: ./backups', 'type: azure\n    container: backups\n    connectionString: "${C}"\n    accountName: acct'), {C: 'UseDevelopmentStorage=true'})
    assert.deepEqual(codes(r), ['KBK_CONFIG_CONFLICT'])
  })
  test('s3: an access key id without its secret', async () => {
    const r = await load(BASE.replace('type: fs\n    path: ./backups', 'type: s3\n    bucket: bkt\n    region: r\n    accessKeyId: "${A}"'), {A: 'x'})
    assert.deepEqual(codes(r), ['KBK_CONFIG_INCOMPLETE'])
  })
})

describe('compliance tags', () => {
  const tagged = (tags: string, extra = '') => load(BASE + `    tags: [${tags}]\n` + extra)
  test('sox: 7y and immutable', async () => {
    assert.deepEqual(codes(await tagged('sox')).sort(), ['KBK_COMPLIANCE_SOX_IMMUTABLE', 'KBK_COMPLIANCE_SOX_MIN_RETENTION'])
    const ok = await load(BASE.replace('retention: production', 'retention: compliance') + '    tags: [sox]\n')
    assert.deepEqual(ok.diagnostics, [])
  })
  test('pci-dss and hipaa: encryption (error) and TLS (warning)', async () => {
    for (const tag of ['pci-dss', 'hipaa']) {
      const r = await tagged(tag)
      const prefix = `KBK_COMPLIANCE_${tag.toUpperCase().replace('-', '_')}`
      assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.code]).sort(), [['error', `${prefix}_ENCRYPTION`], ['warning', `${prefix}_TLS`]])
    }
  })
  test('gdpr: finite retention (error), masking and encryption (warnings)', async () => {
    const r = await load(BASE.replace('maxAge: 90d', 'maxAge: never') + '    tags: [gdpr]\n')
    assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.code]).sort(), [['error', 'KBK_COMPLIANCE_GDPR_FINITE_RETENTION'], ['warning', 'KBK_COMPLIANCE_GDPR_ENCRYPTION'], ['warning', 'KBK_COMPLIANCE_GDPR_MASKING']])
  })
  test('dora: a restore drill must be declared; the plan gets its period', async () => {
    const r = await tagged('dora')
    assert.ok(codes(r).includes('KBK_COMPLIANCE_DORA_DRILL'))
    const ok = await tagged('dora', RESTORE('{cluster: staging}'))
    assert.deepEqual(codes(ok), ['KBK_COMPLIANCE_DORA_RPO'])
    assert.deepEqual(drillRequirements(ok.workspace!), {orders: 365 * 86_400_000})
  })
  test('workspace-defined tags: min/max retention, immutable, encryption, drill', async () => {
    const defs = 'compliance:\n  audit: {minRetention: 1y, requireImmutable: true, requireEncryption: true, requireDrillWithin: 30d}\n  short: {maxRetention: 30d}\n'
    const r = await load(BASE + '    tags: [audit, short]\n' + defs)
    assert.deepEqual(codes(r).sort(), ['KBK_COMPLIANCE_AUDIT_DRILL', 'KBK_COMPLIANCE_AUDIT_ENCRYPTION', 'KBK_COMPLIANCE_AUDIT_IMMUTABLE', 'KBK_COMPLIANCE_AUDIT_MIN_RETENTION', 'KBK_COMPLIANCE_SHORT_MAX_RETENTION'])
    const min = r.diagnostics.find((d) => d.code === 'KBK_COMPLIANCE_AUDIT_MIN_RETENTION')!
    assert.match(min.message, /tagged audit, which requires backups kept at least 1y/)
    assert.match(min.suggestion!, /"compliance"/)
  })
  test('immutable on S3 without objectLock warns that the store does not enforce it', async () => {
    const text = BASE.replace('type: fs\n    path: ./backups', 'type: s3\n    bucket: bkt\n    region: r').replace('retention: production', 'retention: compliance') + '    tags: [sox]\n'
    const r = await load(text)
    assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.code]), [['warning', 'KBK_COMPLIANCE_SOX_OBJECT_LOCK']])
    assert.deepEqual((await load(text.replace('region: r', 'region: r\n    objectLock: true'))).diagnostics, [])
  })
})

describe('replicas-valid', () => {
  const withReplicas = (replicas: string, extraStores = '  dr:\n    type: fs\n    path: ./dr\n') =>
    BASE.replace('retention:\n  dev:', `${extraStores}retention:\n  dev:`) + `    replicas: ${replicas}\n`
  test('the policy\'s own store, a duplicate and an undefined store are errors at the replica\'s position', async () => {
    const r = await load(withReplicas('[{store: primary}, {store: dr}, {store: dr}, {store: drr}]'))
    const found = r.diagnostics.filter((d) => d.path?.startsWith('policies.orders.replicas')).map((d) => [d.code, d.path])
    assert.deepEqual(found, [
      ['KBK_CONFIG_REPLICA', 'policies.orders.replicas[0].store'],
      ['KBK_CONFIG_REPLICA', 'policies.orders.replicas[2].store'],
      ['KBK_CONFIG_UNDEFINED_REF', 'policies.orders.replicas[3].store'],
    ])
    assert.ok(r.diagnostics.every((d) => d.line > 0 && d.column > 0))
  })
  test('a shorter copy is fine untagged, an error when a tag sets retention rules; compliance runs on the copy', async () => {
    assert.deepEqual(codes(await load(withReplicas('[{store: dr, retention: dev}]'))), [])
    const tagged = await load(withReplicas('[{store: dr, retention: dev}]').replace('retention: production\n', 'retention: compliance\n    tags: [sox]\n'))
    const c = codes(tagged)
    assert.ok(c.includes('KBK_CONFIG_REPLICA'), c.join())
    const copy = tagged.diagnostics.find((d) => d.code === 'KBK_COMPLIANCE_SOX_MIN_RETENTION')!
    assert.equal(copy.path, 'policies.orders.replicas[0].retention')
    assert.match(copy.message, /^replica "dr" of policy "orders"/)
  })
  test('a restore reads the policy\'s store or a replica, nothing else', async () => {
    const r = await load(withReplicas('[{store: dr}]', '  dr:\n    type: fs\n    path: ./dr\n  other:\n    type: fs\n    path: ./o\n') + 'restores:\n  r1:\n    from: {policy: orders, store: other}\n    to: {cluster: staging, topicSuffix: -r}\n')
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.path]), [['KBK_CONFIG_UNDEFINED_REF', 'restores.r1.from.store']])
  })
})
