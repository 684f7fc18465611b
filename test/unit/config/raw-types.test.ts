// The raw config types are generated from the schema; this fails when they drift apart.
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {test} from 'node:test'
import {configSchema} from '../../../src/config/schema.js'
import {schemaToTs} from './schema-to-ts.js'

const target = new URL('../../../src/config/raw-types.ts', import.meta.url)

test('src/config/raw-types.ts is what the schema generates', () => {
  const generated = schemaToTs(configSchema())
  if (process.env.KBK_UPDATE_RAW_TYPES) writeFileSync(target, generated)
  assert.equal(readFileSync(target, 'utf8'), generated, 'schemas/config.schema.json changed: run KBK_UPDATE_RAW_TYPES=1 node scripts/test.mjs --quick raw-types')
})

test('the generator sees every schema property (a property dropped from the schema disappears from the types)', () => {
  const schema = structuredClone(configSchema())
  delete schema.definitions!.retentionTier!.properties!.minKeep
  assert.doesNotMatch(schemaToTs(schema).split('export interface RawRetentionTier')[1]!.split('\n}')[0]!, /minKeep/)
  assert.match(schemaToTs(configSchema()).split('export interface RawRetentionTier')[1]!.split('\n}')[0]!, /minKeep\?: number/)
})
