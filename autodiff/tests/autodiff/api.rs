//! Errors, stop_gradient, intermediate inputs, pruning.
use crate::common::*;
