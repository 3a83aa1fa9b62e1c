//! The whole C API through the safe wrappers, on every installed CPU plugin (0.81, 0.106,
//! 0.115) in one process, plus the generated coverage report (`docs/capi_coverage.md`).

mod probe;
