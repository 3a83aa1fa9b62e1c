//! Control flow: `while` loops (counted ones say so), `if`, `case` and calls of functions.
//! Bodies, branches and callees are the node's regions.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use super::common::{
    arity_at_least, check_region, region_count, Emission, Lowering, RegionUse, Signature,
};
use crate::error::{shape_err, Result};
use crate::types::{ElementType, TensorType};

/// A `while` loop that counts: state entry `counter` (an integer scalar) starts at `start`,
/// the body adds 1 to it, and the loop runs while it is below `limit`. The graph records this
/// when the loop is made, so autodiff knows the trip count without reading the bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Counted {
    /// Index of the counter in the loop state.
    pub counter: usize,
    /// The counter's first value.
    pub start: i64,
    /// The loop stops when the counter reaches this.
    pub limit: i64,
}

impl Counted {
    /// How many times the body runs.
    pub fn trips(&self) -> i64 {
        (self.limit.saturating_sub(self.start)).max(0)
    }
}

/// What a call means to the transformations (how it is differentiated). The lowering emits
/// every kind as a plain call.
#[derive(Clone, PartialEq)]
pub enum CallKind {
    /// Differentiated through its body.
    Plain,
    /// Gradient checkpointing: the body's intermediate values are recomputed in the backward
    /// pass instead of kept.
    Checkpoint(CheckpointPolicy),
    /// Rules given by the user (autodiff's `custom_vjp` / `custom_jvp`), carried by the node.
    Custom(CustomRules),
}

impl fmt::Debug for CallKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallKind::Plain => f.write_str("Plain"),
            CallKind::Checkpoint(p) => write!(f, "Checkpoint({p:?})"),
            CallKind::Custom(r) => write!(f, "Custom({r:?})"),
        }
    }
}

/// Which values a checkpointed call keeps for the backward pass, and where.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum CheckpointPolicy {
    /// Keep only the call's inputs; recompute everything inside (behind an optimization
    /// barrier, so the compiler cannot reuse the forward values).
    #[default]
    RecomputeAll,
    /// Keep only the call's inputs, in memory of the given kind (typically
    /// [`MemoryKind::PINNED_HOST`](crate::MemoryKind::PINNED_HOST)) between the forward and
    /// the backward pass: the gradient moves them there ([`Builder::place`](crate::Builder::place))
    /// and back to the device before recomputing everything inside, as `RecomputeAll` does
    /// (JAX's offloading checkpoint policies). Programs with such a gradient hold in-program
    /// moves, so compiling them is checked like any other move (`Module::compile_with`).
    Offload(crate::MemoryKind),
}

/// Differentiation rules attached to a call by a higher layer (autodiff). The builder stores
/// and lowers the call; it never looks inside. Dropping the graph drops the rules.
#[derive(Clone)]
pub struct CustomRules {
    name: String,
    rules: Arc<dyn Any + Send + Sync>,
}

impl CustomRules {
    /// Wraps `rules` (any type the transformation that reads them knows) under a name for
    /// messages.
    pub fn new(name: impl Into<String>, rules: Arc<dyn Any + Send + Sync>) -> CustomRules {
        CustomRules {
            name: name.into(),
            rules,
        }
    }
    /// The name given at creation.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The rules, if they are of type `T`.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.rules.downcast_ref::<T>()
    }
}

impl PartialEq for CustomRules {
    fn eq(&self, other: &CustomRules) -> bool {
        Arc::ptr_eq(&self.rules, &other.rules)
    }
}

impl fmt::Debug for CustomRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomRules({:?})", self.name)
    }
}

/// The control-flow primitives.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlOp {
    /// operands: the loop state. Region 0 (cond) maps the state to pred[], region 1 (body) to
    /// the next state.
    While {
        /// Set when the loop is a counted loop (its trip count known).
        counted: Option<Counted>,
    },
    /// operands: pred[] then the branch arguments. Regions: the true and the false branch.
    If,
    /// operands: s32[] index then the branch arguments (out of range runs the last branch).
    /// Regions: the branches.
    Case,
    /// A call of region 0, emitted once per module as a private function.
    Call {
        /// How the call is emitted.
        kind: CallKind,
    },
}

impl ControlOp {
    /// The op's name in errors.
    pub fn name(&self) -> &'static str {
        match self {
            ControlOp::While { .. } => "while",
            ControlOp::If => "if",
            ControlOp::Case => "case",
            ControlOp::Call { .. } => "call",
        }
    }

    /// The shape rule.
    pub fn infer(&self, xs: &[&TensorType], regions: &[Signature]) -> Result<Vec<TensorType>> {
        let op = self.name();
        let all: Vec<TensorType> = xs.iter().map(|t| (*t).clone()).collect();
        match self {
            ControlOp::While { counted } => {
                region_count(op, regions, 2)?;
                if let Some(c) = counted {
                    let ok = all
                        .get(c.counter)
                        .is_some_and(|t| t.rank() == 0 && t.ty.is_integer());
                    if !ok {
                        return shape_err(
                            op,
                            format!(
                                "counter {} must be an integer scalar of the state ({})",
                                c.counter,
                                super::common::list(&all)
                            ),
                        );
                    }
                }
                while_loop(&all, &regions[0], &regions[1])
            }
            ControlOp::If | ControlOp::Case => {
                arity_at_least(op, xs, 1)?;
                let want = if *self == ControlOp::If {
                    ElementType::Pred
                } else {
                    ElementType::S32
                };
                if *xs[0] != TensorType::scalar(want) {
                    let what = if want == ElementType::Pred {
                        "condition"
                    } else {
                        "index"
                    };
                    return shape_err(op, format!("{what} {} must be {want}[]", xs[0]));
                }
                if *self == ControlOp::If {
                    region_count(op, regions, 2)?;
                }
                branches(op, &all[1..], regions)
            }
            ControlOp::Call { .. } => {
                region_count(op, regions, 1)?;
                let callee = &regions[0];
                if callee.params != all {
                    return shape_err(
                        op,
                        format!(
                            "`{}` takes ({}), got ({})",
                            callee.name,
                            super::common::list(&callee.params),
                            super::common::list(&all)
                        ),
                    );
                }
                Ok(callee.results.clone())
            }
        }
    }

    /// The lowering table.
    pub fn lower(&self, nregions: usize) -> Result<Lowering> {
        Ok(match self {
            ControlOp::While { .. } => Lowering::Op(Emission {
                name: "stablehlo.while",
                attrs: Vec::new(),
                regions: vec![RegionUse::Block(0), RegionUse::Block(1)],
                passed: None,
            }),
            // Branch arguments are captured by the branch regions, not passed.
            ControlOp::If | ControlOp::Case => Lowering::Op(Emission {
                name: if *self == ControlOp::If {
                    "stablehlo.if"
                } else {
                    "stablehlo.case"
                },
                attrs: Vec::new(),
                regions: (0..nregions).map(RegionUse::Capture).collect(),
                passed: Some(1),
            }),
            ControlOp::Call { .. } => Lowering::Call,
        })
    }
}

/// `while`: cond maps the state to pred[], body maps the state to the state.
pub fn while_loop(
    state: &[TensorType],
    cond: &Signature,
    body: &Signature,
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
    bs: &[Signature],
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
