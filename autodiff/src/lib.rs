//! Gradients over hlo-builder graphs.
