// kbk fmt's core: canonical key order from the schema, comments kept, idempotent.
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {fileURLToPath} from 'node:url'
import {formatWorkspaceYaml, unifiedDiff} from '../../../src/config/format-yaml.js'
import {scaffoldWorkspace} from '../../../src/config/scaffold.js'

const scaffoldOptions = {workspaceDir: '', kbkVersion: '0.0.0-test', schemaText: '{}\n'}
import {loadWorkspace} from '../../../src/config/index.js'
import {tempDir, writeFiles} from './helpers.js'

const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url))

describe('formatWorkspaceYaml', () => {
  test('orders keys as the schema does, keeps comments and names in their order', () => {
    const input = `# head comment
policies:
  zeta:
    retention: dev # the tier
    # which topics
    topics: {include: [a]}
    store: s
    cluster: c
  alpha:
    cluster: c
stores:
  s:
    path: ./b
    type: fs
version: 1
`
    const {text} = formatWorkspaceYaml('kbk.yaml', input)
    assert.equal(
      text,
      `# head comment
version: 1
stores:
  s:
    type: fs
    path: ./b
policies:
  zeta:
    cluster: c
    store: s
    # which topics
    topics: {include: [a]}
    retention: dev # the tier
  alpha:
    cluster: c
`,
    )
    assert.equal(formatWorkspaceYaml('kbk.yaml', text!).text, text, 'idempotent')
  })

  test('re-indents to two spaces and keeps unknown keys after the known ones', () => {
    const {text} = formatWorkspaceYaml('k.yaml', 'version: 1\nretention:\n    dev:\n        custom: 1\n        maxAge: 7d\n')
    assert.equal(text, 'version: 1\nretention:\n  dev:\n    maxAge: 7d\n    custom: 1\n')
  })

  test('invalid YAML is reported, not rewritten', () => {
    const r = formatWorkspaceYaml('k.yaml', 'a: [b\n')
    assert.equal(r.text, undefined)
    assert.equal(r.diagnostics[0]!.code, 'KBK_CONFIG_YAML')
  })

  test('every example and the init scaffold are already formatted', () => {
    for (const name of readdirSync(examplesDir)) {
      if (!statSync(join(examplesDir, name)).isDirectory()) continue
      for (const file of readdirSync(join(examplesDir, name)).filter((f) => f.endsWith('.yaml'))) {
        const text = readFileSync(join(examplesDir, name, file), 'utf8')
        assert.equal(formatWorkspaceYaml(file, text).text, text, `examples/${name}/${file} is not formatted`)
      }
    }
    const kbk = scaffoldWorkspace(scaffoldOptions).find((f) => f.path === 'kbk.yaml')!
    assert.equal(formatWorkspaceYaml('kbk.yaml', kbk.text).text, kbk.text)
  })

  test('unifiedDiff shows removed and added lines with context', () => {
    const d = unifiedDiff('f', 'a\nb\nc\n', 'a\nc\nb\n')
    assert.match(d, /^--- f\n\+\+\+ f \(formatted\)\n@@ /)
    assert.match(d, /\n-b\n/)
    assert.match(d, /\n\+b\n/)
    assert.equal(unifiedDiff('f', 'same', 'same'), '')
  })
})

describe('scaffoldWorkspace', () => {
  test('the scaffolded kbk.yaml validates, names the schema beside it, and uses fs locally, the remote store in CI', async () => {
    const files = scaffoldWorkspace(scaffoldOptions)
    const kbk = files.find((f) => f.path === 'kbk.yaml')!
    assert.match(kbk.text, /^# yaml-language-server: \$schema=\.\/kbk\.schema\.json\n/)
    assert.ok(files.some((f) => f.path === 'kbk.schema.json' && f.text === scaffoldOptions.schemaText))
    const dir = tempDir()
    writeFiles(dir, {'kbk.yaml': kbk.text})
    const r = await loadWorkspace({cwd: dir, env: {}})
    assert.deepEqual(r.diagnostics, [])
    const storeOf = (ws: NonNullable<typeof r.workspace>): string => ws.stores[ws.policies['main']!.store]!.type
    assert.equal(storeOf(r.workspace!), 'fs')
    const inCi = await loadWorkspace({cwd: dir, env: {KBK_STORE: 'remote'}})
    assert.deepEqual(inCi.diagnostics, [])
    assert.equal(storeOf(inCi.workspace!), 's3')
    const ci = files.find((f) => f.path.startsWith('.github/workflows/'))!
    assert.match(ci.text, /pull_request/)
    assert.match(ci.text, /kbk plan/)
    assert.match(ci.text, /refs\/heads\/main[\s\S]*kbk apply/)
  })
})
