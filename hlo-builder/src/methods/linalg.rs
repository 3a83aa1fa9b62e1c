//! Linear algebra: `dot_general`, `convolution` and numpy's `matmul`.

use crate::builder::Builder;
use crate::error::{shape_err, Result};
use crate::graph::Tensor;
use crate::ops::common::broadcast_shapes;
use crate::ops::{ConvConfig, DotDims, LinalgOp, Precision};
use crate::types::TensorType;

impl Builder {
    /// General dot: result axes are batch, lhs free, rhs free (see
    /// [`crate::ops::linalg::dot_general`]).
    ///
    /// Shapes: `T[lhs...], T[rhs...] -> T[batch..., lhs free..., rhs free...]`.
    pub fn dot_general(
        &mut self,
        lhs: Tensor,
        rhs: Tensor,
        dims: DotDims,
        precision: [Precision; 2],
    ) -> Result<Tensor> {
        self.record1(LinalgOp::DotGeneral { dims, precision }, &[lhs, rhs])
    }

    /// Convolution of `input` with `kernel`; see [`crate::ops::linalg::convolution`].
    ///
    /// Shapes: `T[input], T[kernel] -> T[output]`, output batch = input batch / batch_group_count, output features = kernel output features, spatial size `(padded dilated input - dilated window) / stride + 1`.
    pub fn convolution(
        &mut self,
        input: Tensor,
        kernel: Tensor,
        config: ConvConfig,
    ) -> Result<Tensor> {
        self.record1(LinalgOp::Convolution(Box::new(config)), &[input, kernel])
    }

    /// Numpy `matmul`: 1-D operands are promoted (and the added axis dropped), leading batch
    /// axes broadcast. Shapes: `T[..., m, k] @ T[..., k, n] -> T[..., m, n]`; `T[k] @ T[k] -> T[]`.
    pub fn matmul(&mut self, a: Tensor, b: Tensor) -> Result<Tensor> {
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
}
