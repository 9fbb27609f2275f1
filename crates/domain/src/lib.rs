//! Codes and rules of the Chinese public credit system, with no IO.
//!
//! - [`uscc`]: the Unified Social Credit Code (GB 32100-2015), the join key
//!   of every record;
//! - [`legacy`]: the identifiers that predate it (organisation code,
//!   registration number) and [`legacy::SubjectId`], which recognises all three;
//! - [`industry`] (GB/T 4754-2017) and [`division`] (GB/T 2260, Foshan);
//! - [`entity_type`]: the registry's entity types and their names;
//! - [`risk`]: the supervision classes A–D;
//! - [`publicity`]: penalty severity, publicity periods and credit repair;
//! - [`catalog`]: the information catalog, the closed list of what the
//!   platform may hold, and the rules its fields must follow;
//! - [`text`]: text leaving the platform — control characters escaped for
//!   terminals, formula prefixes defused for spreadsheets.
//!
//! Every other crate depends on this one; it depends on none of ours.

pub mod catalog;
pub mod division;
pub mod entity_type;
pub mod industry;
pub mod legacy;
pub mod normalise;
pub mod publicity;
pub mod risk;
pub mod text;
pub mod uscc;

pub use catalog::Catalog;
pub use legacy::{OrganisationCode, RegistrationNumber, SubjectId};
pub use normalise::{Normalisation, Normalised};
pub use risk::RiskClass;
pub use uscc::{Uscc, UsccError};
