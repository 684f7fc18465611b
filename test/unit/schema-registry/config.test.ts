// The schema-registry keys of the workspace: what they normalize to, and the references they must resolve.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {BASE, load} from '../config/helpers.js'

describe('schemaRegistries config', () => {
  test('normalizes a registry, a policy\'s registry and subjects, and a restore\'s target registry', async () => {
    const text = BASE.replace('retention: production\n', 'retention: production\n    schemaRegistry: prod\n    subjects: {include: ["orders\\\\..*"]}\n') +
      'schemaRegistries:\n  prod: {url: "http://sr:8081/", auth: {type: basic, usernameEnv: SR_USER, passwordEnv: SR_PASS}}\n  dr: {url: "https://sr-dr:8081", auth: {type: bearer, tokenEnv: SR_TOKEN}, tls: {rejectUnauthorized: false}}\n' +
      'restores:\n  r1:\n    from: {policy: orders}\n    to: {cluster: staging, topicSuffix: -r, schemaRegistry: dr}\n    unknownSchemaIds: copy\n'
    const r = await load(text)
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), [])
    const ws = r.workspace!
    assert.deepEqual(ws.schemaRegistries.prod, {name: 'prod', url: 'http://sr:8081', auth: {type: 'basic', usernameEnv: 'SR_USER', passwordEnv: 'SR_PASS'}})
    assert.deepEqual(ws.schemaRegistries.dr!.auth, {type: 'bearer', tokenEnv: 'SR_TOKEN'})
    assert.equal(ws.schemaRegistries.dr!.tls!.rejectUnauthorized, false)
    assert.equal(ws.policies.orders!.schemaRegistry, 'prod')
    assert.deepEqual(ws.policies.orders!.subjects!.include.map((p) => p.source), ['orders\\..*'])
    assert.equal(ws.restores.r1!.to.schemaRegistry, 'dr')
    assert.equal(ws.restores.r1!.unknownSchemaIds, 'copy')
  })

  test('an undefined registry is reported where it is named, with a guess', async () => {
    const text = BASE.replace('retention: production\n', 'retention: production\n    schemaRegistry: prd\n') +
      'schemaRegistries:\n  prod: {url: "http://sr:8081"}\n' +
      'restores:\n  r1:\n    from: {policy: orders}\n    to: {cluster: staging, topicSuffix: -r, schemaRegistry: prodd}\n'
    const r = await load(text)
    const refs = r.diagnostics.filter((d) => d.code === 'KBK_CONFIG_UNDEFINED_REF')
    assert.deepEqual(refs.map((d) => [d.path, d.suggestion]), [
      ['policies.orders.schemaRegistry', 'Did you mean "prod"?'],
      ['restores.r1.to.schemaRegistry', 'Did you mean "prod"?'],
    ])
  })

  test('a restore into a registry from a policy without one is refused: there is no snapshot', async () => {
    const text = BASE + 'schemaRegistries:\n  dr: {url: "http://sr:8081"}\nrestores:\n  r1:\n    from: {policy: orders}\n    to: {cluster: staging, topicSuffix: -r, schemaRegistry: dr}\n'
    const r = await load(text)
    const d = r.diagnostics.find((x) => x.path === 'restores.r1.to.schemaRegistry')!
    assert.match(d.message, /backs up no schema registry/)
    assert.match(d.suggestion!, /policies\.orders\.schemaRegistry/)
  })
})
