//! Reads test-farm results and kernel console logs, and turns failures into crash
//! signatures and per-test classes across a branch window.
//!
//! Does not: open git repositories, touch the network, or know about models.
//!
//! - [`clean`]: console-line cleaning (ktest elapsed prefix, printk timestamps, caller ids,
//!   ANSI colour, CRLF, invalid UTF-8).
//! - [`report`]: finds kernel reports in a log and gives each a syzkaller-style signature.
//! - [`results`]: reads result trees (ktest/ktestci layout, dashboard JSON, xfstests, KTAP,
//!   JUnit) into [`results::Run`]s.
//! - [`classify`]: classifies each test over a window of commits and groups by signature.
#![deny(missing_docs)]

pub mod classify;
pub mod clean;
pub mod report;
pub mod results;
pub mod sim;
