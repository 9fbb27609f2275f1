//! The deterministic synthetic city: Foshan's market entities with a hidden
//! truth, and everything its departments, inspectors, hotline and banks
//! would send the platform.
//!
//! - [`config`]: size, seed, history period, formats, dirt, presets;
//! - [`draw`]: per-entity random streams (ChaCha8) and stable transforms;
//! - [`entity`]: one entity and its truth, from (seed, index) alone;
//! - [`city`]: city-wide facts: authorities, inspector roster, outbreaks;
//! - [`history`]: what departments observe of an entity over time;
//! - [`complaints`]: complaint texts; [`finance`]: banks, products, demands;
//! - [`dirty`]: labelled dirty data; [`feeds`]: batch files in CSV, GBK CSV,
//!   JSON lines and XLSX; [`output`]: the whole city written to a directory.
//!
//! Generation is pure; only [`feeds`] and [`output`] touch the file system.

pub mod city;
pub mod complaints;
pub mod config;
pub mod dirty;
pub mod draw;
pub mod entity;
pub mod factors;
pub mod feeds;
pub mod finance;
pub mod history;
pub mod names;
pub mod output;
pub mod record;
pub mod roster;

pub use config::{Format, Preset, SimConfig};
pub use output::{Manifest, SimError, write_city};
