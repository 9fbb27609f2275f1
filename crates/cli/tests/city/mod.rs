//! A clean synthetic city, generated and ingested by the real binary: the
//! ground the command tests (risk, inspection, complaints) stand on.

use std::path::{Path, PathBuf};

/// A CSV-only city of `entities` entities from `seed`, without dirty rows,
/// written to `dir/city` and ingested into `dir/data`; returns both.
pub fn ingested(dir: &Path, entities: u32, seed: u64) -> (PathBuf, PathBuf) {
    let data = dir.join("data");
    let city = dir.join("city");
    let config = sim::SimConfig {
        entities,
        seed,
        dirty_rate: 0.0,
        formats: vec![sim::Format::Csv],
        ..sim::SimConfig::default()
    };
    sim::write_city(&config, &city, |_| {}).unwrap();
    let xinyong = || testkit::xinyong(env!("CARGO_BIN_EXE_xinyong"), &data, None);
    xinyong().arg("init").assert().success();
    xinyong()
        .args(["ingest", "--manifest"])
        .arg(city.join("manifest.json"))
        .assert()
        .success();
    (data, city)
}
