// Golden executor scenarios (test/scenarios-apply/<case>/): each scenario runs the real refresh,
// planner, applier, restore engine and renderers over the in-memory Kafka port and store, and its
// outputs must equal the files in the folder. After an intended change, regenerate them with
// `npm run scenarios:update:apply` and review the diff.
import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {OUTPUT_FILES, readScenario, runScenario, scenarioDir, scenarioNames} from '../../helpers/apply-scenarios.js'

const UPDATE = process.env.KBK_UPDATE_SCENARIOS === 'apply'

describe('apply scenarios (test/scenarios-apply)', () => {
  const names = scenarioNames()
  it('has scenarios', () => {
    assert.ok(names.length > 0, 'no folder with a scenario.json under test/scenarios-apply')
  })
  for (const name of names) {
    it(name, async () => {
      const got = await runScenario(readScenario(name))
      for (const file of OUTPUT_FILES) {
        const path = join(scenarioDir(name), file)
        if (UPDATE) {
          writeFileSync(path, got[file])
          continue
        }
        assert.ok(existsSync(path), `${path} is missing: run \`npm run scenarios:update:apply\``)
        assert.equal(got[file], readFileSync(path, 'utf8'), `${name}/${file} differs from what the executors produce now; if the change is intended, run \`npm run scenarios:update:apply\` and review the diff`)
      }
    })
  }
})
