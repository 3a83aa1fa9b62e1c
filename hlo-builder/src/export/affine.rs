//! Which integers of a recorded graph follow the batch size, and the graph at another size.
//!
//! The function is recorded at the export size `B` and at `B + 1`, and checked at a few more
//! sizes (1, 2, 3 and `2B + 1`). The graphs must have the same tokens position by position,
//! except integers (attributes and dimensions) and splat constant values, which must each be
//! `a·batch + c` at every size recorded: `a` and `c` come from `B` and `B + 1`, the other
//! sizes check them. An integer with `a != 0` follows the batch; specializing to `n` adds
//! `a·(n - B)` to its value at `B`.

use super::error::ExportError;
use super::tokens::{Enc, Tok};
use crate::ops::source::scalar_bytes;
use crate::types::ElementType;

/// A token of the graph at `B` that follows the batch size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Follow {
    /// An integer: `value(n) = value(B) + slope·(n - B)`.
    Int { pos: usize, slope: i64 },
    /// A splat constant's element, the same way (in f64, exact for the integers such values
    /// hold, like `mean`'s element count).
    Splat { pos: usize, slope: f64 },
}

impl Follow {
    pub(crate) fn pos(&self) -> usize {
        match self {
            Follow::Int { pos, .. } | Follow::Splat { pos, .. } => *pos,
        }
    }
}

/// The largest export batch size (the builder's element bound, so every probe size and
/// every difference of dimensions stays far from overflow).
pub(crate) const MAX_BATCH: i64 = crate::ops::common::MAX_ELEMENTS;

/// The batch sizes a function is recorded at: the export size and the next one (to fit),
/// then the sizes that check the fit. `batch` is at most [`MAX_BATCH`].
pub(crate) fn probes(batch: i64) -> Vec<i64> {
    let mut v = vec![batch, batch + 1];
    for p in [1, 2, 3, 2 * batch + 1] {
        if !v.contains(&p) {
            v.push(p);
        }
    }
    v
}

/// The value of a scalar's bytes, for the types whose splats may follow the batch.
pub(crate) fn scalar_value(ty: ElementType, b: &[u8]) -> Option<f64> {
    use ElementType::*;
    let a = |n: usize| -> Option<&[u8]> { b.get(..n).filter(|_| b.len() == n) };
    Some(match ty {
        F16 => half::f16::from_le_bytes(a(2)?.try_into().ok()?).to_f64(),
        BF16 => half::bf16::from_le_bytes(a(2)?.try_into().ok()?).to_f64(),
        F32 => f32::from_le_bytes(a(4)?.try_into().ok()?) as f64,
        F64 => f64::from_le_bytes(a(8)?.try_into().ok()?),
        S8 => i8::from_le_bytes(a(1)?.try_into().ok()?) as f64,
        S16 => i16::from_le_bytes(a(2)?.try_into().ok()?) as f64,
        S32 => i32::from_le_bytes(a(4)?.try_into().ok()?) as f64,
        S64 => i64::from_le_bytes(a(8)?.try_into().ok()?) as f64,
        U8 => a(1)?[0] as f64,
        U16 => u16::from_le_bytes(a(2)?.try_into().ok()?) as f64,
        U32 => u32::from_le_bytes(a(4)?.try_into().ok()?) as f64,
        U64 => u64::from_le_bytes(a(8)?.try_into().ok()?) as f64,
        _ => return None,
    })
}

/// Finds the tokens that follow the batch from the graphs recorded at `probes` (as
/// [`probes`] orders them; `graphs[i]` was recorded at `probes[i]`).
pub(crate) fn fit(name: &str, probes: &[i64], graphs: &[Enc]) -> Result<Vec<Follow>, ExportError> {
    let (Some(&b0), Some(&b1), Some(base), Some(next)) =
        (probes.first(), probes.get(1), graphs.first(), graphs.get(1))
    else {
        return Err(ExportError::Format("fit needs two recordings".into()));
    };
    let structure = |batch: i64, g: &Enc, pos: usize, detail: String| ExportError::Structure {
        name: name.to_string(),
        base: b0,
        batch,
        what: g.what(pos),
        detail,
    };
    for (g, &p) in graphs.iter().zip(probes).skip(1) {
        if g.toks.len() != base.toks.len() {
            let pos = base
                .toks
                .iter()
                .zip(&g.toks)
                .position(|(a, b)| std::mem::discriminant(a) != std::mem::discriminant(b))
                .unwrap_or(base.toks.len().min(g.toks.len()));
            return Err(structure(
                p,
                g,
                pos,
                format!(
                    "{} tokens against {} at batch {b0}",
                    g.toks.len(),
                    base.toks.len()
                ),
            ));
        }
    }
    let mut follows = Vec::new();
    for (pos, (t0, t1)) in base.toks.iter().zip(&next.toks).enumerate() {
        let others = || {
            graphs
                .iter()
                .zip(probes)
                .skip(2)
                .map(|(g, &p)| (p, &g.toks[pos]))
        };
        match (t0, t1) {
            (Tok::I(v0), Tok::I(v1)) => {
                let Some(slope) = v1.checked_sub(*v0) else {
                    return Err(ExportError::NotAffine {
                        name: name.to_string(),
                        what: base.what(pos),
                        detail: format!("an integer goes from {v0} to {v1}"),
                    });
                };
                let at = |p: i64| v0.checked_add(slope.checked_mul(p - b0)?);
                for (p, t) in others() {
                    match t {
                        Tok::I(v) if Some(*v) == at(p) => {}
                        Tok::I(v) => {
                            return Err(ExportError::NotAffine {
                                name: name.to_string(),
                                what: base.what(pos),
                                detail: format!(
                                    "an integer attribute or dimension is {v0} at batch {b0}, {v1} at {b1} but {v} at {p}, not a·batch + c"
                                ),
                            })
                        }
                        _ => return Err(structure(p, &graphs[0], pos, "a token of another kind".into())),
                    }
                }
                if slope != 0 {
                    follows.push(Follow::Int { pos, slope });
                }
            }
            (Tok::Splat(ty0, x0), Tok::Splat(ty1, x1)) if ty0 == ty1 => {
                let all_same =
                    x0 == x1 && others().all(|(_, t)| matches!(t, Tok::Splat(_, x) if x == x0));
                if all_same {
                    continue;
                }
                let not_affine = |detail: String| ExportError::NotAffine {
                    name: name.to_string(),
                    what: base.what(pos),
                    detail,
                };
                let (Some(v0), Some(v1)) = (scalar_value(*ty0, x0), scalar_value(*ty1, x1)) else {
                    return Err(not_affine(format!(
                        "a {ty0} splat constant's value changes with the batch size"
                    )));
                };
                let slope = v1 - v0;
                for (p, t) in others() {
                    let v = match t {
                        Tok::Splat(ty, x) if ty == ty0 => scalar_value(*ty, x),
                        _ => None,
                    };
                    let want = v0 + slope * (p - b0) as f64;
                    if v != Some(want) {
                        return Err(not_affine(format!(
                            "a splat constant is {v0} at batch {b0}, {v1} at {b1} but {} at {p}, not a·batch + c (a constant like 1/batch cannot follow the batch; divide by a constant of the batch size instead)",
                            v.map_or("another type".to_string(), |v| v.to_string())
                        )));
                    }
                }
                follows.push(Follow::Splat { pos, slope });
            }
            (Tok::B(x0), Tok::B(x1)) => {
                let all_same = x0 == x1 && others().all(|(_, t)| matches!(t, Tok::B(x) if x == x0));
                if !all_same {
                    let what = base.what(pos);
                    return Err(if what.contains("(`constant`)") {
                        ExportError::BatchDependentConstant {
                            name: name.to_string(),
                            what,
                        }
                    } else {
                        structure(b1, next, pos, "names or data differ".into())
                    });
                }
            }
            (Tok::U(u0), Tok::U(u1)) => {
                if u0 != u1 {
                    return Err(structure(b1, next, pos, format!("{u0} against {u1}")));
                }
                for (p, t) in others() {
                    if t != t0 {
                        return Err(structure(
                            p,
                            &graphs[0],
                            pos,
                            format!("{t0:?} against {t:?}"),
                        ));
                    }
                }
            }
            _ => return Err(structure(b1, next, pos, "tokens of different kinds".into())),
        }
    }
    Ok(follows)
}

/// The tokens of the graph at batch `n`, from those at `base`.
pub(crate) fn specialize(
    toks: &[Tok],
    follows: &[Follow],
    base: i64,
    n: i64,
) -> Result<Vec<Tok>, String> {
    let mut out = toks.to_vec();
    let delta = n - base;
    for f in follows {
        let t = out
            .get_mut(f.pos())
            .ok_or_else(|| format!("follow position {} is outside the graph", f.pos()))?;
        match (f, t) {
            (Follow::Int { slope, .. }, Tok::I(v)) => {
                *v = slope
                    .checked_mul(delta)
                    .and_then(|d| v.checked_add(d))
                    .ok_or_else(|| format!("an attribute overflows at batch {n}"))?;
            }
            (Follow::Splat { slope, .. }, Tok::Splat(ty, bytes)) => {
                let v0 = scalar_value(*ty, bytes)
                    .ok_or_else(|| format!("a {ty} splat cannot follow the batch"))?;
                let v = v0 + slope * delta as f64;
                let b = scalar_bytes(*ty, v).ok_or_else(|| format!("no {ty} value {v}"))?;
                *bytes = std::sync::Arc::from(&b[..]);
            }
            (f, t) => return Err(format!("{f:?} does not name a token of its kind ({t:?})")),
        }
    }
    Ok(out)
}
