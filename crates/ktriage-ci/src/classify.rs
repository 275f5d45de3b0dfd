//! Classification of tests across a window of commits.
