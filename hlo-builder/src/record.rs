//! Re-recording ops from their [`Op`] value: [`Builder::record`] dispatches to the checked
//! constructor of every primitive (an exhaustive match, so a new primitive must be handled),
//! and [`Builder::inline`] replays a whole [`Computation`] into a builder. Autodiff uses these
//! to re-emit ops (forward mode applies linear ops to tangents; calls are inlined).

use crate::builder::Builder;
use crate::error::{shape_err, Error, Result};
use crate::graph::{Computation, ConstantValue, Op, Tensor};
use crate::types::TensorType;

impl Builder {
    /// Records `op` on `operands` (in the operand order documented on each [`Op`] variant)
    /// through the op's checked constructor. `result_types` supplies what the operands do not
    /// determine: the target type of `convert`/`bitcast_convert`, the shape of `reshape`,
    /// `broadcast_in_dim`, `iota` and constants, the bits of `rng_bit_generator` (second
    /// entry) and the results of `custom_call`; it is ignored otherwise.
    pub fn record(
        &mut self,
        op: &Op,
        operands: &[Tensor],
        result_types: &[TensorType],
    ) -> Result<Vec<Tensor>> {
        let name = op.name();
        let need = |n: usize| -> Result<()> {
            if operands.len() != n {
                return shape_err(name, format!("takes {n} operands, got {}", operands.len()));
            }
            Ok(())
        };
        let like = |i: usize| -> Result<&TensorType> {
            result_types.get(i).ok_or_else(|| Error::Shape {
                op: name,
                message: format!("needs result type {i} to be given"),
            })
        };
        let halves = |min: usize| -> Result<usize> {
            if operands.len() < min || operands.len() % 2 != 0 {
                return shape_err(
                    name,
                    format!(
                        "takes an even number (>= {min}) of operands, got {}",
                        operands.len()
                    ),
                );
            }
            Ok(operands.len() / 2)
        };
        let one = |r: Result<Tensor>| r.map(|t| vec![t]);
        match op {
            Op::Parameter { .. } => {
                shape_err(name, "parameters are recorded with `Builder::parameter`")
            }
            Op::Constant(v) => {
                need(0)?;
                let t = like(0)?.clone();
                match v {
                    ConstantValue::Dense(bytes) => one(self.constant_bytes(t.ty, &t.dims, bytes)),
                    ConstantValue::Splat(bytes) => one(self.splat_bytes(&t, bytes)),
                }
            }
            Op::Iota { dimension } => {
                need(0)?;
                let t = like(0)?.clone();
                one(self.iota(t.ty, &t.dims, *dimension))
            }
            Op::Unary(u) => {
                need(1)?;
                one(self.unary(*u, operands[0]))
            }
            Op::Binary(b) => {
                need(2)?;
                one(self.binary_same_shape(*b, operands[0], operands[1]))
            }
            Op::Compare(d) => {
                need(2)?;
                one(self.compare(*d, operands[0], operands[1]))
            }
            Op::Select => {
                need(3)?;
                one(self.select(operands[0], operands[1], operands[2]))
            }
            Op::Clamp => {
                need(3)?;
                one(self.clamp(operands[0], operands[1], operands[2]))
            }
            Op::Convert => {
                need(1)?;
                let to = like(0)?.ty;
                one(self.convert(operands[0], to))
            }
            Op::BitcastConvert => {
                need(1)?;
                let to = like(0)?.ty;
                one(self.bitcast_convert(operands[0], to))
            }
            Op::Reshape => {
                need(1)?;
                let d = like(0)?.dims.clone();
                one(self.reshape(operands[0], d))
            }
            Op::Transpose { permutation } => {
                need(1)?;
                one(self.transpose(operands[0], permutation))
            }
            Op::BroadcastInDim {
                broadcast_dimensions,
            } => {
                need(1)?;
                let d = like(0)?.dims.clone();
                one(self.broadcast_in_dim(operands[0], d, broadcast_dimensions))
            }
            Op::Slice {
                start,
                limit,
                strides,
            } => {
                need(1)?;
                one(self.slice(operands[0], start, limit, strides))
            }
            Op::DynamicSlice { slice_sizes } => {
                if operands.is_empty() {
                    return shape_err(name, "takes an operand and start indices");
                }
                one(self.dynamic_slice(operands[0], &operands[1..], slice_sizes))
            }
            Op::DynamicUpdateSlice => {
                if operands.len() < 2 {
                    return shape_err(name, "takes an operand, an update and start indices");
                }
                one(self.dynamic_update_slice(operands[0], operands[1], &operands[2..]))
            }
            Op::Concatenate { dimension } => one(self.concatenate(operands, *dimension)),
            Op::Pad {
                low,
                high,
                interior,
            } => {
                need(2)?;
                one(self.pad(operands[0], operands[1], low, high, interior))
            }
            Op::Reverse { dimensions } => {
                need(1)?;
                one(self.reverse(operands[0], dimensions))
            }
            Op::Gather {
                dims,
                slice_sizes,
                indices_are_sorted,
            } => {
                need(2)?;
                one(self.gather(
                    operands[0],
                    operands[1],
                    dims.clone(),
                    slice_sizes,
                    *indices_are_sorted,
                ))
            }
            Op::Scatter {
                dims,
                update,
                indices_are_sorted,
                unique_indices,
            } => {
                if operands.len() < 3 || operands.len() % 2 == 0 {
                    return shape_err(
                        name,
                        format!(
                            "takes N inputs, indices and N updates, got {} operands",
                            operands.len()
                        ),
                    );
                }
                let n = (operands.len() - 1) / 2;
                self.scatter_with(
                    &operands[..n],
                    operands[n],
                    &operands[n + 1..],
                    dims.clone(),
                    update.clone(),
                    *indices_are_sorted,
                    *unique_indices,
                )
            }
            Op::Sort {
                dimension,
                is_stable,
                comparator,
            } => self.sort_with(operands, *dimension, *is_stable, comparator.clone()),
            Op::DotGeneral { dims, precision } => {
                need(2)?;
                one(self.dot_general(operands[0], operands[1], dims.clone(), *precision))
            }
            Op::Convolution(c) => {
                need(2)?;
                one(self.convolution(operands[0], operands[1], (**c).clone()))
            }
            Op::Reduce { dimensions, body } => {
                let n = halves(2)?;
                self.reduce_with(&operands[..n], &operands[n..], dimensions, body.clone())
            }
            Op::ReduceWindow { window, body } => {
                let n = halves(2)?;
                self.reduce_window_with(
                    &operands[..n],
                    &operands[n..],
                    window.clone(),
                    body.clone(),
                )
            }
            Op::While { cond, body } => self.while_loop_with(operands, cond.clone(), body.clone()),
            Op::If {
                true_branch,
                false_branch,
            } => {
                if operands.is_empty() {
                    return shape_err(name, "takes a predicate and the branch arguments");
                }
                self.cond_with(
                    operands[0],
                    &operands[1..],
                    true_branch.clone(),
                    false_branch.clone(),
                )
            }
            Op::Case { branches } => {
                if operands.is_empty() {
                    return shape_err(name, "takes an index and the branch arguments");
                }
                self.case_with(operands[0], &operands[1..], branches.clone())
            }
            Op::Call { callee } => self.call(callee, operands),
            Op::RngBitGenerator { algorithm } => {
                need(1)?;
                let out = like(1)?.clone();
                let (s, bits) = self.rng_bit_generator(operands[0], *algorithm, out)?;
                Ok(vec![s, bits])
            }
            Op::OptimizationBarrier => self.optimization_barrier(operands),
            Op::CustomCall {
                target,
                backend_config,
                has_side_effect,
            } => self.custom_call(
                target.clone(),
                operands,
                result_types,
                backend_config.clone(),
                *has_side_effect,
            ),
        }
    }

    /// Replays `c` into this builder with `args` bound to its parameters; returns the values
    /// of its results. Every op goes through its checked constructor again.
    pub fn inline(&mut self, c: &Computation, args: &[Tensor]) -> Result<Vec<Tensor>> {
        let want = c.param_types();
        let mut got = Vec::with_capacity(args.len());
        for a in args {
            got.push(self.ty(*a)?.clone());
        }
        if got != want {
            return shape_err(
                "inline",
                format!(
                    "`{}` takes ({}), got ({})",
                    c.name,
                    crate::shape::list(&want),
                    crate::shape::list(&got)
                ),
            );
        }
        let mut vals: Vec<Vec<Tensor>> = Vec::with_capacity(c.graph.nodes.len());
        for node in &c.graph.nodes {
            let outs = match &node.op {
                Op::Parameter { index, .. } => {
                    vec![*args.get(*index).ok_or_else(|| Error::Shape {
                        op: "inline",
                        message: format!("parameter {index} has no argument"),
                    })?]
                }
                op => {
                    let mut ops = Vec::with_capacity(node.operands.len());
                    for v in &node.operands {
                        let t = vals
                            .get(v.node.index())
                            .and_then(|r| r.get(v.output as usize))
                            .copied();
                        ops.push(t.ok_or(Error::UnknownTensor {
                            op: "inline",
                            node: v.node.0,
                            output: v.output,
                        })?);
                    }
                    self.record(op, &ops, &node.types)?
                }
            };
            vals.push(outs);
        }
        c.results
            .iter()
            .map(|r| {
                vals.get(r.node.index())
                    .and_then(|x| x.get(r.output as usize))
                    .copied()
                    .ok_or(Error::UnknownTensor {
                        op: "inline",
                        node: r.node.0,
                        output: r.output,
                    })
            })
            .collect()
    }
}
