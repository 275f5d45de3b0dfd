//! End-to-end tests: the real `ktriage` binary over generated repositories.

// Shared with the agent crate's tests; these tests use only the server half of it.
mod ask;
mod ci_cli;
#[allow(dead_code)]
#[path = "../../crates/ktriage-agent/tests/support/mod.rs"]
mod fake_server;
mod index_cli;
mod mcp;
mod overnight;
mod support;
mod triage;
