//! Console-line cleaning.
