//! Shared output helpers: aligned text tables and JSON.

use comfy_table::{Table, presets};
use serde::Serialize;

/// A borderless table whose columns line up, Chinese text included.
pub fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    table.set_header(header.to_vec());
    table
}

/// Prints a table without the one-space padding comfy-table puts at both
/// ends of every line.
pub fn print_table(table: &Table) {
    for line in table.lines() {
        let line = line.strip_prefix(' ').unwrap_or(&line);
        println!("{}", line.trim_end());
    }
}

pub fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
