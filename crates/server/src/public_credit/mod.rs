//! The public side of credit: composite evaluations by industry scheme,
//! credit checks for application scenarios, and the lists with their
//! measures.

pub mod api;
pub mod pages;
pub mod service;
