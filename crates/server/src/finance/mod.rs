//! Financing small firms: consent and credit reports, products, demands
//! with matching, applications, statistics ([`service`]), and reaching
//! enterprises: the pool, key enterprises, visits, account filings
//! ([`outreach`]).

pub mod api;
pub mod outreach;
pub mod pages;
pub mod service;
