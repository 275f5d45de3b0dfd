//! End-to-end tests: the real `ktriage` binary over generated repositories.

mod index_cli;
mod support;
mod triage;
