// The validator the build compiles ahead of time (ajv standalone code, dist/config/schema-validate.cjs)
// must judge every document exactly as the schema compiled at run time does: same verdict, same
// errors in the same order (the diagnostics are built from them).
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import fc from 'fast-check'
import type {ValidateFunction} from 'ajv'
import {parse} from 'yaml'
import {compileValidator, configSchema, loadPrecompiledValidator, precompiledValidatorSource, SCHEMA_URL} from '../../../src/config/schema.js'

const requireHere = createRequire(import.meta.url)

/** Loads the generated CommonJS source as the build's .cjs file would be loaded. */
function loadSource(source: string): unknown {
  const module = {exports: {} as unknown}
  new Function('module', 'exports', 'require', source)(module, module.exports, requireHere)
  return module.exports
}

const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url))
const examples: unknown[] = readdirSync(examplesDir)
  .filter((n) => statSync(join(examplesDir, n)).isDirectory())
  .flatMap((n) => readdirSync(join(examplesDir, n)).filter((f) => f.endsWith('.yaml')).map((f) => parse(readFileSync(join(examplesDir, n, f), 'utf8')) as unknown))

function judge(validate: ValidateFunction, doc: unknown): {valid: boolean; errors: unknown} {
  const valid = validate(doc)
  return {valid, errors: structuredClone(validate.errors ?? null)}
}

/** Sets (or with `undefined`, deletes) the value at a path of mapping keys / list indexes chosen by numbers. */
function mutate(doc: unknown, choices: number[], value: unknown): unknown {
  const root = structuredClone(doc)
  let node = root
  for (let i = 0; i < choices.length; i++) {
    if (node === null || typeof node !== 'object') break
    const keys = Object.keys(node)
    if (keys.length === 0) break
    const key = keys[choices[i]! % keys.length]!
    const child = (node as Record<string, unknown>)[key]
    if (i === choices.length - 1 || child === null || typeof child !== 'object') {
      if (value === undefined) delete (node as Record<string, unknown>)[key]
      else (node as Record<string, unknown>)[key] = value
      break
    }
    node = child
  }
  return root
}

describe('the precompiled workspace validator', () => {
  const source = precompiledValidatorSource()
  const schemaText = readFileSync(SCHEMA_URL, 'utf8')
  const precompiled = loadPrecompiledValidator(() => loadSource(source), schemaText)
  const compiled = compileValidator(configSchema())

  it('is used only when built from this very schema', () => {
    assert.ok(precompiled, 'built from the schema here, it is taken')
    assert.equal(loadPrecompiledValidator(() => loadSource(source), schemaText + ' '), undefined)
    assert.equal(loadPrecompiledValidator(() => loadSource(source.replace(/schemaDigest = "[0-9a-f]+"/, 'schemaDigest = "0"')), schemaText), undefined)
    assert.equal(loadPrecompiledValidator(() => undefined, schemaText), undefined)
  })

  it('judges the examples (fragments and ${ENV} included) as the run-time compiled schema does', () => {
    assert.ok(precompiled)
    assert.ok(examples.length >= 5)
    for (const doc of examples) assert.deepEqual(judge(precompiled, doc), judge(compiled, doc))
  })

  it('reports the same errors, in the same order, for mutated examples', () => {
    assert.ok(precompiled)
    const value = fc.oneof(fc.constant(undefined), fc.jsonValue({maxDepth: 2}), fc.constantFrom('fs', 's3', 'azure', 'gcs', 'kafka', '7d', '7x', 'never', 'latest', -1, 0, 1.5, true, {}, []))
    fc.assert(
      fc.property(fc.constantFrom(...examples), fc.array(fc.tuple(fc.array(fc.nat(), {minLength: 1, maxLength: 5}), value), {minLength: 1, maxLength: 3}), (doc, edits) => {
        let d = doc
        for (const [path, v] of edits) d = mutate(d, path, v)
        assert.deepEqual(judge(precompiled, d), judge(compiled, d))
      }),
      {numRuns: 500},
    )
  })

  it('reports the same errors for arbitrary documents', () => {
    assert.ok(precompiled)
    fc.assert(
      fc.property(fc.jsonValue({maxDepth: 4}), (doc) => {
        assert.deepEqual(judge(precompiled, doc), judge(compiled, doc))
      }),
      {numRuns: 300},
    )
  })
})
