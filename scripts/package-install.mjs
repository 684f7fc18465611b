#!/usr/bin/env node
// Packs kbk as `npm pack` does and installs the tarball globally into a private prefix,
// tmp/package-test/prefix, as a user would (dependencies from the npm registry, npm's cache first).
// scripts/test.mjs runs it before test/integration/package.test.ts, because installing takes a few
// minutes on a busy machine and must not count against one test file's timeout; the test checks
// that what is installed is what `npm pack` makes of the current tree. Packs the built dist/ as it
// is (no second build): run scripts/build.mjs first.
//   node scripts/package-install.mjs
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
export const packageTestDir = join(root, 'tmp', 'package-test')

function npm(args, cwd) {
  const r = spawnSync('npm', args, {cwd, encoding: 'utf8', env: {...process.env, npm_config_update_notifier: 'false'}})
  if (r.status !== 0) {
    process.stderr.write(`package-install: ✖ npm ${args.join(' ')} failed (exit ${r.status ?? r.signal})\n${r.stderr ?? ''}${r.error ?? ''}\n`)
    process.exit(1)
  }
  return r.stdout
}

if (!existsSync(join(root, 'oclif.manifest.json'))) {
  process.stderr.write('package-install: ✖ build first: node scripts/build.mjs\n')
  process.exit(1)
}
rmSync(packageTestDir, {recursive: true, force: true})
mkdirSync(packageTestDir, {recursive: true})
const began = Date.now()
const [packed] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', packageTestDir], root))
const tarball = join(packageTestDir, packed.filename)
const prefix = join(packageTestDir, 'prefix')
npm(['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', tarball], packageTestDir)
writeFileSync(join(packageTestDir, 'installed.json'), JSON.stringify({tarball, prefix, integrity: packed.integrity, files: packed.files.map((f) => f.path)}, null, 2) + '\n')
process.stderr.write(`package-install: ${packed.filename} installed into ${prefix} in ${((Date.now() - began) / 1000).toFixed(0)}s\n`)
