//! Graphs as tokens and back: every op with every attribute (exhaustive matches: a new op or
//! attribute does not compile until it is written here), the nodes, and the computations a
//! function uses (regions first, each once, the function last).
//!
//! A call's rules (`CallKind::Custom`, autodiff's custom VJP/JVP) are code, not data: an
//! exported call is a plain call, which lowers the same (exports are for evaluation).

use std::collections::HashMap;
use std::sync::Arc;

use super::tokens::{Dec, Enc};
use crate::graph::{Computation, NodeId, ValueId};
use crate::ops::linalg::Transpose;
use crate::ops::{
    BinaryOp, CallKind, CheckpointPolicy, CollectiveOp, ComparisonDirection, ConstantValue,
    ControlOp, ConvConfig, ConvDims, Counted, DotDims, ElementwiseOp, GatherDims, LinalgOp, MiscOp,
    Op, Participants, Precision, ReduceOp, Reducer, RngAlgorithm, ScatterDims, ShapeOp, SourceOp,
    UnaryOp, WindowConfig,
};
use crate::types::TensorType;

type R<T> = Result<T, String>;

// ------------------------------------------------------------------ small enums

/// For a fieldless enum, `$tag` (variant to number, an exhaustive match: a new variant does
/// not compile until it is numbered here) and `$read` (number to variant), from one table.
macro_rules! numbered {
    ($tag:ident, $read:ident, $ty:ident, $what:literal, [$($v:ident = $n:literal),+ $(,)?]) => {
        fn $tag(v: $ty) -> u64 {
            match v {
                $($ty::$v => $n,)+
            }
        }

        fn $read(d: &mut Dec) -> R<$ty> {
            Ok(match d.u($what)? {
                $($n => $ty::$v,)+
                t => return Err(format!("unknown {} {t}", $what)),
            })
        }
    };
}

numbered!(
    reducer_tag,
    reducer,
    Reducer,
    "reducer",
    [
        Sum = 0,
        Product = 1,
        Max = 2,
        Min = 3,
        And = 4,
        Or = 5,
        Replace = 6,
        Custom = 7,
    ]
);
numbered!(
    precision_tag,
    precision,
    Precision,
    "precision",
    [Default = 0, High = 1, Highest = 2]
);
numbered!(
    direction_tag,
    direction,
    ComparisonDirection,
    "comparison direction",
    [Eq = 0, Ne = 1, Ge = 2, Gt = 3, Le = 4, Lt = 5,]
);
numbered!(
    transpose_tag,
    transpose,
    Transpose,
    "transpose_a",
    [NoTranspose = 0, Transpose = 1, Adjoint = 2,]
);
numbered!(
    rng_tag,
    rng,
    RngAlgorithm,
    "rng algorithm",
    [Default = 0, ThreeFry = 1, Philox = 2]
);
/// A checkpoint policy: its tag, then the memory kind of `Offload`.
fn policy_out(e: &mut Enc, p: &CheckpointPolicy) {
    match p {
        CheckpointPolicy::RecomputeAll => e.u(0),
        CheckpointPolicy::Offload(kind) => {
            e.u(1);
            e.str(kind.as_str());
        }
    }
}

fn policy(d: &mut Dec) -> R<CheckpointPolicy> {
    match d.u("checkpoint policy")? {
        0 => Ok(CheckpointPolicy::RecomputeAll),
        1 => {
            let kind = d.str("offload memory kind")?;
            crate::MemoryKind::new(kind)
                .map(CheckpointPolicy::Offload)
                .map_err(|e| e.to_string())
        }
        t => Err(format!("unknown checkpoint policy {t}")),
    }
}

fn precisions(e: &mut Enc, p: &[Precision; 2]) {
    e.u(precision_tag(p[0]));
    e.u(precision_tag(p[1]));
}

fn precision_pair(d: &mut Dec) -> R<[Precision; 2]> {
    Ok([precision(d)?, precision(d)?])
}

/// A variant of an `op_enum!` enum by its position in `ALL`.
fn listed<T: Copy>(all: &[T], d: &mut Dec, what: &str) -> R<T> {
    let i = d.index(what)?;
    all.get(i)
        .copied()
        .ok_or_else(|| format!("unknown {what} {i}"))
}

fn position<T: PartialEq>(all: &[T], v: &T) -> u64 {
    // `ALL` lists every variant (the macro makes it), so the position always exists.
    all.iter().position(|x| x == v).unwrap_or(usize::MAX) as u64
}

// ------------------------------------------------------------------ ops

/// Appends the tokens of `op`.
pub(crate) fn op(e: &mut Enc, op: &Op) {
    match op {
        Op::Source(s) => {
            e.u(0);
            match s {
                SourceOp::Parameter { index, name, ty } => {
                    e.u(0);
                    e.n(*index);
                    e.str(name);
                    e.tensor(ty);
                }
                SourceOp::Constant { ty, value } => {
                    e.u(1);
                    e.tensor(ty);
                    match value {
                        ConstantValue::Splat(b) => {
                            e.u(0);
                            e.splat(ty.ty, b);
                        }
                        ConstantValue::Dense(b) => {
                            e.u(1);
                            e.bytes(b.clone());
                        }
                    }
                }
                SourceOp::Iota { ty, dimension } => {
                    e.u(2);
                    e.tensor(ty);
                    e.i(*dimension);
                }
            }
        }
        Op::Elementwise(w) => {
            e.u(1);
            match w {
                ElementwiseOp::Unary(u) => {
                    e.u(0);
                    e.u(position(UnaryOp::ALL, u));
                }
                ElementwiseOp::Binary(b) => {
                    e.u(1);
                    e.u(position(BinaryOp::ALL, b));
                }
                ElementwiseOp::Compare(c) => {
                    e.u(2);
                    e.u(direction_tag(*c));
                }
                ElementwiseOp::Select => e.u(3),
                ElementwiseOp::Clamp => e.u(4),
                ElementwiseOp::Convert { to } => {
                    e.u(5);
                    e.ty(*to);
                }
                ElementwiseOp::BitcastConvert { to } => {
                    e.u(6);
                    e.ty(*to);
                }
            }
        }
        Op::Shape(s) => {
            e.u(2);
            shape_op(e, s);
        }
        Op::Linalg(l) => {
            e.u(3);
            match l {
                LinalgOp::DotGeneral { dims, precision } => {
                    e.u(0);
                    e.ints(&dims.lhs_batch);
                    e.ints(&dims.rhs_batch);
                    e.ints(&dims.lhs_contracting);
                    e.ints(&dims.rhs_contracting);
                    precisions(e, precision);
                }
                LinalgOp::Convolution(c) => {
                    e.u(1);
                    e.ints(&c.window_strides);
                    e.pairs(&c.padding);
                    e.ints(&c.lhs_dilation);
                    e.ints(&c.rhs_dilation);
                    e.i(c.feature_group_count);
                    e.i(c.batch_group_count);
                    let d = &c.dims;
                    e.i(d.input_batch);
                    e.i(d.input_feature);
                    e.ints(&d.input_spatial);
                    e.i(d.kernel_input_feature);
                    e.i(d.kernel_output_feature);
                    e.ints(&d.kernel_spatial);
                    e.i(d.output_batch);
                    e.i(d.output_feature);
                    e.ints(&d.output_spatial);
                    precisions(e, &c.precision);
                }
                LinalgOp::Cholesky { lower } => {
                    e.u(2);
                    e.flag(*lower);
                }
                LinalgOp::TriangularSolve {
                    left_side,
                    lower,
                    unit_diagonal,
                    transpose_a,
                } => {
                    e.u(3);
                    e.flag(*left_side);
                    e.flag(*lower);
                    e.flag(*unit_diagonal);
                    e.u(transpose_tag(*transpose_a));
                }
            }
        }
        Op::Reduce(r) => {
            e.u(4);
            match r {
                ReduceOp::Reduce {
                    dimensions,
                    reducer,
                } => {
                    e.u(0);
                    e.ints(dimensions);
                    e.u(reducer_tag(*reducer));
                }
                ReduceOp::ReduceWindow { window, reducer } => {
                    e.u(1);
                    e.ints(&window.dimensions);
                    e.ints(&window.strides);
                    e.ints(&window.base_dilations);
                    e.ints(&window.window_dilations);
                    e.pairs(&window.padding);
                    e.u(reducer_tag(*reducer));
                }
            }
        }
        Op::Control(c) => {
            e.u(5);
            match c {
                ControlOp::While { counted } => {
                    e.u(0);
                    match counted {
                        None => e.u(0),
                        Some(c) => {
                            e.u(1);
                            e.n(c.counter);
                            e.i(c.start);
                            e.i(c.limit);
                        }
                    }
                }
                ControlOp::If => e.u(1),
                ControlOp::Case => e.u(2),
                ControlOp::Call { kind } => {
                    e.u(3);
                    match kind {
                        // Custom rules are code; the call itself lowers as a plain call.
                        CallKind::Plain | CallKind::Custom(_) => e.u(0),
                        CallKind::Checkpoint(p) => {
                            e.u(1);
                            policy_out(e, p);
                        }
                    }
                }
            }
        }
        Op::Misc(m) => {
            e.u(6);
            match m {
                MiscOp::RngBitGenerator { algorithm, out } => {
                    e.u(0);
                    e.u(rng_tag(*algorithm));
                    e.tensor(out);
                }
                MiscOp::OptimizationBarrier => e.u(1),
                MiscOp::CustomCall {
                    target,
                    backend_config,
                    has_side_effect,
                    results,
                } => {
                    e.u(2);
                    e.str(target);
                    e.str(backend_config);
                    e.flag(*has_side_effect);
                    e.n(results.len());
                    for r in results {
                        e.tensor(r);
                    }
                }
                MiscOp::StopGradient => e.u(3),
                MiscOp::FfiCall {
                    target,
                    has_side_effect,
                    results,
                } => {
                    e.u(5);
                    e.str(target);
                    e.flag(*has_side_effect);
                    e.n(results.len());
                    for r in results {
                        e.tensor(r);
                    }
                }
                MiscOp::Place { memory } => {
                    e.u(4);
                    e.str(memory.as_str());
                }
            }
        }
        Op::Collective(c) => {
            e.u(7);
            collective_op(e, c);
        }
    }
}

/// Participant ids, axes and channels are never batch sizes: `U` tokens.
fn participants(e: &mut Enc, p: &Participants) {
    e.n(p.groups.len());
    for g in &p.groups {
        e.n(g.len());
        for &id in g {
            e.u(id.max(0) as u64);
        }
    }
    channel(e, p.channel);
    e.flag(p.global_device_ids);
}

fn channel(e: &mut Enc, c: Option<i64>) {
    match c {
        None => e.u(0),
        Some(c) => {
            e.u(1);
            e.u(c.max(0) as u64);
        }
    }
}

fn collective_op(e: &mut Enc, c: &CollectiveOp) {
    match c {
        CollectiveOp::AllReduce { reducer, over } => {
            e.u(0);
            e.u(reducer_tag(*reducer));
            participants(e, over);
        }
        CollectiveOp::AllGather { dimension, over } => {
            e.u(1);
            e.u((*dimension).max(0) as u64);
            participants(e, over);
        }
        CollectiveOp::ReduceScatter {
            dimension,
            reducer,
            over,
        } => {
            e.u(2);
            e.u((*dimension).max(0) as u64);
            e.u(reducer_tag(*reducer));
            participants(e, over);
        }
        CollectiveOp::AllToAll {
            split_dimension,
            concat_dimension,
            over,
        } => {
            e.u(3);
            e.u((*split_dimension).max(0) as u64);
            e.u((*concat_dimension).max(0) as u64);
            participants(e, over);
        }
        CollectiveOp::CollectivePermute { pairs, channel: ch } => {
            e.u(4);
            e.n(pairs.len());
            for &(s, t) in pairs {
                e.u(s.max(0) as u64);
                e.u(t.max(0) as u64);
            }
            channel(e, *ch);
        }
        CollectiveOp::CollectiveBroadcast { over } => {
            e.u(5);
            participants(e, over);
        }
        CollectiveOp::ShardingConstraint { sharding: sh } => {
            e.u(8);
            sharding(e, sh);
        }
        CollectiveOp::ManualComputation {
            mesh,
            inputs,
            outputs,
        } => {
            e.u(9);
            e.n(mesh.axes().len());
            for (name, size) in mesh.axes() {
                e.str(name);
                e.u((*size).max(0) as u64);
            }
            for list in [inputs, outputs] {
                e.n(list.len());
                for s in list {
                    sharding(e, s);
                }
            }
        }
        CollectiveOp::ReplicaId => e.u(6),
        CollectiveOp::PartitionId => e.u(7),
    }
}

fn sharding(e: &mut Enc, s: &crate::sharding::Sharding) {
    e.n(s.dims().len());
    for axes in s.dims() {
        e.n(axes.len());
        for a in axes {
            e.str(a);
        }
    }
}

fn read_sharding(d: &mut Dec) -> R<crate::sharding::Sharding> {
    let rank = d.n("sharding rank")?;
    let mut dims = Vec::with_capacity(rank);
    for _ in 0..rank {
        let k = d.n("sharding axes")?;
        dims.push((0..k).map(|_| d.str("mesh axis")).collect::<R<Vec<_>>>()?);
    }
    let refs: Vec<Vec<&str>> = dims
        .iter()
        .map(|v| v.iter().map(String::as_str).collect())
        .collect();
    let slices: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    Ok(crate::sharding::Sharding::new(&slices))
}

/// A non-negative integer token that fits an `i64`.
fn small(d: &mut Dec, what: &str) -> R<i64> {
    let v = d.u(what)?;
    i64::try_from(v).map_err(|_| format!("{what} {v} is too large"))
}

fn read_channel(d: &mut Dec) -> R<Option<i64>> {
    Ok(match d.u("channel tag")? {
        0 => None,
        1 => Some(small(d, "channel id")?),
        t => return Err(format!("unknown channel tag {t}")),
    })
}

fn read_participants(d: &mut Dec) -> R<Participants> {
    let n = d.n("replica groups")?;
    let mut groups = Vec::with_capacity(n);
    for _ in 0..n {
        let k = d.n("replica group")?;
        groups.push(
            (0..k)
                .map(|_| small(d, "participant id"))
                .collect::<R<Vec<_>>>()?,
        );
    }
    Ok(Participants {
        groups,
        channel: read_channel(d)?,
        global_device_ids: d.flag("use_global_device_ids")?,
    })
}

fn read_collective_op(d: &mut Dec, tag: u64) -> R<CollectiveOp> {
    Ok(match tag {
        0 => CollectiveOp::AllReduce {
            reducer: reducer(d)?,
            over: read_participants(d)?,
        },
        1 => CollectiveOp::AllGather {
            dimension: small(d, "all_gather dimension")?,
            over: read_participants(d)?,
        },
        2 => CollectiveOp::ReduceScatter {
            dimension: small(d, "reduce_scatter dimension")?,
            reducer: reducer(d)?,
            over: read_participants(d)?,
        },
        3 => CollectiveOp::AllToAll {
            split_dimension: small(d, "split dimension")?,
            concat_dimension: small(d, "concat dimension")?,
            over: read_participants(d)?,
        },
        4 => {
            let n = d.n("source-target pairs")?;
            let pairs = (0..n)
                .map(|_| Ok((small(d, "source")?, small(d, "target")?)))
                .collect::<R<Vec<_>>>()?;
            CollectiveOp::CollectivePermute {
                pairs,
                channel: read_channel(d)?,
            }
        }
        5 => CollectiveOp::CollectiveBroadcast {
            over: read_participants(d)?,
        },
        6 => CollectiveOp::ReplicaId,
        7 => CollectiveOp::PartitionId,
        8 => CollectiveOp::ShardingConstraint {
            sharding: read_sharding(d)?,
        },
        9 => {
            let n = d.n("mesh axes")?;
            let mut axes = Vec::with_capacity(n);
            for _ in 0..n {
                axes.push((d.str("mesh axis")?, small(d, "mesh axis size")?));
            }
            let refs: Vec<(&str, i64)> = axes.iter().map(|(a, k)| (a.as_str(), *k)).collect();
            let mesh = crate::sharding::Mesh::new(&refs).map_err(|e| e.to_string())?;
            let mut lists = Vec::with_capacity(2);
            for _ in 0..2 {
                let k = d.n("shardings")?;
                lists.push((0..k).map(|_| read_sharding(d)).collect::<R<Vec<_>>>()?);
            }
            let outputs = lists.pop().unwrap_or_default();
            let inputs = lists.pop().unwrap_or_default();
            CollectiveOp::ManualComputation {
                mesh,
                inputs,
                outputs,
            }
        }
        t => return Err(format!("unknown collective op {t}")),
    })
}

fn shape_op(e: &mut Enc, s: &ShapeOp) {
    match s {
        ShapeOp::Reshape { dims } => {
            e.u(0);
            e.ints(dims);
        }
        ShapeOp::Transpose { permutation } => {
            e.u(1);
            e.ints(permutation);
        }
        ShapeOp::BroadcastInDim {
            dims,
            broadcast_dimensions,
        } => {
            e.u(2);
            e.ints(dims);
            e.ints(broadcast_dimensions);
        }
        ShapeOp::Slice {
            start,
            limit,
            strides,
        } => {
            e.u(3);
            e.ints(start);
            e.ints(limit);
            e.ints(strides);
        }
        ShapeOp::DynamicSlice { slice_sizes } => {
            e.u(4);
            e.ints(slice_sizes);
        }
        ShapeOp::DynamicUpdateSlice => e.u(5),
        ShapeOp::Concatenate { dimension } => {
            e.u(6);
            e.i(*dimension);
        }
        ShapeOp::Pad {
            low,
            high,
            interior,
        } => {
            e.u(7);
            e.ints(low);
            e.ints(high);
            e.ints(interior);
        }
        ShapeOp::Reverse { dimensions } => {
            e.u(8);
            e.ints(dimensions);
        }
        ShapeOp::Gather {
            dims,
            slice_sizes,
            indices_are_sorted,
        } => {
            e.u(9);
            e.ints(&dims.offset_dims);
            e.ints(&dims.collapsed_slice_dims);
            e.ints(&dims.start_index_map);
            e.i(dims.index_vector_dim);
            e.ints(slice_sizes);
            e.flag(*indices_are_sorted);
        }
        ShapeOp::Scatter {
            dims,
            combiner,
            indices_are_sorted,
            unique_indices,
        } => {
            e.u(10);
            e.ints(&dims.update_window_dims);
            e.ints(&dims.inserted_window_dims);
            e.ints(&dims.scatter_dims_to_operand_dims);
            e.i(dims.index_vector_dim);
            e.u(reducer_tag(*combiner));
            e.flag(*indices_are_sorted);
            e.flag(*unique_indices);
        }
        ShapeOp::Sort {
            dimension,
            is_stable,
        } => {
            e.u(11);
            e.i(*dimension);
            e.flag(*is_stable);
        }
    }
}

/// Reads an op written by [`op`].
pub(crate) fn read_op(d: &mut Dec) -> R<Op> {
    let family = d.u("op family")?;
    let tag = d.u("op")?;
    Ok(match (family, tag) {
        (0, 0) => Op::Source(SourceOp::Parameter {
            index: d.index("parameter index")?,
            name: d.str("parameter name")?,
            ty: d.tensor("parameter type")?,
        }),
        (0, 1) => {
            let ty = d.tensor("constant type")?;
            let value = match d.u("constant kind")? {
                0 => {
                    let (t, b) = d.splat("splat value")?;
                    if t != ty.ty {
                        return Err(format!("a splat of {t} in a constant of {ty}"));
                    }
                    ConstantValue::Splat(b.iter().copied().collect())
                }
                1 => ConstantValue::Dense(d.bytes("constant data")?),
                k => return Err(format!("unknown constant kind {k}")),
            };
            Op::Source(SourceOp::Constant { ty, value })
        }
        (0, 2) => Op::Source(SourceOp::Iota {
            ty: d.tensor("iota type")?,
            dimension: d.i("iota dimension")?,
        }),
        (1, 0) => Op::Elementwise(ElementwiseOp::Unary(listed(UnaryOp::ALL, d, "unary op")?)),
        (1, 1) => Op::Elementwise(ElementwiseOp::Binary(listed(
            BinaryOp::ALL,
            d,
            "binary op",
        )?)),
        (1, 2) => Op::Elementwise(ElementwiseOp::Compare(direction(d)?)),
        (1, 3) => Op::Elementwise(ElementwiseOp::Select),
        (1, 4) => Op::Elementwise(ElementwiseOp::Clamp),
        (1, 5) => Op::Elementwise(ElementwiseOp::Convert {
            to: d.ty("convert type")?,
        }),
        (1, 6) => Op::Elementwise(ElementwiseOp::BitcastConvert {
            to: d.ty("bitcast type")?,
        }),
        (2, t) => Op::Shape(read_shape_op(d, t)?),
        (3, 0) => Op::Linalg(LinalgOp::DotGeneral {
            dims: DotDims {
                lhs_batch: d.ints("lhs_batch")?,
                rhs_batch: d.ints("rhs_batch")?,
                lhs_contracting: d.ints("lhs_contracting")?,
                rhs_contracting: d.ints("rhs_contracting")?,
            },
            precision: precision_pair(d)?,
        }),
        (3, 1) => Op::Linalg(LinalgOp::Convolution(Box::new(ConvConfig {
            window_strides: d.ints("window_strides")?,
            padding: d.pairs("padding")?,
            lhs_dilation: d.ints("lhs_dilation")?,
            rhs_dilation: d.ints("rhs_dilation")?,
            feature_group_count: d.i("feature_group_count")?,
            batch_group_count: d.i("batch_group_count")?,
            dims: ConvDims {
                input_batch: d.i("input_batch")?,
                input_feature: d.i("input_feature")?,
                input_spatial: d.ints("input_spatial")?,
                kernel_input_feature: d.i("kernel_input_feature")?,
                kernel_output_feature: d.i("kernel_output_feature")?,
                kernel_spatial: d.ints("kernel_spatial")?,
                output_batch: d.i("output_batch")?,
                output_feature: d.i("output_feature")?,
                output_spatial: d.ints("output_spatial")?,
            },
            precision: precision_pair(d)?,
        }))),
        (3, 2) => Op::Linalg(LinalgOp::Cholesky {
            lower: d.flag("lower")?,
        }),
        (3, 3) => Op::Linalg(LinalgOp::TriangularSolve {
            left_side: d.flag("left_side")?,
            lower: d.flag("lower")?,
            unit_diagonal: d.flag("unit_diagonal")?,
            transpose_a: transpose(d)?,
        }),
        (4, 0) => Op::Reduce(ReduceOp::Reduce {
            dimensions: d.ints("reduce dimensions")?,
            reducer: reducer(d)?,
        }),
        (4, 1) => Op::Reduce(ReduceOp::ReduceWindow {
            window: WindowConfig {
                dimensions: d.ints("window dimensions")?,
                strides: d.ints("window strides")?,
                base_dilations: d.ints("base_dilations")?,
                window_dilations: d.ints("window_dilations")?,
                padding: d.pairs("window padding")?,
            },
            reducer: reducer(d)?,
        }),
        (5, 0) => Op::Control(ControlOp::While {
            counted: match d.u("counted")? {
                0 => None,
                1 => Some(Counted {
                    counter: d.index("counter")?,
                    start: d.i("start")?,
                    limit: d.i("limit")?,
                }),
                t => return Err(format!("unknown counted tag {t}")),
            },
        }),
        (5, 1) => Op::Control(ControlOp::If),
        (5, 2) => Op::Control(ControlOp::Case),
        (5, 3) => Op::Control(ControlOp::Call {
            kind: match d.u("call kind")? {
                0 => CallKind::Plain,
                1 => CallKind::Checkpoint(policy(d)?),
                t => return Err(format!("unknown call kind {t}")),
            },
        }),
        (6, 0) => Op::Misc(MiscOp::RngBitGenerator {
            algorithm: rng(d)?,
            out: d.tensor("rng output type")?,
        }),
        (6, 1) => Op::Misc(MiscOp::OptimizationBarrier),
        (6, 2) => {
            let target = d.str("custom call target")?;
            let backend_config = d.str("backend config")?;
            let has_side_effect = d.flag("has_side_effect")?;
            let n = d.n("custom call results")?;
            let results = (0..n)
                .map(|_| d.tensor("custom call result"))
                .collect::<R<Vec<_>>>()?;
            Op::Misc(MiscOp::CustomCall {
                target,
                backend_config,
                has_side_effect,
                results,
            })
        }
        (6, 3) => Op::Misc(MiscOp::StopGradient),
        (6, 4) => Op::Misc(MiscOp::Place {
            memory: crate::placement::MemoryKind::new(d.str("memory kind")?)
                .map_err(|e| e.to_string())?,
        }),
        (6, 5) => {
            let target = d.str("ffi call target")?;
            let has_side_effect = d.flag("has_side_effect")?;
            let n = d.n("ffi call results")?;
            let results = (0..n)
                .map(|_| d.tensor("ffi call result"))
                .collect::<R<Vec<_>>>()?;
            Op::Misc(MiscOp::FfiCall {
                target,
                has_side_effect,
                results,
            })
        }
        (7, t) => Op::Collective(read_collective_op(d, t)?),
        (f, t) => return Err(format!("unknown op {f}.{t}")),
    })
}

fn read_shape_op(d: &mut Dec, tag: u64) -> R<ShapeOp> {
    Ok(match tag {
        0 => ShapeOp::Reshape {
            dims: d.ints("reshape dims")?,
        },
        1 => ShapeOp::Transpose {
            permutation: d.ints("permutation")?,
        },
        2 => ShapeOp::BroadcastInDim {
            dims: d.ints("broadcast dims")?,
            broadcast_dimensions: d.ints("broadcast_dimensions")?,
        },
        3 => ShapeOp::Slice {
            start: d.ints("slice start")?,
            limit: d.ints("slice limit")?,
            strides: d.ints("slice strides")?,
        },
        4 => ShapeOp::DynamicSlice {
            slice_sizes: d.ints("slice_sizes")?,
        },
        5 => ShapeOp::DynamicUpdateSlice,
        6 => ShapeOp::Concatenate {
            dimension: d.i("concatenate dimension")?,
        },
        7 => ShapeOp::Pad {
            low: d.ints("pad low")?,
            high: d.ints("pad high")?,
            interior: d.ints("pad interior")?,
        },
        8 => ShapeOp::Reverse {
            dimensions: d.ints("reverse dimensions")?,
        },
        9 => ShapeOp::Gather {
            dims: GatherDims {
                offset_dims: d.ints("offset_dims")?,
                collapsed_slice_dims: d.ints("collapsed_slice_dims")?,
                start_index_map: d.ints("start_index_map")?,
                index_vector_dim: d.i("index_vector_dim")?,
            },
            slice_sizes: d.ints("slice_sizes")?,
            indices_are_sorted: d.flag("indices_are_sorted")?,
        },
        10 => ShapeOp::Scatter {
            dims: ScatterDims {
                update_window_dims: d.ints("update_window_dims")?,
                inserted_window_dims: d.ints("inserted_window_dims")?,
                scatter_dims_to_operand_dims: d.ints("scatter_dims_to_operand_dims")?,
                index_vector_dim: d.i("index_vector_dim")?,
            },
            combiner: reducer(d)?,
            indices_are_sorted: d.flag("indices_are_sorted")?,
            unique_indices: d.flag("unique_indices")?,
        },
        11 => ShapeOp::Sort {
            dimension: d.i("sort dimension")?,
            is_stable: d.flag("is_stable")?,
        },
        t => return Err(format!("unknown shape op {t}")),
    })
}

// ------------------------------------------------------------------ graphs

/// A node as read back: what re-recording it needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodeData {
    pub(crate) op: Op,
    pub(crate) operands: Vec<ValueId>,
    /// Indices of earlier computations of the program.
    pub(crate) regions: Vec<usize>,
    pub(crate) types: Vec<TensorType>,
}

/// A computation as read back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CompData {
    pub(crate) name: String,
    pub(crate) nodes: Vec<NodeData>,
    pub(crate) results: Vec<ValueId>,
}

/// Appends `main` and every computation it uses (regions before their users, each once;
/// `main` last).
pub(crate) fn program(e: &mut Enc, main: &Computation) {
    let mut order: Vec<&Computation> = Vec::new();
    let mut index: HashMap<*const Computation, usize> = HashMap::new();
    collect(main, &mut order, &mut index);
    e.n(order.len() + 1);
    for c in &order {
        computation(e, c, &index);
    }
    computation(e, main, &index);
}

/// Post-order over the regions of `c`'s nodes.
fn collect<'a>(
    c: &'a Computation,
    order: &mut Vec<&'a Computation>,
    index: &mut HashMap<*const Computation, usize>,
) {
    for n in &c.graph.nodes {
        for r in &n.regions {
            let key = Arc::as_ptr(r);
            if !index.contains_key(&key) {
                collect(r, order, index);
                index.insert(key, order.len());
                order.push(r);
            }
        }
    }
}

fn computation(e: &mut Enc, c: &Computation, index: &HashMap<*const Computation, usize>) {
    e.mark(format!("computation `{}`", c.name));
    e.str(&c.name);
    e.n(c.graph.nodes.len());
    for (i, n) in c.graph.nodes.iter().enumerate() {
        e.mark(format!("node {i} (`{}`) of `{}`", n.op.name(), c.name));
        op(e, &n.op);
        e.n(n.operands.len());
        for v in &n.operands {
            e.u(u64::from(v.node.0));
            e.u(u64::from(v.output));
        }
        e.n(n.regions.len());
        for r in &n.regions {
            // Every region was collected before this computation is written.
            e.n(index.get(&Arc::as_ptr(r)).copied().unwrap_or(usize::MAX));
        }
        e.n(n.types.len());
        for t in &n.types {
            e.tensor(t);
        }
    }
    e.mark(format!("results of `{}`", c.name));
    e.n(c.results.len());
    for v in &c.results {
        e.u(u64::from(v.node.0));
        e.u(u64::from(v.output));
    }
}

/// Reads what [`program`] wrote, checking that every operand names an earlier node's
/// output and every region an earlier computation.
pub(crate) fn read_program(d: &mut Dec) -> R<Vec<CompData>> {
    let n = d.n("computation count")?;
    let mut comps: Vec<CompData> = Vec::with_capacity(n);
    for ci in 0..n {
        let name = d.str("computation name")?;
        let nn = d.n("node count")?;
        let mut nodes: Vec<NodeData> = Vec::with_capacity(nn);
        for ni in 0..nn {
            let at = |what: &str| format!("{what} of node {ni} of `{name}`");
            let op = read_op(d).map_err(|e| format!("{}: {e}", at("op")))?;
            let k = d.n("operand count")?;
            let mut operands = Vec::with_capacity(k);
            for _ in 0..k {
                let v = value(d, &nodes).map_err(|e| format!("{}: {e}", at("operand")))?;
                operands.push(v);
            }
            let k = d.n("region count")?;
            let mut regions = Vec::with_capacity(k);
            for _ in 0..k {
                let r = d.index("region")?;
                if r >= ci {
                    return Err(format!(
                        "{}: computation {r} is not an earlier one",
                        at("region")
                    ));
                }
                regions.push(r);
            }
            let k = d.n("result count")?;
            let types = (0..k)
                .map(|_| d.tensor("result type"))
                .collect::<R<Vec<_>>>()?;
            nodes.push(NodeData {
                op,
                operands,
                regions,
                types,
            });
        }
        let k = d.n("results")?;
        let mut results = Vec::with_capacity(k);
        for _ in 0..k {
            results.push(value(d, &nodes).map_err(|e| format!("result of `{name}`: {e}"))?);
        }
        comps.push(CompData {
            name,
            nodes,
            results,
        });
    }
    if comps.is_empty() {
        return Err("no function".into());
    }
    Ok(comps)
}

/// A (node, output) reference to an existing value of `nodes`.
fn value(d: &mut Dec, nodes: &[NodeData]) -> R<ValueId> {
    let node = d.u("node")?;
    let output = d.u("output")?;
    let ok = usize::try_from(node)
        .ok()
        .and_then(|i| nodes.get(i))
        .is_some_and(|n| (output as usize) < n.types.len());
    match (ok, u32::try_from(node), u32::try_from(output)) {
        (true, Ok(node), Ok(output)) => Ok(ValueId {
            node: NodeId(node),
            output,
        }),
        _ => Err(format!("value %{node}#{output} does not exist")),
    }
}
