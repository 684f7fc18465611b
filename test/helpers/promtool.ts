// promtool, pinned and built by the project's own scripts (scripts/env/tools.mjs) on first use.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

export function promtool(): string {
  const r = spawnSync(process.execPath, [join(root, 'scripts/env/tools.mjs'), '--path', 'promtool'], {encoding: 'utf8', timeout: 1_800_000})
  assert.equal(r.status, 0, `provisioning promtool failed: ${r.stderr}`)
  return r.stdout.trim()
}
