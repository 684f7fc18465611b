// `kbk init`: the files of a new workspace — a commented kbk.yaml, the workspace JSON Schema beside
// it (editors validate offline), a .gitignore, and a GitHub Actions workflow: plan on pull
// requests as one sticky PR comment, apply the saved plan on the main branch, a drift check on a
// cron. Pure: where the workspace sits in the repository and kbk's version are parameters.
export interface ScaffoldOptions {
  /** The workspace directory relative to the repository root, '/'-separated; '' for the root. */
  workspaceDir: string
  /** The version of this kbk, for the install step of the workflow. */
  kbkVersion: string
  /** The workspace JSON Schema, written beside kbk.yaml. */
  schemaText: string
}

export interface ScaffoldFile {
  /** Relative to the repository root, '/'-separated. */
  path: string
  text: string
  /** Lines to add to an existing file instead of replacing it (for .gitignore). */
  appendLines?: string[]
  /** kbk's own output (the schema): rewritten whenever it differs, --force or not. */
  generated?: boolean
}

/** The file `init` writes beside kbk.yaml and the modeline points at (relative: works offline, in every clone). */
export const SCHEMA_FILE = 'kbk.schema.json'

/** Where saved plans go in the docs and the workflow; .gitignore keeps them out of git. */
export const PLAN_FILE = 'plan.kbk'

/** GitHub reads workflows only from the repository root's .github/workflows. */
export function workflowPath(workspaceDir: string): string {
  return `.github/workflows/${workflowName(workspaceDir)}.yml`
}

/** One workflow per workspace: a second `kbk init other/dir` must not overwrite the first. */
function workflowName(workspaceDir: string): string {
  const slug = workspaceDir.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')
  return slug === '' ? 'kbk' : `kbk-${slug}`
}

export function scaffoldWorkspace(options: ScaffoldOptions): ScaffoldFile[] {
  const dir = options.workspaceDir.replace(/\/+$/, '')
  const inDir = (p: string): string => (dir === '' ? p : `${dir}/${p}`)
  return [
    {path: inDir('kbk.yaml'), text: kbkYaml()},
    {path: inDir(SCHEMA_FILE), text: options.schemaText.endsWith('\n') ? options.schemaText : options.schemaText + '\n', generated: true},
    {path: inDir('.gitignore'), text: GITIGNORE.join('\n') + '\n', appendLines: GITIGNORE},
    {path: workflowPath(dir), text: workflow(dir, options.kbkVersion)},
  ]
}

const GITIGNORE = ['# kbk: local backups, saved plans and key files stay out of git', '.kbk-backups/', '*.kbk', 'keys/', '.env']

function kbkYaml(): string {
  return `# yaml-language-server: $schema=./${SCHEMA_FILE}
# kbk workspace: Kafka backup intent, kept in git. \`kbk validate\` checks it offline,
# \`kbk plan\` shows what would change, \`kbk apply\` does it. ${SCHEMA_FILE} (beside this file)
# gives editors completion and checks; refresh it after upgrading kbk: kbk schema --out ${SCHEMA_FILE}
version: 1

# Kafka connections. Secrets only ever come from \${ENV} (an unset variable is an error);
# \${VAR:-default} gives a fallback for local runs.
clusters:
  main:
    # tls: true
    # sasl: {mechanism: scram-sha-512, username: "\${KAFKA_USER}", password: "\${KAFKA_PASSWORD}"}
    brokers: ["\${KAFKA_BOOTSTRAP:-127.0.0.1:9092}"]

# Where backups and kbk's state live: fs (a local directory), s3 (or MinIO), azure, gcs.
stores:
  # The store CI uses (the workflow sets KBK_STORE=remote). PLACEHOLDER: put your bucket and
  # region here before the first CI run; it must be a bucket that outlives any CI runner, since
  # it holds the backups and kbk's state. Credentials: the AWS SDK chain (AWS_ACCESS_KEY_ID /
  # AWS_SECRET_ACCESS_KEY, a role); azure and gcs stores work the same way (docs/stores.md).
  remote:
    type: s3
    bucket: CHANGE-ME-kafka-backups
    region: eu-west-1
    prefix: kbk/
  # For trying kbk on your machine: a local directory, git-ignored. Never for CI: a runner's
  # disk is thrown away after every job, and the backups and state with it.
  local:
    type: fs
    path: ./.kbk-backups # relative to this file

# How long backups are kept, counted from when kbk wrote them: 7d, 90d, 7y or never.
# minKeep: the newest N runs are never expired. allowDestroy: apply may delete expired backups.
retention:
  dev: {maxAge: 7d, minKeep: 1, allowDestroy: true}
  production: {maxAge: 90d, minKeep: 3, allowDestroy: true}
  compliance: {maxAge: 7y, minKeep: 1, immutable: true}

# What to back up. Topic patterns are regexes matched against the whole name.
policies:
  main:
    cluster: main
    # KBK_STORE picks the store: "local" unless set; the CI workflow sets it to "remote".
    store: "\${KBK_STORE:-local}"
    topics:
      include: [".*"]
      exclude: [".*-repartition", ".*-restored", ".*-drill-[0-9]{14}"]
    retention: dev
    # tags: [gdpr]       # compliance rules: gdpr, sox, hipaa, pci-dss, dora, or your own
    rpo: 1h # plan reports drift when the newest backup is older than this
    compression: {codec: zstd, level: 3}
    # verify: deep # read back each backup's segments before apply reports success (default: shallow)
    # labels: {env: dev, team: platform} # reporting and cost: backups list --label, status --by label:team
    # replicas: [{store: dr}] # a verified copy in another store, restorable on its own (docs/replicas.md)
    # rateLimit: {bytesPerSecond: 50MB} # the brakes: no faster than this over all partitions
    # encryption: {key: "\${KBK_MAIN_KEY}"} # 32 bytes, base64: openssl rand -base64 32
    consumerGroups: {include: [".*"]} # committed offsets captured with each backup

# Declared restores: applied once, then recorded. Never onto the source topics.
# restores:
#   drill:
#     from: {policy: main, pointInTime: latest}
#     to: {cluster: main, topicSuffix: -restored}
#     createTopics: true
#     # A recovery drill: restored into scratch topics (-restored-drill-<time>), validated record by
#     # record, timed against rto, evidence in the store; kbk apply runs it when due (docs/drills.md).
#     # (the policy above excludes them: a drill refuses scratch topics its policy would back up)
#     drill: {every: 30d, rto: 15m, cleanup: true}

# Consumer offset resets: planned per group and partition, snapshotted first, undone with
# \`kbk offsets rollback ID\` (docs/offsets.md).
# offsetResets:
#   replay:
#     cluster: main
#     groups: ["my-app"]
#     to: earliest   # or restored / latest / timestamp / snapshot
`
}

/** The install step: from the npm registry once kbk is there; until then from a tarball or a git URL. */
function installStep(version: string): string {
  return `      - name: Install kbk
        # kbk ${version} is not on the npm registry yet. Either commit its package tarball (\`npm pack\`
        # in a kbk checkout) as vendor/kbk-${version}.tgz at the repository root, or set the
        # repository variable KBK_PACKAGE to any npm install spec: a git URL
        # (github:ORG/kbk#v${version}), a tarball URL, or kbk@${version} once it is published.
        run: npm install --global --no-audit --no-fund "\${KBK_PACKAGE:-$GITHUB_WORKSPACE/vendor/kbk-${version}.tgz}"
        env:
          KBK_PACKAGE: \${{ vars.KBK_PACKAGE }}
`
}

/** A path as a YAML scalar: plain when that is unambiguous, else double-quoted (JSON is valid YAML). */
function yamlScalar(path: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(path) ? path : JSON.stringify(path)
}

const BACKUP_CRON = '7 * * * *'
const DRIFT_CRON = '17 6 * * *'

function workflow(dir: string, version: string): string {
  const name = workflowName(dir)
  const self = workflowPath(dir)
  // Only changes to this workspace (or this workflow) need a plan on a pull request.
  const paths = dir === '' ? '' : `\n    paths: [${JSON.stringify(`${dir}/**`)}, "${self}"]`
  const defaults = dir === '' ? '' : `defaults:\n  run:\n    working-directory: ${yamlScalar(dir)} # the workspace; kbk finds kbk.yaml there\n`
  const setup = `      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 22
${installStep(version)}`
  return `# kbk in CI (written by \`kbk init\`): plan on pull requests (posted as one PR comment, updated
# on every push); on the main branch, plan and apply exactly that saved plan after each merge and
# every hour (the backups); a daily drift check that fails when something drifted.
# Before the first run:
#  - kbk.yaml: replace the placeholders of the "remote" store (bucket, region); the backups and
#    kbk's state live there, never on the runner's disk.
#  - repository secrets: KAFKA_BOOTSTRAP, and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or use
#    aws-actions/configure-aws-credentials with a role and \`id-token: write\` instead).
#  - the "Install kbk" steps: see their comment.
name: ${name}
on:
  pull_request:${paths}
  push:
    branches: [main]${paths}
  schedule:
    - cron: "${BACKUP_CRON}" # backups: apply hourly (keep it within the policies' rpo)
    - cron: "${DRIFT_CRON}" # drift check, daily at 06:17 UTC
  workflow_dispatch: # run the drift check by hand
permissions:
  contents: read
env:
  KBK_IN_AUTOMATION: "1"
  KBK_STORE: remote
  KAFKA_BOOTSTRAP: \${{ secrets.KAFKA_BOOTSTRAP }}
  # KAFKA_USER: \${{ secrets.KAFKA_USER }}
  # KAFKA_PASSWORD: \${{ secrets.KAFKA_PASSWORD }}
  AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
  AWS_SECRET_ACCESS_KEY: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
${defaults}jobs:
  plan:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    permissions:
      contents: read
      pull-requests: write # the plan comment
    concurrency:
      group: ${name}-plan-\${{ github.event.pull_request.number }}
      cancel-in-progress: true
    steps:
${setup}      - run: kbk validate
      - name: kbk plan
        id: plan
        run: kbk plan --format markdown > "$RUNNER_TEMP/kbk-plan.md"
      - name: Post the plan as a PR comment (one comment, updated on every push)
        if: always() && steps.plan.outcome != 'skipped'
        uses: actions/github-script@v7
        env:
          PLAN_OUTCOME: \${{ steps.plan.outcome }}
        with:
          script: |
            const fs = require('node:fs')
            const marker = '<!-- kbk-plan:${name} -->'
            const file = process.env.RUNNER_TEMP + '/kbk-plan.md'
            const plan = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
            const run = context.serverUrl + '/' + context.repo.owner + '/' + context.repo.repo + '/actions/runs/' + context.runId
            const body = marker + '\\n' + (process.env.PLAN_OUTCOME === 'success' && plan.trim() !== ''
              ? plan
              : '**kbk plan failed** for ' + context.sha.slice(0, 7) + ': see [the log](' + run + ').')
            const {owner, repo} = context.repo
            const issue_number = context.issue.number
            const comments = await github.paginate(github.rest.issues.listComments, {owner, repo, issue_number, per_page: 100})
            const mine = comments.find((c) => c.body && c.body.startsWith(marker))
            if (mine) await github.rest.issues.updateComment({owner, repo, comment_id: mine.id, body})
            else await github.rest.issues.createComment({owner, repo, issue_number, body})
  apply:
    # On main: after a merge, and hourly (each run backs up what was produced since the last).
    if: (github.event_name == 'push' && github.ref == 'refs/heads/main') || github.event.schedule == '${BACKUP_CRON}'
    runs-on: ubuntu-latest
    environment: production # scope the store and Kafka secrets to this environment
    concurrency:
      group: ${name}-apply # one apply at a time (kbk's lock enforces it too)
      cancel-in-progress: false
    steps:
${setup}      - run: kbk validate
      - name: kbk plan (saved)
        run: |
          kbk plan --out "$RUNNER_TEMP/${PLAN_FILE}" --format markdown > "$RUNNER_TEMP/kbk-plan.md"
          cat "$RUNNER_TEMP/kbk-plan.md" >> "$GITHUB_STEP_SUMMARY"
      - name: kbk apply (exactly the saved plan)
        run: kbk apply "$RUNNER_TEMP/${PLAN_FILE}" --no-input
  drift:
    if: github.event.schedule == '${DRIFT_CRON}' || github.event_name == 'workflow_dispatch'
    runs-on: ubuntu-latest
    steps:
${setup}      - name: kbk plan --refresh-only (exit 2 on drift fails the job, and GitHub notifies)
        run: kbk plan --refresh-only --detailed-exitcode
`
}
