//! What the rule families share: the rule context (the reverse sweep, handed in so rules that
//! differentiate bodies need not import it), the JVP answer type, and small helpers.

use hlo_builder::{BinaryOp, Builder, Node, TensorType, Value, ValueId};

use crate::check::differentiable;
use crate::error::{Error, Result};

/// Cotangents (or tangents), one per operand (or result); `None` is a symbolic zero.
pub(crate) type Cts = Vec<Option<Value>>;

/// The reverse sweep: cotangents of `wrt` from `(output, cotangent)` seeds, walking nodes
/// from `start` on (see `crate::reverse::backprop`).
pub(crate) type Backprop =
    fn(&mut Builder, &[(ValueId, Value)], &[ValueId], usize) -> Result<Vec<Option<Value>>>;

/// What rules get besides the node: the reverse sweep, for rules that differentiate bodies
/// (loops, branches, calls, decompositions).
#[derive(Clone, Copy)]
pub(crate) struct Cx {
    pub backprop: Backprop,
}

/// A family's answer to "the tangent of this node".
pub(crate) enum Jvp {
    /// The result tangents (`None` = zero).
    Tangents(Cts),
    /// Take the tangent from the node's VJP rule by transposition (the VJP is linear in the
    /// cotangent; differentiating it with respect to the cotangent, seeded with the operand
    /// tangents, gives the JVP). So every op with a VJP has a tangent, and they agree.
    FromVjp,
}

pub(crate) fn ty(b: &Builder, t: Value) -> Result<TensorType> {
    Ok(b.ty(t)?.clone())
}

/// The cotangent of a node's single result (rules for one-result ops are only called with one).
pub(crate) fn first(op: &'static str, cts: &[Option<Value>]) -> Result<Value> {
    cts.first()
        .copied()
        .flatten()
        .ok_or(Error::NotDifferentiable {
            op,
            reason: "internal: called without a cotangent".into(),
        })
}

pub(crate) fn zeros_ty(b: &mut Builder, t: &TensorType) -> Result<Value> {
    Ok(b.splat(t.ty, &t.dims, 0.0)?)
}

pub(crate) fn all_axes(rank: usize) -> Vec<i64> {
    (0..rank as i64).collect()
}

pub(crate) fn sum_all(b: &mut Builder, x: Value) -> Result<Value> {
    let r = ty(b, x)?.rank();
    Ok(b.reduce_sum(x, all_axes(r))?)
}

/// `a + c` with symbolic zeros.
pub(crate) fn add(b: &mut Builder, a: Option<Value>, c: Option<Value>) -> Result<Option<Value>> {
    Ok(match (a, c) {
        (Some(a), Some(c)) => Some(b.binary_same_shape(BinaryOp::Add, a, c)?),
        (a, None) => a,
        (None, c) => c,
    })
}

/// Cotangents of `ys`, zero-filled where `None`.
pub(crate) fn materialize_cts(
    b: &mut Builder,
    ys: &[Value],
    cts: &[Option<Value>],
) -> Result<Vec<Value>> {
    ys.iter()
        .zip(cts)
        .map(|(&y, c)| match c {
            Some(c) => Ok(*c),
            None => Ok(b.zeros_like(y)?),
        })
        .collect()
}

/// Records `f` (a decomposition of the node into simpler ops on the same operands), then
/// differentiates that: used where a rule is easiest to state as "the gradient of this
/// equivalent program".
pub(crate) fn via(
    cx: &Cx,
    b: &mut Builder,
    inputs: &[Value],
    cts: &[Option<Value>],
    want: &[bool],
    f: impl FnOnce(&mut Builder) -> Result<Vec<Value>>,
) -> Result<Cts> {
    let start = b.graph().len();
    let outs = f(b)?;
    if outs.len() != cts.len() {
        return Err(Error::Arity {
            func: "vjp",
            message: format!(
                "a decomposition gave {} results for {} cotangents",
                outs.len(),
                cts.len()
            ),
        });
    }
    let seeds: Vec<(ValueId, Value)> = outs
        .iter()
        .zip(cts)
        .filter_map(|(o, c)| c.map(|c| (o.value(), c)))
        .collect();
    let mut wrt = Vec::new();
    for (k, x) in inputs.iter().enumerate() {
        if want[k] {
            wrt.push(x.value());
        }
    }
    let gs = (cx.backprop)(b, &seeds, &wrt, start)?;
    let mut it = gs.into_iter();
    Ok(want
        .iter()
        .map(|&w| if w { it.next().flatten() } else { None })
        .collect())
}

/// The JVP of an op linear in all its float operands: the op applied to the tangents (zeros
/// for missing float operands, the original values for the others).
pub(crate) fn linear(
    b: &mut Builder,
    node: &Node,
    x: &[Value],
    tin: &[Option<Value>],
) -> Result<Jvp> {
    let mut args = Vec::with_capacity(x.len());
    for (k, &xk) in x.iter().enumerate() {
        let t = b.ty(xk)?.clone();
        args.push(if differentiable(t.ty) {
            match tin[k] {
                Some(tk) => tk,
                None => b.zeros_like(xk)?,
            }
        } else {
            xk
        });
    }
    Ok(Jvp::Tangents(
        b.record(&node.op, &args, &node.regions)?
            .into_iter()
            .map(Some)
            .collect(),
    ))
}

/// The JVP of a bilinear op (dot_general, convolution): `op(tx, y) + op(x, ty)`.
pub(crate) fn bilinear(
    b: &mut Builder,
    node: &Node,
    x: &[Value],
    tin: &[Option<Value>],
) -> Result<Jvp> {
    let l = match tin[0] {
        Some(t) => Some(b.record(&node.op, &[t, x[1]], &node.regions)?[0]),
        None => None,
    };
    let r = match tin[1] {
        Some(t) => Some(b.record(&node.op, &[x[0], t], &node.regions)?[0]),
        None => None,
    };
    Ok(Jvp::Tangents(vec![add(b, l, r)?]))
}

/// A node being differentiated: the node, and its operands and results as handles.
pub(crate) struct At<'a> {
    pub node: &'a Node,
    pub x: Vec<Value>,
    pub y: Vec<Value>,
}
