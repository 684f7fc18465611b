// Where a cloud store is, as its description and errors name it (`store "primary" (s3://bucket/prefix/)`),
// computed from the config alone. Light on purpose: openObjectStore describes a store from here
// before (and without) loading its adapter and SDK, and the adapters use the same functions.
import {KbkError} from '../errors.js'
import {normalizePrefix} from './keys.js'
import {revealSecret, type AzureStoreConfig, type GcsStoreConfig, type S3StoreConfig, type StoreContext} from './store-config.js'

export interface StoreLocation {
  /** The store's prefix, normalized ('' or 'a/b/'). */
  prefix: string
  /** e.g. s3://bucket/prefix/ — never a secret. */
  location: string
  /** What errors name: the location, plus the endpoint when one is configured. */
  errorLocation: string
  /** ObjectStore.description: `store "primary" (s3://bucket/prefix/)`. */
  description: string
}

function located(ctx: StoreContext, prefix: string, location: string, endpoint?: string): StoreLocation {
  return {prefix, location, errorLocation: endpoint ? `${location} at ${endpoint}` : location, description: `store "${ctx.name}" (${location})`}
}

export function s3Location(config: S3StoreConfig, ctx: StoreContext): StoreLocation {
  const prefix = normalizePrefix(config.prefix)
  return located(ctx, prefix, `s3://${config.bucket}/${prefix}`, config.endpoint)
}

export function gcsLocation(config: GcsStoreConfig, ctx: StoreContext): StoreLocation {
  const prefix = normalizePrefix(config.prefix)
  return located(ctx, prefix, `gs://${config.bucket}/${prefix}`, config.apiEndpoint)
}

/** An azure store: a connection string, or an account URL (with a key, a SAS token, or DefaultAzureCredential). */
export function azureLocation(config: AzureStoreConfig, ctx: StoreContext): StoreLocation {
  const prefix = normalizePrefix(config.prefix)
  const connectionString = revealSecret(config.connectionString)
  let url: string
  if (connectionString !== undefined) {
    url = blobEndpointOf(connectionString)
  } else if (config.accountUrl !== undefined) {
    if (revealSecret(config.accountKey) !== undefined && !config.accountName) throw azureConfigErrors.keyWithoutName(ctx)
    url = config.accountUrl
  } else {
    throw azureConfigErrors.noEndpoint(ctx)
  }
  return located(ctx, prefix, `azure://${azureAccountName(url)}/${config.container}/${prefix}`)
}

/** The azure config mistakes the adapter refuses when it is built. */
export const azureConfigErrors = {
  keyWithoutName: (ctx: StoreContext): KbkError =>
    new KbkError('KBK_STORE_CONFIG', `store "${ctx.name}": accountKey needs accountName.`, {suggestion: `Set stores.${ctx.name}.accountName.`}),
  noEndpoint: (ctx: StoreContext): KbkError =>
    new KbkError('KBK_STORE_CONFIG', `store "${ctx.name}": an azure store needs connectionString or accountUrl.`, {
      suggestion: `Set stores.${ctx.name}.connectionString, or stores.${ctx.name}.accountUrl (with accountName+accountKey, sasToken, or nothing for DefaultAzureCredential).`,
    }),
}

// The account name as @azure/storage-blob derives it (BlobServiceClient#accountName): from the
// blob endpoint URL of the connection string or account URL — the same rules and the same errors
// for a malformed connection string (extractConnectionStringParts, getAccountNameFromUrl in its
// utils.common). test/unit/storage/store-location.test.ts checks it against the SDK.

const DEVELOPMENT_CONNECTION_STRING =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;'

/** Ports the SDK treats as path-style (emulators): the account name is the first path segment. */
const PATH_STYLE_PORTS = new Set([
  '10000', '10001', '10002', '10003', '10004', '10100', '10101', '10102', '10103', '10104',
  '11000', '11001', '11002', '11003', '11004', '11100', '11101', '11102', '11103', '11104',
])

function connStringValue(connectionString: string, argument: string): string {
  for (const element of connectionString.split(';')) {
    if (element.trim().startsWith(argument)) return (element.trim().match(argument + '=(.*)') as RegExpMatchArray)[1] ?? ''
  }
  return ''
}

function blobEndpointOf(connectionString: string): string {
  const cs = connectionString.startsWith('UseDevelopmentStorage=true') ? DEVELOPMENT_CONNECTION_STRING : connectionString
  let blobEndpoint = connStringValue(cs, 'BlobEndpoint')
  blobEndpoint = blobEndpoint.endsWith('/') ? blobEndpoint.slice(0, -1) : blobEndpoint
  if (cs.search('DefaultEndpointsProtocol=') !== -1 && cs.search('AccountKey=') !== -1) {
    const accountName = connStringValue(cs, 'AccountName')
    const accountKey = Buffer.from(connStringValue(cs, 'AccountKey'), 'base64')
    if (!blobEndpoint) {
      const protocol = connStringValue(cs, 'DefaultEndpointsProtocol')
      if (protocol.toLowerCase() !== 'https' && protocol.toLowerCase() !== 'http') {
        throw new Error("Invalid DefaultEndpointsProtocol in the provided Connection String. Expecting 'https' or 'http'")
      }
      const endpointSuffix = connStringValue(cs, 'EndpointSuffix')
      if (!endpointSuffix) throw new Error('Invalid EndpointSuffix in the provided Connection String')
      blobEndpoint = `${protocol}://${accountName}.blob.${endpointSuffix}`
    }
    if (!accountName) throw new Error('Invalid AccountName in the provided Connection String')
    if (accountKey.length === 0) throw new Error('Invalid AccountKey in the provided Connection String')
    return blobEndpoint
  }
  if (!connStringValue(cs, 'AccountName')) azureAccountName(blobEndpoint)
  if (!blobEndpoint) throw new Error('Invalid BlobEndpoint in the provided SAS Connection String')
  if (!connStringValue(cs, 'SharedAccessSignature')) throw new Error('Invalid SharedAccessSignature in the provided SAS Connection String')
  return blobEndpoint
}

function azureAccountName(url: string): string {
  const parsed = new URL(url)
  const labels = parsed.hostname.split('.')
  if (labels[1] === 'blob') return labels[0] ?? ''
  const ipStyle =
    /^.*:.*:.*$|^(localhost|host.docker.internal)(:[0-9]+)?$|^(\d|[1-9]\d|1\d\d|2[0-4]\d|25[0-5])(\.(\d|[1-9]\d|1\d\d|2[0-4]\d|25[0-5])){3}(:[0-9]+)?$/.test(parsed.host) ||
    (Boolean(parsed.port) && PATH_STYLE_PORTS.has(parsed.port))
  return ipStyle ? (parsed.pathname.split('/')[1] ?? '') : ''
}
