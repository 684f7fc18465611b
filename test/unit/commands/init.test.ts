// `kbk init` as a process: the files land where git and GitHub look for them (the workflow at the
// repository root, working-directory pointing at a subfolder workspace), the workflow passes
// actionlint, the workspace validates, saved plans are git-ignored, the modeline's schema exists,
// a bad target is one clear error, and an existing workspace is not overwritten without --force.
import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {test} from 'node:test'
import {fileURLToPath} from 'node:url'
import {runKbk} from '../config/cli-runner.js'
import {tempDir, writeFiles} from '../config/helpers.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))

/** actionlint, pinned and built by the project's own scripts (scripts/env/tools.mjs) on first use. */
function actionlint(): string {
  const r = spawnSync(process.execPath, [join(root, 'scripts/env/tools.mjs'), '--path', 'actionlint'], {encoding: 'utf8', timeout: 600_000})
  assert.equal(r.status, 0, `provisioning actionlint failed: ${r.stderr}`)
  return r.stdout.trim()
}

function lint(workflow: string, cwd: string): {status: number | null; output: string} {
  // shellcheck and pyflakes are optional add-ons of actionlint; off, so the result does not depend on what the machine has.
  const r = spawnSync(actionlint(), ['-no-color', '-shellcheck=', '-pyflakes=', workflow], {cwd, encoding: 'utf8'})
  return {status: r.status, output: `${r.stdout}${r.stderr}`}
}

function gitRepo(): string {
  const dir = join(tempDir(), 'repo')
  mkdirSync(dir)
  execFileSync('git', ['init', '-q', dir])
  return dir
}

function gitIgnored(repo: string, path: string): boolean {
  return spawnSync('git', ['check-ignore', '-q', path], {cwd: repo}).status === 0
}

type Files = Array<{path: string; action: string}>

test('kbk init SUBDIR in a git repository: workflow at the repository root with working-directory, actionlint-clean', () => {
  const repo = gitRepo()
  const cwd = join(repo, 'infra')
  mkdirSync(cwd)
  const r = runKbk(['init', 'kafka', '--json'], {cwd})
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout) as {files: Files; repositoryRoot: string}
  assert.equal(out.repositoryRoot, repo)
  assert.deepEqual(
    out.files.map((f) => [f.path, f.action]),
    [
      ['kafka/kbk.yaml', 'created'],
      ['kafka/kbk.schema.json', 'created'],
      ['kafka/.gitignore', 'created'],
      ['../.github/workflows/kbk-infra-kafka.yml', 'created'],
    ],
  )
  assert.ok(!existsSync(join(cwd, '.github')), 'no nested .github that GitHub would ignore')
  assert.ok(!existsSync(join(cwd, 'kafka', '.github')), 'no nested .github that GitHub would ignore')
  const workflowFile = join(repo, '.github/workflows/kbk-infra-kafka.yml')
  const wf = readFileSync(workflowFile, 'utf8')
  assert.match(wf, /\n {4}working-directory: infra\/kafka\b/)
  assert.match(wf, /paths: \["infra\/kafka\/\*\*"/)
  const linted = lint('.github/workflows/kbk-infra-kafka.yml', repo)
  assert.equal(linted.status, 0, linted.output)

  // Saved plans, local backups and keys stay out of git; kbk.yaml and its schema do not.
  writeFiles(join(cwd, 'kafka'), {'plan.kbk': 'x', '.kbk-backups/a': 'x', 'kbk.yaml.bak': 'x'})
  assert.ok(gitIgnored(repo, 'infra/kafka/plan.kbk'))
  assert.ok(gitIgnored(repo, 'infra/kafka/.kbk-backups/a'))
  assert.ok(!gitIgnored(repo, 'infra/kafka/kbk.yaml'))
  assert.ok(!gitIgnored(repo, 'infra/kafka/kbk.schema.json'))

  const v = runKbk(['validate'], {cwd: join(cwd, 'kafka')})
  assert.equal(v.status, 0, v.stderr)
  const inCi = runKbk(['validate', '--json'], {cwd: join(cwd, 'kafka'), env: {KBK_STORE: 'remote'}})
  assert.equal(inCi.status, 0, inCi.stderr)
})

test('kbk init at the repository root: the workflow plans as a sticky PR comment, applies the saved plan on main, checks drift on a cron', () => {
  const repo = gitRepo()
  const r = runKbk(['init', '--json'], {cwd: repo})
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(
    (JSON.parse(r.stdout) as {files: Files}).files.map((f) => f.path),
    ['kbk.yaml', 'kbk.schema.json', '.gitignore', '.github/workflows/kbk.yml'],
  )
  const wf = readFileSync(join(repo, '.github/workflows/kbk.yml'), 'utf8')
  const linted = lint('.github/workflows/kbk.yml', repo)
  assert.equal(linted.status, 0, linted.output)
  assert.doesNotMatch(wf, /working-directory/)
  // State lives in the remote store, not on the runner's throwaway disk.
  assert.match(wf, /\n {2}KBK_STORE: remote\n/)
  assert.match(readFileSync(join(repo, 'kbk.yaml'), 'utf8'), /\n {2}remote:\n {4}type: s3\n {4}bucket: CHANGE-ME/)
  // Plan: markdown, posted as one comment that later pushes update, with the permission to do so.
  const plan = wf.slice(wf.indexOf('\n  plan:'), wf.indexOf('\n  apply:'))
  assert.match(plan, /pull-requests: write/)
  assert.match(plan, /kbk plan --format markdown > "\$RUNNER_TEMP\/kbk-plan\.md"/)
  assert.match(plan, /actions\/github-script@v7/)
  assert.match(plan, /updateComment[\s\S]*createComment/)
  assert.doesNotMatch(wf, /GITHUB_STEP_SUMMARY[\s\S]*\n {2}apply:/, 'the PR plan goes to a comment, not the job summary')
  // Apply: on main, exactly the plan saved in the step before.
  const apply = wf.slice(wf.indexOf('\n  apply:'), wf.indexOf('\n  drift:'))
  assert.match(apply, /refs\/heads\/main/)
  assert.match(apply, /kbk plan --out "\$RUNNER_TEMP\/plan\.kbk"[\s\S]*kbk apply "\$RUNNER_TEMP\/plan\.kbk" --no-input/)
  // Drift: on its own cron.
  const drift = wf.slice(wf.indexOf('\n  drift:'))
  const driftCron = /if: github\.event\.schedule == '([^']+)'/.exec(drift)?.[1]
  assert.ok(driftCron && wf.includes(`- cron: "${driftCron}"`), 'the drift job runs on a declared cron')
  assert.match(drift, /kbk plan --refresh-only --detailed-exitcode/)
  // kbk is not on the npm registry: the install must not ask it for `kbk`.
  assert.doesNotMatch(wf, /npm install[^\n]* kbk(\s|$)/)
  assert.match(wf, /npm install --global[^\n]*\$\{KBK_PACKAGE:-\$GITHUB_WORKSPACE\/vendor\/kbk-[0-9.]+\.tgz\}/)
})

test('kbk init outside any git repository puts the workflow under the current directory', () => {
  const dir = tempDir()
  const r = runKbk(['init', 'ws', '--json'], {cwd: dir})
  assert.equal(r.status, 0, r.stderr)
  assert.ok(existsSync(join(dir, '.github/workflows/kbk-ws.yml')))
  assert.ok(!existsSync(join(dir, 'ws/.github')))
  assert.match(readFileSync(join(dir, '.github/workflows/kbk-ws.yml'), 'utf8'), /working-directory: ws\b/)
})

test('a workspace folder with a space in its name still gives a valid workflow', () => {
  const repo = gitRepo()
  const r = runKbk(['init', 'team a/kafka'], {cwd: repo})
  assert.equal(r.status, 0, r.stderr)
  const wf = readFileSync(join(repo, '.github/workflows/kbk-team-a-kafka.yml'), 'utf8')
  assert.match(wf, /working-directory: "team a\/kafka"/)
  const linted = lint('.github/workflows/kbk-team-a-kafka.yml', repo)
  assert.equal(linted.status, 0, linted.output)
})

test("the modeline's $schema is a file that exists, and it is what `kbk schema` prints", () => {
  const dir = tempDir()
  assert.equal(runKbk(['init'], {cwd: dir}).status, 0)
  const yaml = readFileSync(join(dir, 'kbk.yaml'), 'utf8')
  const ref = /^# yaml-language-server: \$schema=(\S+)\n/.exec(yaml)?.[1]
  assert.ok(ref, 'a modeline on the first line')
  const schemaFile = join(dir, ref)
  assert.ok(existsSync(schemaFile), `${ref} exists beside kbk.yaml`)
  const printed = runKbk(['schema'], {cwd: dir})
  assert.equal(printed.status, 0, printed.stderr)
  assert.equal(readFileSync(schemaFile, 'utf8'), printed.stdout)
  assert.equal(JSON.parse(printed.stdout).title, 'kbk workspace')
  const path = runKbk(['schema', '--path'], {cwd: dir})
  assert.equal(readFileSync(path.stdout.trim(), 'utf8'), printed.stdout)
  const out = runKbk(['schema', '--out', 'copy.json'], {cwd: dir})
  assert.equal(out.status, 0, out.stderr)
  assert.equal(readFileSync(join(dir, 'copy.json'), 'utf8'), printed.stdout)
})

test('kbk init on a bad target path is one clear error, not an internal error with a stack trace', () => {
  const dir = tempDir()
  writeFileSync(join(dir, 'afile'), 'x')
  for (const target of ['afile', 'afile/ws']) {
    const r = runKbk(['init', target], {cwd: dir})
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr, /^Error: Cannot create a workspace in afile(\/ws)?: .*afile is a file, not a directory\.\n/)
    assert.match(r.stderr, /Code: KBK_INIT_PATH/)
    assert.doesNotMatch(r.stderr, /Internal error|This is a bug|\n\s+at /)
    const json = runKbk(['init', target, '--json'], {cwd: dir})
    assert.equal(JSON.parse(json.stdout).error.code, 'KBK_INIT_PATH')
  }
  // A file where init must create a directory (.github) is caught when writing.
  const repo = gitRepo()
  writeFileSync(join(repo, '.github'), 'x')
  const r = runKbk(['init'], {cwd: repo})
  assert.equal(r.status, 1)
  assert.match(r.stderr, /^Error: Cannot write \.github\/workflows\/kbk\.yml: a part of the path is a file, not a directory\.\n/)
  assert.doesNotMatch(r.stderr, /Internal error|\n\s+at /)
})

test('kbk init refuses to overwrite kbk.yaml without --force, and merges an existing .gitignore', () => {
  const dir = tempDir()
  writeFiles(dir, {'kbk.yaml': 'version: 1\n# mine\n', '.gitignore': 'node_modules/\n'})
  const refused = runKbk(['init'], {cwd: dir})
  assert.equal(refused.status, 1)
  assert.match(refused.stderr, /already exists/)
  assert.match(refused.stderr, /--force/)
  assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace')
  assert.equal(readFileSync(join(dir, 'kbk.yaml'), 'utf8'), 'version: 1\n# mine\n')
  assert.ok(!existsSync(join(dir, '.github')))

  const forced = runKbk(['init', '--force'], {cwd: dir})
  assert.equal(forced.status, 0, forced.stderr)
  assert.match(readFileSync(join(dir, 'kbk.yaml'), 'utf8'), /policies:/)
  const gi = readFileSync(join(dir, '.gitignore'), 'utf8')
  assert.ok(gi.startsWith('node_modules/\n'), 'existing lines kept')
  assert.match(gi, /\.kbk-backups\//)
  assert.ok(existsSync(dirname(join(dir, '.github/workflows/kbk.yml'))))
})
