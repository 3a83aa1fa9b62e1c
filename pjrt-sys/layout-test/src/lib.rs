//! Layout checks live in tests/ and build.rs.
