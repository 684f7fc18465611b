// The named rules validate runs after the schema, in order. Each is a small unit with its own tests.
import {checkCompliance} from '../compliance.js'
import {credentialsConsistent, secretsFromEnvironment} from './credentials.js'
import {durationsParse, retentionSane} from './durations.js'
import {offsetResetsValid} from './offset-resets.js'
import {referencesResolve} from './references.js'
import {regexesCompile} from './regexes.js'
import {replicasValid} from './replicas.js'
import {restoreNotOntoSource, restoreTargetsNotBackedUp} from './restores.js'
import type {Rule} from './rule.js'

export const complianceRule: Rule = {
  name: 'compliance',
  description: 'Policies meet the requirements of their compliance tags (built-in and workspace-defined).',
  check: ({ws}) => checkCompliance(ws),
}

export const rules: readonly Rule[] = [
  referencesResolve,
  regexesCompile,
  durationsParse,
  retentionSane,
  restoreNotOntoSource,
  restoreTargetsNotBackedUp,
  offsetResetsValid,
  replicasValid,
  secretsFromEnvironment,
  credentialsConsistent,
  complianceRule,
]

export type {Rule, RuleInput} from './rule.js'
