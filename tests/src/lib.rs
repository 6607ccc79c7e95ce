//! Shared helpers for the cross-crate end-to-end and interoperability tests in `tests/tests/`.
