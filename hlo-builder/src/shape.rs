//! Pure shape and element-type inference for every primitive. Knows nothing of MLIR.
//!
//! Each function takes the operand types and the op's attributes and returns the result
//! type(s), or an [`Error::Shape`] whose message names the shapes and axes at fault.

use crate::error::{shape_err, Error, Result};
use crate::graph::{
    BinaryOp, ComparisonDirection, Computation, ConvConfig, DotDims, GatherDims, RngAlgorithm,
    ScatterDims, UnaryOp, WindowConfig,
};
use crate::types::{Dims, ElementType, TensorType};

/// Largest element count a tensor may have (2^40), so sizes never overflow.
pub const MAX_ELEMENTS: i64 = 1 << 40;

/// Checks that dimensions are non-negative and the element count stays small enough.
pub fn check_dims(op: &'static str, dims: &[i64]) -> Result<()> {
    let mut n: i64 = 1;
    for (i, &d) in dims.iter().enumerate() {
        if d < 0 {
            return shape_err(op, format!("dimension {i} is negative ({d}) in {dims:?}"));
        }
        n = n.saturating_mul(d.max(1));
        if n > MAX_ELEMENTS {
            return shape_err(op, format!("{dims:?} has more than 2^40 elements"));
        }
    }
    if dims.len() > 64 {
        return shape_err(op, format!("rank {} is above the limit of 64", dims.len()));
    }
    Ok(())
}

/// Checks that an element type can be a tensor element (everything but `token`).
pub fn check_element_type(op: &'static str, ty: ElementType) -> Result<()> {
    if ty == ElementType::Token {
        return shape_err(op, "token is not a tensor element type");
    }
    Ok(())
}

fn axis(op: &'static str, what: &str, x: &TensorType, a: i64) -> Result<usize> {
    if a < 0 || a as usize >= x.rank() {
        return shape_err(
            op,
            format!(
                "{what} axis {a} is out of range for {x} (rank {})",
                x.rank()
            ),
        );
    }
    Ok(a as usize)
}

fn unique_axes(op: &'static str, what: &str, x: &TensorType, axes: &[i64]) -> Result<Vec<usize>> {
    let mut seen = vec![false; x.rank()];
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let i = axis(op, what, x, a)?;
        if seen[i] {
            return shape_err(
                op,
                format!("{what} axis {a} appears twice in {axes:?} for {x}"),
            );
        }
        seen[i] = true;
        out.push(i);
    }
    Ok(out)
}

fn same_type(op: &'static str, a: &TensorType, b: &TensorType) -> Result<()> {
    if a.ty != b.ty {
        return shape_err(op, format!("element types differ: {a} and {b}"));
    }
    Ok(())
}

fn same_shape(op: &'static str, a: &TensorType, b: &TensorType) -> Result<()> {
    if a.dims != b.dims {
        return shape_err(op, format!("shapes differ: {a} and {b}"));
    }
    Ok(())
}

fn numeric(t: ElementType) -> bool {
    t.is_integer() || t.is_float() || t.is_complex()
}

fn float_or_complex(t: ElementType) -> bool {
    t.is_float() || t.is_complex()
}

fn int_or_pred(t: ElementType) -> bool {
    t.is_integer() || t == ElementType::Pred
}

/// The float type of a complex type's parts.
pub fn complex_part(t: ElementType) -> Option<ElementType> {
    match t {
        ElementType::C64 => Some(ElementType::F32),
        ElementType::C128 => Some(ElementType::F64),
        _ => None,
    }
}

fn bad_type<T>(op: &'static str, x: &TensorType, wanted: &str) -> Result<T> {
    shape_err(
        op,
        format!("operand {x} has element type {}, expected {wanted}", x.ty),
    )
}

/// Result type of an elementwise unary primitive.
pub fn unary(u: UnaryOp, x: &TensorType) -> Result<TensorType> {
    use UnaryOp::*;
    let op = u.name();
    let ok = |c: bool, wanted: &str| {
        if c {
            Ok(x.clone())
        } else {
            bad_type(op, x, wanted)
        }
    };
    match u {
        Neg => ok(numeric(x.ty), "an integer, float or complex type"),
        Sign => ok(
            x.ty.is_signed_int() || float_or_complex(x.ty),
            "a signed integer, float or complex type",
        ),
        Abs => {
            if let Some(p) = complex_part(x.ty) {
                Ok(x.with_type(p))
            } else {
                ok(
                    x.ty.is_signed_int() || x.ty.is_float(),
                    "a signed integer, float or complex type",
                )
            }
        }
        Exp | Expm1 | Log | Log1p | Sqrt | Rsqrt | Tanh | Logistic | Sin | Cos | Tan => {
            ok(float_or_complex(x.ty), "a float or complex type")
        }
        Cbrt | Floor | Ceil | RoundNearestAfz | RoundNearestEven => {
            ok(x.ty.is_float(), "a float type")
        }
        Not => ok(int_or_pred(x.ty), "pred or an integer type"),
        Popcnt | CountLeadingZeros => ok(x.ty.is_integer(), "an integer type"),
        IsFinite => {
            if x.ty.is_float() {
                Ok(x.with_type(ElementType::Pred))
            } else {
                bad_type(op, x, "a float type")
            }
        }
        Real | Imag => {
            if let Some(p) = complex_part(x.ty) {
                Ok(x.with_type(p))
            } else {
                ok(x.ty.is_float(), "a float or complex type")
            }
        }
    }
}

/// Result type of an elementwise binary primitive (operands of equal shape and type).
pub fn binary(b: BinaryOp, lhs: &TensorType, rhs: &TensorType) -> Result<TensorType> {
    use BinaryOp::*;
    let op = b.name();
    same_shape(op, lhs, rhs)?;
    same_type(op, lhs, rhs)?;
    let t = lhs.ty;
    let ok = |c: bool, wanted: &str| {
        if c {
            Ok(lhs.clone())
        } else {
            bad_type(op, lhs, wanted)
        }
    };
    match b {
        Add | Mul => ok(
            numeric(t) || t == ElementType::Pred,
            "pred or a numeric type",
        ),
        Sub | Div | Pow => ok(numeric(t), "an integer, float or complex type"),
        Rem => ok(t.is_integer() || t.is_float(), "an integer or float type"),
        Max | Min => ok(
            t.is_integer() || t.is_float() || t == ElementType::Pred,
            "pred, an integer or a float type",
        ),
        Atan2 => ok(float_or_complex(t), "a float or complex type"),
        And | Or | Xor => ok(int_or_pred(t), "pred or an integer type"),
        ShiftLeft | ShiftRightArithmetic | ShiftRightLogical => {
            ok(t.is_integer(), "an integer type")
        }
        Complex => match t {
            ElementType::F32 => Ok(lhs.with_type(ElementType::C64)),
            ElementType::F64 => Ok(lhs.with_type(ElementType::C128)),
            _ => bad_type(op, lhs, "f32 or f64"),
        },
    }
}

/// `compare`: equal shapes and types; result pred of that shape.
pub fn compare(dir: ComparisonDirection, lhs: &TensorType, rhs: &TensorType) -> Result<TensorType> {
    same_shape("compare", lhs, rhs)?;
    same_type("compare", lhs, rhs)?;
    if lhs.ty.is_complex() && !matches!(dir, ComparisonDirection::Eq | ComparisonDirection::Ne) {
        return shape_err(
            "compare",
            format!("{lhs} is complex: only EQ and NE are defined, not {dir:?}"),
        );
    }
    Ok(lhs.with_type(ElementType::Pred))
}

/// `select(pred, on_true, on_false)`: pred is pred[] or of the branches' shape.
pub fn select(p: &TensorType, t: &TensorType, f: &TensorType) -> Result<TensorType> {
    if p.ty != ElementType::Pred {
        return shape_err(
            "select",
            format!("condition {p} must have element type pred"),
        );
    }
    same_shape("select", t, f)?;
    same_type("select", t, f)?;
    if p.rank() != 0 && p.dims != t.dims {
        return shape_err(
            "select",
            format!("condition {p} must be a scalar or have the shape of {t}"),
        );
    }
    Ok(t.clone())
}

/// `clamp(min, x, max)`: bounds are scalars or of x's shape, all of x's type.
pub fn clamp(min: &TensorType, x: &TensorType, max: &TensorType) -> Result<TensorType> {
    for (name, b) in [("min", min), ("max", max)] {
        same_type("clamp", b, x)?;
        if b.rank() != 0 && b.dims != x.dims {
            return shape_err(
                "clamp",
                format!("{name} bound {b} must be a scalar or have the shape of {x}"),
            );
        }
    }
    if x.ty.is_complex() {
        return bad_type("clamp", x, "a non-complex type");
    }
    Ok(x.clone())
}

/// `convert`: any element type to any other, same shape.
pub fn convert(x: &TensorType, to: ElementType) -> Result<TensorType> {
    check_element_type("convert", to)?;
    if x.ty.is_complex() && !to.is_complex() {
        return shape_err(
            "convert",
            format!("{x} is complex; take real/imag before converting to {to}"),
        );
    }
    Ok(x.with_type(to))
}

/// `bitcast_convert`: equal widths keep the shape; a narrower target adds a last axis of the
/// width ratio; a wider target consumes a last axis of that ratio.
pub fn bitcast_convert(x: &TensorType, to: ElementType) -> Result<TensorType> {
    let op = "bitcast_convert";
    check_element_type(op, to)?;
    let (a, b) = (x.ty.bit_width() as i64, to.bit_width() as i64);
    if a % 8 != 0 || b % 8 != 0 || a == 0 || b == 0 {
        return shape_err(
            op,
            format!("{x} to {to}: only byte-sized element types can be bitcast"),
        );
    }
    if x.ty.is_complex() != to.is_complex() {
        return shape_err(
            op,
            format!("{x} to {to}: cannot bitcast between real and complex types"),
        );
    }
    if x.ty == ElementType::Pred || to == ElementType::Pred {
        return shape_err(op, format!("{x} to {to}: pred cannot be bitcast"));
    }
    if a == b {
        return Ok(x.with_type(to));
    }
    if a > b {
        let mut dims = x.dims.clone();
        dims.push(a / b);
        return Ok(TensorType { ty: to, dims });
    }
    match x.dims.last() {
        Some(&l) if l == b / a => {
            let mut dims = x.dims.clone();
            dims.pop();
            Ok(TensorType { ty: to, dims })
        }
        _ => shape_err(
            op,
            format!(
                "{x} to {to}: the last axis must have size {} (= {b}/{a} bits)",
                b / a
            ),
        ),
    }
}

/// `reshape`: same element count.
pub fn reshape(x: &TensorType, dims: &[i64]) -> Result<TensorType> {
    check_dims("reshape", dims)?;
    let out = TensorType::new(x.ty, dims);
    if out.element_count() != x.element_count() {
        return shape_err(
            "reshape",
            format!(
                "{x} has {} elements, {out} has {}",
                x.element_count(),
                out.element_count()
            ),
        );
    }
    Ok(out)
}

/// `transpose`: result axis i is operand axis `permutation[i]`.
pub fn transpose(x: &TensorType, permutation: &[i64]) -> Result<TensorType> {
    if permutation.len() != x.rank() {
        return shape_err(
            "transpose",
            format!(
                "permutation {permutation:?} has {} entries, {x} has rank {}",
                permutation.len(),
                x.rank()
            ),
        );
    }
    let axes = unique_axes("transpose", "permutation", x, permutation)?;
    Ok(TensorType {
        ty: x.ty,
        dims: axes.iter().map(|&a| x.dims[a]).collect(),
    })
}

/// `broadcast_in_dim`: operand axis i becomes result axis `broadcast_dimensions[i]`; its size
/// must be 1 or equal to that result axis.
pub fn broadcast_in_dim(
    x: &TensorType,
    dims: &[i64],
    broadcast_dimensions: &[i64],
) -> Result<TensorType> {
    let op = "broadcast_in_dim";
    check_dims(op, dims)?;
    let out = TensorType::new(x.ty, dims);
    if broadcast_dimensions.len() != x.rank() {
        return shape_err(op, format!("broadcast_dimensions {broadcast_dimensions:?} has {} entries, operand {x} has rank {}", broadcast_dimensions.len(), x.rank()));
    }
    let axes = unique_axes(op, "broadcast", &out, broadcast_dimensions)?;
    for (i, &a) in axes.iter().enumerate() {
        if x.dims[i] != 1 && x.dims[i] != out.dims[a] {
            return shape_err(
                op,
                format!(
                    "operand {x} axis {i} has {} but result {out} axis {a} has {}",
                    x.dims[i], out.dims[a]
                ),
            );
        }
    }
    Ok(out)
}

/// `slice`: `start <= limit <= dim`, `stride >= 1`; size `ceil((limit - start) / stride)`.
pub fn slice(x: &TensorType, start: &[i64], limit: &[i64], strides: &[i64]) -> Result<TensorType> {
    let op = "slice";
    if start.len() != x.rank() || limit.len() != x.rank() || strides.len() != x.rank() {
        return shape_err(
            op,
            format!(
                "{x} has rank {}, got start {start:?}, limit {limit:?}, strides {strides:?}",
                x.rank()
            ),
        );
    }
    let mut dims = Dims::new();
    for i in 0..x.rank() {
        let (s, l, st, d) = (start[i], limit[i], strides[i], x.dims[i]);
        if s < 0 || s > l || l > d {
            return shape_err(
                op,
                format!("axis {i} of {x}: need 0 <= start {s} <= limit {l} <= {d}"),
            );
        }
        if st < 1 {
            return shape_err(
                op,
                format!("axis {i} of {x}: stride {st} must be at least 1"),
            );
        }
        dims.push(if l == s { 0 } else { (l - s - 1) / st + 1 });
    }
    Ok(TensorType { ty: x.ty, dims })
}

fn check_start_indices(op: &'static str, x: &TensorType, starts: &[&TensorType]) -> Result<()> {
    if starts.len() != x.rank() {
        return shape_err(
            op,
            format!(
                "{x} has rank {} but {} start indices were given",
                x.rank(),
                starts.len()
            ),
        );
    }
    for (i, s) in starts.iter().enumerate() {
        if s.rank() != 0 || !s.ty.is_integer() {
            return shape_err(
                op,
                format!("start index {i} is {s}, expected an integer scalar"),
            );
        }
        if s.ty != starts[0].ty {
            return shape_err(
                op,
                format!("start indices have different types: {} and {s}", starts[0]),
            );
        }
    }
    Ok(())
}

/// `dynamic_slice`: one integer scalar start per axis; `0 <= slice_sizes[i] <= dims[i]`.
pub fn dynamic_slice(
    x: &TensorType,
    starts: &[&TensorType],
    slice_sizes: &[i64],
) -> Result<TensorType> {
    let op = "dynamic_slice";
    check_start_indices(op, x, starts)?;
    if slice_sizes.len() != x.rank() {
        return shape_err(
            op,
            format!(
                "slice_sizes {slice_sizes:?} has {} entries, {x} has rank {}",
                slice_sizes.len(),
                x.rank()
            ),
        );
    }
    for (i, (&s, &d)) in slice_sizes.iter().zip(&x.dims).enumerate() {
        if s < 0 || s > d {
            return shape_err(op, format!("slice size {s} on axis {i} does not fit {x}"));
        }
    }
    Ok(TensorType::new(x.ty, slice_sizes))
}

/// `dynamic_update_slice`: update of the same rank and type, no larger than the operand.
pub fn dynamic_update_slice(
    x: &TensorType,
    update: &TensorType,
    starts: &[&TensorType],
) -> Result<TensorType> {
    let op = "dynamic_update_slice";
    same_type(op, x, update)?;
    check_start_indices(op, x, starts)?;
    if update.rank() != x.rank() {
        return shape_err(
            op,
            format!("update {update} and operand {x} differ in rank"),
        );
    }
    for i in 0..x.rank() {
        if update.dims[i] > x.dims[i] {
            return shape_err(
                op,
                format!(
                    "update {update} axis {i} has {} but operand {x} has {}",
                    update.dims[i], x.dims[i]
                ),
            );
        }
    }
    Ok(x.clone())
}

/// `concatenate`: equal types and ranks; sizes equal except along `dimension`, which adds up.
pub fn concatenate(xs: &[&TensorType], dimension: i64) -> Result<TensorType> {
    let op = "concatenate";
    let Some(first) = xs.first() else {
        return shape_err(op, "needs at least one operand");
    };
    let d = axis(op, "concatenation", first, dimension)?;
    let mut out = (*first).clone();
    for x in &xs[1..] {
        same_type(op, first, x)?;
        if x.rank() != first.rank() {
            return shape_err(op, format!("{first} and {x} differ in rank"));
        }
        for i in 0..x.rank() {
            if i != d && x.dims[i] != first.dims[i] {
                return shape_err(
                    op,
                    format!(
                        "{first} and {x} differ on axis {i} ({} vs {}), only axis {d} may differ",
                        first.dims[i], x.dims[i]
                    ),
                );
            }
        }
        out.dims[d] += x.dims[d];
    }
    check_dims(op, &out.dims)?;
    Ok(out)
}

/// `pad`: size `low + high + dim + (dim - 1) * interior` per axis; the value is a scalar.
pub fn pad(
    x: &TensorType,
    value: &TensorType,
    low: &[i64],
    high: &[i64],
    interior: &[i64],
) -> Result<TensorType> {
    let op = "pad";
    same_type(op, x, value)?;
    if value.rank() != 0 {
        return shape_err(op, format!("padding value {value} must be a scalar"));
    }
    if low.len() != x.rank() || high.len() != x.rank() || interior.len() != x.rank() {
        return shape_err(
            op,
            format!(
                "{x} has rank {}, got low {low:?}, high {high:?}, interior {interior:?}",
                x.rank()
            ),
        );
    }
    let mut dims = Dims::new();
    for i in 0..x.rank() {
        if interior[i] < 0
            || interior[i] > MAX_ELEMENTS
            || low[i].unsigned_abs() > MAX_ELEMENTS as u64
            || high[i].unsigned_abs() > MAX_ELEMENTS as u64
        {
            return shape_err(
                op,
                format!(
                    "axis {i}: interior padding {} must be >= 0 (low {}, high {})",
                    interior[i], low[i], high[i]
                ),
            );
        }
        let d = x.dims[i];
        let n = low[i] as i128
            + high[i] as i128
            + d as i128
            + (d - 1).max(0) as i128 * interior[i] as i128;
        if n > MAX_ELEMENTS as i128 {
            return shape_err(
                op,
                format!("axis {i} of {x}: padding gives {n} elements, above 2^40"),
            );
        }
        let n = n as i64;
        if n < 0 {
            return shape_err(
                op,
                format!(
                    "axis {i} of {x}: padding low {} high {} leaves a negative size {n}",
                    low[i], high[i]
                ),
            );
        }
        dims.push(n);
    }
    check_dims(op, &dims)?;
    Ok(TensorType { ty: x.ty, dims })
}

/// `reverse`: distinct axes of the operand.
pub fn reverse(x: &TensorType, dimensions: &[i64]) -> Result<TensorType> {
    unique_axes("reverse", "reversed", x, dimensions)?;
    Ok(x.clone())
}

fn sorted_unique(op: &'static str, what: &str, v: &[i64]) -> Result<()> {
    if v.windows(2).any(|w| w[0] >= w[1]) {
        return shape_err(op, format!("{what} {v:?} must be sorted and distinct"));
    }
    Ok(())
}

fn index_vector_len(op: &'static str, indices: &TensorType, ivd: i64) -> Result<(i64, Vec<i64>)> {
    if !indices.ty.is_integer() {
        return shape_err(
            op,
            format!("indices {indices} must have an integer element type"),
        );
    }
    if ivd < 0 || ivd as usize > indices.rank() {
        return shape_err(
            op,
            format!("index_vector_dim {ivd} is out of range for indices {indices}"),
        );
    }
    let ivd = ivd as usize;
    let len = if ivd == indices.rank() {
        1
    } else {
        indices.dims[ivd]
    };
    let batch = indices
        .dims
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != ivd)
        .map(|(_, &d)| d)
        .collect();
    Ok((len, batch))
}

/// `gather` (StableHLO semantics, no batching dims).
pub fn gather(
    x: &TensorType,
    indices: &TensorType,
    dims: &GatherDims,
    slice_sizes: &[i64],
) -> Result<TensorType> {
    let op = "gather";
    let (ilen, batch) = index_vector_len(op, indices, dims.index_vector_dim)?;
    if dims.start_index_map.len() as i64 != ilen {
        return shape_err(op, format!("start_index_map {:?} has {} entries but the index vectors of {indices} have {ilen}", dims.start_index_map, dims.start_index_map.len()));
    }
    unique_axes(op, "start_index_map", x, &dims.start_index_map)?;
    if slice_sizes.len() != x.rank() {
        return shape_err(
            op,
            format!(
                "slice_sizes {slice_sizes:?} has {} entries, operand {x} has rank {}",
                slice_sizes.len(),
                x.rank()
            ),
        );
    }
    for (i, (&s, &d)) in slice_sizes.iter().zip(&x.dims).enumerate() {
        if s < 0 || s > d {
            return shape_err(
                op,
                format!("slice size {s} on axis {i} does not fit operand {x}"),
            );
        }
    }
    sorted_unique(op, "collapsed_slice_dims", &dims.collapsed_slice_dims)?;
    unique_axes(op, "collapsed_slice_dims", x, &dims.collapsed_slice_dims)?;
    for &c in &dims.collapsed_slice_dims {
        if slice_sizes[c as usize] > 1 {
            return shape_err(
                op,
                format!(
                    "collapsed axis {c} has slice size {}, must be at most 1",
                    slice_sizes[c as usize]
                ),
            );
        }
    }
    sorted_unique(op, "offset_dims", &dims.offset_dims)?;
    let kept: Vec<i64> = (0..x.rank() as i64)
        .filter(|a| !dims.collapsed_slice_dims.contains(a))
        .map(|a| slice_sizes[a as usize])
        .collect();
    if kept.len() != dims.offset_dims.len() {
        return shape_err(
            op,
            format!(
                "offset_dims {:?} must have one entry per uncollapsed operand axis ({})",
                dims.offset_dims,
                kept.len()
            ),
        );
    }
    let rank = batch.len() + kept.len();
    let mut out = Dims::new();
    let (mut bi, mut ki) = (0, 0);
    for i in 0..rank as i64 {
        if dims.offset_dims.contains(&i) {
            out.push(kept[ki]);
            ki += 1;
        } else {
            if bi >= batch.len() {
                return shape_err(
                    op,
                    format!(
                        "offset_dims {:?} out of range for result rank {rank}",
                        dims.offset_dims
                    ),
                );
            }
            out.push(batch[bi]);
            bi += 1;
        }
    }
    if ki != kept.len() {
        return shape_err(
            op,
            format!(
                "offset_dims {:?} out of range for result rank {rank}",
                dims.offset_dims
            ),
        );
    }
    check_dims(op, &out)?;
    Ok(TensorType {
        ty: x.ty,
        dims: out,
    })
}

/// Checks a region's signature: parameter types and result types.
pub fn check_region(
    op: &'static str,
    region: &'static str,
    c: &Computation,
    params: &[TensorType],
    results: Option<&[TensorType]>,
) -> Result<Vec<TensorType>> {
    let got = c.param_types();
    if got != params {
        return Err(Error::Region {
            op,
            region,
            message: format!("takes ({}), expected ({})", list(&got), list(params)),
        });
    }
    let res = c.result_types();
    if let Some(want) = results {
        if res != want {
            return Err(Error::Region {
                op,
                region,
                message: format!("returns ({}), expected ({})", list(&res), list(want)),
            });
        }
    }
    Ok(res)
}

/// Formats a list of types for messages.
pub fn list(ts: &[TensorType]) -> String {
    ts.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn scalars(xs: &[&TensorType]) -> Vec<TensorType> {
    xs.iter().map(|x| TensorType::scalar(x.ty)).collect()
}

/// `scatter` (StableHLO semantics, no batching dims). Returns the inputs' types.
pub fn scatter(
    inputs: &[&TensorType],
    indices: &TensorType,
    updates: &[&TensorType],
    dims: &ScatterDims,
    update: &Computation,
) -> Result<Vec<TensorType>> {
    let op = "scatter";
    if inputs.is_empty() || inputs.len() != updates.len() {
        return shape_err(
            op,
            format!(
                "needs N >= 1 inputs and as many updates, got {} and {}",
                inputs.len(),
                updates.len()
            ),
        );
    }
    let x = inputs[0];
    for (i, u) in inputs.iter().zip(updates) {
        same_shape(op, x, i)?;
        same_shape(op, updates[0], u)?;
        same_type(op, i, u)?;
    }
    let (ilen, batch) = index_vector_len(op, indices, dims.index_vector_dim)?;
    let u = updates[0];
    sorted_unique(op, "update_window_dims", &dims.update_window_dims)?;
    unique_axes(op, "update_window_dims", u, &dims.update_window_dims)?;
    sorted_unique(op, "inserted_window_dims", &dims.inserted_window_dims)?;
    unique_axes(op, "inserted_window_dims", x, &dims.inserted_window_dims)?;
    if dims.update_window_dims.len() + dims.inserted_window_dims.len() != x.rank() {
        return shape_err(op, format!("update_window_dims {:?} and inserted_window_dims {:?} must together cover the {} axes of {x}", dims.update_window_dims, dims.inserted_window_dims, x.rank()));
    }
    if dims.scatter_dims_to_operand_dims.len() as i64 != ilen {
        return shape_err(op, format!("scatter_dims_to_operand_dims {:?} must have {ilen} entries (index vector size of {indices})", dims.scatter_dims_to_operand_dims));
    }
    unique_axes(
        op,
        "scatter_dims_to_operand_dims",
        x,
        &dims.scatter_dims_to_operand_dims,
    )?;
    let scatter_dims: Vec<i64> = (0..u.rank() as i64)
        .filter(|a| !dims.update_window_dims.contains(a))
        .map(|a| u.dims[a as usize])
        .collect();
    if scatter_dims != batch {
        return shape_err(op, format!("updates {u} scatter axes {scatter_dims:?} must match the index batch axes {batch:?} of {indices}"));
    }
    let window_operand_axes: Vec<usize> = (0..x.rank())
        .filter(|a| !dims.inserted_window_dims.contains(&(*a as i64)))
        .collect();
    for (k, &ua) in dims.update_window_dims.iter().enumerate() {
        let oa = window_operand_axes[k];
        if u.dims[ua as usize] > x.dims[oa] {
            return shape_err(
                op,
                format!(
                    "updates {u} window axis {ua} has {} but operand {x} axis {oa} has {}",
                    u.dims[ua as usize], x.dims[oa]
                ),
            );
        }
    }
    let s = scalars(inputs);
    let mut params = s.clone();
    params.extend(s.iter().cloned());
    check_region(op, "update", update, &params, Some(&s))?;
    Ok(inputs.iter().map(|t| (*t).clone()).collect())
}

/// `sort`: N operands of one shape; comparator takes (a0, b0, a1, b1, ...) scalars, returns pred[].
pub fn sort(
    xs: &[&TensorType],
    dimension: i64,
    comparator: &Computation,
) -> Result<Vec<TensorType>> {
    let op = "sort";
    let Some(first) = xs.first() else {
        return shape_err(op, "needs at least one operand");
    };
    for x in xs {
        same_shape(op, first, x)?;
    }
    axis(op, "sort", first, dimension)?;
    let mut params = Vec::new();
    for x in xs {
        params.push(TensorType::scalar(x.ty));
        params.push(TensorType::scalar(x.ty));
    }
    check_region(
        op,
        "comparator",
        comparator,
        &params,
        Some(&[TensorType::scalar(ElementType::Pred)]),
    )?;
    Ok(xs.iter().map(|t| (*t).clone()).collect())
}

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

// One spatial axis of a window: its size, padding, dilations and stride, as StableHLO names them.
#[allow(clippy::too_many_arguments)]
fn window_out(
    op: &'static str,
    i: usize,
    d: i64,
    lo: i64,
    hi: i64,
    base_dil: i64,
    w: i64,
    win_dil: i64,
    stride: i64,
) -> Result<i64> {
    if base_dil < 1 || win_dil < 1 || stride < 1 {
        return shape_err(op, format!("spatial axis {i}: strides and dilations must be at least 1 (stride {stride}, dilations {base_dil}, {win_dil})"));
    }
    if w < 0
        || lo.unsigned_abs() > MAX_ELEMENTS as u64
        || hi.unsigned_abs() > MAX_ELEMENTS as u64
        || base_dil > MAX_ELEMENTS
        || win_dil > MAX_ELEMENTS
    {
        return shape_err(
            op,
            format!("spatial axis {i}: window {w} or padding ({lo}, {hi}) out of range"),
        );
    }
    let dilated = if d == 0 {
        0
    } else {
        (d as i128 - 1) * base_dil as i128 + 1
    };
    let padded = dilated + lo as i128 + hi as i128;
    if padded < 0 {
        return shape_err(
            op,
            format!("spatial axis {i}: padding ({lo}, {hi}) makes size {d} negative"),
        );
    }
    let dw = if w == 0 {
        0
    } else {
        (w as i128 - 1) * win_dil as i128 + 1
    };
    Ok(if padded < dw {
        0
    } else {
        (((padded - dw) / stride as i128 + 1).min(MAX_ELEMENTS as i128 + 1)) as i64
    })
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

fn reducer_params(inits: &[&TensorType]) -> Vec<TensorType> {
    let s: Vec<TensorType> = inits.iter().map(|t| (*t).clone()).collect();
    let mut p = s.clone();
    p.extend(s);
    p
}

/// `reduce` over `dimensions`; the body takes (acc..., x...) scalars and returns acc....
pub fn reduce(
    xs: &[&TensorType],
    inits: &[&TensorType],
    dimensions: &[i64],
    body: &Computation,
) -> Result<Vec<TensorType>> {
    let op = "reduce";
    check_inits(op, xs, inits)?;
    unique_axes(op, "reduced", xs[0], dimensions)?;
    let s: Vec<TensorType> = inits.iter().map(|t| (*t).clone()).collect();
    check_region(op, "body", body, &reducer_params(inits), Some(&s))?;
    let dims: Dims = (0..xs[0].rank())
        .filter(|a| !dimensions.contains(&(*a as i64)))
        .map(|a| xs[0].dims[a])
        .collect();
    Ok(inits
        .iter()
        .map(|t| TensorType {
            ty: t.ty,
            dims: dims.clone(),
        })
        .collect())
}

/// `reduce_window` (pooling).
pub fn reduce_window(
    xs: &[&TensorType],
    inits: &[&TensorType],
    w: &WindowConfig,
    body: &Computation,
) -> Result<Vec<TensorType>> {
    let op = "reduce_window";
    check_inits(op, xs, inits)?;
    let x = xs[0];
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
    let s: Vec<TensorType> = inits.iter().map(|t| (*t).clone()).collect();
    check_region(op, "body", body, &reducer_params(inits), Some(&s))?;
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
    Ok(inits
        .iter()
        .map(|t| TensorType {
            ty: t.ty,
            dims: dims.clone(),
        })
        .collect())
}

/// `while`: cond maps the state to pred[], body maps the state to the state.
pub fn while_loop(
    state: &[TensorType],
    cond: &Computation,
    body: &Computation,
) -> Result<Vec<TensorType>> {
    check_region(
        "while",
        "cond",
        cond,
        state,
        Some(&[TensorType::scalar(ElementType::Pred)]),
    )?;
    check_region("while", "body", body, state, Some(state))?;
    Ok(state.to_vec())
}

/// `if` / `case`: every branch takes `args` and they all return the same types.
pub fn branches(
    op: &'static str,
    args: &[TensorType],
    bs: &[&Computation],
) -> Result<Vec<TensorType>> {
    let Some(first) = bs.first() else {
        return shape_err(op, "needs at least one branch");
    };
    let res = check_region(op, "branch 0", first, args, None)?;
    for b in &bs[1..] {
        check_region(op, "branch", b, args, Some(&res))?;
    }
    Ok(res)
}

/// `rng_bit_generator`: the state is `u64[2]` (ThreeFry) or `u64[2]`/`u64[3]` (Philox, default).
pub fn rng_bit_generator(
    state: &TensorType,
    algorithm: RngAlgorithm,
    out: &TensorType,
) -> Result<Vec<TensorType>> {
    let op = "rng_bit_generator";
    let ok_len = match algorithm {
        RngAlgorithm::ThreeFry => state.dims.as_slice() == [2],
        _ => state.dims.as_slice() == [2] || state.dims.as_slice() == [3],
    };
    if !(state.ty == ElementType::U64 && ok_len) {
        return shape_err(
            op,
            format!("state {state} must be u64[2] (or u64[3] for Philox) for {algorithm:?}"),
        );
    }
    // XLA reinterprets signed outputs as unsigned, so their users then see the wrong type
    // (0.115 CPU plugin: "Call parameter must match argument ... s32[] vs u32[]").
    if !(out.ty.is_unsigned_int() && out.ty.bit_width() >= 8) {
        return shape_err(
            op,
            format!(
                "output {out} must have an unsigned integer element type (u8, u16, u32 or u64)"
            ),
        );
    }
    check_dims(op, &out.dims)?;
    Ok(vec![state.clone(), out.clone()])
}

/// Numpy broadcasting of two shapes: align trailing axes; sizes equal or 1.
pub fn broadcast_shapes(op: &'static str, a: &TensorType, b: &TensorType) -> Result<Dims> {
    let r = a.rank().max(b.rank());
    let mut out: Dims = smallvec::smallvec![0; r];
    for i in 0..r {
        let da = if i + a.rank() >= r {
            a.dims[i + a.rank() - r]
        } else {
            1
        };
        let db = if i + b.rank() >= r {
            b.dims[i + b.rank() - r]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return shape_err(
                op,
                format!(
                    "cannot broadcast {a} with {b}: axis {} of the result would need {da} and {db}",
                    i
                ),
            );
        };
    }
    Ok(out)
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
    fn unary_types() {
        assert_eq!(unary(UnaryOp::Abs, &t(C64, &[2])).unwrap(), t(F32, &[2]));
        assert_eq!(
            unary(UnaryOp::IsFinite, &t(F16, &[])).unwrap(),
            t(Pred, &[])
        );
        assert!(unary(UnaryOp::Exp, &t(S32, &[2]))
            .unwrap_err()
            .to_string()
            .contains("s32[2]"));
        assert!(unary(UnaryOp::Popcnt, &t(F32, &[])).is_err());
    }

    #[test]
    fn binary_and_broadcast() {
        assert!(binary(BinaryOp::Add, &t(F32, &[2]), &t(F32, &[3])).is_err());
        assert!(binary(BinaryOp::Add, &t(F32, &[2]), &t(F64, &[2])).is_err());
        assert_eq!(
            binary(BinaryOp::Complex, &t(F64, &[2]), &t(F64, &[2])).unwrap(),
            t(C128, &[2])
        );
        assert_eq!(
            broadcast_shapes("add", &t(F32, &[4, 1, 3]), &t(F32, &[5, 1]))
                .unwrap()
                .as_slice(),
            &[4, 5, 3]
        );
        let e = broadcast_shapes("add", &t(F32, &[4, 3]), &t(F32, &[5]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("f32[4,3]") && e.contains("f32[5]"), "{e}");
    }

    #[test]
    fn movement_shapes() {
        assert_eq!(
            transpose(&t(F32, &[2, 3, 4]), &[2, 0, 1]).unwrap(),
            t(F32, &[4, 2, 3])
        );
        assert!(transpose(&t(F32, &[2, 3]), &[0, 0]).is_err());
        assert!(reshape(&t(F32, &[2, 3]), &[5]).is_err());
        assert_eq!(
            slice(&t(F32, &[10]), &[1], &[8], &[3]).unwrap(),
            t(F32, &[3])
        );
        assert_eq!(
            pad(&t(F32, &[3]), &t(F32, &[]), &[1], &[-1], &[2]).unwrap(),
            t(F32, &[7])
        );
        assert_eq!(
            concatenate(&[&t(F32, &[2, 3]), &t(F32, &[2, 4])], 1).unwrap(),
            t(F32, &[2, 7])
        );
        assert!(concatenate(&[&t(F32, &[2, 3]), &t(F32, &[3, 4])], 1).is_err());
        assert_eq!(
            broadcast_in_dim(&t(F32, &[3]), &[2, 3], &[1]).unwrap(),
            t(F32, &[2, 3])
        );
        assert!(broadcast_in_dim(&t(F32, &[3]), &[2, 3], &[0]).is_err());
        assert_eq!(bitcast_convert(&t(F32, &[2]), U8).unwrap(), t(U8, &[2, 4]));
        assert_eq!(bitcast_convert(&t(U8, &[2, 4]), F32).unwrap(), t(F32, &[2]));
    }

    #[test]
    fn gather_shapes() {
        // Take rows of a [5,3] matrix by a vector of 4 indices -> [4,3].
        let d = GatherDims {
            offset_dims: vec![1],
            collapsed_slice_dims: vec![0],
            start_index_map: vec![0],
            index_vector_dim: 1,
        };
        assert_eq!(
            gather(&t(F32, &[5, 3]), &t(S32, &[4]), &d, &[1, 3]).unwrap(),
            t(F32, &[4, 3])
        );
        assert!(gather(&t(F32, &[5, 3]), &t(S32, &[4]), &d, &[2, 3]).is_err());
    }

    #[test]
    fn conv_shapes() {
        let mut c = ConvConfig::new(crate::graph::ConvDims::nhwc(2));
        c.window_strides = vec![2, 2];
        c.padding = vec![(1, 1), (1, 1)];
        // 8x8 input, 3x3 kernel, pad 1, stride 2 -> 4x4.
        let o = convolution(&t(F32, &[1, 8, 8, 3]), &t(F32, &[3, 3, 3, 16]), &c).unwrap();
        assert_eq!(o, t(F32, &[1, 4, 4, 16]));
        assert!(convolution(&t(F32, &[1, 8, 8, 4]), &t(F32, &[3, 3, 3, 16]), &c).is_err());
    }

    #[test]
    fn dims_checked() {
        assert!(check_dims("x", &[-1]).is_err());
        assert!(check_dims("x", &[1 << 30, 1 << 30]).is_err());
        assert!(check_dims("x", &[0, 1 << 50]).is_err());
        assert!(check_dims("x", &[0, 3]).is_ok());
    }

    fn comp(params: &[TensorType], results: &[TensorType]) -> Computation {
        // A computation whose signature is all the shape rules look at.
        let mut b = crate::Builder::new("c");
        let ps: Vec<_> = params
            .iter()
            .enumerate()
            .map(|(i, p)| b.parameter(format!("a{i}"), p.ty, &p.dims).unwrap())
            .collect();
        let rs: Vec<_> = results
            .iter()
            .map(|r| b.splat(r.ty, &r.dims, 0.0).unwrap())
            .collect();
        let _ = ps;
        b.finish(&rs).unwrap()
    }

    #[test]
    fn reduce_and_window_shapes() {
        let s = t(F32, &[]);
        let body = comp(&[s.clone(), s.clone()], std::slice::from_ref(&s));
        let x = t(F32, &[4, 5, 6]);
        assert_eq!(
            reduce(&[&x], &[&s], &[0, 2], &body).unwrap(),
            vec![t(F32, &[5])]
        );
        assert!(reduce(&[&x], &[&s], &[3], &body).is_err());
        let bad = comp(std::slice::from_ref(&s), std::slice::from_ref(&s));
        assert!(reduce(&[&x], &[&s], &[0], &bad)
            .unwrap_err()
            .to_string()
            .contains("region `body`"));
        // window 2, stride 2, padding (1, 0) on 5 -> (5 + 1 - 2) / 2 + 1 = 3
        let mut w = WindowConfig::new(vec![1, 2, 1], vec![1, 2, 1]);
        w.padding = vec![(0, 0), (1, 0), (0, 0)];
        assert_eq!(
            reduce_window(&[&x], &[&s], &w, &body).unwrap(),
            vec![t(F32, &[4, 3, 6])]
        );
        w.padding[1] = (i64::MIN, 0);
        assert!(reduce_window(&[&x], &[&s], &w, &body).is_err());
        w.padding[1] = (0, 0);
        w.base_dilations[1] = 1 << 39;
        w.window_dilations[1] = 1 << 39;
        // huge dilations: no arithmetic overflow, just a result too large to accept
        let e = reduce_window(&[&x], &[&s], &w, &body)
            .unwrap_err()
            .to_string();
        assert!(e.contains("2^40"), "{e}");
    }

    #[test]
    fn scatter_shapes() {
        let s = t(F32, &[]);
        let upd = comp(&[s.clone(), s.clone()], std::slice::from_ref(&s));
        let d = ScatterDims {
            update_window_dims: vec![1],
            inserted_window_dims: vec![0],
            scatter_dims_to_operand_dims: vec![0],
            index_vector_dim: 1,
        };
        // rows of a [5,3] updated by [2,3] at 2 indices
        assert_eq!(
            scatter(
                &[&t(F32, &[5, 3])],
                &t(S32, &[2, 1]),
                &[&t(F32, &[2, 3])],
                &d,
                &upd
            )
            .unwrap(),
            vec![t(F32, &[5, 3])]
        );
        assert!(scatter(
            &[&t(F32, &[5, 3])],
            &t(S32, &[3, 1]),
            &[&t(F32, &[2, 3])],
            &d,
            &upd
        )
        .is_err());
        assert!(scatter(
            &[&t(F32, &[5, 3])],
            &t(S32, &[2, 1]),
            &[&t(F32, &[2, 4])],
            &d,
            &upd
        )
        .is_err());
    }

    #[test]
    fn overflow_and_type_edges() {
        assert_eq!(
            slice(&t(F32, &[10]), &[0], &[10], &[i64::MAX]).unwrap(),
            t(F32, &[1])
        );
        assert!(pad(&t(F32, &[1 << 30]), &t(F32, &[]), &[0], &[0], &[1 << 30]).is_err());
        assert!(pad(&t(F32, &[3]), &t(F32, &[]), &[i64::MIN], &[0], &[0]).is_err());
        assert!(bitcast_convert(&t(C64, &[2]), F64).is_err());
        assert!(compare(
            crate::graph::ComparisonDirection::Lt,
            &t(C64, &[2]),
            &t(C64, &[2])
        )
        .is_err());
        assert!(compare(
            crate::graph::ComparisonDirection::Eq,
            &t(C64, &[2]),
            &t(C64, &[2])
        )
        .is_ok());
        assert!(select(&t(Pred, &[2]), &t(F32, &[3]), &t(F32, &[3])).is_err());
        assert!(clamp(&t(F32, &[]), &t(F32, &[3]), &t(F32, &[2])).is_err());
        let i = t(S32, &[]);
        assert_eq!(
            dynamic_slice(&t(F32, &[4, 4]), &[&i, &i], &[2, 4]).unwrap(),
            t(F32, &[2, 4])
        );
        let st = t(U64, &[2]);
        assert!(rng_bit_generator(&st, RngAlgorithm::ThreeFry, &t(U32, &[3])).is_ok());
        assert!(rng_bit_generator(&st, RngAlgorithm::ThreeFry, &t(S32, &[3])).is_err());
        assert!(rng_bit_generator(&t(U64, &[3]), RngAlgorithm::ThreeFry, &t(U32, &[3])).is_err());
        assert!(dynamic_slice(&t(F32, &[4, 4]), &[&i], &[2, 4]).is_err());
        assert!(dynamic_slice(&t(F32, &[4, 4]), &[&i, &t(F32, &[])], &[2, 4]).is_err());
    }
}
