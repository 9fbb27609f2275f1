//! The server's end-to-end suite (tests/server.rs) again, with the state in
//! PostgreSQL: the same tests, consent and the authorisation matrix
//! included. Each data directory gets a database of its own on the server
//! `XINYONG_TEST_POSTGRES` names (default: the local one); without a server
//! the tests say they were skipped, and under CI they fail.

#[path = "server.rs"]
mod suite;
