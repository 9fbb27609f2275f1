//! The public side of credit, the pure part (DOMAIN.md §4, §7): the
//! composite public credit evaluation (公共信用综合评价) by industry
//! scheme (`scheme`, `facts`, `evaluate`), objections (`objection`) and
//! credit repair (`repair`), each a table of moves; lists, their measures
//! and the application scenarios a credit check is made for (`lists`). No IO, no clock: facts and schemes in, grades and their reasons
//! out. The `evaluation` crate computes the facts from the lake and keeps
//! the history in the store.
//!
//! The evaluation is not the supervision class (A–D, confidential, from
//! the risk model) nor the financing grade (from loan outcomes): it is a
//! published rule over an entity's records, which anyone holding the
//! records and the scheme can recompute.

pub mod evaluate;
pub mod facts;
pub mod lists;
pub mod objection;
pub mod repair;
pub mod scheme;

pub use evaluate::{Changes, Evaluation, Scored, changes, evaluate};
pub use facts::{FACTS, Fact, Facts, Value};
pub use scheme::{Scheme, SchemeError, SchemeSet};
