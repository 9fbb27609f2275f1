//! The benchmark factor table: one row per entity operating at the start of
//! the final year, twelve factors and the truth, the same on every run.

#![allow(clippy::unwrap_used)]

use sim::SimConfig;

#[test]
fn factor_rows_are_complete_and_repeatable() {
    let config = SimConfig {
        entities: 400,
        seed: 9,
        ..SimConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("a.csv");
    let second = dir.path().join("b.csv");
    let rows = sim::factors::write_csv(&config, &first, |_| {}).unwrap();
    sim::factors::write_csv(&config, &second, |_| {}).unwrap();
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap()
    );
    assert!(rows > 200 && rows < 400, "{rows} of 400 entities operate");

    let mut reader = csv::Reader::from_path(&first).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, sim::factors::COLUMNS);
    let mut violated = 0;
    for record in reader.records() {
        let record = record.unwrap();
        assert_eq!(record.len(), 13);
        let years: f64 = record[0].parse().unwrap();
        assert!(years > 0.0);
        let industry = &record[4];
        assert!(
            industry.len() == 3 && industry.as_bytes()[0].is_ascii_uppercase(),
            "{industry}"
        );
        for column in [1, 2, 3, 6, 7, 8, 9, 10, 11] {
            assert!(record[column].parse::<f64>().unwrap() >= 0.0);
        }
        match &record[12] {
            "1" => violated += 1,
            "0" => {}
            other => panic!("violated is {other}"),
        }
    }
    assert!(violated > 0, "some entities break the law");
}
