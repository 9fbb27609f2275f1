//! Double random, one public: plans, verifiable draws, tasks and results,
//! the published side.

pub mod api;
pub mod pages;
pub mod service;
