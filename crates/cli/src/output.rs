//! Shared output helpers: lines, aligned text tables and JSON on standard
//! output.
//!
//! Output goes through [`write_line`] so that a closed pipe (`xinyong batch
//! list | head`) ends the program quietly instead of panicking.

use std::io::Write;

use comfy_table::{Table, presets};

/// Prints a line; `outln!` is `println!` that survives a closed pipe.
macro_rules! outln {
    () => { $crate::output::write_line(format_args!("")) };
    ($($arg:tt)*) => { $crate::output::write_line(format_args!($($arg)*)) };
}
pub(crate) use outln;

pub fn write_line(args: std::fmt::Arguments) {
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(args).and_then(|()| out.write_all(b"\n"));
    if let Err(error) = written {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {error}");
        std::process::exit(2);
    }
}
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
        outln!("{}", line.trim_end());
    }
}

pub fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
