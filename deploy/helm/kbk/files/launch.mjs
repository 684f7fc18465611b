// Starts one sharded apply: creates the Indexed Job (rendered by the chart into apply-job.json)
// and the ConfigMap holding the plan it applies, owned by that Job so both go away together.
// Runs in the kbk image (Node, no kubectl), with the pod's service account token.
import {readFileSync, existsSync} from 'node:fs'

const sa = '/var/run/secrets/kubernetes.io/serviceaccount'
const plan = '/plan/plan.kbk'
if (!existsSync(plan)) {
  console.log('kbk plan found nothing to do: no apply Job started.')
  process.exit(0)
}
const ns = readFileSync(`${sa}/namespace`, 'utf8').trim()
const token = readFileSync(`${sa}/token`, 'utf8').trim()
const api = `https://${process.env.KUBERNETES_SERVICE_HOST}:${process.env.KUBERNETES_SERVICE_PORT}`
const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)
const job = JSON.parse(readFileSync('/launch/apply-job.json', 'utf8'))
const name = `${job.metadata.name}-${stamp}`.slice(0, 52)
job.metadata.name = name
const volume = job.spec.template.spec.volumes.find((v) => v.name === 'plan')
volume.configMap.name = `${name}-plan`

async function post(path, body) {
  const res = await fetch(`${api}${path}`, {method: 'POST', headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'}, body: JSON.stringify(body)})
  const text = await res.text()
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${text}`)
  return JSON.parse(text)
}

// The Job first: its pods wait for the plan's ConfigMap, which is then owned by the Job.
const created = await post(`/apis/batch/v1/namespaces/${ns}/jobs`, job)
await post(`/api/v1/namespaces/${ns}/configmaps`, {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {name: `${name}-plan`, labels: job.metadata.labels, ownerReferences: [{apiVersion: 'batch/v1', kind: 'Job', name, uid: created.metadata.uid}]},
  data: {'plan.kbk': readFileSync(plan, 'utf8')},
})
console.log(`Started ${name}: ${job.spec.completions} shard(s), ${job.spec.parallelism} at a time.`)
