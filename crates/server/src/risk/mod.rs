//! Risk: classes A–D with reasons, ranked lists, the model, re-screening.
//! Supervision data: only `Action::ViewRisk` reads it.

pub mod api;
pub mod pages;
pub mod service;
