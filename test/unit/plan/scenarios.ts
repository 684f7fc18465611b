// Golden scenarios for the planner: test/scenarios/<case>/ holds kbk.yaml (the workspace),
// observed.json (what a refresh saw, plus `now` and the plan options), and the goldens plan.txt
// (what `kbk plan` prints, without colors) and plan.json (what `kbk plan --json` prints).
// `npm run scenarios:update` rewrites the goldens; review them as diffs.
import {readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {builtinTags, checkCompliance, loadWorkspace} from '../../../src/config/index.js'
import {formatPlanText} from '../../../src/format/plan-text.js'
import {setColorEnabled} from '../../../src/format/colors.js'
import {desiredFromWorkspace} from '../../../src/plan/desired.js'
import {planChanges} from '../../../src/plan/plan-changes.js'
import type {Observed, Plan, PlanDiagnostic} from '../../../src/plan/types.js'

export const SCENARIOS_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url))

/** What observed.json holds besides the Observed value: the planner's other inputs. */
interface ScenarioInput extends Observed {
  /** Comment for the reader of the folder: what the case shows. */
  about?: string
  now: string
  refresh_only?: boolean
  targets?: string[]
}

export function scenarioNames(): string[] {
  return readdirSync(SCENARIOS_DIR, {withFileTypes: true})
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
}

export interface ScenarioResult {
  plan: Plan
  text: string
  json: string
}

/** Plans one scenario as `kbk plan` would, from its files alone (no servers, a fixed clock). */
export async function runScenario(name: string): Promise<ScenarioResult> {
  const dir = join(SCENARIOS_DIR, name)
  const loaded = await loadWorkspace({config: join(dir, 'kbk.yaml'), cwd: dir, env: {}})
  if (!loaded.workspace) throw new Error(`${name}/kbk.yaml: ${loaded.diagnostics.map((d) => d.message).join('; ')}`)
  const ws = loaded.workspace
  // As the CLI does: the config's warnings and the compliance checks become plan diagnostics.
  const compliance: PlanDiagnostic[] = [...loaded.diagnostics.filter((d) => d.severity === 'warning'), ...checkCompliance(ws)].map((d) => ({
    severity: d.severity,
    code: d.code,
    message: d.message,
    ...(d.suggestion ? {suggestion: d.suggestion} : {}),
    file: d.file,
    line: d.line,
    column: d.column,
  }))
  const desired = desiredFromWorkspace(ws, (t) => ws.compliance[t] ?? builtinTags[t], compliance)
  const input = JSON.parse(readFileSync(join(dir, 'observed.json'), 'utf8')) as ScenarioInput
  const {about: _about, now, refresh_only: refreshOnly, targets, ...observed} = input
  const plan = planChanges(desired, observed, {now: new Date(now), kbkVersion: '0.0.0-scenario', ...(refreshOnly ? {refreshOnly} : {}), ...(targets ? {targets} : {})})
  setColorEnabled(false)
  return {plan, text: formatPlanText(plan) + '\n', json: JSON.stringify(plan, null, 2) + '\n'}
}

export async function updateScenario(name: string): Promise<void> {
  const r = await runScenario(name)
  writeFileSync(join(SCENARIOS_DIR, name, 'plan.txt'), r.text)
  writeFileSync(join(SCENARIOS_DIR, name, 'plan.json'), r.json)
}
