// The servers of the test environment, each described once: how to provision it (fetch or
// build, cached under .cache), how to start it, how to tell it is healthy, and what it
// contributes to .env.test. up.mjs, down.mjs and status.mjs only walk this list.
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {KAFKA_CLUSTERS, KAFKA_VERSION, kafkaHealthy, kafkaProvisioned, prepareKafkaCluster, provisionKafka} from './kafka.mjs'
import {EnvError, cacheDir, ensureDir, httpStatus, logDir, portOffset, root} from './lib.mjs'
import {GO, goBinaryPath, provisionGoTool} from './tools.mjs'
import {APICURIO_VERSION, SCHEMA_REGISTRY_PORTS, prepareSchemaRegistry, provisionSchemaRegistry, schemaRegistryProvisioned, schemaRegistryUrl} from './schema-registry.mjs'

// Pinned Go servers. The binary's file name carries its version, so changing a pin rebuilds.
const GO_TOOLS = {
  versitygw: {module: 'github.com/versity/versitygw/cmd/versitygw', version: 'v1.8.0'},
  minio: {module: 'github.com/minio/minio', version: 'v0.0.0-20260212201848-7aac2a2c5b7c'},
  'fake-gcs-server': {module: 'github.com/fsouza/fake-gcs-server', version: 'v1.56.1'},
}

// versitygw honours If-None-Match / If-Match and S3 Object Lock and builds in about a third
// of MinIO's time; KBK_ENV_S3=minio switches (see docs/test-environment.md).
const S3_SERVER = process.env.KBK_ENV_S3 === 'minio' ? 'minio' : 'versitygw'

export const PORTS = {
  s3: 39000 + portOffset,
  s3Console: 39001 + portOffset,
  azurite: 39300 + portOffset,
  gcs: 39400 + portOffset,
}

// Test-only credentials of servers that listen on loopback alone; not secrets of anything real.
const S3_ACCESS_KEY = 'kbktestaccess'
const S3_SECRET_KEY = 'kbktestsecretkey0123456789'
const S3_REGION = 'us-east-1'
// Azurite's documented development account key (public, the same in every Azurite).
const AZURITE_ACCOUNT = 'devstoreaccount1'
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

function goBinary(name) {
  return goBinaryPath(name, GO_TOOLS[name])
}

// What a fresh machine must have, with what to tell a person who lacks it.
// Kafka 4 brokers need Java 17; `java -version` prints e.g. `openjdk version "17.0.15"` (or "1.8.0_x").
const JAVA = {
  cmd: 'java', args: ['-version'], install: 'a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)',
  accepts: (output) => Number(/version "(\d+)/.exec(output)?.[1] ?? 0) >= 17,
}
const MAVEN = {cmd: 'mvn', args: ['-v'], install: 'Apache Maven 3.8+ (e.g. apt-get install maven)'}

function goRequires(name) {
  return existsSync(goBinary(name)) ? [] : [GO]
}

/** `go install` one pinned server into .cache/bin (scripts/env/tools.mjs does the building). */
function provisionServer(name) {
  return provisionGoTool(name, GO_TOOLS[name])
}

const s3Versitygw = {
  name: 's3',
  title: `versitygw ${GO_TOOLS.versitygw.version} (S3)`,
  port: PORTS.s3,
  requires: () => goRequires('versitygw'),
  provision: () => provisionServer('versitygw'),
  prepare() {
    const dir = ensureDir(join(cacheDir, 'versitygw'))
    const data = ensureDir(join(dir, 'data'))
    const versions = ensureDir(join(dir, 'versions'))
    return {
      cmd: goBinary('versitygw'),
      args: [
        '--access', S3_ACCESS_KEY, '--secret', S3_SECRET_KEY, '--region', S3_REGION,
        '--port', `127.0.0.1:${PORTS.s3}`, '--health', '/health', '--quiet',
        // Versioning is what S3 Object Lock stands on; without the directory no bucket can lock.
        'posix', '--versioning-dir', versions, data,
      ],
      marker: data,
      logFile: join(logDir, 's3.log'),
      signature: GO_TOOLS.versitygw.version,
    }
  },
  healthy: async () => (await httpStatus(`http://127.0.0.1:${PORTS.s3}/health`)) === 200,
}

const s3Minio = {
  name: 's3',
  title: `MinIO ${GO_TOOLS.minio.version} (S3)`,
  port: PORTS.s3,
  requires: () => goRequires('minio'),
  provision: () => provisionServer('minio'),
  prepare() {
    const data = ensureDir(join(cacheDir, 'minio', 'data'))
    return {
      cmd: goBinary('minio'),
      args: ['server', '--quiet', '--address', `127.0.0.1:${PORTS.s3}`, '--console-address', `127.0.0.1:${PORTS.s3Console}`, data],
      env: {...process.env, MINIO_ROOT_USER: S3_ACCESS_KEY, MINIO_ROOT_PASSWORD: S3_SECRET_KEY, MINIO_REGION: S3_REGION, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off'},
      marker: data,
      logFile: join(logDir, 's3.log'),
      signature: GO_TOOLS.minio.version,
    }
  },
  healthy: async () => (await httpStatus(`http://127.0.0.1:${PORTS.s3}/minio/health/ready`)) === 200,
}

const gcs = {
  name: 'gcs',
  title: `fake-gcs-server ${GO_TOOLS['fake-gcs-server'].version}`,
  port: PORTS.gcs,
  requires: () => goRequires('fake-gcs-server'),
  provision: () => provisionServer('fake-gcs-server'),
  prepare() {
    const dir = ensureDir(join(cacheDir, 'fake-gcs'))
    const url = `http://127.0.0.1:${PORTS.gcs}`
    return {
      cmd: goBinary('fake-gcs-server'),
      args: [
        '-scheme', 'http', '-host', '127.0.0.1', '-port', String(PORTS.gcs),
        // Resumable uploads follow the Location header; it must point back here, not at the default.
        '-external-url', url, '-public-host', `127.0.0.1:${PORTS.gcs}`,
        '-backend', 'filesystem', '-filesystem-root', ensureDir(join(dir, 'storage')),
        '-data', ensureDir(join(dir, 'seed')), '-log-level', 'warn',
      ],
      marker: join(dir, 'storage'),
      logFile: join(logDir, 'gcs.log'),
      signature: GO_TOOLS['fake-gcs-server'].version,
    }
  },
  healthy: async () => (await httpStatus(`http://127.0.0.1:${PORTS.gcs}/storage/v1/b?project=test`)) === 200,
}

const azurite = {
  name: 'azurite',
  title: 'Azurite (blob)',
  port: PORTS.azurite,
  requires: () => [],
  async provision() {
    if (!existsSync(join(root, 'node_modules', 'azurite'))) {
      throw new EnvError('Azurite is not installed: run npm ci (it is a devDependency)')
    }
    return false
  },
  prepare() {
    const data = ensureDir(join(cacheDir, 'azurite'))
    return {
      cmd: process.execPath,
      args: [
        join(root, 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js'),
        '--blobHost', '127.0.0.1', '--blobPort', String(PORTS.azurite), '--location', data,
        // 3.35 refuses SDK API versions newer than itself unless told not to; --loose ignores
        // headers it does not know instead of failing the request.
        '--skipApiVersionCheck', '--loose', '--silent',
      ],
      marker: data,
      logFile: join(logDir, 'azurite.log'),
      signature: 'azurite',
    }
  },
  // Any HTTP answer means it serves requests (anonymous ones get 4xx).
  healthy: async () => {
    const status = await httpStatus(`http://127.0.0.1:${PORTS.azurite}/${AZURITE_ACCOUNT}?comp=list`)
    return status !== undefined && status < 500
  },
}

function kafkaService(cluster) {
  return {
    name: `kafka-${cluster}`,
    title: `Apache Kafka ${KAFKA_VERSION} (${cluster}, KRaft)`,
    port: KAFKA_CLUSTERS[cluster].port,
    requires: () => (kafkaProvisioned() ? [JAVA] : [JAVA, MAVEN]),
    provision: provisionKafka,
    prepare: () => prepareKafkaCluster(cluster),
    healthy: () => kafkaHealthy(cluster),
  }
}

// Apicurio Registry (Confluent API at /apis/ccompat/v7), built once from Maven Central: schema-registry.mjs.
// Two processes: the source cluster's registry, and the target's (whose IDs differ).
function schemaRegistryService(which) {
  return {
    name: which === 'source' ? 'schema-registry' : 'schema-registry-target',
    title: `Apicurio Registry ${APICURIO_VERSION} (${which}, Confluent API, in-memory)`,
    port: SCHEMA_REGISTRY_PORTS[which],
    requires: () => (schemaRegistryProvisioned() ? [JAVA] : [JAVA, MAVEN]),
    provision: provisionSchemaRegistry,
    prepare: () => prepareSchemaRegistry(which),
    healthy: async () => (await httpStatus(`${schemaRegistryUrl(which)}/subjects`)) === 200,
  }
}

export const SERVICES = [kafkaService('source'), kafkaService('target'), S3_SERVER === 'minio' ? s3Minio : s3Versitygw, gcs, azurite, schemaRegistryService('source'), schemaRegistryService('target')]

/** What tests read: written to .env.test. */
export function testEnvironment() {
  return {
    KBK_TEST_KAFKA_BOOTSTRAP: `127.0.0.1:${KAFKA_CLUSTERS.source.port}`,
    KBK_TEST_KAFKA_TARGET_BOOTSTRAP: `127.0.0.1:${KAFKA_CLUSTERS.target.port}`,
    KBK_TEST_KAFKA_VERSION: KAFKA_VERSION,
    KBK_TEST_S3_ENDPOINT: `http://127.0.0.1:${PORTS.s3}`,
    KBK_TEST_S3_REGION: S3_REGION,
    KBK_TEST_S3_ACCESS_KEY_ID: S3_ACCESS_KEY,
    KBK_TEST_S3_SECRET_ACCESS_KEY: S3_SECRET_KEY,
    KBK_TEST_S3_FORCE_PATH_STYLE: 'true',
    KBK_TEST_S3_SERVER: S3_SERVER,
    KBK_TEST_S3_OBJECT_LOCK: 'true',
    KBK_TEST_AZURE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=http://127.0.0.1:${PORTS.azurite}/${AZURITE_ACCOUNT};`,
    KBK_TEST_AZURE_BLOB_ENDPOINT: `http://127.0.0.1:${PORTS.azurite}/${AZURITE_ACCOUNT}`,
    KBK_TEST_GCS_ENDPOINT: `http://127.0.0.1:${PORTS.gcs}`,
    KBK_TEST_GCS_PROJECT: 'kbk-test',
    KBK_TEST_SCHEMA_REGISTRY_URL: schemaRegistryUrl('source'),
    KBK_TEST_SCHEMA_REGISTRY_TARGET_URL: schemaRegistryUrl('target'),
  }
}
