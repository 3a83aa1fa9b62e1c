//! Reductions and window reductions. The reducer is named when it is a monoid (sum, product,
//! max, min, and, or) and a recorded computation (the node's region) otherwise.

use super::common::{
    arity_at_least, arr, check_dims, padding, same_shape, same_type, unique_axes, window_out,
    Emission, Lowering, Reducer, RegionUse, Signature,
};
use crate::error::{shape_err, Result};
use crate::types::{Dims, TensorType};

/// Window of a `reduce_window`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WindowConfig {
    /// Window size per axis of the input.
    pub dimensions: Vec<i64>,
    /// Step of the window per axis.
    pub strides: Vec<i64>,
    /// Input dilation per axis (holes between input elements).
    pub base_dilations: Vec<i64>,
    /// Window dilation per axis (holes between window elements).
    pub window_dilations: Vec<i64>,
    /// (low, high) padding per axis, filled with the init value.
    pub padding: Vec<(i64, i64)>,
}

impl WindowConfig {
    /// A window of the given sizes and strides, no dilation, no padding.
    pub fn new(dimensions: impl Into<Vec<i64>>, strides: impl Into<Vec<i64>>) -> WindowConfig {
        let dimensions = dimensions.into();
        let n = dimensions.len();
        WindowConfig {
            dimensions,
            strides: strides.into(),
            base_dilations: vec![1; n],
            window_dilations: vec![1; n],
            padding: vec![(0, 0); n],
        }
    }
}

/// The reduction primitives.
#[derive(Debug, Clone, PartialEq)]
pub enum ReduceOp {
    /// operands: N inputs then N scalar init values; the reduced axes are dropped.
    Reduce {
        /// The axes reduced away.
        dimensions: Vec<i64>,
        /// How elements are combined.
        reducer: Reducer,
    },
    /// operands: N inputs then N scalar init values.
    ReduceWindow {
        /// The window slid over the input.
        window: WindowConfig,
        /// How the elements of a window are combined.
        reducer: Reducer,
    },
}

impl ReduceOp {
    /// The op's name in errors.
    pub fn name(&self) -> &'static str {
        match self {
            ReduceOp::Reduce { .. } => "reduce",
            ReduceOp::ReduceWindow { .. } => "reduce_window",
        }
    }

    /// The reducer.
    pub fn reducer(&self) -> Reducer {
        match self {
            ReduceOp::Reduce { reducer, .. } | ReduceOp::ReduceWindow { reducer, .. } => *reducer,
        }
    }

    /// The shape rule.
    pub fn infer(&self, xs: &[&TensorType], regions: &[Signature]) -> Result<Vec<TensorType>> {
        let op = self.name();
        arity_at_least(op, xs, 2)?;
        if xs.len() % 2 != 0 {
            return shape_err(
                op,
                format!(
                    "takes N inputs and N init values, got {} operands",
                    xs.len()
                ),
            );
        }
        let n = xs.len() / 2;
        let (inputs, inits) = xs.split_at(n);
        check_inits(op, inputs, inits)?;
        let reducer = self.reducer();
        if reducer == Reducer::Replace {
            return shape_err(op, "`Replace` combines scatter updates, not reductions");
        }
        for x in inputs {
            reducer.check(op, x)?;
        }
        let s: Vec<TensorType> = inits.iter().map(|t| (*t).clone()).collect();
        reducer.check_regions(op, &s, regions)?;
        let dims = match self {
            ReduceOp::Reduce { dimensions, .. } => reduce(inputs[0], dimensions)?,
            ReduceOp::ReduceWindow { window, .. } => reduce_window(inputs[0], window)?,
        };
        Ok(inits
            .iter()
            .map(|t| TensorType {
                ty: t.ty,
                dims: dims.clone(),
            })
            .collect())
    }

    /// The lowering table.
    pub fn lower(&self, xs: &[&TensorType]) -> Result<Lowering> {
        let n = xs.len() / 2;
        let region = match self.reducer() {
            Reducer::Custom => RegionUse::Block(0),
            k => RegionUse::Reducer(k, xs[n..].iter().map(|t| t.ty).collect()),
        };
        let mut a: Vec<(&'static str, String)> = Vec::new();
        let name = match self {
            ReduceOp::Reduce { dimensions, .. } => {
                a.push(("dimensions", arr(dimensions)));
                "stablehlo.reduce"
            }
            ReduceOp::ReduceWindow { window, .. } => {
                a.push(("window_dimensions", arr(&window.dimensions)));
                a.push(("window_strides", arr(&window.strides)));
                a.push(("base_dilations", arr(&window.base_dilations)));
                a.push(("window_dilations", arr(&window.window_dilations)));
                if !window.padding.is_empty() {
                    a.push(("padding", padding(&window.padding)));
                }
                "stablehlo.reduce_window"
            }
        };
        Ok(Lowering::Op(Emission {
            name,
            attrs: a,
            regions: vec![region],
            passed: None,
        }))
    }
}

fn check_inits(op: &'static str, xs: &[&TensorType], inits: &[&TensorType]) -> Result<()> {
    if xs.is_empty() || xs.len() != inits.len() {
        return shape_err(
            op,
            format!(
                "needs N >= 1 inputs and as many init values, got {} and {}",
                xs.len(),
                inits.len()
            ),
        );
    }
    for (x, i) in xs.iter().zip(inits) {
        same_shape(op, xs[0], x)?;
        if i.rank() != 0 {
            return shape_err(op, format!("init value {i} must be a scalar"));
        }
        same_type(op, x, i)?;
    }
    Ok(())
}

/// `reduce` over `dimensions`: the result dimensions.
pub fn reduce(x: &TensorType, dimensions: &[i64]) -> Result<Dims> {
    unique_axes("reduce", "reduced", x, dimensions)?;
    Ok((0..x.rank())
        .filter(|a| !dimensions.contains(&(*a as i64)))
        .map(|a| x.dims[a])
        .collect())
}

/// `reduce_window` (pooling): the result dimensions.
pub fn reduce_window(x: &TensorType, w: &WindowConfig) -> Result<Dims> {
    let op = "reduce_window";
    let r = x.rank();
    if w.dimensions.len() != r
        || w.strides.len() != r
        || w.base_dilations.len() != r
        || w.window_dilations.len() != r
        || w.padding.len() != r
    {
        return shape_err(
            op,
            format!(
                "window sizes, strides, dilations and padding must each have {r} entries for {x}"
            ),
        );
    }
    let mut dims = Dims::new();
    for i in 0..r {
        if w.dimensions[i] < 1 {
            return shape_err(
                op,
                format!(
                    "window size {} on axis {i} must be at least 1",
                    w.dimensions[i]
                ),
            );
        }
        let (lo, hi) = w.padding[i];
        dims.push(window_out(
            op,
            i,
            x.dims[i],
            lo,
            hi,
            w.base_dilations[i],
            w.dimensions[i],
            w.window_dilations[i],
            w.strides[i],
        )?);
    }
    check_dims(op, &dims)?;
    Ok(dims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ElementType::*;

    fn t(d: &[i64]) -> TensorType {
        TensorType::new(F32, d)
    }

    #[test]
    fn reduce_and_window_shapes() {
        let s = t(&[]);
        let body = Signature {
            name: "body".into(),
            params: vec![s.clone(), s.clone()],
            results: vec![s.clone()],
        };
        let x = t(&[4, 5, 6]);
        let r = |dims: &[i64], b: &Signature| {
            ReduceOp::Reduce {
                dimensions: dims.to_vec(),
                reducer: Reducer::Custom,
            }
            .infer(&[&x, &s], std::slice::from_ref(b))
        };
        assert_eq!(r(&[0, 2], &body).unwrap(), vec![t(&[5])]);
        assert!(r(&[3], &body).is_err());
        let bad = Signature {
            name: "bad".into(),
            params: vec![s.clone()],
            results: vec![s.clone()],
        };
        assert!(r(&[0], &bad)
            .unwrap_err()
            .to_string()
            .contains("region `body`"));
        let sum = ReduceOp::Reduce {
            dimensions: vec![1],
            reducer: Reducer::Sum,
        };
        assert_eq!(sum.infer(&[&x, &s], &[]).unwrap(), vec![t(&[4, 6])]);
        assert!(sum.infer(&[&x, &TensorType::new(S32, [])], &[]).is_err());
        // window 2, stride 2, padding (1, 0) on 5 -> (5 + 1 - 2) / 2 + 1 = 3
        let mut w = WindowConfig::new(vec![1, 2, 1], vec![1, 2, 1]);
        w.padding = vec![(0, 0), (1, 0), (0, 0)];
        assert_eq!(reduce_window(&x, &w).unwrap().as_slice(), &[4, 3, 6]);
        w.padding[1] = (i64::MIN, 0);
        assert!(reduce_window(&x, &w).is_err());
        w.padding[1] = (0, 0);
        w.base_dilations[1] = 1 << 39;
        w.window_dilations[1] = 1 << 39;
        // huge dilations: no arithmetic overflow, just a result too large to accept
        let e = reduce_window(&x, &w).unwrap_err().to_string();
        assert!(e.contains("2^40"), "{e}");
    }
}
