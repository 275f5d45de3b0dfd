//! Content-addressed index of kernel C source and git history, queried as of any commit.
//!
//! Does not: know about CI results, crash reports or models.
#![deny(missing_docs)]

pub mod facts;
pub mod parse;
