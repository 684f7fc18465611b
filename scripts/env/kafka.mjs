// Apache Kafka in KRaft mode for the test environment: jars from Maven Central, one combined
// broker+controller node per cluster, settings that let kbk's tests exercise big messages and
// quick retention without waiting minutes.
import {createHash, randomBytes} from 'node:crypto'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {cacheDir, ensureDir, portOffset, logDir, progress, runLogged, writeFileAtomic} from './lib.mjs'

export const KAFKA_VERSION = '4.2.1'
// Kafka 4.x logs through log4j2; scala-logging and the clients log through slf4j 1.7, so the
// bridge must match that slf4j line (log4j-slf4j-impl, not log4j-slf4j2-impl).
const LOG4J_VERSION = '2.25.4'

const kafkaHome = join(cacheDir, `kafka-${KAFKA_VERSION}`)
const libsDir = join(kafkaHome, 'libs')

export const KAFKA_CLUSTERS = {
  source: {port: 39092 + portOffset, controllerPort: 39093 + portOffset},
  target: {port: 39192 + portOffset, controllerPort: 39193 + portOffset},
}

const MiB = 1024 * 1024

export function kafkaProvisioned() {
  return existsSync(join(kafkaHome, '.complete'))
}

/** Fetch the broker's jars once; a marker file makes a half-finished download count as none. */
export async function provisionKafka() {
  const done = join(kafkaHome, '.complete')
  if (existsSync(done)) return false
  ensureDir(kafkaHome)
  const pom = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kbk.testenv</groupId><artifactId>kafka-broker</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
`
  writeFileSync(join(kafkaHome, 'pom.xml'), pom)
  progress(`fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central (mvn)`)
  await runLogged(
    'mvn',
    ['-B', '-q', `-Dmaven.repo.local=${join(cacheDir, 'm2')}`, 'dependency:copy-dependencies', `-DoutputDirectory=${libsDir}`, '-DincludeScope=runtime'],
    {cwd: kafkaHome, logFile: join(logDir, 'provision-kafka.log')},
  )
  writeFileSync(done, new Date().toISOString() + '\n')
  return true
}

function serverProperties(name, {port, controllerPort}, dataDir) {
  const props = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(dataDir, 'logs'),
    // kbk must create what it needs; a typo in a test must not conjure a topic.
    'auto.create.topics.enable': false,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 4,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    // kbk backs up 10 MiB messages; leave room for batch and header overhead.
    'message.max.bytes': 16 * MiB + 1024,
    'replica.fetch.max.bytes': 16 * MiB + 1024,
    'replica.fetch.response.max.bytes': 32 * MiB,
    'socket.request.max.bytes': 100 * MiB,
    // Tests shrink retention / segment.ms on a topic and expect to see deletion within seconds.
    'log.retention.check.interval.ms': 5000,
    'log.initial.task.delay.ms': 1000,
    'log.segment.delete.delay.ms': 1000,
    'log.cleaner.backoff.ms': 1000,
    'log.cleaner.dedupe.buffer.size': 8 * MiB,
    'num.network.threads': 2,
    'num.io.threads': 4,
    'num.recovery.threads.per.data.dir': 1,
  }
  return `# Written by scripts/env/kafka.mjs for the "${name}" test cluster; edits are overwritten.\n` +
    Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n'
}

function log4jConfig(logFile) {
  return `status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${logFile}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = info
logger.org.name = org.apache.kafka
logger.org.level = info
logger.state.name = state.change.logger
logger.state.level = warn
`
}

/**
 * Write the cluster's config and format its storage on first use. Returns what to run.
 * The JVM command line carries the properties file path, unique per cluster, so the
 * process is recognisable later.
 */
export async function prepareKafkaCluster(name) {
  const cluster = KAFKA_CLUSTERS[name]
  const dir = ensureDir(join(cacheDir, 'kafka-data', name))
  const propsFile = join(dir, 'server.properties')
  const brokerLog = join(logDir, `kafka-${name}.log`)
  const props = serverProperties(name, cluster, dir)
  writeFileAtomic(propsFile, props)
  writeFileAtomic(join(dir, 'log4j2.properties'), log4jConfig(brokerLog))
  const classpath = `${libsDir}/*`
  const jvm = ['-Xms256m', '-Xmx512m', '-XX:+UseG1GC', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`, `-Dkafka.logs.dir=${logDir}`]
  if (!existsSync(join(dir, 'logs', 'meta.properties'))) {
    progress(`formatting KRaft storage for the ${name} cluster`)
    const idFile = join(dir, 'cluster-id')
    if (!existsSync(idFile)) writeFileSync(idFile, randomBytes(16).toString('base64url') + '\n')
    const clusterId = readFileSync(idFile, 'utf8').trim()
    await runLogged('java', [...jvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile, '--ignore-formatted'], {
      logFile: join(logDir, `provision-kafka-${name}.log`),
    })
  }
  return {
    cmd: 'java',
    args: [...jvm, '-cp', classpath, 'kafka.Kafka', propsFile],
    marker: propsFile,
    logFile: join(logDir, `kafka-${name}.out`),
    brokerLog,
    // A broker started from other settings is restarted rather than reused.
    signature: createHash('sha256').update(`${KAFKA_VERSION}\n${props}`).digest('hex').slice(0, 16),
  }
}

const require = createRequire(import.meta.url)

/** Healthy = the broker answers metadata and names an active controller. */
export async function kafkaHealthy(name) {
  const {Kafka, logLevel} = require('kafkajs')
  const kafka = new Kafka({
    clientId: 'kbk-env-health',
    brokers: [`127.0.0.1:${KAFKA_CLUSTERS[name].port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: {retries: 0},
  })
  const admin = kafka.admin()
  try {
    await admin.connect()
    const info = await admin.describeCluster()
    return info.brokers.length === 1 && info.controller !== null && info.controller !== -1
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => {})
  }
}
