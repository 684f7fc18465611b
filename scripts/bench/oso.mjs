// OSO kafka-backup as a bench baseline (`npm run bench -- --oso`): its engine is the
// `kafka-backup-core` crate on crates.io; bench/oso/ is a small runner pinned to one version
// (`=` in Cargo.toml, Cargo.lock committed) that runs its backup and restore from OSO's own YAML
// config, as its CLI does. Built with cargo into .cache/oso/ the first time (many minutes on two
// cores: ~400 crates), then cargo's own up-to-date check makes later runs a no-op.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

/**
 * Builds (or finds, up to date) the runner; returns its path, or throws with the reason it cannot
 * (no cargo, or the build failed) so the bench says why the OSO rows are missing.
 */
export function ensureOsoRunner(root, log) {
  const manifest = join(root, 'bench/oso/Cargo.toml')
  const targetDir = join(root, '.cache/oso/target')
  const bin = join(targetDir, 'release/oso-runner')
  const cargo = spawnSync('sh', ['-c', 'command -v cargo'], {encoding: 'utf8'}).stdout.trim()
  if (!cargo) {
    if (existsSync(bin)) return bin
    throw new Error('cargo is not installed: the OSO baseline is built from crates.io with cargo (rustup.rs), skipping it')
  }
  mkdirSync(targetDir, {recursive: true})
  log(`building the OSO runner (bench/oso, kafka-backup-core from crates.io) into ${targetDir}; the first build takes minutes`)
  const t0 = Date.now()
  // --locked: exactly the committed Cargo.lock, so every machine measures the same OSO code.
  const r = spawnSync(cargo, ['build', '--release', '--locked', '--manifest-path', manifest, '--target-dir', targetDir], {stdio: ['ignore', 'inherit', 'inherit']})
  if (r.status !== 0 || !existsSync(bin)) throw new Error(`cargo build of bench/oso failed (exit ${r.status}); see the output above`)
  log(`  OSO runner ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
  return bin
}

/**
 * OSO's backup config, set up as fairly as kbk's bench policy: filesystem store, zstd level 3,
 * stop at the offsets current when it starts (a one-shot backup like `kbk apply`), and no
 * x-original-offset headers (OSO's default adds three headers to every record).
 */
export function osoBackupConfig({dir, backupId, bootstrap, topic, level}) {
  const file = join(dir, 'oso-backup.yaml')
  writeFileSync(file, `mode: backup
backup_id: ${JSON.stringify(backupId)}
source:
  bootstrap_servers: [${JSON.stringify(bootstrap)}]
  topics:
    include: [${JSON.stringify(topic)}]
storage:
  backend: filesystem
  path: ${JSON.stringify(join(dir, 'store'))}
backup:
  compression: zstd
  compression_level: ${level}
  stop_at_current_offsets: true
  include_offset_headers: false
  continuous: false
offset_storage:
  db_path: ${JSON.stringify(join(dir, 'offsets.db'))}
`)
  return file
}

/** OSO's restore of that backup into a topic it creates on the target cluster. */
export function osoRestoreConfig({dir, backupId, bootstrap, topic, targetTopic}) {
  const file = join(dir, 'oso-restore.yaml')
  writeFileSync(file, `mode: restore
backup_id: ${JSON.stringify(backupId)}
target:
  bootstrap_servers: [${JSON.stringify(bootstrap)}]
  topics:
    include: [${JSON.stringify(topic)}]
storage:
  backend: filesystem
  path: ${JSON.stringify(join(dir, 'store'))}
restore:
  topic_mapping:
    ${JSON.stringify(topic)}: ${JSON.stringify(targetTopic)}
  create_topics: true
  include_original_offset_header: false
  checkpoint_state: ${JSON.stringify(join(dir, 'restore-checkpoint.json'))}
`)
  return file
}
