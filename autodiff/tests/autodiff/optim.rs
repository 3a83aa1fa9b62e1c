//! Optimizers.
use crate::common::*;
