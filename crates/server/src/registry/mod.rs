//! The registry and records: search, full and public profiles, batches,
//! quality, uploads, the catalog.

pub mod api;
pub mod pages;
pub mod service;
