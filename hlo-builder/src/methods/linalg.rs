//! Linear algebra: `dot_general`, `convolution` and numpy's `matmul`.

use crate::builder::Builder;
use crate::error::{shape_err, Result};
use crate::graph::Value;
use crate::ops::common::broadcast_shapes;
use crate::ops::linalg::Transpose;
use crate::ops::{ConvConfig, DotDims, LinalgOp, Precision};
use crate::types::{ElementType, TensorType};

impl Builder {
    /// General dot: result axes are batch, lhs free, rhs free (see
    /// [`crate::ops::linalg::dot_general`]).
    ///
    /// Shapes: `T[lhs...], T[rhs...] -> T[batch..., lhs free..., rhs free...]`.
    pub fn dot_general(
        &mut self,
        lhs: Value,
        rhs: Value,
        dims: DotDims,
        precision: [Precision; 2],
    ) -> Result<Value> {
        self.record1(LinalgOp::DotGeneral { dims, precision }, &[lhs, rhs])
    }

    /// Convolution of `input` with `kernel`; see [`crate::ops::linalg::convolution`].
    ///
    /// Shapes: `T[input], T[kernel] -> T[output]`, output batch = input batch / batch_group_count, output features = kernel output features, spatial size `(padded dilated input - dilated window) / stride + 1`.
    pub fn convolution(
        &mut self,
        input: Value,
        kernel: Value,
        config: ConvConfig,
    ) -> Result<Value> {
        self.record1(LinalgOp::Convolution(Box::new(config)), &[input, kernel])
    }

    /// Numpy `matmul`: 1-D operands are promoted (and the added axis dropped), leading batch
    /// axes broadcast. Shapes: `T[..., m, k] @ T[..., k, n] -> T[..., m, n]`; `T[k] @ T[k] -> T[]`.
    ///
    /// ```
    /// use hlo_builder::{Builder, ElementType::F32};
    ///
    /// let mut b = Builder::new("matmul");
    /// let x = b.parameter("x", F32, [4, 2, 3])?; // a batch of 4 matrices
    /// let w = b.parameter("w", F32, [3, 5])?; // broadcast over the batch
    /// let v = b.parameter("v", F32, [5])?;
    /// let y = b.matmul(x, w)?;
    /// assert_eq!(b.ty(y)?.to_string(), "f32[4,2,5]");
    /// let z = b.matmul(y, v)?; // a vector on the right: its axis is contracted and dropped
    /// assert_eq!(b.ty(z)?.to_string(), "f32[4,2]");
    ///
    /// // The error names the op and both shapes.
    /// let e = b.matmul(w, w).unwrap_err().to_string();
    /// assert!(e.contains("f32[3,5]"), "{e}");
    ///
    /// // [[1, 2], [3, 4]] @ [[5], [6]] = [[17], [39]], on the CPU plugin:
    /// let mut b = Builder::new("small");
    /// let p = b.parameter("p", F32, [2, 2])?;
    /// let q = b.parameter("q", F32, [2, 1])?;
    /// let r = b.matmul(p, q)?;
    /// let exe = b.build(&[r])?.compile(&pjrt::Client::default_cpu()?)?;
    /// let out = exe.run(&[
    ///     &pjrt::Literal::from_slice(&[1f32, 2., 3., 4.], &[2, 2])?,
    ///     &pjrt::Literal::from_slice(&[5f32, 6.], &[2, 1])?,
    /// ])?;
    /// assert_eq!(out[0].to_vec::<f32>()?, [17.0, 39.0]);
    /// # Ok::<(), hlo_builder::Error>(())
    /// ```
    pub fn matmul(&mut self, a: Value, b: Value) -> Result<Value> {
        let op = "matmul";
        let ta = self.ty(a)?.clone();
        let tb = self.ty(b)?.clone();
        if ta.rank() == 0 || tb.rank() == 0 {
            return shape_err(
                op,
                format!("operands must have rank >= 1, got {ta} and {tb}"),
            );
        }
        if ta.ty != tb.ty {
            return shape_err(op, format!("element types differ: {ta} and {tb}"));
        }
        let (ka, kb) = (
            ta.rank() - 1,
            if tb.rank() == 1 { 0 } else { tb.rank() - 2 },
        );
        if ta.dims[ka] != tb.dims[kb] {
            return shape_err(op, format!("contracting dimensions differ: lhs {ta} axis {ka} has {}, rhs {tb} axis {kb} has {}", ta.dims[ka], tb.dims[kb]));
        }
        if ta.rank() == 1 && tb.rank() == 1 {
            return self.dot_general(
                a,
                b,
                DotDims {
                    lhs_contracting: vec![0],
                    rhs_contracting: vec![0],
                    ..Default::default()
                },
                [Precision::Default; 2],
            );
        }
        if ta.rank() >= 2 && tb.rank() <= 2 {
            // No batch axes on the right (`x[..., k] @ w[k, n]`): one dot contracting the
            // left's last axis, whose gradient with respect to `w` is one dot over all the
            // left's other axes (not a batched dot and a sum).
            return self.dot_general(
                a,
                b,
                DotDims {
                    lhs_contracting: vec![ka as i64],
                    rhs_contracting: vec![0],
                    ..Default::default()
                },
                [Precision::Default; 2],
            );
        }
        let a2 = if ta.rank() == 1 {
            self.reshape(a, [1, ta.dims[0]])?
        } else {
            a
        };
        let b2 = if tb.rank() == 1 {
            self.reshape(b, [tb.dims[0], 1])?
        } else {
            b
        };
        let ta2 = self.ty(a2)?.clone();
        let tb2 = self.ty(b2)?.clone();
        let (ra, rb) = (ta2.rank(), tb2.rank());
        let batch_a = TensorType::new(ta.ty, &ta2.dims[..ra - 2]);
        let batch_b = TensorType::new(tb.ty, &tb2.dims[..rb - 2]);
        let batch = broadcast_shapes(op, &batch_a, &batch_b)?;
        let nb = batch.len() as i64;
        let mut da = batch.to_vec();
        da.extend_from_slice(&ta2.dims[ra - 2..]);
        let mut db = batch.to_vec();
        db.extend_from_slice(&tb2.dims[rb - 2..]);
        let a3 = self.broadcast_to(a2, &da)?;
        let b3 = self.broadcast_to(b2, &db)?;
        let dims = DotDims {
            lhs_batch: (0..nb).collect(),
            rhs_batch: (0..nb).collect(),
            lhs_contracting: vec![nb + 1],
            rhs_contracting: vec![nb],
        };
        let r = self.dot_general(a3, b3, dims, [Precision::Default; 2])?;
        let mut out: Vec<i64> = batch.to_vec();
        if ta.rank() > 1 {
            out.push(ta2.dims[ra - 2]);
        }
        if tb.rank() > 1 {
            out.push(tb2.dims[rb - 1]);
        }
        self.reshape(r, out)
    }

    /// The Cholesky factor of a batch of symmetric positive definite matrices: `l` with
    /// `a = l lᵀ` when `lower`, else `u` with `a = uᵀ u`; the other triangle is zero. The
    /// symmetric part `(a + aᵀ) / 2` is factored (as JAX does), so the gradient with respect
    /// to `a` is symmetric. A matrix that is not positive definite gives NaNs.
    ///
    /// Shapes: `T[..., n, n] -> T[..., n, n]` (float types).
    pub fn cholesky(&mut self, a: Value, lower: bool) -> Result<Value> {
        let t = self.value("cholesky", a)?.1;
        crate::ops::linalg::cholesky(&t)?;
        if t.ty.is_complex() {
            return shape_err(
                "cholesky",
                format!("{t}: complex matrices are factored by recording LinalgOp::Cholesky"),
            );
        }
        let at = self.transpose(a, swap_last_two(t.rank()))?;
        let s = self.add(a, at)?;
        let half = self.scalar_like(a, 0.5)?;
        let sym = self.mul(s, half)?;
        let f = self.record1(LinalgOp::Cholesky { lower }, &[sym])?;
        if lower {
            self.tril(f, 0)
        } else {
            self.triu(f, 0)
        }
    }

    /// Solves a triangular system: `op(a) x = b` when `left_side`, else `x op(a) = b`, with
    /// `op(a)` = `a`, `aᵀ` or `aᴴ` per `transpose_a`. Only the `lower` (else upper) triangle
    /// of `a` is read, and with `unit_diagonal` its diagonal is taken as ones.
    ///
    /// Shapes: `T[..., n, n], T[..., n, k] -> T[..., n, k]` (left side);
    /// `T[..., n, n], T[..., k, n] -> T[..., k, n]` (right side).
    pub fn triangular_solve(
        &mut self,
        a: Value,
        b: Value,
        left_side: bool,
        lower: bool,
        unit_diagonal: bool,
        transpose_a: Transpose,
    ) -> Result<Value> {
        self.record1(
            LinalgOp::TriangularSolve {
                left_side,
                lower,
                unit_diagonal,
                transpose_a,
            },
            &[a, b],
        )
    }

    /// The lower triangle of the last two axes: elements on and below diagonal `k` (0 the
    /// main diagonal, negative below, positive above) kept, the rest zero (numpy's `tril`).
    ///
    /// Shapes: `T[..., m, n] -> T[..., m, n]`.
    pub fn tril(&mut self, x: Value, k: i64) -> Result<Value> {
        self.triangle("tril", x, k, true)
    }

    /// The upper triangle of the last two axes: elements on and above diagonal `k` kept, the
    /// rest zero (numpy's `triu`).
    ///
    /// Shapes: `T[..., m, n] -> T[..., m, n]`.
    pub fn triu(&mut self, x: Value, k: i64) -> Result<Value> {
        self.triangle("triu", x, k, false)
    }

    fn triangle(&mut self, op: &'static str, x: Value, k: i64, lower: bool) -> Result<Value> {
        let t = self.value(op, x)?.1;
        let r = t.rank();
        if r < 2 {
            return shape_err(op, format!("operand {t} must have rank >= 2"));
        }
        let rows = self.iota(ElementType::S64, &t.dims, r as i64 - 2)?;
        let cols = self.iota(ElementType::S64, &t.dims, r as i64 - 1)?;
        let d = self.sub(cols, rows)?;
        let kk = self.scalar(ElementType::S64, k as f64)?;
        let keep = if lower {
            self.le(d, kk)?
        } else {
            self.ge(d, kk)?
        };
        let z = self.zeros_like(x)?;
        self.select(keep, x, z)
    }
}

/// The permutation that swaps the last two of `rank` axes.
pub(crate) fn swap_last_two(rank: usize) -> Vec<i64> {
    let mut p: Vec<i64> = (0..rank as i64).collect();
    if rank >= 2 {
        p.swap(rank - 2, rank - 1);
    }
    p
}
