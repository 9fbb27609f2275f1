//! Objections (异议) and credit repairs (信用修复): an enterprise contests
//! one of its records or asks for its repair; the owning department
//! decides objections, the credit centre reviews repairs.

pub mod api;
pub mod pages;
pub mod service;
