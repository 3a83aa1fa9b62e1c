//! Linear algebra primitives: `dot_general` and `convolution`.

use super::common::{
    arity, arr, bad_type, bool_attr, check_dims, float_or_complex, i64_attr, int_list, padding,
    same_type, unique_axes, window_out, Emission, Lowering,
};
use crate::error::{shape_err, Result};
use crate::types::{Dims, ElementType, TensorType};

/// Precision hint for `dot_general` and `convolution`, one per operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    #[default]
    /// Whatever the backend picks (may use reduced precision, e.g. bf16 passes on TPUs).
    Default,
    /// More precise than the default (e.g. three bf16 passes).
    High,
    /// Full precision of the element type.
    Highest,
}

/// Which axes of a `dot_general` are batch axes and which are contracted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DotDims {
    /// Batch axes of the left operand (paired with `rhs_batch`).
    pub lhs_batch: Vec<i64>,
    /// Batch axes of the right operand.
    pub rhs_batch: Vec<i64>,
    /// Axes of the left operand summed over (paired with `rhs_contracting`).
    pub lhs_contracting: Vec<i64>,
    /// Axes of the right operand summed over.
    pub rhs_contracting: Vec<i64>,
}

/// The roles of the axes of a convolution's input, kernel and output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConvDims {
    /// The input's batch axis.
    pub input_batch: i64,
    /// The input's feature (channel) axis.
    pub input_feature: i64,
    /// The input's spatial axes, in window order.
    pub input_spatial: Vec<i64>,
    /// The kernel's input-feature axis.
    pub kernel_input_feature: i64,
    /// The kernel's output-feature axis.
    pub kernel_output_feature: i64,
    /// The kernel's spatial axes, in window order.
    pub kernel_spatial: Vec<i64>,
    /// The output's batch axis.
    pub output_batch: i64,
    /// The output's feature axis.
    pub output_feature: i64,
    /// The output's spatial axes, in window order.
    pub output_spatial: Vec<i64>,
}

impl ConvDims {
    /// NHWC input, HWIO kernel, NHWC output with `spatial` spatial axes (TensorFlow's layout).
    pub fn nhwc(spatial: usize) -> ConvDims {
        let s = spatial as i64;
        ConvDims {
            input_batch: 0,
            input_feature: s + 1,
            input_spatial: (1..=s).collect(),
            kernel_input_feature: s,
            kernel_output_feature: s + 1,
            kernel_spatial: (0..s).collect(),
            output_batch: 0,
            output_feature: s + 1,
            output_spatial: (1..=s).collect(),
        }
    }
    /// NCHW input, OIHW kernel, NCHW output (PyTorch's layout).
    pub fn nchw(spatial: usize) -> ConvDims {
        let s = spatial as i64;
        ConvDims {
            input_batch: 0,
            input_feature: 1,
            input_spatial: (2..s + 2).collect(),
            kernel_input_feature: 1,
            kernel_output_feature: 0,
            kernel_spatial: (2..s + 2).collect(),
            output_batch: 0,
            output_feature: 1,
            output_spatial: (2..s + 2).collect(),
        }
    }
}

/// Every attribute of a convolution.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConvConfig {
    /// Step of the window per spatial axis.
    pub window_strides: Vec<i64>,
    /// (low, high) padding per spatial axis.
    pub padding: Vec<(i64, i64)>,
    /// Input dilation per spatial axis (a transposed convolution's stride).
    pub lhs_dilation: Vec<i64>,
    /// Kernel dilation per spatial axis (atrous convolution).
    pub rhs_dilation: Vec<i64>,
    /// Groups of input features convolved separately (depthwise: the feature count).
    pub feature_group_count: i64,
    /// Groups of the batch (used by the kernel gradient of a grouped convolution).
    pub batch_group_count: i64,
    /// The roles of the axes.
    pub dims: ConvDims,
    /// Precision for the input and the kernel.
    pub precision: [Precision; 2],
}

impl ConvConfig {
    /// Stride 1, no padding, no dilation, one group, for `dims`.
    pub fn new(dims: ConvDims) -> ConvConfig {
        let n = dims.input_spatial.len();
        ConvConfig {
            window_strides: vec![1; n],
            padding: vec![(0, 0); n],
            lhs_dilation: vec![1; n],
            rhs_dilation: vec![1; n],
            feature_group_count: 1,
            batch_group_count: 1,
            dims,
            precision: [Precision::Default; 2],
        }
    }
}

/// Which form of the triangular matrix a triangular solve uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Transpose {
    /// `a` itself.
    #[default]
    NoTranspose,
    /// `a` transposed.
    Transpose,
    /// `a` conjugate-transposed (the transpose for real types).
    Adjoint,
}

/// The linear algebra primitives.
#[derive(Debug, Clone, PartialEq)]
pub enum LinalgOp {
    /// operands: lhs, rhs. Result axes: batch, lhs free, rhs free.
    DotGeneral {
        /// Batch and contracting axes.
        dims: DotDims,
        /// Precision for lhs and rhs.
        precision: [Precision; 2],
    },
    /// operands: input, kernel.
    Convolution(Box<ConvConfig>),
    /// operand: `a[..., n, n]`, symmetric (Hermitian) positive definite; only its `lower` (or
    /// upper) triangle is read. Result: the factor `l` with `a = l lᵀ` (lower) or `u` with
    /// `a = uᵀ u`, in that triangle; the other triangle's values are unspecified.
    Cholesky {
        /// Read and write the lower triangle (else the upper).
        lower: bool,
    },
    /// operands: `a[..., n, n]` triangular (its `lower` or upper triangle is read, the
    /// diagonal taken as ones when `unit_diagonal`), `b`. Solves `op(a) x = b` when
    /// `left_side` (`b[..., n, k]`), else `x op(a) = b` (`b[..., k, n]`); `op` per
    /// `transpose_a`. Result: `x`, of `b`'s type.
    TriangularSolve {
        /// `a` is on the left of `x`.
        left_side: bool,
        /// `a` is lower triangular (else upper).
        lower: bool,
        /// Take `a`'s diagonal as ones.
        unit_diagonal: bool,
        /// Use `a`, its transpose or its adjoint.
        transpose_a: Transpose,
    },
}

impl LinalgOp {
    /// The op's name in errors.
    pub fn name(&self) -> &'static str {
        match self {
            LinalgOp::DotGeneral { .. } => "dot_general",
            LinalgOp::Convolution(_) => "convolution",
            LinalgOp::Cholesky { .. } => "cholesky",
            LinalgOp::TriangularSolve { .. } => "triangular_solve",
        }
    }

    /// The shape rule.
    pub fn infer(&self, xs: &[&TensorType]) -> Result<Vec<TensorType>> {
        let n = match self {
            LinalgOp::Cholesky { .. } => 1,
            _ => 2,
        };
        arity(self.name(), xs, n)?;
        Ok(vec![match self {
            LinalgOp::DotGeneral { dims, .. } => dot_general(xs[0], xs[1], dims)?,
            LinalgOp::Convolution(c) => convolution(xs[0], xs[1], c)?,
            LinalgOp::Cholesky { .. } => cholesky(xs[0])?,
            LinalgOp::TriangularSolve { left_side, .. } => {
                triangular_solve(xs[0], xs[1], *left_side)?
            }
        }])
    }

    /// The lowering table.
    pub fn lower(&self) -> Result<Lowering> {
        let mut a: Vec<(&'static str, String)> = Vec::new();
        let name = match self {
            LinalgOp::DotGeneral { dims, precision: p } => {
                let mut parts = Vec::new();
                if !dims.lhs_batch.is_empty() {
                    parts.push(format!(
                        "lhs_batching_dimensions = {}",
                        int_list(&dims.lhs_batch)
                    ));
                    parts.push(format!(
                        "rhs_batching_dimensions = {}",
                        int_list(&dims.rhs_batch)
                    ));
                }
                if !dims.lhs_contracting.is_empty() {
                    parts.push(format!(
                        "lhs_contracting_dimensions = {}",
                        int_list(&dims.lhs_contracting)
                    ));
                    parts.push(format!(
                        "rhs_contracting_dimensions = {}",
                        int_list(&dims.rhs_contracting)
                    ));
                }
                a.push((
                    "dot_dimension_numbers",
                    format!("#stablehlo.dot<{}>", parts.join(", ")),
                ));
                a.push(("precision_config", precision(p)));
                "stablehlo.dot_general"
            }
            LinalgOp::Convolution(c) => {
                a.push(("window_strides", arr(&c.window_strides)));
                if !c.padding.is_empty() {
                    a.push(("padding", padding(&c.padding)));
                }
                a.push(("lhs_dilation", arr(&c.lhs_dilation)));
                a.push(("rhs_dilation", arr(&c.rhs_dilation)));
                a.push(("dimension_numbers", conv_dims(&c.dims)));
                a.push(("feature_group_count", i64_attr(c.feature_group_count)));
                a.push(("batch_group_count", i64_attr(c.batch_group_count)));
                a.push(("precision_config", precision(&c.precision)));
                "stablehlo.convolution"
            }
            LinalgOp::Cholesky { lower } => {
                a.push(("lower", bool_attr(*lower)));
                "stablehlo.cholesky"
            }
            LinalgOp::TriangularSolve {
                left_side,
                lower,
                unit_diagonal,
                transpose_a,
            } => {
                let t = match transpose_a {
                    Transpose::NoTranspose => "NO_TRANSPOSE",
                    Transpose::Transpose => "TRANSPOSE",
                    Transpose::Adjoint => "ADJOINT",
                };
                a.push(("left_side", bool_attr(*left_side)));
                a.push(("lower", bool_attr(*lower)));
                a.push(("unit_diagonal", bool_attr(*unit_diagonal)));
                a.push(("transpose_a", format!("#stablehlo<transpose {t}>")));
                "stablehlo.triangular_solve"
            }
        };
        Ok(Lowering::Op(Emission::with(name, a)))
    }
}

fn precision(p: &[Precision; 2]) -> String {
    let one = |p: Precision| match p {
        Precision::Default => "#stablehlo<precision DEFAULT>",
        Precision::High => "#stablehlo<precision HIGH>",
        Precision::Highest => "#stablehlo<precision HIGHEST>",
    };
    format!("[{}, {}]", one(p[0]), one(p[1]))
}

fn conv_dims(d: &ConvDims) -> String {
    let roles = |rank: usize, a: i64, an: &str, b: i64, bn: &str, sp: &[i64]| -> String {
        let mut v = vec![String::new(); rank];
        if let Some(x) = v.get_mut(a as usize) {
            *x = an.into();
        }
        if let Some(x) = v.get_mut(b as usize) {
            *x = bn.into();
        }
        for (i, &s) in sp.iter().enumerate() {
            if let Some(x) = v.get_mut(s as usize) {
                *x = i.to_string();
            }
        }
        format!("[{}]", v.join(", "))
    };
    let r = d.input_spatial.len() + 2;
    format!(
        "#stablehlo.conv<{}x{}->{}>",
        roles(
            r,
            d.input_batch,
            "b",
            d.input_feature,
            "f",
            &d.input_spatial
        ),
        roles(
            r,
            d.kernel_input_feature,
            "i",
            d.kernel_output_feature,
            "o",
            &d.kernel_spatial
        ),
        roles(
            r,
            d.output_batch,
            "b",
            d.output_feature,
            "f",
            &d.output_spatial
        )
    )
}

// ---------------------------------------------------------------- shape rules

/// `dot_general`: result axes are batch, lhs free, rhs free.
pub fn dot_general(lhs: &TensorType, rhs: &TensorType, d: &DotDims) -> Result<TensorType> {
    let op = "dot_general";
    same_type(op, lhs, rhs)?;
    if lhs.ty == ElementType::Pred {
        return bad_type(op, lhs, "a numeric type");
    }
    if d.lhs_batch.len() != d.rhs_batch.len() {
        return shape_err(
            op,
            format!(
                "batch dimensions {:?} and {:?} differ in count",
                d.lhs_batch, d.rhs_batch
            ),
        );
    }
    if d.lhs_contracting.len() != d.rhs_contracting.len() {
        return shape_err(
            op,
            format!(
                "contracting dimensions {:?} and {:?} differ in count",
                d.lhs_contracting, d.rhs_contracting
            ),
        );
    }
    let lall: Vec<i64> = d
        .lhs_batch
        .iter()
        .chain(&d.lhs_contracting)
        .copied()
        .collect();
    let rall: Vec<i64> = d
        .rhs_batch
        .iter()
        .chain(&d.rhs_contracting)
        .copied()
        .collect();
    unique_axes(op, "lhs batch/contracting", lhs, &lall)?;
    unique_axes(op, "rhs batch/contracting", rhs, &rall)?;
    for (&a, &b) in d.lhs_batch.iter().zip(&d.rhs_batch) {
        if lhs.dims[a as usize] != rhs.dims[b as usize] {
            return shape_err(
                op,
                format!(
                    "batch dimensions differ: lhs {lhs} axis {a} has {}, rhs {rhs} axis {b} has {}",
                    lhs.dims[a as usize], rhs.dims[b as usize]
                ),
            );
        }
    }
    for (&a, &b) in d.lhs_contracting.iter().zip(&d.rhs_contracting) {
        if lhs.dims[a as usize] != rhs.dims[b as usize] {
            return shape_err(op, format!("contracting dimensions differ: lhs {lhs} axis {a} has {}, rhs {rhs} axis {b} has {}", lhs.dims[a as usize], rhs.dims[b as usize]));
        }
    }
    let mut dims: Dims = d.lhs_batch.iter().map(|&a| lhs.dims[a as usize]).collect();
    dims.extend(
        (0..lhs.rank() as i64)
            .filter(|a| !lall.contains(a))
            .map(|a| lhs.dims[a as usize]),
    );
    dims.extend(
        (0..rhs.rank() as i64)
            .filter(|a| !rall.contains(a))
            .map(|a| rhs.dims[a as usize]),
    );
    check_dims(op, &dims)?;
    Ok(TensorType { ty: lhs.ty, dims })
}

/// `convolution` with dimension numbers, groups, dilations and padding.
pub fn convolution(input: &TensorType, kernel: &TensorType, c: &ConvConfig) -> Result<TensorType> {
    let op = "convolution";
    same_type(op, input, kernel)?;
    if !(input.ty.is_float() || input.ty.is_integer() || input.ty.is_complex()) {
        return bad_type(op, input, "a numeric type");
    }
    let n = c.dims.input_spatial.len();
    if input.rank() != n + 2 || kernel.rank() != n + 2 {
        return shape_err(
            op,
            format!(
                "input {input} and kernel {kernel} must both have rank {} for {n} spatial axes",
                n + 2
            ),
        );
    }
    if c.dims.kernel_spatial.len() != n || c.dims.output_spatial.len() != n {
        return shape_err(
            op,
            format!("input, kernel and output must list {n} spatial axes each"),
        );
    }
    let mut ia = vec![c.dims.input_batch, c.dims.input_feature];
    ia.extend(&c.dims.input_spatial);
    unique_axes(op, "input", input, &ia)?;
    let mut ka = vec![c.dims.kernel_input_feature, c.dims.kernel_output_feature];
    ka.extend(&c.dims.kernel_spatial);
    unique_axes(op, "kernel", kernel, &ka)?;
    let out_rank = TensorType::new(input.ty, vec![0; n + 2]);
    let mut oa = vec![c.dims.output_batch, c.dims.output_feature];
    oa.extend(&c.dims.output_spatial);
    unique_axes(op, "output", &out_rank, &oa)?;
    for (name, v) in [
        ("window_strides", &c.window_strides),
        ("lhs_dilation", &c.lhs_dilation),
        ("rhs_dilation", &c.rhs_dilation),
    ] {
        if v.len() != n {
            return shape_err(op, format!("{name} {v:?} must have {n} entries"));
        }
    }
    if c.padding.len() != n {
        return shape_err(op, format!("padding {:?} must have {n} entries", c.padding));
    }
    let (fg, bg) = (c.feature_group_count, c.batch_group_count);
    if fg < 1 || bg < 1 || (fg > 1 && bg > 1) {
        return shape_err(op, format!("feature_group_count {fg} and batch_group_count {bg} must be >= 1 and not both above 1"));
    }
    let in_b = input.dims[c.dims.input_batch as usize];
    let in_f = input.dims[c.dims.input_feature as usize];
    let k_i = kernel.dims[c.dims.kernel_input_feature as usize];
    let k_o = kernel.dims[c.dims.kernel_output_feature as usize];
    if k_i.checked_mul(fg) != Some(in_f) {
        return shape_err(op, format!("input {input} feature axis {} has {in_f}, kernel {kernel} input-feature axis {} has {k_i} (x feature_group_count {fg} = {})", c.dims.input_feature, c.dims.kernel_input_feature, k_i as i128 * fg as i128));
    }
    if k_o % fg != 0 || k_o % bg != 0 {
        return shape_err(op, format!("kernel {kernel} output features {k_o} must be divisible by the group counts ({fg}, {bg})"));
    }
    if in_b % bg != 0 {
        return shape_err(
            op,
            format!("input {input} batch {in_b} must be divisible by batch_group_count {bg}"),
        );
    }
    let mut dims: Dims = smallvec::smallvec![0; n + 2];
    dims[c.dims.output_batch as usize] = in_b / bg;
    dims[c.dims.output_feature as usize] = k_o;
    for i in 0..n {
        let d = input.dims[c.dims.input_spatial[i] as usize];
        let w = kernel.dims[c.dims.kernel_spatial[i] as usize];
        if w < 1 {
            return shape_err(
                op,
                format!(
                    "kernel {kernel} spatial axis {} has size {w}; windows must be at least 1",
                    c.dims.kernel_spatial[i]
                ),
            );
        }
        let (lo, hi) = c.padding[i];
        dims[c.dims.output_spatial[i] as usize] = window_out(
            op,
            i,
            d,
            lo,
            hi,
            c.lhs_dilation[i],
            w,
            c.rhs_dilation[i],
            c.window_strides[i],
        )?;
    }
    check_dims(op, &dims)?;
    Ok(TensorType { ty: input.ty, dims })
}

/// A batch of square matrices `T[..., n, n]` of a float or complex type; returns `n`.
fn square(op: &'static str, what: &str, a: &TensorType) -> Result<i64> {
    if !float_or_complex(a.ty) {
        return bad_type(op, a, "a float or complex type");
    }
    let r = a.rank();
    if r < 2 || a.dims[r - 1] != a.dims[r - 2] {
        return shape_err(
            op,
            format!("{what} {a} must be a batch of square matrices [..., n, n]"),
        );
    }
    Ok(a.dims[r - 1])
}

/// `cholesky`: a batch of square matrices; the factor has the same type.
pub fn cholesky(a: &TensorType) -> Result<TensorType> {
    square("cholesky", "operand", a)?;
    Ok(a.clone())
}

/// `triangular_solve`: `a[..., n, n]` and `b` of the same rank and batch axes, with `n` rows
/// (left side) or `n` columns (right side); the result has `b`'s type.
pub fn triangular_solve(a: &TensorType, b: &TensorType, left_side: bool) -> Result<TensorType> {
    let op = "triangular_solve";
    let n = square(op, "matrix", a)?;
    same_type(op, a, b)?;
    let r = a.rank();
    if b.rank() != r || a.dims[..r - 2] != b.dims[..r - 2] {
        return shape_err(
            op,
            format!("right-hand side {b} must have the batch axes of {a} and rank {r}"),
        );
    }
    let (axis, side) = if left_side {
        (r - 2, "rows")
    } else {
        (r - 1, "columns")
    };
    if b.dims[axis] != n {
        return shape_err(
            op,
            format!(
                "right-hand side {b} has {} {side} (axis {axis}), the {n}x{n} matrix {a} needs {n}",
                b.dims[axis]
            ),
        );
    }
    Ok(b.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ElementType::*;

    fn t(ty: ElementType, d: &[i64]) -> TensorType {
        TensorType::new(ty, d)
    }

    #[test]
    fn dot_general_error_names_axes() {
        let d = DotDims {
            lhs_contracting: vec![1],
            rhs_contracting: vec![0],
            ..Default::default()
        };
        let e = dot_general(&t(F32, &[64, 64]), &t(F32, &[32, 10]), &d)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "dot_general: contracting dimensions differ: lhs f32[64,64] axis 1 has 64, rhs f32[32,10] axis 0 has 32");
        let ok = dot_general(
            &t(F32, &[7, 2, 3]),
            &t(F32, &[7, 3, 5]),
            &DotDims {
                lhs_batch: vec![0],
                rhs_batch: vec![0],
                lhs_contracting: vec![2],
                rhs_contracting: vec![1],
            },
        )
        .unwrap();
        assert_eq!(ok, t(F32, &[7, 2, 5]));
    }

    #[test]
    fn conv_shapes() {
        let mut c = ConvConfig::new(ConvDims::nhwc(2));
        c.window_strides = vec![2, 2];
        c.padding = vec![(1, 1), (1, 1)];
        // 8x8 input, 3x3 kernel, pad 1, stride 2 -> 4x4.
        let o = convolution(&t(F32, &[1, 8, 8, 3]), &t(F32, &[3, 3, 3, 16]), &c).unwrap();
        assert_eq!(o, t(F32, &[1, 4, 4, 16]));
        assert!(convolution(&t(F32, &[1, 8, 8, 4]), &t(F32, &[3, 3, 3, 16]), &c).is_err());
    }

    #[test]
    fn factor_and_solve_shapes() {
        assert_eq!(cholesky(&t(F64, &[2, 3, 3])).unwrap(), t(F64, &[2, 3, 3]));
        assert!(cholesky(&t(F32, &[3, 4])).is_err());
        assert!(cholesky(&t(S32, &[3, 3])).is_err());
        let a = t(F32, &[2, 3, 3]);
        assert_eq!(
            triangular_solve(&a, &t(F32, &[2, 3, 5]), true).unwrap(),
            t(F32, &[2, 3, 5])
        );
        assert_eq!(
            triangular_solve(&a, &t(F32, &[2, 5, 3]), false).unwrap(),
            t(F32, &[2, 5, 3])
        );
        let e = triangular_solve(&a, &t(F32, &[2, 5, 3]), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("f32[2,5,3]") && e.contains("rows"), "{e}");
        assert!(triangular_solve(&a, &t(F32, &[3, 3, 5]), true).is_err());
    }
}
