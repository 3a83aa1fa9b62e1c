//! What the op families share: dimension and axis checks for shape rules, region signatures,
//! reducer kinds, and the textual pieces of StableHLO attributes used by the lowering tables.

use std::fmt::Write as _;

use crate::error::{shape_err, Error, Result};
use crate::types::{ElementType, TensorType};

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

/// Checks a whole tensor type (element type and dimensions).
pub fn check_type(op: &'static str, t: &TensorType) -> Result<()> {
    check_element_type(op, t.ty)?;
    check_dims(op, &t.dims)
}

pub(crate) fn axis(op: &'static str, what: &str, x: &TensorType, a: i64) -> Result<usize> {
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

pub(crate) fn unique_axes(
    op: &'static str,
    what: &str,
    x: &TensorType,
    axes: &[i64],
) -> Result<Vec<usize>> {
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

pub(crate) fn same_type(op: &'static str, a: &TensorType, b: &TensorType) -> Result<()> {
    if a.ty != b.ty {
        return shape_err(op, format!("element types differ: {a} and {b}"));
    }
    Ok(())
}

pub(crate) fn same_shape(op: &'static str, a: &TensorType, b: &TensorType) -> Result<()> {
    if a.dims != b.dims {
        return shape_err(op, format!("shapes differ: {a} and {b}"));
    }
    Ok(())
}

pub(crate) fn numeric(t: ElementType) -> bool {
    t.is_integer() || t.is_float() || t.is_complex()
}

pub(crate) fn float_or_complex(t: ElementType) -> bool {
    t.is_float() || t.is_complex()
}

pub(crate) fn int_or_pred(t: ElementType) -> bool {
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

pub(crate) fn bad_type<T>(op: &'static str, x: &TensorType, wanted: &str) -> Result<T> {
    shape_err(
        op,
        format!("operand {x} has element type {}, expected {wanted}", x.ty),
    )
}

/// Checks that an op got `n` operands.
pub(crate) fn arity(op: &'static str, xs: &[&TensorType], n: usize) -> Result<()> {
    if xs.len() != n {
        return shape_err(op, format!("takes {n} operands, got {}", xs.len()));
    }
    Ok(())
}

/// Checks that an op got at least `n` operands.
pub(crate) fn arity_at_least(op: &'static str, xs: &[&TensorType], n: usize) -> Result<()> {
    if xs.len() < n {
        return shape_err(op, format!("takes at least {n} operands, got {}", xs.len()));
    }
    Ok(())
}

/// Checks that an op got `n` regions (a recorded graph always has the right number; a
/// hand-made `Op` handed to [`crate::Builder::record`] may not).
pub(crate) fn region_count(op: &'static str, regions: &[Signature], n: usize) -> Result<()> {
    if regions.len() != n {
        return shape_err(op, format!("takes {n} region(s), got {}", regions.len()));
    }
    Ok(())
}

/// The signature of a region (a [`crate::Computation`]): what the shape rules look at.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    /// The region's name (for errors).
    pub name: String,
    /// Its parameter types.
    pub params: Vec<TensorType>,
    /// Its result types.
    pub results: Vec<TensorType>,
}

/// Checks a region's signature: parameter types and result types.
pub fn check_region(
    op: &'static str,
    region: &'static str,
    c: &Signature,
    params: &[TensorType],
    results: Option<&[TensorType]>,
) -> Result<Vec<TensorType>> {
    if c.params != params {
        return Err(Error::Region {
            op,
            region,
            message: format!("takes ({}), expected ({})", list(&c.params), list(params)),
        });
    }
    if let Some(want) = results {
        if c.results != want {
            return Err(Error::Region {
                op,
                region,
                message: format!("returns ({}), expected ({})", list(&c.results), list(want)),
            });
        }
    }
    Ok(c.results.clone())
}

/// Formats a list of types for messages.
pub fn list(ts: &[TensorType]) -> String {
    ts.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn scalars(xs: &[&TensorType]) -> Vec<TensorType> {
    xs.iter().map(|x| TensorType::scalar(x.ty)).collect()
}

/// How a reduction, a window reduction or a scatter combines two values. The monoids are
/// named, so the graph says what it means (autodiff reads the kind; the lowering writes the
/// region); anything else is a recorded computation, the op's region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reducer {
    /// `a + b`.
    Sum,
    /// `a * b`.
    Product,
    /// `max(a, b)`.
    Max,
    /// `min(a, b)`.
    Min,
    /// Logical / bitwise and.
    And,
    /// Logical / bitwise or.
    Or,
    /// Keep the new value (scatter only): `(old, new) -> new`.
    Replace,
    /// The op's region (a computation of 2N scalars returning N).
    Custom,
}

impl Reducer {
    /// The StableHLO op combining two scalars, for the named monoids.
    pub fn stablehlo_op(self) -> Option<&'static str> {
        Some(match self {
            Reducer::Sum => "stablehlo.add",
            Reducer::Product => "stablehlo.multiply",
            Reducer::Max => "stablehlo.maximum",
            Reducer::Min => "stablehlo.minimum",
            Reducer::And => "stablehlo.and",
            Reducer::Or => "stablehlo.or",
            Reducer::Replace | Reducer::Custom => return None,
        })
    }

    /// Whether the element type supports this reducer.
    pub(crate) fn check(self, op: &'static str, x: &TensorType) -> Result<()> {
        let t = x.ty;
        let ok = match self {
            Reducer::Sum | Reducer::Product => numeric(t) || t == ElementType::Pred,
            Reducer::Max | Reducer::Min => t.is_integer() || t.is_float() || t == ElementType::Pred,
            Reducer::And | Reducer::Or => int_or_pred(t),
            Reducer::Replace | Reducer::Custom => true,
        };
        if !ok || t.byte_size().is_none() {
            return shape_err(op, format!("{x} cannot be reduced with {self:?}"));
        }
        Ok(())
    }

    /// Checks the operation's regions for this reducer: none for the named kinds (which
    /// combine the N operands pairwise, `(a_i, b_i) -> a_i op b_i`), one of signature
    /// `(T_i..., T_i...) -> T_i...` (scalars of the init types) for `Custom`.
    pub(crate) fn check_regions(
        self,
        op: &'static str,
        inits: &[TensorType],
        regions: &[Signature],
    ) -> Result<()> {
        if self == Reducer::Custom {
            region_count(op, regions, 1)?;
            let mut params = inits.to_vec();
            params.extend(inits.iter().cloned());
            let name = if op == "scatter" { "update" } else { "body" };
            check_region(op, name, &regions[0], &params, Some(inits))?;
            return Ok(());
        }
        region_count(op, regions, 0)?;
        Ok(())
    }
}

/// How an op becomes StableHLO: the table entry each family gives for each of its ops.
#[derive(Debug, Clone, PartialEq)]
pub enum Lowering {
    /// One operation named `name` (with the node's operands, results and these attributes).
    Op(Emission),
    /// No operation: the result is operand `0` itself (an identity such as `stop_gradient`).
    Forward,
    /// A `func.call` of region 0, emitted once per module as a private function.
    Call,
}

/// One StableHLO operation: name, attributes (their textual form) and regions.
#[derive(Debug, Clone, PartialEq)]
pub struct Emission {
    /// The StableHLO operation name (`stablehlo.add`, ...).
    pub name: &'static str,
    /// Attribute names with their values in MLIR's textual form.
    pub attrs: Vec<(&'static str, String)>,
    /// How each of the node's regions is emitted.
    pub regions: Vec<RegionUse>,
    /// How many leading operands are passed; the rest are captured by the regions
    /// (`if`/`case` branches see their arguments without block arguments).
    pub passed: Option<usize>,
}

impl Emission {
    /// An operation without attributes or regions.
    pub fn plain(name: &'static str) -> Emission {
        Emission {
            name,
            attrs: Vec::new(),
            regions: Vec::new(),
            passed: None,
        }
    }
    /// An operation with attributes.
    pub fn with(name: &'static str, attrs: Vec<(&'static str, String)>) -> Emission {
        Emission {
            name,
            attrs,
            regions: Vec::new(),
            passed: None,
        }
    }
}

/// A region of an emitted operation.
#[derive(Debug, Clone, PartialEq)]
pub enum RegionUse {
    /// The node's region `i`, its parameters the block's arguments.
    Block(usize),
    /// [`Block`](Self::Block) ending in this terminator instead of `stablehlo.return`.
    BlockEndingIn(usize, &'static str),
    /// The node's region `i`, its parameters the operands after the passed ones.
    Capture(usize),
    /// A region written by the lowering: `(a..., b...) -> combine(a_i, b_i)` on scalars of
    /// these element types, for a named [`Reducer`].
    Reducer(Reducer, Vec<ElementType>),
}

// ---------------------------------------------------------------- attribute text

/// `array<i64: 1, 2>`.
pub(crate) fn arr(v: &[i64]) -> String {
    if v.is_empty() {
        return "array<i64>".into();
    }
    let mut s = String::from("array<i64: ");
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{x}");
    }
    s.push('>');
    s
}

/// `[1, 2]`.
pub(crate) fn int_list(v: &[i64]) -> String {
    format!(
        "[{}]",
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// `dense<[[lo, hi], ...]> : tensor<Nx2xi64>`.
pub(crate) fn padding(p: &[(i64, i64)]) -> String {
    format!(
        "dense<[{}]> : tensor<{}x2xi64>",
        p.iter()
            .map(|(a, b)| format!("[{a}, {b}]"))
            .collect::<Vec<_>>()
            .join(", "),
        p.len()
    )
}

/// An `i64` integer attribute.
pub(crate) fn i64_attr(v: i64) -> String {
    format!("{v} : i64")
}

pub(crate) fn bool_attr(b: bool) -> String {
    if b {
        "true".into()
    } else {
        "false".into()
    }
}

/// A quoted MLIR string literal (printable ASCII kept, everything else as `\XX`).
pub(crate) fn mlir_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for b in s.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            out.push(b as char);
        } else {
            let _ = write!(out, "\\{b:02X}");
        }
    }
    out.push('"');
    out
}

/// Numpy broadcasting of two shapes: align trailing axes; sizes equal or 1.
pub fn broadcast_shapes(
    op: &'static str,
    a: &TensorType,
    b: &TensorType,
) -> Result<crate::types::Dims> {
    let r = a.rank().max(b.rank());
    let mut out: crate::types::Dims = smallvec::smallvec![0; r];
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

/// The output size of one spatial axis of a window (convolution or window reduction), as
/// StableHLO names its size, padding, dilations and stride.
#[allow(clippy::too_many_arguments)]
pub fn window_out(
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

/// Declares an enum once: its variants with their snake-case names, `ALL` (every variant, in
/// declaration order) and `name()`.
macro_rules! op_enum {
    (
        $(#[$meta:meta])*
        pub enum $ty:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $name:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $ty {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// Snake-case name used in errors.
            pub fn name(self) -> &'static str {
                match self {
                    $( $ty::$variant => $name, )+
                }
            }
        }
    };
}
pub(crate) use op_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dims_checked() {
        assert!(check_dims("x", &[-1]).is_err());
        assert!(check_dims("x", &[1 << 30, 1 << 30]).is_err());
        assert!(check_dims("x", &[0, 1 << 50]).is_err());
        assert!(check_dims("x", &[0, 3]).is_ok());
    }

    #[test]
    fn broadcast() {
        let t = |d: &[i64]| TensorType::new(ElementType::F32, d);
        assert_eq!(
            broadcast_shapes("add", &t(&[4, 1, 3]), &t(&[5, 1]))
                .unwrap()
                .as_slice(),
            &[4, 5, 3]
        );
        let e = broadcast_shapes("add", &t(&[4, 3]), &t(&[5]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("f32[4,3]") && e.contains("f32[5]"), "{e}");
    }
}
