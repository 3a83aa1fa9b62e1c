//! Gradients over hlo-builder graphs.
pub mod train;
