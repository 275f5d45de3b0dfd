//! Builds the bundled kernel-like example repository with a scripted git history.
#![deny(missing_docs)]
