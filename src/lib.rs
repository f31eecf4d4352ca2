//! Examples and integration tests of jwt-guard.
