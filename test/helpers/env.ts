// Shared test helpers: the endpoints of the local test servers (written to .env.test by
// `npm run env:up`, loaded by scripts/test.mjs) and collision-free names for what tests create.
import {randomBytes} from 'node:crypto'

export interface TestEnv {
  kafka: {
    /** Source cluster bootstrap, host:port. */
    bootstrap: string
    /** Target cluster bootstrap (restores go here). */
    targetBootstrap: string
    version: string
  }
  s3: {
    endpoint: string
    region: string
    accessKeyId: string
    secretAccessKey: string
    forcePathStyle: boolean
    /** Whether the server enforces S3 Object Lock (buckets can be created with it). */
    objectLock: boolean
    /** Which S3 server: 'versitygw' or 'minio'. */
    server: string
  }
  azure: {connectionString: string; blobEndpoint: string}
  gcs: {endpoint: string; projectId: string}
}

function required(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: integration tests need the local test servers. Run \`npm run env:up\` ` +
        '(it writes .env.test), then run tests through `node scripts/test.mjs`, which loads it.',
    )
  }
  return value
}

/** The test servers' endpoints; throws a clear error when the environment is not up. */
export function testEnv(): TestEnv {
  return {
    kafka: {
      bootstrap: required('KBK_TEST_KAFKA_BOOTSTRAP'),
      targetBootstrap: required('KBK_TEST_KAFKA_TARGET_BOOTSTRAP'),
      version: process.env.KBK_TEST_KAFKA_VERSION ?? 'unknown',
    },
    s3: {
      endpoint: required('KBK_TEST_S3_ENDPOINT'),
      region: required('KBK_TEST_S3_REGION'),
      accessKeyId: required('KBK_TEST_S3_ACCESS_KEY_ID'),
      secretAccessKey: required('KBK_TEST_S3_SECRET_ACCESS_KEY'),
      forcePathStyle: (process.env.KBK_TEST_S3_FORCE_PATH_STYLE ?? 'true') === 'true',
      objectLock: process.env.KBK_TEST_S3_OBJECT_LOCK === 'true',
      server: process.env.KBK_TEST_S3_SERVER ?? 'unknown',
    },
    azure: {
      connectionString: required('KBK_TEST_AZURE_CONNECTION_STRING'),
      blobEndpoint: process.env.KBK_TEST_AZURE_BLOB_ENDPOINT ?? '',
    },
    gcs: {
      endpoint: required('KBK_TEST_GCS_ENDPOINT'),
      projectId: process.env.KBK_TEST_GCS_PROJECT ?? 'kbk-test',
    },
  }
}

/**
 * A fresh name like `orders-k3v9x0q2mz1a`: lowercase letters, digits and dashes only, starting
 * with a letter, no double dash (Azure refuses one), at most 63 characters — valid as a Kafka topic, an S3/GCS bucket, an Azure
 * container and an object prefix alike.
 */
export function randomName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '')
  const suffix = randomBytes(8).toString('hex').slice(0, 12)
  const head = (clean === '' ? 'kbk' : clean).slice(0, 63 - suffix.length - 1).replace(/-+$/, '')
  return `${head}-${suffix}`
}
