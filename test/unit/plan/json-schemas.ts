// Validators for the published JSON Schemas (schemas/plan.schema.json, schemas/state.schema.json):
// the tests check that what kbk writes is what the schemas promise to PR bots and policy checks.
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {fileURLToPath} from 'node:url'
import type {ErrorObject, ValidateFunction} from 'ajv'

const requireCjs = createRequire(import.meta.url)
const {Ajv} = requireCjs('ajv') as typeof import('ajv')

// ajv ships no formats; RFC 3339 as kbk writes it (toISOString) is all the schemas use.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/

function load(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../../../schemas/${name}`, import.meta.url)), 'utf8')) as Record<string, unknown>
}

const ajv = new Ajv({allErrors: true, strict: true})
ajv.addFormat('date-time', DATE_TIME)
ajv.addSchema(load('plan.schema.json'))
ajv.addSchema(load('state.schema.json'))

function validator(ref: string): ValidateFunction {
  const v = ajv.getSchema(ref)
  if (!v) throw new Error(`no schema ${ref}`)
  return v
}

/** The errors as one readable line each; [] when the value is valid. */
function check(ref: string, value: unknown): string[] {
  const v = validator(ref)
  if (v(value)) return []
  return (v.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
}

const PLAN = 'https://kbk.dev/schemas/plan.schema.json'
const STATE = 'https://kbk.dev/schemas/state.schema.json'

export const planSchemaErrors = (plan: unknown): string[] => check(PLAN, plan)
export const stateHeadSchemaErrors = (head: unknown): string[] => check(STATE, head)
export const topicIndexSchemaErrors = (index: unknown): string[] => check(`${STATE}#/definitions/topic_index_file`, index)
export const chunkSchemaErrors = (chunk: unknown): string[] => check(`${STATE}#/definitions/chunk_file`, chunk)
