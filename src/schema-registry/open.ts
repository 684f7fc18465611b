// Opens the HTTP adapter for a configured registry: credentials from the environment variables
// the config names (never from the config itself), the CA file read once. Called only by the
// composition root.
import {readFileSync} from 'node:fs'
import type {SchemaRegistryConfig} from '../config/types.js'
import {KbkError} from '../errors.js'
import {HttpSchemaRegistry} from './http-adapter.js'
import type {SchemaRegistryPort} from './port.js'

export function openSchemaRegistry(cfg: SchemaRegistryConfig, env: NodeJS.ProcessEnv): SchemaRegistryPort {
  const read = (name: string, key: string): string => {
    const v = env[name]
    if (v === undefined || v === '') {
      throw new KbkError('KBK_SCHEMA_REGISTRY_AUTH', `schemaRegistries.${cfg.name}.auth.${key} names the environment variable ${name || '(none)'}, which is not set.`, {
        suggestion: `Export ${name || `the variable named by auth.${key}`} before running kbk (the workspace names the variable; it never holds the value).`,
      })
    }
    return v
  }
  let authorization: string | undefined
  if (cfg.auth?.type === 'basic') authorization = `Basic ${Buffer.from(`${read(cfg.auth.usernameEnv, 'usernameEnv')}:${read(cfg.auth.passwordEnv, 'passwordEnv')}`).toString('base64')}`
  if (cfg.auth?.type === 'bearer') authorization = `Bearer ${read(cfg.auth.tokenEnv, 'tokenEnv')}`
  return new HttpSchemaRegistry({
    name: cfg.name,
    url: cfg.url,
    ...(authorization ? {authorization} : {}),
    ...(cfg.tls ? {tls: {...(cfg.tls.ca ? {ca: readFileSync(cfg.tls.ca)} : {}), rejectUnauthorized: cfg.tls.rejectUnauthorized}} : {}),
  })
}
