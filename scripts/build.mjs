#!/usr/bin/env node
// `npm run build`: tsc → dist/, then two things computed once here instead of at every start:
// - dist/config/schema-validate.cjs: the workspace schema compiled by ajv (standalone code);
//   src/config/schema.ts uses it when it was built from the same schema, options and ajv.
// - oclif.manifest.json, as `oclif manifest` writes it: every command's id, flags, args, help
//   text and file. With it oclif reads one JSON file and imports only the command being run;
//   without it, every start (even `kbk --version`) imports all the commands to list them.
// npm run build, npm ci (prepare), the test runner and the quickstart build through here; a bare
// `tsc` leaves the manifest of the last build (help text and the command list can then be stale).
//   node scripts/build.mjs [--manifest-only]
import {spawnSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const manifestFile = join(root, 'oclif.manifest.json')

// In a child process, as oclif's own `oclif manifest` does it: a Plugin told to ignore any
// manifest imports every command. Written whole, then renamed: a kbk starting meanwhile reads
// either no manifest or a complete one.
const MANIFEST_SCRIPT = `
import {renameSync, rmSync, writeFileSync} from 'node:fs'
import {Plugin} from '@oclif/core'
const plugin = new Plugin({root: process.cwd(), type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true})
await plugin.load()
const tmp = process.argv[1] + '.tmp-' + process.pid
try {
  writeFileSync(tmp, JSON.stringify(plugin.manifest, null, 2) + '\\n')
  renameSync(tmp, process.argv[1])
} finally {
  rmSync(tmp, {force: true})
}
`

// The workspace schema compiled by ajv ahead of time (standalone code), so that reading a
// workspace does not compile it at every start; src/config/schema.ts uses it when it matches.
const VALIDATOR_SCRIPT = `
import {writeFileSync} from 'node:fs'
import {fileURLToPath, pathToFileURL} from 'node:url'
const {PRECOMPILED_VALIDATOR_URL, precompiledValidatorSource} = await import(process.argv[1])
writeFileSync(fileURLToPath(PRECOMPILED_VALIDATOR_URL), precompiledValidatorSource())
`

// A manifest from an older build must not outlive a failed one.
rmSync(manifestFile, {force: true})
if (!process.argv.includes('--manifest-only')) {
  // A fresh dist/: a file left from an older build (a removed command, a source map) would
  // otherwise be loaded by oclif, or shipped by npm pack.
  rmSync(join(root, 'dist'), {recursive: true, force: true})
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {cwd: root, stdio: 'inherit'})
  if (tsc.status !== 0) process.exit(tsc.status ?? 1)
  const schemaModule = pathToFileURL(join(root, 'dist/config/schema.js')).href
  const validator = spawnSync(process.execPath, ['--input-type=module', '-e', VALIDATOR_SCRIPT, schemaModule], {cwd: root, stdio: 'inherit'})
  if (validator.status !== 0) {
    process.stderr.write('build: compiling the workspace schema (dist/config/schema-validate.cjs) failed (see above)\n')
    process.exit(validator.status ?? 1)
  }
}
const manifest = spawnSync(process.execPath, ['--input-type=module', '-e', MANIFEST_SCRIPT, manifestFile], {cwd: root, stdio: 'inherit'})
if (manifest.status !== 0) {
  process.stderr.write('build: writing oclif.manifest.json failed (see above)\n')
  process.exit(manifest.status ?? 1)
}
