//! Financing small firms (DOMAIN.md §8), the pure part: whether a bank may
//! read an enterprise's data ([`consent`]), which loan products fit a
//! financing demand, with the reasons ([`matching`]), the legal moves of a
//! loan application ([`workflow`]), what became of a disbursed loan as
//! its bank reports it ([`outcome`]), one at a time or a file at once
//! ([`outcome_file`]), the credit report's rules
//! ([`report`]), the cultivation pool's rules ([`pool`]) and the
//! financing statistics ([`statistics`]).
//!
//! No database, clock or IO: callers hand in the authorisations, the
//! products, the enterprise's facts and the time.

pub mod consent;
pub mod matching;
pub mod outcome;
pub mod outcome_file;
pub mod pool;
pub mod report;
pub mod statistics;
pub mod workflow;
