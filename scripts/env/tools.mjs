#!/usr/bin/env node
// Pinned command-line tools that builds and tests run (linters and checkers, not servers), and
// the one way Go programs are provisioned here: `go install` of a pinned module version into
// .cache/bin, the version in the file name (changing a pin rebuilds), Go's caches under .cache.
// services.mjs builds its Go servers through provisionGoTool too. Add a tool to TOOLS (e.g.
// promtool, helm) and `node scripts/env/tools.mjs` provisions it; a test asks for its path with
//   node scripts/env/tools.mjs --path NAME     (provisions on first use, prints the binary's path)
//   node scripts/env/tools.mjs [NAME ...]      (provisions all, or the named ones)
import {existsSync, renameSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {EnvError, cacheDir, ensureDir, hasCommand, logDir, progress, runLogged, withLock} from './lib.mjs'

export const binDir = join(cacheDir, 'bin')

/** Tools tests run. Pinned to versions the Go module proxy serves; `tags` are Go build tags. */
export const TOOLS = {
  // Lints GitHub Actions workflows: the CI workflow `kbk init` writes is checked with it.
  actionlint: {module: 'github.com/rhysd/actionlint/cmd/actionlint', version: 'v1.7.12'},
  // Checks the alerting rules in deploy/prometheus and the metrics kbk exposes (textfile, /metrics).
  // v0.316.0 is Prometheus 3.x's module version. remove_all_sd leaves out the service discovery
  // plugins (AWS, Azure, GCE, …) promtool does not need here: the cold build's CPU time falls
  // from ~800 s to ~350 s (measured on the 2-core dev machine) and the binary from 88 to 54 MB.
  promtool: {module: 'github.com/prometheus/prometheus/cmd/promtool', version: 'v0.316.0', tags: 'remove_all_sd'},
  // Lints and renders the Helm chart in deploy/helm/kbk (test/unit/deploy/helm-chart.test.ts).
  helm: {module: 'helm.sh/helm/v3/cmd/helm', version: 'v3.22.0'},
}

export const GO = {cmd: 'go', args: ['version'], install: 'Go 1.24+ (https://go.dev/dl/)'}

export function goBinaryPath(name, {version}) {
  return join(binDir, `${name}-${version}`)
}

/** `go install` one pinned module into .cache/bin; false when it was already there. */
export async function provisionGoTool(name, spec) {
  const target = goBinaryPath(name, spec)
  if (existsSync(target)) return false
  const {module, version} = spec
  const gobin = ensureDir(join(cacheDir, 'go', 'bin-staging', name))
  progress(`building ${name} ${version} with go install (cached in .cache/bin)`)
  const tags = spec.tags ? [`-tags=${spec.tags}`] : []
  await runLogged('go', ['install', '-trimpath', '-ldflags=-s -w', ...tags, `${module}@${version}`], {
    logFile: join(ensureDir(logDir), `provision-${name}.log`),
    env: {
      ...process.env,
      GOBIN: gobin,
      GOCACHE: join(cacheDir, 'go', 'build'),
      GOMODCACHE: join(cacheDir, 'go', 'mod'),
      // Writable module cache so `rm -rf .cache` works without a chmod first.
      GOFLAGS: '-modcacherw -buildvcs=false',
      CGO_ENABLED: '0',
      GOTOOLCHAIN: 'local',
    },
  })
  renameSync(join(gobin, module.split('/').pop()), join(ensureDir(binDir), `${name}-${version}`))
  rmSync(gobin, {recursive: true, force: true})
  return true
}

/** The path of a tool from TOOLS, built first if missing (one builder per tool at a time). */
export async function ensureTool(name) {
  const spec = TOOLS[name]
  if (!spec) throw new EnvError(`unknown tool "${name}"; known: ${Object.keys(TOOLS).join(', ')}`)
  const path = goBinaryPath(name, spec)
  if (existsSync(path)) return path
  if (!hasCommand(GO.cmd, GO.args)) throw new EnvError(`\`go\` is missing: install ${GO.install} to build ${name} ${spec.version}`)
  await withLock(() => provisionGoTool(name, spec), {name: `tool-${name}`})
  return path
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const printPath = args[0] === '--path'
  const names = printPath ? args.slice(1, 2) : args.length > 0 ? args : Object.keys(TOOLS)
  try {
    if (printPath && names.length !== 1) throw new EnvError('--path takes one tool name')
    // Built at once: on a fresh clone most of the time is module downloads, which overlap.
    const paths = await Promise.all(names.map((name) => ensureTool(name)))
    names.forEach((name, i) => process.stdout.write(printPath ? `${paths[i]}\n` : `${name} ${TOOLS[name].version}: ${paths[i]}\n`))
  } catch (error) {
    process.stderr.write(`tools: ✖ ${error instanceof EnvError ? error.message : error.stack}\n`)
    process.exit(1)
  }
}
