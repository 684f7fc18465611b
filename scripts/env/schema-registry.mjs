// A real Confluent-API-compatible schema registry for the test environment: Apicurio Registry
// 2.4.2.Final with in-memory storage, which serves the Confluent API at /apis/ccompat/v7.
// Maven Central carries the application classes (io.apicurio:apicurio-registry-app) but not a
// runnable distribution, so a small Maven project builds a Quarkus fast-jar from them with the
// Quarkus version they were made with (2.16.4.Final, runs on Java 17). Pinned to 2.4.2.Final:
// Central refuses several sibling artifacts that 2.6.x and 3.x need.
import {copyFileSync, existsSync, writeFileSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {join} from 'node:path'
import {cacheDir, ensureDir, logDir, portOffset, progress, runLogged} from './lib.mjs'

export const APICURIO_VERSION = '2.4.2.Final'
const QUARKUS_VERSION = '2.16.4.Final'
// What apicurio-registry 2.4.2.Final's own POM manages (okio.version).
const OKIO_VERSION = '3.3.0'
// Substitutes for two artifacts the app's POMs name but Central does not serve:
// - org.everit.json.schema (a JitPack artifact): com.github.erosb's build has the same classes.
const EVERIT = {groupId: 'com.github.erosb', artifactId: 'everit-json-schema', version: '1.14.2'}
// - the Quarkus deployment artifact of config-index 0.1.18.Final is missing. Quarkus resolves the
//   deployment artifact that the runtime jar names (0.1.18.Final; dependencyManagement does not
//   reach it), and the 0.1.18 runtime must stay (the app calls methods 0.1.10's lacks). So the
//   build gets a file repository holding a "0.1.18.Final" deployment artifact whose jar is
//   0.1.10.Final's (a build step of a few classes) and whose POM names the 0.1.18 runtime.
const CONFIG_INDEX = {runtime: '0.1.18.Final', deploymentJar: '0.1.10.Final'}
const CONFIG_INDEX_DEPLOYMENT = 'apicurio-common-app-components-config-index-deployment'

// Two registries: restores into "another cluster's registry" need one whose IDs differ, and
// Apicurio serves one registry per process (IDs are global to it).
export const SCHEMA_REGISTRY_PORTS = {source: 39500 + portOffset, target: 39501 + portOffset}
// The build directory is named by a digest of the POM, so changing a pin builds afresh (and
// env:up restarts the registries on the new build) instead of reusing a stale one.
const BUILD_ID = createHash('sha256').update(pom()).digest('hex').slice(0, 10)
const home = join(cacheDir, `apicurio-registry-${APICURIO_VERSION}-${BUILD_ID}`)
const runJar = join(home, 'target', 'quarkus-app', 'quarkus-run.jar')

export function schemaRegistryProvisioned() {
  return existsSync(join(home, '.complete'))
}

function pom() {
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kbk.testenv</groupId><artifactId>apicurio-registry</artifactId><version>1</version>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
    <quarkus.package.type>fast-jar</quarkus.package.type>
  </properties>
  <dependencyManagement>
    <dependencies>
      <!-- First declaration wins: okio 3 before the Quarkus BOM, which pins okio 1.17 (its classes
           shadow okio-jvm 3's, and Protobuf schemas then fail with NoSuchFieldError: Companion). -->
      <dependency><groupId>com.squareup.okio</groupId><artifactId>okio</artifactId><version>${OKIO_VERSION}</version></dependency>
      <dependency><groupId>com.squareup.okio</groupId><artifactId>okio-jvm</artifactId><version>${OKIO_VERSION}</version></dependency>
      <!-- Every Quarkus artifact, runtime and deployment, at the version the app was built with. -->
      <dependency>
        <groupId>io.quarkus</groupId><artifactId>quarkus-bom</artifactId><version>${QUARKUS_VERSION}</version>
        <type>pom</type><scope>import</scope>
      </dependency>
    </dependencies>
  </dependencyManagement>
  <repositories>
    <!-- Holds only the substitute deployment artifact written by provisionSchemaRegistry(). -->
    <repository><id>kbk-substitutes</id><url>file://\${project.basedir}/substitutes</url></repository>
  </repositories>
  <dependencies>
    <!-- The app's own dependencies, through its POM; its classes are unpacked below. -->
    <dependency>
      <groupId>io.apicurio</groupId><artifactId>apicurio-registry-app</artifactId><version>${APICURIO_VERSION}</version>
      <type>pom</type>
      <exclusions>
        <exclusion><groupId>*</groupId><artifactId>org.everit.json.schema</artifactId></exclusion>
      </exclusions>
    </dependency>
    <dependency>
      <groupId>${EVERIT.groupId}</groupId><artifactId>${EVERIT.artifactId}</artifactId><version>${EVERIT.version}</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.6.1</version>
        <executions>
          <execution>
            <id>unpack-app</id><phase>process-classes</phase><goals><goal>unpack</goal></goals>
            <configuration>
              <artifactItems>
                <artifactItem>
                  <groupId>io.apicurio</groupId><artifactId>apicurio-registry-app</artifactId><version>${APICURIO_VERSION}</version>
                  <type>jar</type><outputDirectory>\${project.build.outputDirectory}</outputDirectory>
                </artifactItem>
              </artifactItems>
            </configuration>
          </execution>
        </executions>
      </plugin>
      <plugin>
        <groupId>io.quarkus</groupId><artifactId>quarkus-maven-plugin</artifactId><version>${QUARKUS_VERSION}</version>
        <executions>
          <execution><goals><goal>build</goal></goals></execution>
        </executions>
      </plugin>
    </plugins>
  </build>
</project>
`
}

/** Build the fast-jar once; a marker file makes a half-finished build count as none. */
export async function provisionSchemaRegistry() {
  const done = join(home, '.complete')
  if (existsSync(done)) return false
  ensureDir(home)
  const logFile = join(logDir, 'provision-schema-registry.log')
  const repoLocal = `-Dmaven.repo.local=${join(cacheDir, 'm2')}`
  progress(`building Apicurio Registry ${APICURIO_VERSION} (Quarkus ${QUARKUS_VERSION} fast-jar) from Maven Central (mvn)`)
  // The substitute deployment artifact (see CONFIG_INDEX above).
  const subDir = ensureDir(join(home, 'substitutes', 'io', 'apicurio', CONFIG_INDEX_DEPLOYMENT, CONFIG_INDEX.runtime))
  const fetched = ensureDir(join(home, 'fetched'))
  await runLogged('mvn', ['-B', '-q', repoLocal, 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy', `-Dartifact=io.apicurio:${CONFIG_INDEX_DEPLOYMENT}:${CONFIG_INDEX.deploymentJar}:jar`, `-DoutputDirectory=${fetched}`], {cwd: home, logFile})
  const base = `${CONFIG_INDEX_DEPLOYMENT}-${CONFIG_INDEX.runtime}`
  copyFileSync(join(fetched, `${CONFIG_INDEX_DEPLOYMENT}-${CONFIG_INDEX.deploymentJar}.jar`), join(subDir, `${base}.jar`))
  writeFileSync(join(subDir, `${base}.pom`), `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.apicurio</groupId><artifactId>${CONFIG_INDEX_DEPLOYMENT}</artifactId><version>${CONFIG_INDEX.runtime}</version>
  <description>kbk test environment: the ${CONFIG_INDEX.deploymentJar} deployment classes under the version the ${CONFIG_INDEX.runtime} runtime names</description>
  <dependencies>
    <dependency><groupId>io.apicurio</groupId><artifactId>apicurio-common-app-components-config-definitions</artifactId><version>${CONFIG_INDEX.runtime}</version></dependency>
    <dependency><groupId>io.apicurio</groupId><artifactId>apicurio-common-app-components-config-index</artifactId><version>${CONFIG_INDEX.runtime}</version></dependency>
    <dependency><groupId>io.quarkus</groupId><artifactId>quarkus-arc-deployment</artifactId><version>${QUARKUS_VERSION}</version></dependency>
  </dependencies>
</project>
`)
  writeFileSync(join(home, 'pom.xml'), pom())
  // The app's application.properties asks for a legacy jar; the fast-jar starts faster.
  await runLogged('mvn', ['-B', '-q', repoLocal, '-DskipTests', '-Dquarkus.package.type=fast-jar', 'package'], {cwd: home, logFile})
  if (!existsSync(runJar)) throw new Error(`the Apicurio build finished without ${runJar}; see ${join(logDir, 'provision-schema-registry.log')}`)
  writeFileSync(done, new Date().toISOString() + '\n')
  return true
}

export function prepareSchemaRegistry(which) {
  const port = SCHEMA_REGISTRY_PORTS[which]
  return {
    cmd: 'java',
    args: [
      '-Xmx384m', `-Dquarkus.http.port=${port}`, '-Dquarkus.http.host=127.0.0.1',
      // Loopback only, nobody else's data: no auth, quiet logs, no telemetry.
      '-Dregistry.auth.enabled=false', '-Dquarkus.log.level=WARN',
      // The jar path is the marker that recognises our process again.
      '-jar', runJar,
    ],
    cwd: home,
    marker: runJar,
    logFile: join(logDir, `schema-registry-${which}.log`),
    signature: `apicurio-${APICURIO_VERSION}-${BUILD_ID}-${port}`,
  }
}

/** The Confluent-compatible API base that kbk and the tests talk to. */
export function schemaRegistryUrl(which) {
  return `http://127.0.0.1:${SCHEMA_REGISTRY_PORTS[which]}/apis/ccompat/v7`
}
