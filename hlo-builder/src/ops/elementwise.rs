//! Elementwise primitives: unary and binary math, comparisons, `select`, `clamp` and element
//! type conversions. Operands have one shape (the builder's `add`, `mul`, ... broadcast first).

use super::common::{
    arity, bad_type, check_element_type, complex_part, float_or_complex, int_or_pred, numeric,
    op_enum, same_shape, same_type, Emission, Lowering,
};
use crate::error::{shape_err, Result};
use crate::types::{ElementType, TensorType};

op_enum! {
    /// Elementwise unary primitives.
    pub enum UnaryOp {
        /// `-x`.
        Neg => "neg",
        /// `|x|` (the modulus for complex numbers, as a float).
        Abs => "abs",
        /// -1, 0 or 1 by the sign of `x`.
        Sign => "sign",
        /// `e^x`.
        Exp => "exp",
        /// `e^x - 1`, accurate near 0.
        Expm1 => "expm1",
        /// The natural logarithm.
        Log => "log",
        /// `ln(1 + x)`, accurate near 0.
        Log1p => "log1p",
        /// The square root.
        Sqrt => "sqrt",
        /// `1 / sqrt(x)`.
        Rsqrt => "rsqrt",
        /// The cube root.
        Cbrt => "cbrt",
        /// The hyperbolic tangent.
        Tanh => "tanh",
        /// The sigmoid `1 / (1 + e^-x)`.
        Logistic => "logistic",
        /// The sine.
        Sin => "sin",
        /// The cosine.
        Cos => "cos",
        /// The tangent.
        Tan => "tan",
        /// Round down.
        Floor => "floor",
        /// Round up.
        Ceil => "ceil",
        /// Round half away from zero.
        RoundNearestAfz => "round_nearest_afz",
        /// Round half to even.
        RoundNearestEven => "round_nearest_even",
        /// Bitwise (logical for pred) not.
        Not => "not",
        /// pred result: neither infinite nor NaN.
        IsFinite => "is_finite",
        /// The number of set bits (integers).
        Popcnt => "popcnt",
        /// The number of leading zero bits (integers).
        CountLeadingZeros => "count_leading_zeros",
        /// Real part (complex -> float; identity on floats).
        Real => "real",
        /// Imaginary part (complex -> float; zero on floats).
        Imag => "imag",
    }
}

op_enum! {
    /// Elementwise binary primitives (operands of equal type and shape).
    pub enum BinaryOp {
        /// `a + b`.
        Add => "add",
        /// `a - b`.
        Sub => "sub",
        /// `a * b`.
        Mul => "mul",
        /// `a / b` (integers round toward zero).
        Div => "div",
        /// The remainder of `a / b`, with the sign of `a`.
        Rem => "rem",
        /// `a` to the power `b`.
        Pow => "pow",
        /// The larger of the two.
        Max => "max",
        /// The smaller of the two.
        Min => "min",
        /// The angle of the point `(b, a)`: `atan(a / b)` in the right quadrant.
        Atan2 => "atan2",
        /// Bitwise (logical for pred) and.
        And => "and",
        /// Bitwise (logical for pred) or.
        Or => "or",
        /// Bitwise (logical for pred) exclusive or.
        Xor => "xor",
        /// `a << b` (integers).
        ShiftLeft => "shift_left",
        /// `a >> b` keeping the sign bit (integers).
        ShiftRightArithmetic => "shift_right_arithmetic",
        /// `a >> b` filling with zeros (integers).
        ShiftRightLogical => "shift_right_logical",
        /// Two floats -> complex (real, imaginary).
        Complex => "complex",
    }
}

/// Direction of an elementwise comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComparisonDirection {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `<`
    Lt,
}

impl ComparisonDirection {
    /// Every direction, in declaration order.
    pub const ALL: [ComparisonDirection; 6] = {
        use ComparisonDirection::*;
        [Eq, Ne, Ge, Gt, Le, Lt]
    };
}

/// The elementwise primitives.
#[derive(Debug, Clone, PartialEq)]
pub enum ElementwiseOp {
    /// One operand, same type out (except `is_finite`, `real`, `imag`).
    Unary(UnaryOp),
    /// Two operands of one type and shape.
    Binary(BinaryOp),
    /// Result pred.
    Compare(ComparisonDirection),
    /// operands: pred, on_true, on_false.
    Select,
    /// operands: min, x, max.
    Clamp,
    /// Value conversion to element type `to`.
    Convert {
        /// The target element type.
        to: ElementType,
    },
    /// Bit reinterpretation as element type `to` (see [`bitcast_convert`] for the shapes).
    BitcastConvert {
        /// The target element type.
        to: ElementType,
    },
}

impl ElementwiseOp {
    /// The op's name in errors.
    pub fn name(&self) -> &'static str {
        match self {
            ElementwiseOp::Unary(u) => u.name(),
            ElementwiseOp::Binary(b) => b.name(),
            ElementwiseOp::Compare(_) => "compare",
            ElementwiseOp::Select => "select",
            ElementwiseOp::Clamp => "clamp",
            ElementwiseOp::Convert { .. } => "convert",
            ElementwiseOp::BitcastConvert { .. } => "bitcast_convert",
        }
    }

    /// The shape rule.
    pub fn infer(&self, xs: &[&TensorType]) -> Result<Vec<TensorType>> {
        let op = self.name();
        let out = match self {
            ElementwiseOp::Unary(u) => {
                arity(op, xs, 1)?;
                unary(*u, xs[0])?
            }
            ElementwiseOp::Binary(b) => {
                arity(op, xs, 2)?;
                binary(*b, xs[0], xs[1])?
            }
            ElementwiseOp::Compare(d) => {
                arity(op, xs, 2)?;
                compare(*d, xs[0], xs[1])?
            }
            ElementwiseOp::Select => {
                arity(op, xs, 3)?;
                select(xs[0], xs[1], xs[2])?
            }
            ElementwiseOp::Clamp => {
                arity(op, xs, 3)?;
                clamp(xs[0], xs[1], xs[2])?
            }
            ElementwiseOp::Convert { to } => {
                arity(op, xs, 1)?;
                convert(xs[0], *to)?
            }
            ElementwiseOp::BitcastConvert { to } => {
                arity(op, xs, 1)?;
                bitcast_convert(xs[0], *to)?
            }
        };
        Ok(vec![out])
    }

    /// The lowering table.
    pub fn lower(&self, xs: &[&TensorType]) -> Result<Lowering> {
        Ok(Lowering::Op(match self {
            ElementwiseOp::Unary(u) => Emission::plain(unary_name(*u)),
            ElementwiseOp::Binary(b) => Emission::plain(binary_name(*b)),
            ElementwiseOp::Compare(dir) => {
                let d = match dir {
                    ComparisonDirection::Eq => "EQ",
                    ComparisonDirection::Ne => "NE",
                    ComparisonDirection::Ge => "GE",
                    ComparisonDirection::Gt => "GT",
                    ComparisonDirection::Le => "LE",
                    ComparisonDirection::Lt => "LT",
                };
                // The operand type decides signed/unsigned/float ordering.
                let ct = compare_type(xs.first().map(|t| t.ty).unwrap_or(ElementType::F32));
                Emission::with(
                    "stablehlo.compare",
                    vec![
                        (
                            "comparison_direction",
                            format!("#stablehlo<comparison_direction {d}>"),
                        ),
                        ("compare_type", format!("#stablehlo<comparison_type {ct}>")),
                    ],
                )
            }
            ElementwiseOp::Select => Emission::plain("stablehlo.select"),
            ElementwiseOp::Clamp => Emission::plain("stablehlo.clamp"),
            ElementwiseOp::Convert { .. } => Emission::plain("stablehlo.convert"),
            ElementwiseOp::BitcastConvert { .. } => Emission::plain("stablehlo.bitcast_convert"),
        }))
    }
}

fn compare_type(t: ElementType) -> &'static str {
    if t.is_float() || t.is_complex() {
        "FLOAT"
    } else if t.is_signed_int() {
        "SIGNED"
    } else {
        "UNSIGNED"
    }
}

fn unary_name(u: UnaryOp) -> &'static str {
    use UnaryOp::*;
    match u {
        Neg => "stablehlo.negate",
        Abs => "stablehlo.abs",
        Sign => "stablehlo.sign",
        Exp => "stablehlo.exponential",
        Expm1 => "stablehlo.exponential_minus_one",
        Log => "stablehlo.log",
        Log1p => "stablehlo.log_plus_one",
        Sqrt => "stablehlo.sqrt",
        Rsqrt => "stablehlo.rsqrt",
        Cbrt => "stablehlo.cbrt",
        Tanh => "stablehlo.tanh",
        Logistic => "stablehlo.logistic",
        Sin => "stablehlo.sine",
        Cos => "stablehlo.cosine",
        Tan => "stablehlo.tan",
        Floor => "stablehlo.floor",
        Ceil => "stablehlo.ceil",
        RoundNearestAfz => "stablehlo.round_nearest_afz",
        RoundNearestEven => "stablehlo.round_nearest_even",
        Not => "stablehlo.not",
        IsFinite => "stablehlo.is_finite",
        Popcnt => "stablehlo.popcnt",
        CountLeadingZeros => "stablehlo.count_leading_zeros",
        Real => "stablehlo.real",
        Imag => "stablehlo.imag",
    }
}

fn binary_name(b: BinaryOp) -> &'static str {
    use BinaryOp::*;
    match b {
        Add => "stablehlo.add",
        Sub => "stablehlo.subtract",
        Mul => "stablehlo.multiply",
        Div => "stablehlo.divide",
        Rem => "stablehlo.remainder",
        Pow => "stablehlo.power",
        Max => "stablehlo.maximum",
        Min => "stablehlo.minimum",
        Atan2 => "stablehlo.atan2",
        And => "stablehlo.and",
        Or => "stablehlo.or",
        Xor => "stablehlo.xor",
        ShiftLeft => "stablehlo.shift_left",
        ShiftRightArithmetic => "stablehlo.shift_right_arithmetic",
        ShiftRightLogical => "stablehlo.shift_right_logical",
        Complex => "stablehlo.complex",
    }
}

// ---------------------------------------------------------------- shape rules

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

#[cfg(test)]
mod tests {
    use super::*;
    use ElementType::*;

    fn t(ty: ElementType, d: &[i64]) -> TensorType {
        TensorType::new(ty, d)
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
    fn binary_types() {
        assert!(binary(BinaryOp::Add, &t(F32, &[2]), &t(F32, &[3])).is_err());
        assert!(binary(BinaryOp::Add, &t(F32, &[2]), &t(F64, &[2])).is_err());
        assert_eq!(
            binary(BinaryOp::Complex, &t(F64, &[2]), &t(F64, &[2])).unwrap(),
            t(C128, &[2])
        );
    }

    #[test]
    fn bitcast_shapes() {
        assert_eq!(bitcast_convert(&t(F32, &[2]), U8).unwrap(), t(U8, &[2, 4]));
        assert_eq!(bitcast_convert(&t(U8, &[2, 4]), F32).unwrap(), t(F32, &[2]));
        assert!(bitcast_convert(&t(C64, &[2]), F64).is_err());
    }

    #[test]
    fn type_edges() {
        assert!(compare(ComparisonDirection::Lt, &t(C64, &[2]), &t(C64, &[2])).is_err());
        assert!(compare(ComparisonDirection::Eq, &t(C64, &[2]), &t(C64, &[2])).is_ok());
        assert!(select(&t(Pred, &[2]), &t(F32, &[3]), &t(F32, &[3])).is_err());
        assert!(clamp(&t(F32, &[]), &t(F32, &[3]), &t(F32, &[2])).is_err());
    }
}
