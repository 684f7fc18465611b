// Rules about credentials and keys: secrets come from ${ENV} or files (a literal one is flagged),
// alternatives are not mixed, and an encryption key is 32 bytes of base64.
import type {DiagnosticCode} from '../../errors.js'
import {formatPath, type ConfigPath, type Diagnostic} from '../diagnostics.js'
import type {EncryptionKey} from '../types.js'
import {isSensitivePath} from '../types.js'
import {diagnosticAt, type Rule} from './rule.js'

type Obj = Record<string, unknown>
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {})

function walk(v: unknown, path: Array<string | number>, visit: (path: ConfigPath, v: unknown) => void): void {
  visit(path, v)
  if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i], visit))
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k], visit)
}

export const secretsFromEnvironment: Rule = {
  name: 'secrets-from-environment',
  description: 'Credentials (passwords, keys, tokens) are written as ${ENV} references, never literally in the file.',
  check({ws, raw}) {
    const out: Diagnostic[] = []
    walk(raw, [], (path, v) => {
      if (typeof v !== 'string' || !isSensitivePath(path) || !ws.isLiteral(path)) return
      const name = String(path[path.length - 1])
      out.push(
        diagnosticAt(
          ws,
          path,
          'warning',
          'KBK_CONFIG_LITERAL_SECRET',
          `${formatPath(path)}: a ${name} is written literally in the workspace, which is kept in git`,
          `Write ${name}: "\${SOME_ENV_VAR}" and export it from your secret manager (for local test servers: "\${VAR:-default}").`,
        ),
      )
    })
    return out
  },
}

/** Base64 of exactly 32 bytes. */
export function isKey256(text: string): boolean {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return false
  return Buffer.from(text, 'base64').length === 32
}

export const credentialsConsistent: Rule = {
  name: 'credentials-consistent',
  description: 'Alternatives are not mixed (key or keyFile; Azure connectionString or account settings), pairs are complete, and encryption keys are 32 bytes.',
  check({ws, raw, unresolved}) {
    const out: Diagnostic[] = []
    const root = obj(raw)
    const err = (path: ConfigPath, code: DiagnosticCode, message: string, fix: string) => out.push(diagnosticAt(ws, path, 'error', code, message, fix))

    for (const [name, c] of Object.entries(obj(root.clusters))) {
      const tls = obj(obj(c).tls)
      if ((tls.cert === undefined) !== (tls.key === undefined)) {
        err(['clusters', name, 'tls'], 'KBK_CONFIG_INCOMPLETE', `clusters.${name}.tls: a client certificate needs both cert and key`, `Set both clusters.${name}.tls.cert and clusters.${name}.tls.key, or neither.`)
      }
    }

    for (const s of Object.values(ws.stores)) {
      const p = ['stores', s.name]
      if (s.type === 's3' && Boolean(s.accessKeyId) !== Boolean(s.secretAccessKey)) {
        err(p, 'KBK_CONFIG_INCOMPLETE', `stores.${s.name}: accessKeyId and secretAccessKey go together`, 'Set both (from ${ENV}), or neither to use the AWS default credential chain.')
      }
      if (s.type === 's3' && s.sessionToken && !s.accessKeyId) {
        err([...p, 'sessionToken'], 'KBK_CONFIG_INCOMPLETE', `stores.${s.name}.sessionToken needs accessKeyId and secretAccessKey`, 'Set all three from the temporary credentials, or none.')
      }
      if (s.type === 'azure') {
        const others = (['accountUrl', 'accountName', 'accountKey', 'sasToken'] as const).filter((k) => s[k] !== undefined)
        if (s.connectionString && others.length > 0) {
          err([...p, 'connectionString'], 'KBK_CONFIG_CONFLICT', `stores.${s.name}: connectionString cannot be combined with ${others.join(', ')}`, 'Use connectionString alone, or accountUrl with accountName+accountKey, a sasToken, or nothing (DefaultAzureCredential).')
        }
        if (!s.connectionString && !s.accountUrl && !s.accountName) {
          err(p, 'KBK_CONFIG_INCOMPLETE', `stores.${s.name}: Azure needs a connectionString, an accountUrl or an accountName`, `Set stores.${s.name}.accountUrl (https://<account>.blob.core.windows.net) or connectionString.`)
        }
        if (Boolean(s.accountKey) && !s.accountName) err([...p, 'accountKey'], 'KBK_CONFIG_INCOMPLETE', `stores.${s.name}.accountKey needs accountName`, `Set stores.${s.name}.accountName.`)
        if (s.accountKey && s.sasToken) err([...p, 'sasToken'], 'KBK_CONFIG_CONFLICT', `stores.${s.name}: accountKey and sasToken are alternatives`, 'Keep one of them.')
      }
    }

    for (const [name, pol] of Object.entries(obj(root.policies))) {
      const e = obj(obj(pol).encryption)
      if (obj(pol).encryption === undefined) continue
      const base: ConfigPath = ['policies', name, 'encryption']
      const keys: Array<[ConfigPath, Obj, EncryptionKey | undefined]> = [[base, e, ws.policies[name]?.encryption]]
      const prev = Array.isArray(e.previousKeys) ? e.previousKeys : []
      prev.forEach((k, i) => keys.push([[...base, 'previousKeys', i], obj(k), ws.policies[name]?.encryption?.previousKeys[i]]))
      for (const [path, rawKey, key] of keys) {
        const hasKey = rawKey.key !== undefined
        const hasFile = rawKey.keyFile !== undefined
        if (hasKey && hasFile) err([...path, 'keyFile'], 'KBK_CONFIG_CONFLICT', `${formatPath(path)}: key and keyFile are alternatives`, 'Keep one: key: "${ENV_VAR}" (base64) or keyFile: path/to/key.')
        else if (!hasKey && !hasFile) err(path, 'KBK_CONFIG_REQUIRED', `${formatPath(path)}: needs a key or a keyFile`, 'Add key: "${KBK_<POLICY>_KEY}" (32 bytes, base64; e.g. from `openssl rand -base64 32`) or keyFile: path.')
        if (hasKey && typeof rawKey.key === 'string' && !unresolved([...path, 'key']) && !isKey256(rawKey.key)) {
          err([...path, 'key'], 'KBK_CONFIG_BAD_KEY', `${formatPath(path)}.key: not a 32-byte base64 key (AES-256 needs exactly 32 bytes)`, 'Generate one with `openssl rand -base64 32` and put it in the environment variable.')
        }
        if (!hasKey && hasFile && key && !key.key) {
          out.push(diagnosticAt(ws, [...path, 'keyFile'], 'warning', 'KBK_CONFIG_KEY_FILE_UNREADABLE', `${formatPath(path)}.keyFile: cannot read ${key.keyFile}; plan works without it, apply and restore will not`, 'Create the key file on the machine that runs kbk apply, or use key: "${ENV_VAR}".'))
        } else if (!hasKey && hasFile && key?.key && !isKey256(key.key.reveal())) {
          err([...path, 'keyFile'], 'KBK_CONFIG_BAD_KEY', `${formatPath(path)}.keyFile: the file does not hold a 32-byte key (raw, or base64 text)`, 'Write one with `openssl rand -base64 32 > FILE`.')
        }
      }
      const ids = keys.map(([, , k]) => k?.keyId).filter((x): x is string => x !== undefined && x !== 'unknown')
      const dup = ids.find((id, i) => ids.indexOf(id) !== i)
      if (dup) err([...base, 'previousKeys'], 'KBK_CONFIG_DUPLICATE', `policies.${name}.encryption: keyId "${dup}" is used by two keys`, 'Give every key, current and previous, its own keyId.')
    }

    for (const r of Object.values(ws.restores)) {
      if (r.to.topicSuffix !== undefined && Object.keys(r.to.rename).length > 0) {
        out.push(diagnosticAt(ws, ['restores', r.name, 'to'], 'warning', 'KBK_CONFIG_CONFLICT', `restores.${r.name}.to: rename applies to the topics it names, topicSuffix to all others`, 'This is allowed; remove one of them if you meant only renames or only a suffix.'))
      }
    }
    return out
  },
}
