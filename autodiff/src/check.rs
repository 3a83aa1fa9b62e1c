//! Checks shared by the transformations: is a tensor a value of this builder, and can it
//! carry a derivative.

use hlo_builder::{Builder, ElementType, TensorType, Value};

use crate::error::{Error, Result};

/// Checks that `t` is a value of `b` and returns its type.
pub(crate) fn check_value(
    b: &Builder,
    func: &'static str,
    role: &'static str,
    t: Value,
) -> Result<TensorType> {
    match b.ty(t) {
        Ok(ty) => Ok(ty.clone()),
        Err(e) => Err(Error::NotInGraph {
            func,
            role,
            node: t.node().0,
            output: t.output(),
            reason: e.to_string(),
        }),
    }
}

/// Whether values of this element type carry derivatives (the float types).
pub(crate) fn differentiable(t: ElementType) -> bool {
    t.is_float()
}
