//! Financing small firms (DOMAIN.md §8), the pure part: whether a bank may
//! read an enterprise's data ([`consent`]) and which loan products fit a
//! financing demand, with the reasons ([`matching`]).
//!
//! No database, clock or IO: callers hand in the authorisations, the
//! products, the enterprise's facts and the time.

pub mod consent;
pub mod matching;
