//! Batching: `vmap` records a per-example function once, then walks its graph and records
//! each node again through its family's batching rule (`crate::rules`), keeping for every
//! value the axis that holds the batch (`None`: the value is the same for every example and
//! stays unbatched; a node whose operands are all unbatched is recorded again as it is).
//!
//! The same sweep batches bodies (loops, branches, callees, custom rules: rules get it
//! through `Bx`) and, in place, the part of a graph that depends on some values (the
//! Jacobians batch a VJP or JVP over a basis this way).

use std::collections::HashMap;

use hlo_builder::{Builder, Computation, Node, NodeId, Op, SourceOp, TensorType, Value, ValueId};

use crate::check::check_value;
use crate::error::{Error, Result};
use crate::rules::{self, Batched, Bx};

/// The batching context handed to rules.
pub(crate) const BX: Bx = Bx {
    batch: batch_computation,
};

/// One node batched: recorded as it is when no operand is batched, else by its rule; the
/// rule's results are checked against the node's types (one example each).
fn batch_node(b: &mut Builder, node: &Node, args: &[Batched], n: i64) -> Result<Vec<Batched>> {
    if args.iter().all(|a| a.axis.is_none()) {
        let ts: Vec<Value> = args.iter().map(|a| a.t).collect();
        let r = b.record(&node.op, &ts, &node.regions)?;
        return Ok(r.into_iter().map(Batched::shared).collect());
    }
    let out = rules::batch(&BX, b, node, args, n)?;
    if out.len() != node.types.len() {
        return Err(Error::NotBatchable {
            op: node.op.name(),
            reason: format!(
                "internal: the batching rule gave {} results for {}",
                out.len(),
                node.types.len()
            ),
        });
    }
    for (i, (r, want)) in out.iter().zip(&node.types).enumerate() {
        let got = b.ty(r.t)?.clone();
        let ok = match r.axis {
            None => got == *want,
            Some(a) => {
                a < got.rank() && got.dims[a] == n && {
                    let mut d = got.dims.clone();
                    d.remove(a);
                    got.ty == want.ty && d == want.dims
                }
            }
        };
        if !ok {
            return Err(Error::NotBatchable {
                op: node.op.name(),
                reason: format!(
                    "internal: the batching rule gave {got} (batch axis {:?}, {n} examples) for result {i} of type {want}",
                    r.axis
                ),
            });
        }
    }
    Ok(out)
}

/// Records `c` into `b` batched: its parameters bound to `args`, every node through
/// [`batch_node`]. Returns its results with their batch axes.
pub(crate) fn batch_computation(
    b: &mut Builder,
    c: &Computation,
    args: &[Batched],
    n: i64,
) -> Result<Vec<Batched>> {
    let missing = |v: &ValueId| Error::NotBatchable {
        op: "vmap",
        reason: format!(
            "internal: value %{}#{} of `{}` is not recorded yet",
            v.node.0, v.output, c.name
        ),
    };
    let mut vals: Vec<Vec<Batched>> = Vec::with_capacity(c.graph.len());
    for node in c.graph.nodes() {
        let outs = if let Op::Source(SourceOp::Parameter { index, .. }) = &node.op {
            let a = args.get(*index).copied().ok_or_else(|| Error::Arity {
                func: "vmap",
                message: format!(
                    "`{}` uses parameter {index} but got {} arguments",
                    c.name,
                    args.len()
                ),
            })?;
            vec![a]
        } else {
            let mut ops = Vec::with_capacity(node.operands.len());
            for v in &node.operands {
                let x = vals
                    .get(v.node.index())
                    .and_then(|r| r.get(v.output as usize))
                    .copied()
                    .ok_or_else(|| missing(v))?;
                ops.push(x);
            }
            batch_node(b, node, &ops, n)?
        };
        vals.push(outs);
    }
    c.results
        .iter()
        .map(|v| {
            vals.get(v.node.index())
                .and_then(|r| r.get(v.output as usize))
                .copied()
                .ok_or_else(|| missing(v))
        })
        .collect()
}

/// Batches, in place, the nodes of `b` from `start` on that depend on `seeds` (values bound
/// to batched stand-ins); the others are left as they are. Returns `outputs` batched.
pub(crate) fn batch_in_place(
    b: &mut Builder,
    start: usize,
    seeds: &[(ValueId, Batched)],
    outputs: &[ValueId],
    n: i64,
) -> Result<Vec<Batched>> {
    let end = b.graph().len();
    let mut map: HashMap<ValueId, Batched> = seeds.iter().copied().collect();
    for i in start..end {
        let node = b.graph().nodes()[i].clone();
        if !node.operands.iter().any(|v| map.contains_key(v)) {
            continue;
        }
        let args: Vec<Batched> = node
            .operands
            .iter()
            .map(|v| {
                map.get(v)
                    .copied()
                    .unwrap_or_else(|| Batched::shared(b.tensor(*v)))
            })
            .collect();
        let outs = batch_node(b, &node, &args, n)?;
        for (o, r) in outs.into_iter().enumerate() {
            let v = ValueId {
                node: NodeId(i as u32),
                output: o as u32,
            };
            map.insert(v, r);
        }
    }
    Ok(outputs
        .iter()
        .map(|v| {
            map.get(v)
                .copied()
                .unwrap_or_else(|| Batched::shared(b.tensor(*v)))
        })
        .collect())
}

/// Vectorizes `f` over a batch: records `f` on one example's values, then records it into
/// `b` for all examples at once, each node through its batching rule (no loop over the
/// examples). Returns `f`'s results with the batch at `out_axes`.
///
/// - `args[k]` is batched along axis `in_axes[k]`, or shared by every example (`None`, the
///   value `f` sees as is). All batched arguments have the same size along their batch axis
///   (the number of examples); at least one is batched.
/// - `f` gets one example's values (the batched arguments without their batch axis) in its
///   own builder and may call anything that records into it, including [`crate::grad`],
///   [`crate::jvp`], the Jacobians and `vmap` itself.
/// - `out_axes[i]` is where result `i` gets the batch (an empty slice puts it first for every
///   result); a result that does not depend on a batched argument is broadcast there.
///
/// ```
/// use hlo_builder::{Builder, ElementType::F32};
///
/// // Per-example gradients of a least-squares loss: w shared, (x, y) batched.
/// let mut b = Builder::new("per_example_grads");
/// let w = b.parameter("w", F32, [3])?;
/// let xs = b.parameter("xs", F32, [8, 3])?;
/// let ys = b.parameter("ys", F32, [8])?;
/// let g = autodiff::vmap(
///     &mut b,
///     |b, a| {
///         let (w, x, y) = (a[0], a[1], a[2]);
///         let p = b.mul(w, x)?;
///         let p = b.reduce_sum(p, [0])?;
///         let e = b.sub(p, y)?;
///         let loss = b.mul(e, e)?;
///         autodiff::grad(b, loss, &[w])
///     },
///     &[w, xs, ys],
///     &[None, Some(0), Some(0)],
///     &[0],
/// )?;
/// assert_eq!(b.ty(g[0])?.to_string(), "f32[8,3]");
/// # Ok::<(), autodiff::Error>(())
/// ```
pub fn vmap(
    b: &mut Builder,
    f: impl FnOnce(&mut Builder, &[Value]) -> Result<Vec<Value>>,
    args: &[Value],
    in_axes: &[Option<usize>],
    out_axes: &[usize],
) -> Result<Vec<Value>> {
    let func = "vmap";
    if in_axes.len() != args.len() {
        return Err(Error::Axes {
            func,
            message: format!(
                "{} arguments but {} in_axes entries",
                args.len(),
                in_axes.len()
            ),
        });
    }
    let mut n: Option<(i64, usize)> = None;
    let mut tys: Vec<TensorType> = Vec::with_capacity(args.len());
    for (k, (&a, &ax)) in args.iter().zip(in_axes).enumerate() {
        let mut t = check_value(b, func, "argument", a)?;
        if let Some(ax) = ax {
            if ax >= t.rank() {
                return Err(Error::Axes {
                    func,
                    message: format!(
                        "argument {k} is {t}: in_axes[{k}] = {ax} is not one of its axes"
                    ),
                });
            }
            let size = t.dims[ax];
            match n {
                None => n = Some((size, k)),
                Some((m, first)) if m != size => {
                    return Err(Error::Axes {
                        func,
                        message: format!(
                            "batch sizes differ: argument {k} ({t}) has {size} along axis {ax}, argument {first} has {m}"
                        ),
                    })
                }
                Some(_) => {}
            }
            t.dims.remove(ax);
        }
        tys.push(t);
    }
    let Some((n, _)) = n else {
        return Err(Error::Axes {
            func,
            message: "needs at least one batched argument (every in_axes entry is None)".into(),
        });
    };
    let comp = rules::record_fn("vmap_body", &tys, f)?;
    let batched: Vec<Batched> = args
        .iter()
        .zip(in_axes)
        .map(|(&t, &a)| Batched::new(t, a))
        .collect();
    let outs = batch_computation(b, &comp, &batched, n)?;
    if !out_axes.is_empty() && out_axes.len() != outs.len() {
        return Err(Error::Axes {
            func,
            message: format!(
                "the function returned {} values but out_axes has {} entries",
                outs.len(),
                out_axes.len()
            ),
        });
    }
    let mut res = Vec::with_capacity(outs.len());
    for (i, o) in outs.into_iter().enumerate() {
        let ax = out_axes.get(i).copied().unwrap_or(0);
        let rank = comp
            .graph
            .ty(comp.results[i])
            .map(|t| t.rank())
            .unwrap_or(0);
        if ax > rank {
            return Err(Error::Axes {
                func,
                message: format!(
                    "out_axes[{i}] = {ax} is out of range for result {i} of rank {rank} (plus the batch axis)"
                ),
            });
        }
        res.push(rules::at_axis(b, o, ax, n)?);
    }
    Ok(res)
}
