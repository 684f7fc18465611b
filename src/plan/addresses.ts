// Stable resource addresses: policy.orders, backup.orders["orders.created"], expire.orders["…"],
// restore.orders-drill. Users pass them to --target and `kbk state show`, so never change them.

export function policyAddress(policy: string): string {
  return `policy.${policy}`
}

export function backupAddress(policy: string, topic: string): string {
  return `backup.${policy}[${JSON.stringify(topic)}]`
}

export function expireAddress(policy: string, topic: string): string {
  return `expire.${policy}[${JSON.stringify(topic)}]`
}

export function restoreAddress(name: string): string {
  return `restore.${name}`
}

export function offsetsAddress(name: string): string {
  return `offsets.${name}`
}

export interface ParsedAddress {
  type: 'policy' | 'backup' | 'expire' | 'restore' | 'offsets'
  name: string
  topic?: string
}

const ADDRESS = /^(policy|backup|expire|restore|offsets)\.([A-Za-z0-9_.-]+?)(?:\[("(?:[^"\\]|\\.)*")\])?$/

export function parseAddress(address: string): ParsedAddress | undefined {
  const m = ADDRESS.exec(address.trim())
  if (!m) return undefined
  const type = m[1] as ParsedAddress['type']
  const topic = m[3] === undefined ? undefined : (JSON.parse(m[3]) as string)
  if ((type === 'policy' || type === 'restore' || type === 'offsets') && topic !== undefined) return undefined
  return {type, name: m[2]!, topic}
}

/** A target selects its own address and, without a topic, every topic under it; `policy.X` selects all of X. */
export function matchesTarget(address: string, target: string): boolean {
  if (address === target) return true
  if (address.startsWith(target + '[')) return true
  const t = parseAddress(target)
  const a = parseAddress(address)
  if (t?.type === 'policy' && a && a.type !== 'restore' && a.type !== 'offsets' && a.name === t.name) return true
  return false
}
