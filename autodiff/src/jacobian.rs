//! Jacobians and Hessians: a VJP batched over the standard basis of the outputs (`jacrev`,
//! one row per output element) or a JVP batched over the standard basis of the inputs
//! (`jacfwd`, one column per input element), and `hessian` = `jacfwd` of `jacrev`.
//!
//! The VJP (or JVP) is recorded once with a placeholder cotangent (tangent); the nodes that
//! depend on the placeholder are then batched in place over the basis (`crate::vmap`), so
//! each Jacobian is one batched program, not a loop over basis vectors.

use hlo_builder::{Builder, ElementType, TensorType, Value};

use crate::error::Result;
use crate::forward::jvp;
use crate::reverse::{check_inputs, check_outputs, vjp};
use crate::rules::{front, Batched};
use crate::vmap::batch_in_place;

/// The `[m, sizes...]` rows of the identity `[m, m]` (of type `ty`) for one block of
/// columns `off..off + prod(dims)`, shaped `[m, dims...]`.
fn basis_block(b: &mut Builder, ty: ElementType, m: i64, off: i64, dims: &[i64]) -> Result<Value> {
    let size: i64 = dims.iter().product();
    let rows = b.iota(ElementType::S32, [m, size], 0)?;
    let cols = b.iota(ElementType::S32, [m, size], 1)?;
    let o = b.scalar(ElementType::S32, off as f64)?;
    let cols = b.add(cols, o)?;
    let eye = b.eq(rows, cols)?;
    let eye = b.convert(eye, ty)?;
    let mut d = vec![m];
    d.extend(dims);
    Ok(b.reshape(eye, d)?)
}

fn size(t: &TensorType) -> i64 {
    t.element_count()
}

/// Reverse-mode Jacobians: `jac[i][j]` is the derivative of `outputs[i]` with respect to
/// `wrt[j]`, of dimensions `outputs[i].dims ++ wrt[j].dims` (JAX's `jacrev` layout),
/// recorded in `b`. One VJP, batched over the standard basis of all outputs together (their
/// total element count is the batch). Best when the outputs are smaller than the inputs.
///
/// Errors like [`crate::vjp`]'s: non-float outputs or inputs, tensors of another builder.
pub fn jacrev(b: &mut Builder, outputs: &[Value], wrt: &[Value]) -> Result<Vec<Vec<Value>>> {
    let func = "jacrev";
    let otys = check_outputs(b, func, outputs)?;
    let itys = check_inputs(b, func, wrt)?;
    let m: i64 = otys.iter().map(size).sum();
    let start = b.graph().len();
    let mut holders = Vec::with_capacity(outputs.len());
    for &o in outputs {
        holders.push(b.zeros_like(o)?);
    }
    let cts = vjp(b, outputs, &holders, wrt)?;
    let mut seeds = Vec::with_capacity(outputs.len());
    let mut off = 0;
    for (h, t) in holders.iter().zip(&otys) {
        let e = basis_block(b, t.ty, m, off, &t.dims)?;
        seeds.push((h.value(), Batched::new(e, Some(0))));
        off += size(t);
    }
    let ids: Vec<_> = cts.iter().map(|c| c.value()).collect();
    let rows = batch_in_place(b, start, &seeds, &ids, m)?;
    let mut jac = vec![Vec::with_capacity(wrt.len()); outputs.len()];
    for (j, r) in rows.into_iter().enumerate() {
        // [m, wrt_j...]: rows off..off + |out_i| belong to output i.
        let r = front(b, r, m)?;
        let mut off = 0;
        for (i, t) in otys.iter().enumerate() {
            let block = b.slice_axis(r, 0, off, off + size(t))?;
            let mut d = t.dims.to_vec();
            d.extend(itys[j].dims.iter().copied());
            jac[i].push(b.reshape(block, d)?);
            off += size(t);
        }
    }
    Ok(jac)
}

/// Forward-mode Jacobians: `jac[i][j]` is the derivative of `outputs[i]` with respect to
/// `wrt[j]`, of dimensions `outputs[i].dims ++ wrt[j].dims`, recorded in `b`. One JVP,
/// batched over the standard basis of all inputs together. Best when the inputs are smaller
/// than the outputs.
///
/// Errors like [`crate::jvp`]'s.
pub fn jacfwd(b: &mut Builder, outputs: &[Value], wrt: &[Value]) -> Result<Vec<Vec<Value>>> {
    let func = "jacfwd";
    let otys = check_outputs(b, func, outputs)?;
    let itys = check_inputs(b, func, wrt)?;
    let m: i64 = itys.iter().map(size).sum();
    let start = b.graph().len();
    let mut holders = Vec::with_capacity(wrt.len());
    for &w in wrt {
        holders.push(b.zeros_like(w)?);
    }
    let tans = jvp(b, outputs, wrt, &holders)?;
    let mut seeds = Vec::with_capacity(wrt.len());
    let mut off = 0;
    for (h, t) in holders.iter().zip(&itys) {
        let e = basis_block(b, t.ty, m, off, &t.dims)?;
        seeds.push((h.value(), Batched::new(e, Some(0))));
        off += size(t);
    }
    let ids: Vec<_> = tans.iter().map(|c| c.value()).collect();
    let cols = batch_in_place(b, start, &seeds, &ids, m)?;
    let mut jac = Vec::with_capacity(outputs.len());
    for (i, c) in cols.into_iter().enumerate() {
        // [m, out_i...]: rows off..off + |wrt_j| belong to input j.
        let c = front(b, c, m)?;
        let ro = otys[i].rank() as i64;
        let mut row = Vec::with_capacity(wrt.len());
        let mut off = 0;
        for t in &itys {
            let block = b.slice_axis(c, 0, off, off + size(t))?;
            let mut d = t.dims.to_vec();
            d.extend(otys[i].dims.iter().copied());
            let block = b.reshape(block, d)?;
            // [wrt_j..., out_i...] -> [out_i..., wrt_j...]
            let ri = t.rank() as i64;
            let mut perm: Vec<i64> = (ri..ri + ro).collect();
            perm.extend(0..ri);
            row.push(b.transpose(block, perm)?);
            off += size(t);
        }
        jac.push(row);
    }
    Ok(jac)
}

/// The Hessian of `output` (any shape) with respect to `wrt`: `h[j][k]` has dimensions
/// `output.dims ++ wrt[j].dims ++ wrt[k].dims`; forward over reverse (`jacfwd` of
/// `jacrev`), as JAX's `hessian`.
pub fn hessian(b: &mut Builder, output: Value, wrt: &[Value]) -> Result<Vec<Vec<Value>>> {
    let j = jacrev(b, &[output], wrt)?;
    let rows = j.into_iter().next().unwrap_or_default();
    jacfwd(b, &rows, wrt)
}
