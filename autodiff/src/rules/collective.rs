//! Rules of the collectives. The function being differentiated is the whole program across
//! its devices: each replica's cotangent is that of its own outputs, and an input's cotangent
//! sums what every replica's outputs owe it. So a collective's VJP is the collective that
//! moves cotangents back the way values came:
//! - `all_reduce` sum: `y_i = Σ_j x_j`, so `x̄_j = Σ_i ȳ_i`: an `all_reduce` sum of `ȳ`;
//!   max/min: the sum of `ȳ` goes to the members holding the extremum (all of them on ties);
//! - `all_gather` ↔ `reduce_scatter` sum: the gather's block `j` came from member `j`, so its
//!   cotangents are summed over the group and scattered back; and the other way round;
//! - `all_to_all(split s, concat c)` is undone by `all_to_all(split c, concat s)`;
//! - `collective_permute` is undone by the permutation with sources and targets swapped (a
//!   source that reached no target gets zero, as it contributed nothing).
//!
//! - a sharding constraint constrains its cotangent alike; a manual region (`shard_map`) is
//!   undone by a manual region running the body's VJP on each device's shards (values
//!   replicated along some axes: cotangents shared out and summed back; see `manual_vjp`).
//!
//! The sum-reducing collectives, permutes, gathers and constraints are linear, so their
//! tangent is the op on the tangents; max/min reductions and manual regions take theirs from
//! the VJP. The batching rule is the op on the batched operand with its axes shifted past the
//! batch axis; a manual region is recorded again with its body batched and the batch axis
//! first and unsplit in the shardings of its batched inputs and outputs (`batch_manual`).

use hlo_builder::{
    Builder, CollectiveOp, ComparisonDirection, Participants, Reducer, Value, ValueId,
};

use super::common::{
    batch_region, first, front, linear, shift, At, Bat, Batched, Bx, Cts, Cx, Jvp,
};
use crate::error::{not_batchable, not_diff, Result};

/// The VJP of a collective.
pub(crate) fn vjp(
    cx: &Cx,
    b: &mut Builder,
    op: &CollectiveOp,
    at: &At,
    cts: &[Option<Value>],
    want: &[bool],
) -> Result<Cts> {
    if matches!(op, CollectiveOp::ReplicaId | CollectiveOp::PartitionId) {
        return Ok(Vec::new());
    }
    if let CollectiveOp::ManualComputation {
        mesh,
        inputs,
        outputs,
    } = op
    {
        return manual_vjp(cx, b, mesh, inputs, outputs, at, cts, want);
    }
    if !want.first().copied().unwrap_or(false) {
        return Ok(vec![None]);
    }
    let ct = first(op.name(), cts)?;
    let g = match op {
        CollectiveOp::AllReduce { reducer, over } => match reducer {
            Reducer::Sum => b.all_reduce(ct, Reducer::Sum, over.clone())?,
            Reducer::Max | Reducer::Min => {
                // x̄_j = [x_j == y] · Σ_i ȳ_i (y is the same on every member).
                let total = b.all_reduce(ct, Reducer::Sum, over.clone())?;
                let hit = b.compare(ComparisonDirection::Eq, at.x[0], at.y[0])?;
                let zero = b.zeros_like(ct)?;
                b.select(hit, total, zero)?
            }
            Reducer::Product | Reducer::And | Reducer::Or | Reducer::Replace | Reducer::Custom => {
                return not_diff(
                    "all_reduce",
                    format!("no gradient for the {reducer:?} reducer (only sum, max and min)"),
                )
            }
        },
        CollectiveOp::AllGather { dimension, over } => {
            b.reduce_scatter(ct, *dimension, Reducer::Sum, over.clone())?
        }
        CollectiveOp::ReduceScatter {
            dimension,
            reducer,
            over,
        } => match reducer {
            Reducer::Sum => b.all_gather(ct, *dimension, over.clone())?,
            _ => {
                return not_diff(
                    "reduce_scatter",
                    format!("no gradient for the {reducer:?} reducer (only sum)"),
                )
            }
        },
        CollectiveOp::AllToAll {
            split_dimension,
            concat_dimension,
            over,
        } => b.all_to_all(ct, *concat_dimension, *split_dimension, over.clone())?,
        CollectiveOp::CollectivePermute { pairs, channel } => {
            let back: Vec<(i64, i64)> = pairs.iter().map(|&(s, t)| (t, s)).collect();
            b.collective_permute(ct, back, *channel)?
        }
        CollectiveOp::ManualComputation { .. } => return Ok(vec![None]),
        // The identity: the cotangent is split the same way.
        CollectiveOp::ShardingConstraint { sharding } => b.shard(ct, sharding.clone())?,
        CollectiveOp::CollectiveBroadcast { .. } => {
            return not_diff(
                "collective_broadcast",
                "no gradient rule (XLA:CPU cannot run it, so none could be tested)",
            )
        }
        CollectiveOp::ReplicaId | CollectiveOp::PartitionId => return Ok(Vec::new()),
    };
    Ok(vec![Some(g)])
}

/// The VJP of a manual region: a manual region over the same mesh that runs the body and
/// its VJP on each device's shards (the body's collectives have their own rules), taking
/// each output's cotangent split like the output and giving each input's cotangent split
/// like the input. A value split over every mesh axis is one block per device, so each
/// device's local cotangent is exactly its block. A value replicated along some mesh axes is
/// one copy held by every device along them: an output's cotangent is counted once (each of
/// those devices gets its share, the cotangent divided by their number), and an input's
/// cotangent is the sum of the contributions of all of them (an all-reduce over the groups
/// of devices that differ only along those axes). With these two rules a replicated output
/// made by an all-reduce and one computed alike on every device both get the gradient of
/// the unsharded function.
#[allow(clippy::too_many_arguments)]
fn manual_vjp(
    cx: &Cx,
    b: &mut Builder,
    mesh: &hlo_builder::Mesh,
    inputs: &[hlo_builder::Sharding],
    outputs: &[hlo_builder::Sharding],
    at: &At,
    cts: &[Option<Value>],
    want: &[bool],
) -> Result<Cts> {
    // For each value, the mesh axes it is replicated along (not named by its sharding).
    let replicated = |s: &hlo_builder::Sharding| -> Vec<usize> {
        let named: std::collections::BTreeSet<&String> = s.dims().iter().flatten().collect();
        (0..mesh.axes().len())
            .filter(|&a| !named.contains(&mesh.axes()[a].0))
            .collect()
    };
    // How many devices hold each output's one copy, and the device groups (global device
    // ids = partition ids, row-major over the mesh) that sum each input's cotangent.
    let copies: Vec<i64> = outputs
        .iter()
        .map(|s| replicated(s).iter().map(|&a| mesh.axes()[a].1).product())
        .collect();
    let groups: Vec<Option<Vec<Vec<i64>>>> = inputs
        .iter()
        .map(|s| {
            let rep = replicated(s);
            if rep.is_empty() {
                return None;
            }
            let mut by_key: std::collections::BTreeMap<Vec<i64>, Vec<i64>> = Default::default();
            for p in 0..mesh.size() {
                let c = mesh.coordinates(p);
                let key: Vec<i64> = (0..c.len())
                    .filter(|a| !rep.contains(a))
                    .map(|a| c[a])
                    .collect();
                by_key.entry(key).or_default().push(p as i64);
            }
            Some(by_key.into_values().collect())
        })
        .collect();
    if !want.iter().any(|&w| w) {
        return Ok(vec![None; at.x.len()]);
    }
    let body = at.node.regions.first().cloned().ok_or_else(|| {
        crate::Error::Builder(hlo_builder::Error::Shape {
            op: "shard_map",
            message: "internal: no body".into(),
        })
    })?;
    let mut args = at.x.clone();
    for (j, c) in cts.iter().enumerate() {
        args.push(match c {
            Some(c) => *c,
            None => b.zeros_like(at.y[j])?,
        });
    }
    let nx = at.x.len();
    let mut ins = inputs.to_vec();
    ins.extend(outputs.iter().cloned());
    let cx = *cx;
    let gs = b.shard_map(mesh, ins, inputs.to_vec(), &args, move |b, a| {
        // Inlined: a `func.call` inside the (unregistered here) manual region would not verify.
        let ys = b.inline(&body, &a[..nx])?;
        let mut seeds: Vec<(ValueId, Value)> = Vec::with_capacity(ys.len());
        for ((y, &c), &n) in ys.iter().zip(&a[nx..]).zip(&copies) {
            let c = if n > 1 {
                let share = b.scalar(b.ty(c)?.ty, 1.0 / n as f64)?;
                b.mul(c, share)?
            } else {
                c
            };
            seeds.push((y.value(), c));
        }
        let wrt: Vec<ValueId> = a[..nx].iter().map(|x| x.value()).collect();
        let gs = (cx.backprop)(&cx, b, &seeds, &wrt, 0).map_err(|e| match e {
            crate::Error::Builder(e) => e,
            other => hlo_builder::Error::Region {
                op: "shard_map",
                region: "gradient",
                message: other.to_string(),
            },
        })?;
        let mut out = Vec::with_capacity(nx);
        for ((g, &x), group) in gs.into_iter().zip(&a[..nx]).zip(&groups) {
            let g = match g {
                Some(g) => g,
                None => b.zeros_like(x)?,
            };
            out.push(match group {
                Some(groups) => b.all_sum(g, Participants::devices(groups.clone(), 1))?,
                None => g,
            });
        }
        Ok(out)
    })?;
    Ok(gs
        .into_iter()
        .zip(want)
        .map(|(g, &w)| w.then_some(g))
        .collect())
}

/// The JVP of a collective: linear ones apply themselves to the tangent; max/min take their
/// tangent from the VJP.
pub(crate) fn jvp(
    b: &mut Builder,
    op: &CollectiveOp,
    at: &At,
    tin: &[Option<Value>],
) -> Result<Jvp> {
    match op {
        CollectiveOp::ReplicaId | CollectiveOp::PartitionId => Ok(Jvp::Tangents(vec![None])),
        CollectiveOp::AllReduce {
            reducer: Reducer::Sum,
            ..
        }
        | CollectiveOp::ReduceScatter {
            reducer: Reducer::Sum,
            ..
        }
        | CollectiveOp::AllGather { .. }
        | CollectiveOp::AllToAll { .. }
        | CollectiveOp::CollectivePermute { .. }
        | CollectiveOp::ShardingConstraint { .. }
        | CollectiveOp::CollectiveBroadcast { .. } => linear(b, at.node, &at.x, tin),
        CollectiveOp::ManualComputation { .. } => Ok(Jvp::FromVjp),
        CollectiveOp::AllReduce { .. } | CollectiveOp::ReduceScatter { .. } => Ok(Jvp::FromVjp),
    }
}

/// The batching rule of a collective: the op on the batched operand, its axes shifted past
/// the batch axis (elementwise across devices, so the examples never mix). A manual region
/// is batched by [`batch_manual`].
pub(crate) fn batch(bx: &Bx, b: &mut Builder, op: &CollectiveOp, at: &Bat) -> Result<Vec<Batched>> {
    let a = match op {
        CollectiveOp::ReplicaId | CollectiveOp::PartitionId => {
            return not_batchable(op.name(), "internal: it has no operand to batch")
        }
        CollectiveOp::ManualComputation {
            mesh,
            inputs,
            outputs,
        } => return batch_manual(bx, b, mesh, inputs, outputs, at),
        _ => at.axis(0)?,
    };
    let x = at.x[0].t;
    let s = |d: i64| shift(d, a);
    let moved = match op {
        CollectiveOp::AllGather { dimension, over } => CollectiveOp::AllGather {
            dimension: s(*dimension),
            over: over.clone(),
        },
        CollectiveOp::ReduceScatter {
            dimension,
            reducer,
            over,
        } => CollectiveOp::ReduceScatter {
            dimension: s(*dimension),
            reducer: *reducer,
            over: over.clone(),
        },
        CollectiveOp::AllToAll {
            split_dimension,
            concat_dimension,
            over,
        } => CollectiveOp::AllToAll {
            split_dimension: s(*split_dimension),
            concat_dimension: s(*concat_dimension),
            over: over.clone(),
        },
        // The batch axis is not split.
        CollectiveOp::ShardingConstraint { sharding } => CollectiveOp::ShardingConstraint {
            sharding: with_batch_axis(sharding, a),
        },
        CollectiveOp::AllReduce { .. }
        | CollectiveOp::CollectivePermute { .. }
        | CollectiveOp::CollectiveBroadcast { .. }
        | CollectiveOp::ManualComputation { .. }
        | CollectiveOp::ReplicaId
        | CollectiveOp::PartitionId => op.clone(),
    };
    let r = b.record(&moved.into(), &[x], &at.node.regions)?;
    Ok(vec![Batched::new(r[0], Some(a))])
}

/// `s` with an unsplit axis inserted at `at` (the batch axis: every device holds all the
/// examples of its shard).
fn with_batch_axis(s: &hlo_builder::Sharding, at: usize) -> hlo_builder::Sharding {
    let mut dims: Vec<Vec<&str>> = s
        .dims()
        .iter()
        .map(|v| v.iter().map(String::as_str).collect())
        .collect();
    dims.insert(at.min(dims.len()), Vec::new());
    let slices: Vec<&[&str]> = dims.iter().map(Vec::as_slice).collect();
    hlo_builder::Sharding::new(&slices)
}

/// The batching rule of a manual region: the same region over the same mesh, its body
/// batched (each device runs the batched body on its shards of every example). A batched
/// input comes in with its batch axis first and unsplit (so each device's shard holds all
/// the examples of its block), and an output the batched body makes batched goes out alike;
/// the others keep their shardings and stay shared. The body's collectives act along mesh
/// axes, across devices, so they commute with the batch: their own batching rules only
/// shift their tensor axes past the batch axis.
fn batch_manual(
    bx: &Bx,
    b: &mut Builder,
    mesh: &hlo_builder::Mesh,
    inputs: &[hlo_builder::Sharding],
    outputs: &[hlo_builder::Sharding],
    at: &Bat,
) -> Result<Vec<Batched>> {
    let (x, n) = (at.x, at.n);
    let Some(body) = at.node.regions.first() else {
        return not_batchable("shard_map", "internal: the manual region has no body");
    };
    if inputs.len() != x.len() || outputs.len() != at.node.types.len() {
        return not_batchable(
            "shard_map",
            format!(
                "internal: {} input and {} output shardings for {} operands and {} results",
                inputs.len(),
                outputs.len(),
                x.len(),
                at.node.types.len()
            ),
        );
    }
    let batched: Vec<bool> = x.iter().map(|v| v.axis.is_some()).collect();
    let (body_b, out) = batch_region(bx, body, &batched, &[], n)?;
    let mut args = Vec::with_capacity(x.len());
    for &v in x {
        args.push(match v.axis {
            Some(_) => front(b, v, n)?,
            None => v.t,
        });
    }
    let sharded = |ss: &[hlo_builder::Sharding], k: &[bool]| -> Vec<hlo_builder::Sharding> {
        ss.iter()
            .zip(k)
            .map(|(s, &k)| if k { with_batch_axis(s, 0) } else { s.clone() })
            .collect()
    };
    let op = CollectiveOp::ManualComputation {
        mesh: mesh.clone(),
        inputs: sharded(inputs, &batched),
        outputs: sharded(outputs, &out),
    };
    let r = b.record(&op.into(), &args, &[body_b])?;
    Ok(r.into_iter()
        .zip(out)
        .map(|(t, o)| Batched::new(t, o.then_some(0)))
        .collect())
}
