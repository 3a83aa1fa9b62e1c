//! Collectives across the replicas (or partitions) of a program on many devices: the
//! constructor of each primitive, and `all_reduce` with a reducer written as a closure.
//!
//! A collective runs on every participating device at once; compile the module with as many
//! replicas as the groups name (`pjrt::CompileOptions::replicas`) and run it on that many
//! devices (`pjrt::LoadedExecutable::execute_sharded`).

use std::sync::Arc;

use smallvec::SmallVec;

use super::reduce::reducer_of;
use crate::builder::{Builder, RegionFn};
use crate::error::Result;
use crate::graph::{Computation, Value};
use crate::ops::{CollectiveOp, Participants, Reducer};
use crate::types::TensorType;

impl Builder {
    /// Combines `x` over each group of `over` with a named `reducer`; every member gets the
    /// group's result.
    ///
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn all_reduce(&mut self, x: Value, reducer: Reducer, over: Participants) -> Result<Value> {
        self.record1(CollectiveOp::AllReduce { reducer, over }, &[x])
    }

    /// [`all_reduce`](Self::all_reduce) with a reducer recorded from a closure of two scalars
    /// (`(a, b) -> c`); a closure that is a named monoid (`add`, `max`, ...) is recorded as
    /// that [`Reducer`].
    ///
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn all_reduce_with(
        &mut self,
        x: Value,
        over: Participants,
        body: impl RegionFn,
    ) -> Result<Value> {
        let s = TensorType::scalar(self.ty(x)?.ty);
        let c = Builder::computation("reducer", &[s.clone(), s], body)?;
        let reducer = reducer_of(&c, 1, false);
        self.record_collective(CollectiveOp::AllReduce { reducer, over }, x, reducer, c)
    }

    fn record_collective(
        &mut self,
        op: CollectiveOp,
        x: Value,
        reducer: Reducer,
        body: Arc<Computation>,
    ) -> Result<Value> {
        let regions: SmallVec<[Arc<Computation>; 1]> = (reducer == Reducer::Custom)
            .then_some(body)
            .into_iter()
            .collect();
        let r = self.record_owned(op.into(), &[x], regions)?;
        Ok(r[0])
    }

    /// The sum of `x` over each group (`psum`).
    ///
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn all_sum(&mut self, x: Value, over: Participants) -> Result<Value> {
        self.all_reduce(x, Reducer::Sum, over)
    }

    /// Concatenates the members' `x` along `dimension`, in group order.
    ///
    /// Shapes: `T[..., d, ...] -> T[..., d * group size, ...]`.
    pub fn all_gather(&mut self, x: Value, dimension: i64, over: Participants) -> Result<Value> {
        self.record1(CollectiveOp::AllGather { dimension, over }, &[x])
    }

    /// Combines `x` over each group with `reducer`; member `k` keeps block `k` of
    /// `dimension`.
    ///
    /// Shapes: `T[..., d, ...] -> T[..., d / group size, ...]` (`d` a multiple of the size).
    pub fn reduce_scatter(
        &mut self,
        x: Value,
        dimension: i64,
        reducer: Reducer,
        over: Participants,
    ) -> Result<Value> {
        self.record1(
            CollectiveOp::ReduceScatter {
                dimension,
                reducer,
                over,
            },
            &[x],
        )
    }

    /// Splits `split_dimension` into group-size blocks, sends block `k` to member `k`, and
    /// concatenates the blocks received along `concat_dimension`.
    ///
    /// Shapes: `T[.., s, .., c, ..] -> T[.., s / n, .., c * n, ..]` (`n` the group size; the
    /// same axis twice keeps the shape).
    pub fn all_to_all(
        &mut self,
        x: Value,
        split_dimension: i64,
        concat_dimension: i64,
        over: Participants,
    ) -> Result<Value> {
        self.record1(
            CollectiveOp::AllToAll {
                split_dimension,
                concat_dimension,
                over,
            },
            &[x],
        )
    }

    /// Sends `x` from each source replica to its target (`(source, target)` pairs; each id
    /// sends and receives at most once); a replica that is no target gets zeros.
    ///
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn collective_permute(
        &mut self,
        x: Value,
        pairs: impl Into<Vec<(i64, i64)>>,
        channel: Option<i64>,
    ) -> Result<Value> {
        self.record1(
            CollectiveOp::CollectivePermute {
                pairs: pairs.into(),
                channel,
            },
            &[x],
        )
    }

    /// Every member of a group gets the value of the group's first member. (XLA:CPU cannot
    /// compile it; `Module::check_for` says so before the plugin sees it.)
    ///
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn collective_broadcast(&mut self, x: Value, over: Participants) -> Result<Value> {
        self.record1(CollectiveOp::CollectiveBroadcast { over }, &[x])
    }

    /// `x` itself, with the partitioner told to split it as `sharding` says (mesh axes of the
    /// module's mesh; see [`crate::sharding`]). Where a partitioned program keeps an
    /// intermediate value matters for speed, never for the numbers.
    ///
    /// Shapes: `T[d...] -> T[d...]` (`sharding` has one entry per axis).
    pub fn shard(&mut self, x: Value, sharding: crate::Sharding) -> Result<Value> {
        self.record1(CollectiveOp::ShardingConstraint { sharding }, &[x])
    }

    /// A manual region (JAX's `shard_map`) over every axis of `mesh`: each of `args` is
    /// split as `inputs` says, `body` runs on each device's shards (collectives inside it name
    /// global device ids, `Participants::devices`), and each value it returns is that
    /// device's shard of a result split as `outputs` says. The module must be partitioned over
    /// the same mesh with Shardy ([`crate::Module::partitioned`]). A `call` recorded inside
    /// the body does not lower (MLIR, not knowing the Shardy op, takes its region for a
    /// symbol table): record the callee's ops inline (`Builder::inline`).
    ///
    /// Shapes: `args[i]: T[d...]` -> the body sees `T[d / splits...]`; a body result
    /// `U[e...]` -> `U[e * splits...]`.
    pub fn shard_map(
        &mut self,
        mesh: &crate::Mesh,
        inputs: Vec<crate::Sharding>,
        outputs: Vec<crate::Sharding>,
        args: &[Value],
        body: impl RegionFn,
    ) -> Result<Vec<Value>> {
        let op = "shard_map";
        if args.len() != inputs.len() {
            return crate::error::shape_err(
                op,
                format!(
                    "{} arguments but {} input shardings",
                    args.len(),
                    inputs.len()
                ),
            );
        }
        let mut locals = Vec::with_capacity(args.len());
        for (i, (&a, s)) in args.iter().zip(&inputs).enumerate() {
            let t = self.ty(a)?.clone();
            locals.push(s.shard_type(mesh, &t).map_err(|e| crate::Error::Shape {
                op,
                message: format!("argument {i}: {e}"),
            })?);
        }
        let c = Builder::computation("shard_map_body", &locals, body)?;
        let op = CollectiveOp::ManualComputation {
            mesh: mesh.clone(),
            inputs,
            outputs,
        };
        self.record_owned(op.into(), args, smallvec::smallvec![c])
    }

    /// This replica's id.
    ///
    /// Shapes: `-> u32[]`.
    pub fn replica_id(&mut self) -> Result<Value> {
        self.record1(CollectiveOp::ReplicaId, &[])
    }

    /// This partition's id (0 in a program that is not partitioned).
    ///
    /// Shapes: `-> u32[]`.
    pub fn partition_id(&mut self) -> Result<Value> {
        self.record1(CollectiveOp::PartitionId, &[])
    }
}
