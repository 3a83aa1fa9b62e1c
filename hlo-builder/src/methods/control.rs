//! Control flow: `while` (and the counted `fori_loop` and `scan`), `if`, `case` and calls.

use std::sync::Arc;

use smallvec::{smallvec, SmallVec};

use crate::builder::{BranchFn, Builder, RegionFn};
use crate::error::{shape_err, Result};
use crate::graph::{Computation, Value, ValueId};
use crate::ops::source::int_scalar;
use crate::ops::{BinaryOp, CallKind, ComparisonDirection, ControlOp, Counted, ElementwiseOp, Op};
use crate::types::{ElementType, TensorType};

/// Whether a `while` with state `init`, `cond` and `body` counts: state entry k starts at an
/// integer constant, the body adds the constant 1 to it, and `cond` is `k < constant` (or
/// `constant > k`). Read once, when the loop is recorded.
fn counted(b: &Builder, init: &[Value], cond: &Computation, body: &Computation) -> Option<Counted> {
    let cp = cond.graph.parameters();
    let bp = body.graph.parameters();
    let scalar = |c: &Computation, v: ValueId| match &c.graph.node(v.node)?.op {
        Op::Source(s) => int_scalar(s),
        _ => None,
    };
    let param_of = |ps: &[crate::graph::NodeId], v: ValueId| ps.iter().position(|&p| p == v.node);
    let c = cond.graph.node(cond.results.first()?.node)?;
    let (k, limit) = match c.op {
        Op::Elementwise(ElementwiseOp::Compare(ComparisonDirection::Lt)) => {
            (param_of(cp, c.operands[0])?, scalar(cond, c.operands[1])?)
        }
        Op::Elementwise(ElementwiseOp::Compare(ComparisonDirection::Gt)) => {
            (param_of(cp, c.operands[1])?, scalar(cond, c.operands[0])?)
        }
        _ => return None,
    };
    let r = body.graph.node(body.results.get(k)?.node)?;
    let Op::Elementwise(ElementwiseOp::Binary(BinaryOp::Add)) = r.op else {
        return None;
    };
    let (a, o) = (r.operands[0], r.operands[1]);
    let step = if param_of(bp, a) == Some(k) {
        scalar(body, o)?
    } else if param_of(bp, o) == Some(k) {
        scalar(body, a)?
    } else {
        return None;
    };
    if step != 1 {
        return None;
    }
    let start = match b.op(*init.get(k)?).ok()? {
        Op::Source(s) => int_scalar(s)?,
        _ => return None,
    };
    Some(Counted {
        counter: k,
        start,
        limit,
    })
}

impl Builder {
    /// `while cond(state) { state = body(state) }`; returns the final state. A loop that
    /// counts (a counter starting at a constant, incremented by 1, compared `<` with a
    /// constant) is recorded as [`Counted`], so its trip count is known to the graph.
    ///
    /// Shapes: `S_i (N) -> S_i (N)`.
    pub fn while_loop_with(
        &mut self,
        state: &[Value],
        cond: Arc<Computation>,
        body: Arc<Computation>,
    ) -> Result<Vec<Value>> {
        let counted = counted(self, state, &cond, &body);
        self.record_owned(
            ControlOp::While { counted }.into(),
            state,
            smallvec![cond, body],
        )
    }

    /// [`Builder::while_loop_with`] with cond and body recorded from closures.
    ///
    /// Shapes: `S_i (N) -> S_i (N)`.
    pub fn while_loop(
        &mut self,
        state: &[Value],
        cond: impl RegionFn,
        body: impl RegionFn,
    ) -> Result<Vec<Value>> {
        let st = self.types("while", state)?;
        let c = Builder::computation("while_cond", &st, cond)?;
        let b = Builder::computation("while_body", &st, body)?;
        self.while_loop_with(state, c, b)
    }

    /// A counted loop `for i in 0..trips { state = body(i, state) }` (`i` an s32 scalar),
    /// recorded as a `while` whose trip count the graph knows (counter first in the loop
    /// state). Returns the final state (without the counter).
    ///
    /// Shapes: `S_i (N) -> S_i (N)`.
    pub fn fori_loop(
        &mut self,
        trips: i32,
        state: &[Value],
        body: impl FnOnce(&mut Builder, Value, &[Value]) -> Result<Vec<Value>>,
    ) -> Result<Vec<Value>> {
        let i0 = self.scalar(ElementType::S32, 0.0)?;
        let mut init = vec![i0];
        init.extend_from_slice(state);
        let tys = self.types("fori_loop", &init)?;
        let cond = Builder::computation("fori_cond", &tys, move |cb, a| {
            let n = cb.scalar(ElementType::S32, trips as f64)?;
            Ok(vec![cb.lt(a[0], n)?])
        })?;
        let mut cb = Builder::new("fori_body");
        let mut ps = Vec::new();
        for (i, t) in tys.iter().enumerate() {
            ps.push(cb.parameter(format!("arg{i}"), t.ty, &t.dims)?);
        }
        let outs = body(&mut cb, ps[0], &ps[1..])?;
        if outs.len() != ps.len() - 1 {
            return shape_err(
                "fori_loop",
                format!(
                    "the body returned {} values for a state of {}",
                    outs.len(),
                    ps.len() - 1
                ),
            );
        }
        let one = cb.scalar(ElementType::S32, 1.0)?;
        let next = cb.add(ps[0], one)?;
        let mut res = vec![next];
        res.extend(outs);
        let body = Arc::new(cb.finish(&res)?);
        let counted = Some(Counted {
            counter: 0,
            start: 0,
            limit: trips as i64,
        });
        let r = self.record_owned(
            ControlOp::While { counted }.into(),
            &init,
            smallvec![cond, body],
        )?;
        Ok(r[1..].to_vec())
    }

    /// A loop over the leading axis of `xs`, carrying state and stacking outputs (JAX's
    /// `lax.scan`): `for i in 0..n { (carry, y_i) = body(carry, x_i) }` where `x_i` is row
    /// `i` of each of `xs` (all with `n` rows). Returns the final carry and the `ys` stacked
    /// along a new leading axis of `n`.
    ///
    /// Recorded as a counted loop (the graph knows its trip count) that reads row `i` with
    /// `dynamic_slice` and writes `y_i` with `dynamic_update_slice`, so it is differentiated
    /// in both modes and batched by the `while` rules, never unrolled. `xs` must not be empty
    /// (use [`scan_with`](Self::scan_with) to give the length).
    ///
    /// Shapes: `C_j (carry), X_k[n, x_k...] -> (C_j, Y_l[n, y_l...])`, `body: (C_j, X_k[x_k...]) -> (C_j, Y_l[y_l...])`.
    pub fn scan(
        &mut self,
        init: &[Value],
        xs: &[Value],
        body: impl FnOnce(&mut Builder, &[Value], &[Value]) -> Result<(Vec<Value>, Vec<Value>)>,
    ) -> Result<(Vec<Value>, Vec<Value>)> {
        let Some(&first) = xs.first() else {
            return shape_err(
                "scan",
                "needs at least one sequence in `xs` to know the length; use scan_with",
            );
        };
        let t = self.value("scan", first)?.1;
        let Some(&n) = t.dims.first() else {
            return shape_err(
                "scan",
                format!("sequence {t} has no leading axis to scan over"),
            );
        };
        self.scan_with(n, false, init, xs, body)
    }

    /// [`scan`](Self::scan) over `length` steps (every one of `xs` has `length` rows; `xs`
    /// may be empty), walking the rows from last to first when `reverse` (`ys` row `i` still
    /// belongs to `x_i`).
    ///
    /// Shapes: as [`scan`](Self::scan) with `n = length`.
    pub fn scan_with(
        &mut self,
        length: i64,
        reverse: bool,
        init: &[Value],
        xs: &[Value],
        body: impl FnOnce(&mut Builder, &[Value], &[Value]) -> Result<(Vec<Value>, Vec<Value>)>,
    ) -> Result<(Vec<Value>, Vec<Value>)> {
        let op = "scan";
        let trips = match i32::try_from(length) {
            Ok(t) if t >= 0 => t,
            _ => return shape_err(op, format!("length {length} must be in 0..=2^31-1")),
        };
        let carry_tys = self.types(op, init)?;
        let seq_tys = self.types(op, xs)?;
        let mut row_tys = Vec::with_capacity(xs.len());
        for (k, t) in seq_tys.iter().enumerate() {
            if t.dims.first() != Some(&length) {
                return shape_err(
                    op,
                    format!("sequence {k} is {t}; every sequence needs a leading axis of {length}"),
                );
            }
            row_tys.push(TensorType::new(t.ty, &t.dims[1..]));
        }
        // The step, recorded once: (carry, x_i) -> (carry, y_i).
        let nc = init.len();
        let mut step_tys = carry_tys.clone();
        step_tys.extend(row_tys.iter().cloned());
        let mut ny = 0;
        let step = Builder::computation("scan_step", &step_tys, |b, a| {
            let (c, y) = body(b, &a[..nc], &a[nc..])?;
            if c.len() != nc {
                return shape_err(
                    op,
                    format!("the body returned {} carry values for {nc}", c.len()),
                );
            }
            ny = y.len();
            let mut out = c;
            out.extend(y);
            Ok(out)
        })?;
        let out_tys = step.result_types();
        if out_tys[..nc] != carry_tys[..] {
            return shape_err(
                op,
                format!(
                    "the body returns the carry as ({}), it came in as ({})",
                    crate::ops::common::list(&out_tys[..nc]),
                    crate::ops::common::list(&carry_tys)
                ),
            );
        }
        let y_tys: Vec<TensorType> = out_tys[nc..nc + ny].to_vec();
        let stack_ty = |t: &TensorType| {
            let mut d = vec![length];
            d.extend(t.dims.iter().copied());
            TensorType::new(t.ty, d)
        };
        // Loop state: (i, carry..., xs..., stacked ys...).
        let nx = xs.len();
        let s32 = TensorType::scalar(ElementType::S32);
        let mut state_tys = vec![s32];
        state_tys.extend(carry_tys.iter().cloned());
        state_tys.extend(seq_tys.iter().cloned());
        state_tys.extend(y_tys.iter().map(stack_ty));
        let cond = Builder::computation("scan_cond", &state_tys, move |b, a| {
            let n = b.scalar(ElementType::S32, trips as f64)?;
            Ok(vec![b.lt(a[0], n)?])
        })?;
        let body = Builder::computation("scan_body", &state_tys, |b, a| {
            let i = a[0];
            let row = if reverse {
                let last = b.scalar(ElementType::S32, (trips - 1) as f64)?;
                b.sub(last, i)?
            } else {
                i
            };
            let zero = b.scalar(ElementType::S32, 0.0)?;
            let starts = |rank: usize| {
                let mut st = vec![row];
                st.extend(std::iter::repeat_n(zero, rank));
                st
            };
            let mut args = a[1..1 + nc].to_vec();
            for (k, t) in row_tys.iter().enumerate() {
                let mut sz = vec![1];
                sz.extend(t.dims.iter().copied());
                let sl = b.dynamic_slice(a[1 + nc + k], &starts(t.rank()), sz)?;
                args.push(b.reshape(sl, &t.dims)?);
            }
            let r = b.inline(&step, &args)?;
            let one = b.scalar(ElementType::S32, 1.0)?;
            let mut next = vec![b.add(i, one)?];
            next.extend_from_slice(&r[..nc]);
            next.extend_from_slice(&a[1 + nc..1 + nc + nx]);
            for (l, t) in y_tys.iter().enumerate() {
                let mut d1 = vec![1];
                d1.extend(t.dims.iter().copied());
                let y1 = b.reshape(r[nc + l], d1)?;
                let acc = a[1 + nc + nx + l];
                next.push(b.dynamic_update_slice(acc, y1, &starts(t.rank()))?);
            }
            Ok(next)
        })?;
        let mut init_state = vec![self.scalar(ElementType::S32, 0.0)?];
        init_state.extend_from_slice(init);
        init_state.extend_from_slice(xs);
        for t in &y_tys {
            let st = stack_ty(t);
            init_state.push(self.splat(st.ty, &st.dims, 0.0)?);
        }
        let counted = Some(Counted {
            counter: 0,
            start: 0,
            limit: length,
        });
        let r = self.record_owned(
            ControlOp::While { counted }.into(),
            &init_state,
            smallvec![cond, body],
        )?;
        Ok((r[1..1 + nc].to_vec(), r[1 + nc + nx..].to_vec()))
    }

    /// `if pred { true_branch(args) } else { false_branch(args) }`; `pred` is pred[].
    ///
    /// Shapes: `pred[], A_i (N) -> R_j` (the branches' common result types).
    pub fn cond_with(
        &mut self,
        pred: Value,
        args: &[Value],
        true_branch: Arc<Computation>,
        false_branch: Arc<Computation>,
    ) -> Result<Vec<Value>> {
        let mut ops = vec![pred];
        ops.extend_from_slice(args);
        self.record_owned(
            ControlOp::If.into(),
            &ops,
            smallvec![true_branch, false_branch],
        )
    }

    /// [`Builder::cond_with`] with both branches recorded from closures over `args`.
    ///
    /// Shapes: `pred[], A_i (N) -> R_j` (the branches' common result types).
    pub fn cond(
        &mut self,
        pred: Value,
        args: &[Value],
        true_branch: impl RegionFn,
        false_branch: impl RegionFn,
    ) -> Result<Vec<Value>> {
        let at = self.types("if", args)?;
        let t = Builder::computation("if_true", &at, true_branch)?;
        let f = Builder::computation("if_false", &at, false_branch)?;
        self.cond_with(pred, args, t, f)
    }

    /// Runs branch `index` (s32[]; out of range runs the last branch) on `args`, each branch
    /// recorded from a closure that receives its own builder and `args`' values.
    ///
    /// Shapes: `s32[], A_i (N) -> R_j` (the branches' common result types).
    pub fn case(
        &mut self,
        index: Value,
        args: &[Value],
        branches: Vec<BranchFn<'_>>,
    ) -> Result<Vec<Value>> {
        let at = self.types("case", args)?;
        let mut recorded = Vec::with_capacity(branches.len());
        for (k, f) in branches.into_iter().enumerate() {
            recorded.push(Builder::computation(format!("case_{k}"), &at, f)?);
        }
        self.case_with(index, args, recorded)
    }

    /// [`case`](Self::case) with branches made by [`Builder::computation`] taking the types
    /// of `args`.
    ///
    /// Shapes: `s32[], A_i (N) -> R_j` (the branches' common result types).
    pub fn case_with(
        &mut self,
        index: Value,
        args: &[Value],
        branches: Vec<Arc<Computation>>,
    ) -> Result<Vec<Value>> {
        let mut ops = vec![index];
        ops.extend_from_slice(args);
        self.record_owned(ControlOp::Case.into(), &ops, SmallVec::from_vec(branches))
    }

    /// Calls `callee` (made with [`Builder::computation`]); it is emitted once per module as a
    /// private function.
    ///
    /// Shapes: `A_i (callee parameters) -> R_j (callee results)`.
    pub fn call(&mut self, callee: &Arc<Computation>, args: &[Value]) -> Result<Vec<Value>> {
        self.call_as(callee, args, CallKind::Plain)
    }

    /// [`call`](Self::call) with a [`CallKind`] saying how transformations treat the call
    /// (checkpointed, or with rules of its own).
    ///
    /// Shapes: `A_i (callee parameters) -> R_j (callee results)`.
    pub fn call_as(
        &mut self,
        callee: &Arc<Computation>,
        args: &[Value],
        kind: CallKind,
    ) -> Result<Vec<Value>> {
        self.record_owned(
            ControlOp::Call { kind }.into(),
            args,
            smallvec![callee.clone()],
        )
    }

    /// Records `f` as a computation taking values of the types of `inputs` (its parameters
    /// are named `arg0`, `arg1`, ...).
    pub fn computation_like(
        &self,
        name: &str,
        inputs: &[Value],
        f: impl RegionFn,
    ) -> Result<Arc<Computation>> {
        let tys: Vec<TensorType> = self.types("computation", inputs)?;
        Builder::computation(name, &tys, f)
    }
}
