// labels: in the workspace: Kubernetes key/value syntax checked with positions, workspace-level
// defaults under a policy's own, and the recorded settings (what the state keeps per apply).
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {formatWorkspaceYaml} from '../../../src/config/format-yaml.js'
import {policySettings} from '../../../src/plan/desired.js'
import {BASE, errors, load} from '../config/helpers.js'

const WITH_LABELS = BASE.replace('policies:\n', 'labels:\n  env: prod\n  team: core\npolicies:\n') + '    labels:\n      team: payments\n      app.kubernetes.io/tier: "1"\n'

describe('policy labels', () => {
  test('workspace defaults apply, the policy overrides them by key', async () => {
    const r = await load(WITH_LABELS)
    assert.deepEqual(errors(r), [])
    assert.deepEqual(r.workspace!.policies.orders!.labels, {env: 'prod', team: 'payments', 'app.kubernetes.io/tier': '1'})
    assert.deepEqual(r.workspace!.labels, {env: 'prod', team: 'core'})
  })

  test('labels are recorded in the policy settings, sorted; a policy without labels records none (no spurious update)', async () => {
    const r = await load(WITH_LABELS)
    assert.deepEqual(Object.keys(policySettings(r.workspace!.policies.orders!).labels as object), ['app.kubernetes.io/tier', 'env', 'team'])
    const plain = await load(BASE)
    assert.equal('labels' in policySettings(plain.workspace!.policies.orders!), false)
  })

  for (const [what, yaml, where] of [
    ['a key with a space', '      "bad key": x\n', 'labels'],
    ['a key longer than 63 characters', `      ${'k'.repeat(64)}: x\n`, 'labels'],
    ['a value starting with a dash', '      team: -payments\n', 'team'],
    ['a number value (YAML reads 1 as a number)', '      tier: 1\n', 'tier'],
  ] as const) {
    test(`${what} is an error with its position`, async () => {
      const r = await load(BASE + '    labels:\n' + yaml)
      const e = errors(r)
      assert.equal(e.length, 1, JSON.stringify(e))
      assert.equal(e[0]!.file, 'kbk.yaml')
      assert.ok(e[0]!.line >= 18, `line ${e[0]!.line}`)
      assert.match(`${e[0]!.message} ${JSON.stringify(e[0])}`, new RegExp(where))
    })
  }

  test('a bad label key or value is fixed by the label rule (Kubernetes syntax), not the rule for names', async () => {
    const key = errors(await load(BASE + '    labels:\n      "bad key": x\n'))
    assert.match(key[0]!.message, /"bad key" is not a label key/)
    assert.match(key[0]!.suggestion ?? '', /\[prefix\/\]name.*app\.kubernetes\.io\/team/)
    const value = errors(await load(BASE + '    labels:\n      team: -payments\n'))
    assert.match(value[0]!.message, /"-payments" is not a label value/)
    assert.match(value[0]!.suggestion ?? '', /empty or up to 63 letters, digits, "-", "_" and "\."/)
  })

  test('a prefixed key (DNS subdomain/name) and an empty value are valid', async () => {
    const r = await load(BASE + '    labels:\n      example.com/owner: ""\n')
    assert.deepEqual(errors(r), [])
  })

  test('stores.X.pricePerGiBMonth is read; a negative price is an error', async () => {
    const ok = await load(BASE.replace('    path: ./backups\n', '    path: ./backups\n    pricePerGiBMonth: 0.023\n'))
    assert.equal(ok.workspace!.stores.primary!.pricePerGiBMonth, 0.023)
    const bad = await load(BASE.replace('    path: ./backups\n', '    path: ./backups\n    pricePerGiBMonth: -1\n'))
    assert.equal(errors(bad).length, 1)
  })

  test('kbk fmt keeps labels and puts the workspace defaults before policies', async () => {
    const text = BASE.replace('    retention: production\n', '    retention: production\n    labels: {team: payments}\n') + 'labels: {env: prod}\n'
    const out = formatWorkspaceYaml('kbk.yaml', text).text!
    assert.match(out, /labels:[\s\S]*team: payments/)
    assert.ok(out.indexOf('labels: {env: prod}') >= 0 && out.indexOf('labels: {env: prod}') < out.indexOf('policies:'), out)
  })
})
