//! The complaint explorer and a business's complaint history: internal
//! records, for the government side only (`Action::ViewInternalRecords`),
//! their texts masked.

pub mod api;
pub mod pages;
pub mod service;
