//! JAX fixtures.
use crate::common::*;
