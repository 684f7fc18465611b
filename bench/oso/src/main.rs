//! oso-runner backup|restore CONFIG.yaml
//!
//! Runs OSO kafka-backup's engine exactly as its CLI does for `backup` and `restore`: the
//! config is OSO's own YAML (kafka_backup_core::Config), written by scripts/bench/oso.mjs.
//! Prints one JSON line with what the engine reported, so the bench can check it.
use kafka_backup_core::{backup::BackupEngine, Config, RestoreEngine};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 || (args[1] != "backup" && args[1] != "restore") {
        eprintln!("usage: oso-runner backup|restore CONFIG.yaml");
        std::process::exit(2);
    }
    let text = std::fs::read_to_string(&args[2]).expect("read config");
    let config: Config = serde_yaml::from_str(&text).expect("parse config");
    if args[1] == "backup" {
        let engine = BackupEngine::new(config).await.expect("backup engine");
        engine.run().await.expect("backup run");
        println!("{{\"mode\":\"backup\",\"ok\":true}}");
    } else {
        let engine = RestoreEngine::new(config).expect("restore engine");
        let report = engine.run().await.expect("restore run");
        println!(
            "{{\"mode\":\"restore\",\"ok\":true,\"records\":{},\"segments\":{}}}",
            report.records_restored, report.segments_processed
        );
    }
}
