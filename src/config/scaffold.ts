// `kbk init`: the files of a new workspace — a commented kbk.yaml (fs store by default), a
// .gitignore, and a CI workflow that plans on pull requests and applies on the main branch. Pure.
import {configSchema} from './schema.js'

export interface ScaffoldFile {
  /** Relative to the workspace directory. */
  path: string
  text: string
  /** Lines to add to an existing file instead of replacing it (for .gitignore). */
  appendLines?: string[]
}

export function scaffoldWorkspace(): ScaffoldFile[] {
  const schemaId = configSchema().$id ?? ''
  const kbkYaml = `# yaml-language-server: $schema=${schemaId}
# kbk workspace: Kafka backup intent, kept in git. \`kbk validate\` checks it offline,
# \`kbk plan\` shows what would change, \`kbk apply\` does it. Reference: docs/config.md.
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
  # s3:
  #   type: s3
  #   bucket: my-kafka-backups
  #   region: eu-west-1
  #   prefix: prod/
  local:
    type: fs
    path: ./.kbk-backups # relative to this file; git-ignored

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
    store: local
    topics:
      include: [".*"]
      exclude: [".*-repartition", ".*-restored"]
    retention: dev
    # tags: [gdpr]       # compliance rules: gdpr, sox, hipaa, pci-dss, dora, or your own
    rpo: 1h # plan reports drift when the newest backup is older than this
    compression: {codec: zstd, level: 3}
    # encryption: {key: "\${KBK_MAIN_KEY}"} # 32 bytes, base64: openssl rand -base64 32
    consumerGroups: {include: [".*"]} # committed offsets captured with each backup

# Declared restores: applied once, then recorded. Never onto the source topics.
# restores:
#   drill:
#     from: {policy: main, pointInTime: latest}
#     to: {cluster: main, topicSuffix: -restored}
#     createTopics: true
`
  const gitignore = ['# kbk: local backups, saved plans and key files stay out of git', '.kbk-backups/', '*.kbkplan', 'keys/', '.env']
  const ci = `# kbk in CI: plan on pull requests (the plan goes into the job summary), apply on main,
# and a scheduled drift check. Credentials come from the repository's secrets.
name: kbk
on:
  pull_request:
  push:
    branches: [main]
  schedule:
    - cron: "17 6 * * *"
permissions:
  contents: read
env:
  KBK_IN_AUTOMATION: "1"
  KAFKA_BOOTSTRAP: \${{ secrets.KAFKA_BOOTSTRAP }}
  # KAFKA_USER: \${{ secrets.KAFKA_USER }}
  # KAFKA_PASSWORD: \${{ secrets.KAFKA_PASSWORD }}
jobs:
  plan:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with: {node-version: 20}
      - run: npm install --global kbk
      - run: kbk validate
      - run: kbk plan --format markdown >> "$GITHUB_STEP_SUMMARY"
  apply:
    if: github.event_name == 'push' && github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    environment: production # require a reviewer here if you want a human gate
    concurrency: kbk-apply # one apply at a time (kbk's lock also enforces it)
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with: {node-version: 20}
      - run: npm install --global kbk
      - run: kbk validate
      - run: kbk plan --out plan.kbkplan
      - run: kbk apply plan.kbkplan --no-input
  drift:
    if: github.event_name == 'schedule'
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with: {node-version: 20}
      - run: npm install --global kbk
      - run: kbk plan --refresh-only --detailed-exitcode # exit 2: drift, the job fails and alerts
`
  return [
    {path: 'kbk.yaml', text: kbkYaml},
    {path: '.gitignore', text: gitignore.join('\n') + '\n', appendLines: gitignore},
    {path: '.github/workflows/kbk.yml', text: ci},
  ]
}
