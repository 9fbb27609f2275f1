//! The public portal, in the manner of 信用中国: its home, the red and
//! black lists with their members, open-data files of public records with
//! their licence, and the public API's documentation and rate limit.

pub mod api;
pub mod pages;
pub mod service;
