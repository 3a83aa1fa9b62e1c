//! Re-emitting recorded ops: one node from its op and new operands (`emit`), or a whole
//! computation inlined into a builder (`inline`). Used to differentiate calls, branches,
//! loops and checkpointed subgraphs by recording their bodies in the outer graph.

use hlo_builder::{Builder, Computation, ConstantValue, Op, Tensor, TensorType};

use crate::error::{not_diff, Error, Result};

/// Records `op` again with `args` as operands; `types` are the original result types (used for
/// the ops whose result type is an attribute: convert, reshape, broadcast, ...).
pub(crate) fn emit(
    b: &mut Builder,
    op: &Op,
    args: &[Tensor],
    types: &[TensorType],
) -> Result<Vec<Tensor>> {
    let t0 = || {
        types.first().cloned().ok_or(Error::Arity {
            func: "replay",
            message: format!("{} has no result type", op.name()),
        })
    };
    let one = |t: hlo_builder::Result<Tensor>| -> Result<Vec<Tensor>> { Ok(vec![t?]) };
    match op {
        Op::Parameter { index, .. } => Err(Error::Arity {
            func: "replay",
            message: format!("parameter {index} cannot be re-emitted; it is bound by the caller"),
        }),
        Op::Constant(c) => {
            let t = t0()?;
            match c {
                ConstantValue::Dense(bytes) => one(b.constant_bytes(t.ty, &t.dims, bytes)),
                ConstantValue::Splat(bytes) => {
                    let s = b.constant_bytes(t.ty, [], bytes)?;
                    if t.rank() == 0 {
                        Ok(vec![s])
                    } else {
                        one(b.broadcast_in_dim(s, &t.dims, []))
                    }
                }
            }
        }
        Op::Iota { dimension } => {
            let t = t0()?;
            one(b.iota(t.ty, &t.dims, *dimension))
        }
        Op::Unary(u) => one(b.unary(*u, args[0])),
        Op::Binary(op) => one(b.binary_same_shape(*op, args[0], args[1])),
        Op::Compare(dir) => one(b.compare(*dir, args[0], args[1])),
        Op::Select => one(b.select(args[0], args[1], args[2])),
        Op::Clamp => one(b.clamp(args[0], args[1], args[2])),
        Op::Convert => one(b.convert(args[0], t0()?.ty)),
        Op::BitcastConvert => one(b.bitcast_convert(args[0], t0()?.ty)),
        Op::Reshape => one(b.reshape(args[0], &t0()?.dims)),
        Op::Transpose { permutation } => one(b.transpose(args[0], permutation)),
        Op::BroadcastInDim {
            broadcast_dimensions,
        } => one(b.broadcast_in_dim(args[0], &t0()?.dims, broadcast_dimensions)),
        Op::Slice {
            start,
            limit,
            strides,
        } => one(b.slice(args[0], start, limit, strides)),
        Op::DynamicSlice { slice_sizes } => one(b.dynamic_slice(args[0], &args[1..], slice_sizes)),
        Op::DynamicUpdateSlice => one(b.dynamic_update_slice(args[0], args[1], &args[2..])),
        Op::Concatenate { dimension } => one(b.concatenate(args, *dimension)),
        Op::Pad {
            low,
            high,
            interior,
        } => one(b.pad(args[0], args[1], low, high, interior)),
        Op::Reverse { dimensions } => one(b.reverse(args[0], dimensions)),
        Op::Gather {
            dims,
            slice_sizes,
            indices_are_sorted,
        } => one(b.gather(
            args[0],
            args[1],
            dims.clone(),
            slice_sizes,
            *indices_are_sorted,
        )),
        Op::Scatter {
            dims,
            update,
            indices_are_sorted,
            unique_indices,
        } => {
            let n = (args.len() - 1) / 2;
            Ok(b.scatter_with(
                &args[..n],
                args[n],
                &args[n + 1..],
                dims.clone(),
                update.clone(),
                *indices_are_sorted,
                *unique_indices,
            )?)
        }
        Op::Sort {
            dimension,
            is_stable,
            comparator,
        } => Ok(b.sort_with(args, *dimension, *is_stable, comparator.clone())?),
        Op::DotGeneral { dims, precision } => {
            one(b.dot_general(args[0], args[1], dims.clone(), *precision))
        }
        Op::Convolution(c) => one(b.convolution(args[0], args[1], (**c).clone())),
        Op::Reduce { dimensions, body } => {
            let n = args.len() / 2;
            Ok(b.reduce_with(&args[..n], &args[n..], dimensions, body.clone())?)
        }
        Op::ReduceWindow { window, body } => {
            let n = args.len() / 2;
            Ok(b.reduce_window_with(&args[..n], &args[n..], window.clone(), body.clone())?)
        }
        Op::While { cond, body } => Ok(b.while_loop_with(args, cond.clone(), body.clone())?),
        Op::If {
            true_branch,
            false_branch,
        } => Ok(b.cond_with(
            args[0],
            &args[1..],
            true_branch.clone(),
            false_branch.clone(),
        )?),
        Op::Case { branches } => Ok(b.case_with(args[0], &args[1..], branches.clone())?),
        Op::Call { callee } => Ok(b.call(callee, args)?),
        Op::RngBitGenerator { algorithm } => {
            let out = types.get(1).cloned().ok_or(Error::Arity {
                func: "replay",
                message: "rng_bit_generator needs two result types".into(),
            })?;
            let (s, r) = b.rng_bit_generator(args[0], *algorithm, out)?;
            Ok(vec![s, r])
        }
        Op::OptimizationBarrier => Ok(b.optimization_barrier(args)?),
        Op::CustomCall {
            target,
            backend_config,
            has_side_effect,
        } => Ok(b.custom_call(
            target.clone(),
            args,
            types,
            backend_config.clone(),
            *has_side_effect,
        )?),
    }
}

/// Records the body of `comp` in `b` with its parameters bound to `args`; returns its results.
pub(crate) fn inline(b: &mut Builder, comp: &Computation, args: &[Tensor]) -> Result<Vec<Tensor>> {
    inline_impl(b, comp, args, None)
}

/// Like [`inline`] for a scalar computation made of elementwise ops only (a reducer body),
/// applied elementwise to tensors of dimensions `dims`: scalar constants are broadcast.
pub(crate) fn inline_elementwise(
    b: &mut Builder,
    comp: &Computation,
    args: &[Tensor],
    dims: &[i64],
) -> Result<Vec<Tensor>> {
    inline_impl(b, comp, args, Some(dims))
}

fn inline_impl(
    b: &mut Builder,
    comp: &Computation,
    args: &[Tensor],
    elementwise: Option<&[i64]>,
) -> Result<Vec<Tensor>> {
    let nodes = comp.graph.nodes();
    let mut vals: Vec<Vec<Tensor>> = Vec::with_capacity(nodes.len());
    for node in nodes {
        let out = match &node.op {
            Op::Parameter { index, .. } => {
                let a = args.get(*index).copied().ok_or(Error::Arity {
                    func: "inline",
                    message: format!(
                        "computation `{}` uses parameter {index} but got {} arguments",
                        comp.name,
                        args.len()
                    ),
                })?;
                vec![a]
            }
            op => {
                let ops: Vec<Tensor> = node
                    .operands
                    .iter()
                    .map(|v| vals[v.node.index()][v.output as usize])
                    .collect();
                match elementwise {
                    None => emit(b, op, &ops, &node.types)?,
                    Some(dims) => {
                        let types: Vec<TensorType> = node
                            .types
                            .iter()
                            .map(|t| TensorType::new(t.ty, dims))
                            .collect();
                        match op {
                            Op::Constant(_) => {
                                let s = emit(b, op, &[], &node.types)?;
                                let dims_from = b.ty(s[0])?.dims.clone();
                                if dims_from.is_empty() {
                                    vec![b.broadcast_in_dim(s[0], dims, [])?]
                                } else {
                                    return not_diff("reduce", format!("reducer `{}` uses a non-scalar constant", comp.name));
                                }
                            }
                            Op::Unary(_) | Op::Binary(_) | Op::Compare(_) | Op::Select | Op::Clamp | Op::Convert | Op::BitcastConvert | Op::OptimizationBarrier => emit(b, op, &ops, &types)?,
                            other => {
                                return not_diff("reduce", format!("reducer `{}` contains `{}`; only elementwise ops can be unrolled", comp.name, other.name()))
                            }
                        }
                    }
                }
            }
        };
        vals.push(out);
    }
    Ok(comp
        .results
        .iter()
        .map(|v| vals[v.node.index()][v.output as usize])
        .collect())
}
