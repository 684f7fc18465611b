// deploy/helm/kbk: `helm lint --strict` and `helm template` with helm pinned and built by the
// project's own scripts (scripts/env/tools.mjs), then the rendered objects checked: the apply is
// an Indexed Job running `--shard auto/N`, locked down, with credentials only referenced.
import {describe, it} from 'node:test'
/* eslint-disable @typescript-eslint/no-explicit-any -- rendered Kubernetes objects are walked loosely; the asserts are the types */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseAllDocuments} from 'yaml'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const chart = join(root, 'deploy/helm/kbk')

function helm(): string {
  const r = spawnSync(process.execPath, [join(root, 'scripts/env/tools.mjs'), '--path', 'helm'], {encoding: 'utf8', timeout: 1_800_000})
  assert.equal(r.status, 0, `provisioning helm failed: ${r.stderr}`)
  return r.stdout.trim()
}

const VALUES = [
  'workspace.files.kbk\\.yaml=version: 1',
  'backup.shards=6',
  'backup.parallelism=3',
  'credentials.existingSecrets[0]=kbk-kafka',
  'credentials.existingSecrets[1]=kbk-store',
  'serviceAccount.aws.roleArn=arn:aws:iam::123456789012:role/kbk',
  'serviceAccount.azure.clientId=00000000-0000-0000-0000-000000000001',
  'serviceAccount.gcp.serviceAccount=kbk@project.iam.gserviceaccount.com',
  'drills[0].name=orders-weekly',
  'drills[0].schedule=0 3 * * 0',
]

type Obj = {kind: string; metadata: {name: string; annotations?: Record<string, string>; labels?: Record<string, string>}; spec?: any; data?: Record<string, string>}

function render(extra: string[] = []): {status: number | null; objects: Obj[]; output: string} {
  const args = ['template', 'r', chart, '--kube-version', '1.31.0', ...[...VALUES, ...extra].flatMap((v) => ['--set', v])]
  const r = spawnSync(helm(), args, {encoding: 'utf8'})
  const objects = r.status === 0 ? parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj).filter(Boolean) : []
  return {status: r.status, objects, output: r.stdout + r.stderr}
}

function podChecks(pod: any, where: string): void {
  assert.equal(pod.securityContext.runAsNonRoot, true, where)
  assert.ok(pod.securityContext.runAsUser > 0, where)
  assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault', where)
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    assert.equal(c.securityContext.allowPrivilegeEscalation, false, `${where}/${c.name}`)
    assert.equal(c.securityContext.readOnlyRootFilesystem, true, `${where}/${c.name}`)
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL'], `${where}/${c.name}`)
    assert.ok(c.resources?.limits?.memory, `${where}/${c.name} has limits`)
  }
}

describe('Helm chart deploy/helm/kbk', () => {
  it('passes helm lint --strict', () => {
    const r = spawnSync(helm(), ['lint', chart, '--strict', '--kube-version', '1.31.0', ...VALUES.flatMap((v) => ['--set', v])], {encoding: 'utf8'})
    assert.equal(r.status, 0, r.stdout + r.stderr)
  })

  it('renders the apply as an Indexed Job of N shards, each running --shard auto/N, locked down', () => {
    const {status, objects, output} = render()
    assert.equal(status, 0, output)
    const launch = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-launch'))!
    const job = JSON.parse(launch.data!['apply-job.json']!) as {kind: string; spec: any}
    assert.equal(job.kind, 'Job')
    assert.equal(job.spec.completionMode, 'Indexed')
    assert.equal(job.spec.completions, 6)
    assert.equal(job.spec.parallelism, 3)
    assert.ok(job.spec.backoffLimitPerIndex >= 1, 'a dead shard is rerun on its own')
    const pod = job.spec.template.spec
    assert.equal(pod.restartPolicy, 'Never')
    const args: string[] = pod.containers[0].args
    assert.deepEqual(args.slice(0, 4), ['apply', '/plan/plan.kbk', '--shard', 'auto/6'])
    podChecks(pod, 'apply Job')
    assert.deepEqual(pod.containers[0].envFrom, [{secretRef: {name: 'kbk-kafka'}}, {secretRef: {name: 'kbk-store'}}])
    assert.equal(job.spec.template.metadata.annotations['prometheus.io/scrape'], 'true')
    assert.equal(job.spec.template.metadata.labels['azure.workload.identity/use'], 'true')
    assert.ok(launch.data!['launch.mjs']!.includes('/apis/batch/v1/namespaces/'))
  })

  it('plans once per schedule, checks drift and runs drills, all as the annotated service account', () => {
    const {objects} = render()
    const cron = (suffix: string): any => objects.find((o) => o.kind === 'CronJob' && o.metadata.name.endsWith(suffix))
    const backup = cron('-backup')
    assert.equal(backup.spec.concurrencyPolicy, 'Forbid')
    const planner = backup.spec.jobTemplate.spec.template.spec
    assert.match(planner.initContainers[0].args[0], /kbk plan --out \/plan\/plan\.kbk --detailed-exitcode/)
    podChecks(planner, 'planner')
    const drift = cron('-drift').spec.jobTemplate.spec.template.spec
    assert.deepEqual(drift.containers[0].args.slice(0, 3), ['plan', '--refresh-only', '--detailed-exitcode'])
    podChecks(drift, 'drift')
    const drill = cron('-drill-orders-weekly')
    assert.equal(drill.spec.schedule, '0 3 * * 0')
    assert.deepEqual(drill.spec.jobTemplate.spec.template.spec.containers[0].args, ['drill', 'orders-weekly'])
    const sa = objects.find((o) => o.kind === 'ServiceAccount')!
    assert.equal(sa.metadata.annotations!['eks.amazonaws.com/role-arn'], 'arn:aws:iam::123456789012:role/kbk')
    assert.equal(sa.metadata.annotations!['azure.workload.identity/client-id'], '00000000-0000-0000-0000-000000000001')
    assert.equal(sa.metadata.annotations!['iam.gke.io/gcp-service-account'], 'kbk@project.iam.gserviceaccount.com')
    for (const c of [backup, cron('-drift'), drill]) assert.equal(c.spec.jobTemplate.spec.template.spec.serviceAccountName, sa.metadata.name)
  })

  it('never templates a Secret: credentials are references only', () => {
    const {objects, output} = render()
    assert.equal(objects.filter((o) => o.kind === 'Secret').length, 0)
    assert.doesNotMatch(output, /secretAccessKey|password:|AWS_SECRET_ACCESS_KEY/i)
  })

  it('refuses to render without a workspace, and with an invalid drill name', () => {
    const none = spawnSync(helm(), ['template', 'r', chart, '--kube-version', '1.31.0'], {encoding: 'utf8'})
    assert.notEqual(none.status, 0)
    assert.match(none.stderr, /workspace\.existingConfigMap/)
    const bad = render(['drills[1].name=Bad_Name', 'drills[1].schedule=0 1 * * *'])
    assert.notEqual(bad.status, 0)
    assert.match(bad.output, /Bad_Name/)
  })

  it('launch.mjs is valid JavaScript', () => {
    const r = spawnSync(process.execPath, ['--check', join(chart, 'files/launch.mjs')], {encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
  })
})
