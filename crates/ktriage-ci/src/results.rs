//! Result-tree readers.
