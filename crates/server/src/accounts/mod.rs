//! Accounts: who is asking (sessions, tokens, sign-in with its limits),
//! users and tokens for the admin, the audit log, and the claims through
//! which an account comes to speak for an enterprise.

pub mod api;
pub mod claims;
pub mod pages;
pub mod service;
