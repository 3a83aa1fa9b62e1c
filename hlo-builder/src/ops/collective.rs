//! Collectives: values combined or exchanged between the replicas (or partitions) of one
//! program running on many devices, and the ids that tell a replica which one it is.
//!
//! Every op names who takes part ([`Participants`]): groups of replica ids (or, with
//! `global_device_ids`, of global device ids `replica * num_partitions + partition`), each
//! group combining on its own. Group sizes are part of the shape rules (`all_gather` grows an
//! axis by the group size), so groups are always explicit; [`Participants::all`] is every
//! replica of an `n`-replica program.

use super::common::{
    arity, axis, check_dims, check_type, i64_attr, numeric, Emission, Lowering, Reducer, RegionUse,
    Signature,
};
use crate::error::{shape_err, Result};
use crate::sharding::{Mesh, Sharding};
use crate::types::{ElementType, TensorType};

/// Who takes part in a collective.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Participants {
    /// Disjoint groups of ids, all of the same size; each group combines on its own.
    pub groups: Vec<Vec<i64>>,
    /// A channel id (at least 1): needed to communicate across partitions.
    pub channel: Option<i64>,
    /// The ids are global device ids (`replica * num_partitions + partition`) rather than
    /// replica ids; needs a channel.
    pub global_device_ids: bool,
}

impl Participants {
    /// Replica groups (a cross-replica collective, no channel).
    pub fn replicas(groups: impl Into<Vec<Vec<i64>>>) -> Participants {
        Participants {
            groups: groups.into(),
            channel: None,
            global_device_ids: false,
        }
    }

    /// Every replica `0..n` in one group.
    pub fn all(n: i64) -> Participants {
        Participants::replicas(vec![(0..n).collect::<Vec<_>>()])
    }

    /// Groups of global device ids, communicating on channel `channel` (what a collective in
    /// a partitioned program, e.g. inside a manual region, uses).
    pub fn devices(groups: impl Into<Vec<Vec<i64>>>, channel: i64) -> Participants {
        Participants {
            groups: groups.into(),
            channel: Some(channel),
            global_device_ids: true,
        }
    }

    /// The same groups on channel `channel`.
    pub fn with_channel(mut self, channel: i64) -> Participants {
        self.channel = Some(channel);
        self
    }

    /// The size of every group (checked equal by [`check`](Self::check)).
    pub fn group_size(&self) -> i64 {
        self.groups.first().map_or(0, |g| g.len() as i64)
    }

    /// The largest id named (-1 for none).
    pub fn max_id(&self) -> i64 {
        self.groups.iter().flatten().copied().max().unwrap_or(-1)
    }

    /// Checks the groups: at least one, non-empty, all the same size, ids non-negative and
    /// each id in at most one group; a channel id at least 1; global ids only with a channel.
    pub fn check(&self, op: &'static str) -> Result<()> {
        if self.groups.is_empty() || self.groups.iter().any(|g| g.is_empty()) {
            return shape_err(
                op,
                format!(
                    "needs at least one non-empty group of participants, got {:?}",
                    self.groups
                ),
            );
        }
        let n = self.group_size();
        if let Some(g) = self.groups.iter().find(|g| g.len() as i64 != n) {
            return shape_err(
                op,
                format!(
                    "groups must all have the same size: {:?} has {} ids but {:?} has {n}",
                    g,
                    g.len(),
                    self.groups[0]
                ),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for &id in self.groups.iter().flatten() {
            if !(0..=i64::from(i32::MAX)).contains(&id) {
                return shape_err(
                    op,
                    format!("participant id {id} is out of range in {:?}", self.groups),
                );
            }
            if !seen.insert(id) {
                return shape_err(
                    op,
                    format!("participant id {id} appears twice in {:?}", self.groups),
                );
            }
        }
        check_channel(op, self.channel)?;
        if self.global_device_ids && self.channel.is_none() {
            return shape_err(op, "global device ids need a channel id");
        }
        Ok(())
    }

    fn attrs(&self, a: &mut Vec<(&'static str, String)>) {
        a.push(("replica_groups", id_matrix(&self.groups)));
        if let Some(c) = self.channel {
            a.push(("channel_handle", channel_handle(c)));
        }
        if self.global_device_ids {
            a.push(("use_global_device_ids", "unit".into()));
        }
    }
}

fn check_channel(op: &'static str, channel: Option<i64>) -> Result<()> {
    match channel {
        Some(c) if !(1..=i64::from(i32::MAX)).contains(&c) => {
            shape_err(op, format!("channel id {c} must be at least 1"))
        }
        _ => Ok(()),
    }
}

/// The collective primitives. Single-operand ops take one tensor; the ids take none.
#[derive(Debug, Clone, PartialEq)]
pub enum CollectiveOp {
    /// Combines the operand over each group with `reducer` (a named monoid, or the node's
    /// region `(T[], T[]) -> T[]` for [`Reducer::Custom`]); every member gets the result.
    AllReduce {
        /// How two members' values combine.
        reducer: Reducer,
        /// Who takes part, in which groups.
        over: Participants,
    },
    /// Concatenates the members' operands along `dimension`, in group order.
    AllGather {
        /// The dimension the members' operands are concatenated along.
        dimension: i64,
        /// Who takes part, in which groups.
        over: Participants,
    },
    /// Combines over each group like `all_reduce`, then member `k` keeps block `k` of
    /// `dimension` (split into group-size blocks).
    ReduceScatter {
        /// The dimension split into one block per member.
        dimension: i64,
        /// How two members' values combine.
        reducer: Reducer,
        /// Who takes part, in which groups.
        over: Participants,
    },
    /// Splits `split_dimension` into group-size blocks, sends block `k` to member `k`, and
    /// concatenates what it receives along `concat_dimension`, in group order.
    AllToAll {
        /// The dimension split into one block per member and sent out.
        split_dimension: i64,
        /// The dimension the received blocks are concatenated along.
        concat_dimension: i64,
        /// Who takes part, in which groups.
        over: Participants,
    },
    /// Sends the operand from each `source` to its `target`; a replica that is no target
    /// gets zeros.
    CollectivePermute {
        /// (source, target) pairs; each source and each target at most once.
        pairs: Vec<(i64, i64)>,
        /// The channel id (at least 1), when the program gives one.
        channel: Option<i64>,
    },
    /// Every member of a group gets the operand of the group's first member.
    CollectiveBroadcast {
        /// Who takes part, in which groups.
        over: Participants,
    },
    /// The identity, telling the SPMD partitioner how to split this intermediate value over
    /// the module's mesh (Shardy `sdy.sharding_constraint`, GSPMD `custom_call @Sharding`).
    /// A module that is not partitioned emits nothing for it.
    ShardingConstraint {
        /// How the value is split over the module's mesh.
        sharding: Sharding,
    },
    /// A manual region (`shard_map`): its operands split over every axis of `mesh` as
    /// `inputs` say, the node's region runs on each device's shards (collectives inside
    /// name global device ids), and its results, each device's shard, form values split as
    /// `outputs` say. Lowered for Shardy (`sdy.manual_computation`).
    ManualComputation {
        /// The devices the region runs on, by named axes.
        mesh: Mesh,
        /// How each operand is split into the region's shards.
        inputs: Vec<Sharding>,
        /// How each result's shards form the whole value.
        outputs: Vec<Sharding>,
    },
    /// This replica's id, `u32[]`.
    ReplicaId,
    /// This partition's id, `u32[]`.
    PartitionId,
}

impl CollectiveOp {
    /// The op's name in errors.
    pub fn name(&self) -> &'static str {
        match self {
            CollectiveOp::AllReduce { .. } => "all_reduce",
            CollectiveOp::AllGather { .. } => "all_gather",
            CollectiveOp::ReduceScatter { .. } => "reduce_scatter",
            CollectiveOp::AllToAll { .. } => "all_to_all",
            CollectiveOp::CollectivePermute { .. } => "collective_permute",
            CollectiveOp::CollectiveBroadcast { .. } => "collective_broadcast",
            CollectiveOp::ShardingConstraint { .. } => "sharding_constraint",
            CollectiveOp::ManualComputation { .. } => "shard_map",
            CollectiveOp::ReplicaId => "replica_id",
            CollectiveOp::PartitionId => "partition_id",
        }
    }

    /// The participants, for the ops that have groups.
    pub fn participants(&self) -> Option<&Participants> {
        match self {
            CollectiveOp::AllReduce { over, .. }
            | CollectiveOp::AllGather { over, .. }
            | CollectiveOp::ReduceScatter { over, .. }
            | CollectiveOp::AllToAll { over, .. }
            | CollectiveOp::CollectiveBroadcast { over } => Some(over),
            CollectiveOp::CollectivePermute { .. }
            | CollectiveOp::ShardingConstraint { .. }
            | CollectiveOp::ManualComputation { .. }
            | CollectiveOp::ReplicaId
            | CollectiveOp::PartitionId => None,
        }
    }

    /// The largest replica (or device) id the op names, -1 for none: checked against the
    /// program's replica count before compiling (see `Module::check_for`).
    pub fn max_id(&self) -> i64 {
        match self {
            CollectiveOp::CollectivePermute { pairs, .. } => {
                pairs.iter().map(|&(s, t)| s.max(t)).max().unwrap_or(-1)
            }
            op => op.participants().map_or(-1, Participants::max_id),
        }
    }

    /// The shape rule.
    pub fn infer(&self, xs: &[&TensorType], regions: &[Signature]) -> Result<Vec<TensorType>> {
        let op = self.name();
        if let CollectiveOp::ManualComputation {
            mesh,
            inputs,
            outputs,
        } = self
        {
            return manual(mesh, inputs, outputs, xs, regions);
        }
        if let Some(p) = self.participants() {
            p.check(op)?;
        }
        let custom = matches!(
            self,
            CollectiveOp::AllReduce {
                reducer: Reducer::Custom,
                ..
            } | CollectiveOp::ReduceScatter {
                reducer: Reducer::Custom,
                ..
            }
        );
        if !custom {
            super::common::region_count(op, regions, 0)?;
        }
        let id = TensorType::scalar(ElementType::U32);
        if matches!(self, CollectiveOp::ReplicaId | CollectiveOp::PartitionId) {
            arity(op, xs, 0)?;
            return Ok(vec![id]);
        }
        arity(op, xs, 1)?;
        check_type(op, xs[0])?;
        let x = xs[0];
        match self {
            CollectiveOp::AllReduce { reducer, .. } => {
                check_reducer(op, *reducer, x, regions)?;
                Ok(vec![x.clone()])
            }
            CollectiveOp::AllGather { dimension, over } => {
                Ok(vec![all_gather(x, *dimension, over.group_size())?])
            }
            CollectiveOp::ReduceScatter {
                dimension,
                reducer,
                over,
            } => {
                check_reducer(op, *reducer, x, regions)?;
                Ok(vec![reduce_scatter(x, *dimension, over.group_size())?])
            }
            CollectiveOp::AllToAll {
                split_dimension,
                concat_dimension,
                over,
            } => Ok(vec![all_to_all(
                x,
                *split_dimension,
                *concat_dimension,
                over.group_size(),
            )?]),
            CollectiveOp::CollectivePermute { pairs, channel } => {
                check_pairs(pairs)?;
                check_channel(op, *channel)?;
                Ok(vec![x.clone()])
            }
            CollectiveOp::CollectiveBroadcast { .. } => Ok(vec![x.clone()]),
            CollectiveOp::ShardingConstraint { sharding } => {
                if sharding.dims().len() != x.rank() {
                    return shape_err(
                        op,
                        format!(
                            "the sharding {:?} has {} entries but {x} has rank {}",
                            sharding.dims(),
                            sharding.dims().len(),
                            x.rank()
                        ),
                    );
                }
                Ok(vec![x.clone()])
            }
            CollectiveOp::ReplicaId | CollectiveOp::PartitionId => Ok(vec![id]),
            CollectiveOp::ManualComputation { .. } => shape_err(op, "internal: checked above"),
        }
    }

    /// The lowering table. (A sharding constraint in a partitioned module is written by the
    /// lowering, which knows the module's mesh and partitioner.)
    pub fn lower(&self, xs: &[&TensorType]) -> Result<Lowering> {
        if let CollectiveOp::ShardingConstraint { .. } = self {
            return Ok(Lowering::Forward);
        }
        let mut a: Vec<(&'static str, String)> = Vec::new();
        let reducer_region = |r: Reducer| match r {
            Reducer::Custom => RegionUse::Block(0),
            k => RegionUse::Reducer(k, xs.iter().map(|t| t.ty).collect()),
        };
        let (name, regions) = match self {
            CollectiveOp::AllReduce { reducer, over } => {
                over.attrs(&mut a);
                ("stablehlo.all_reduce", vec![reducer_region(*reducer)])
            }
            CollectiveOp::AllGather { dimension, over } => {
                a.push(("all_gather_dim", i64_attr(*dimension)));
                over.attrs(&mut a);
                ("stablehlo.all_gather", Vec::new())
            }
            CollectiveOp::ReduceScatter {
                dimension,
                reducer,
                over,
            } => {
                a.push(("scatter_dimension", i64_attr(*dimension)));
                over.attrs(&mut a);
                ("stablehlo.reduce_scatter", vec![reducer_region(*reducer)])
            }
            CollectiveOp::AllToAll {
                split_dimension,
                concat_dimension,
                over,
            } => {
                a.push(("split_dimension", i64_attr(*split_dimension)));
                a.push(("concat_dimension", i64_attr(*concat_dimension)));
                a.push(("split_count", i64_attr(over.group_size())));
                a.push(("replica_groups", id_matrix(&over.groups)));
                if let Some(c) = over.channel {
                    a.push(("channel_handle", channel_handle(c)));
                }
                ("stablehlo.all_to_all", Vec::new())
            }
            CollectiveOp::CollectivePermute { pairs, channel } => {
                let m: Vec<Vec<i64>> = pairs.iter().map(|&(s, t)| vec![s, t]).collect();
                a.push(("source_target_pairs", id_matrix(&m)));
                if let Some(c) = channel {
                    a.push(("channel_handle", channel_handle(*c)));
                }
                ("stablehlo.collective_permute", Vec::new())
            }
            CollectiveOp::CollectiveBroadcast { over } => {
                a.push(("replica_groups", id_matrix(&over.groups)));
                if let Some(c) = over.channel {
                    a.push(("channel_handle", channel_handle(c)));
                }
                ("stablehlo.collective_broadcast", Vec::new())
            }
            CollectiveOp::ShardingConstraint { .. } => return Ok(Lowering::Forward),
            CollectiveOp::ManualComputation {
                mesh,
                inputs,
                outputs,
            } => {
                let per_value = |ss: &[Sharding]| {
                    let v: Vec<String> = ss
                        .iter()
                        .map(|s| {
                            s.shardy(crate::sharding::MESH_SYMBOL)
                                .trim_start_matches("#sdy.sharding")
                                .to_string()
                        })
                        .collect();
                    format!("#sdy.sharding_per_value<[{}]>", v.join(", "))
                };
                let axes: Vec<String> = mesh
                    .axes()
                    .iter()
                    .map(|(n, _)| super::common::mlir_string(n))
                    .collect();
                a.push(("in_shardings", per_value(inputs)));
                a.push(("out_shardings", per_value(outputs)));
                a.push((
                    "manual_axes",
                    format!("#sdy<manual_axes{{{}}}>", axes.join(", ")),
                ));
                (
                    "sdy.manual_computation",
                    vec![RegionUse::BlockEndingIn(0, "sdy.return")],
                )
            }
            CollectiveOp::ReplicaId => ("stablehlo.replica_id", Vec::new()),
            CollectiveOp::PartitionId => ("stablehlo.partition_id", Vec::new()),
        };
        Ok(Lowering::Op(Emission {
            name,
            attrs: a,
            regions,
            passed: None,
        }))
    }
}

/// The shape rule of a manual region: each operand split as its input sharding says gives
/// the region's parameter types; each region result, put together as its output sharding
/// says, gives a result type.
fn manual(
    mesh: &Mesh,
    inputs: &[Sharding],
    outputs: &[Sharding],
    xs: &[&TensorType],
    regions: &[Signature],
) -> Result<Vec<TensorType>> {
    let op = "shard_map";
    super::common::region_count(op, regions, 1)?;
    arity(op, xs, inputs.len())?;
    let mut locals = Vec::with_capacity(xs.len());
    for (i, (x, s)) in xs.iter().zip(inputs).enumerate() {
        locals.push(
            s.shard_type(mesh, x)
                .map_err(|e| crate::error::Error::Shape {
                    op,
                    message: format!("operand {i}: {e}"),
                })?,
        );
    }
    super::common::check_region(op, "body", &regions[0], &locals, None)?;
    let rs = &regions[0].results;
    if rs.len() != outputs.len() {
        return shape_err(
            op,
            format!(
                "the body returns {} values but {} output shardings are given",
                rs.len(),
                outputs.len()
            ),
        );
    }
    let mut out = Vec::with_capacity(rs.len());
    for (j, (r, s)) in rs.iter().zip(outputs).enumerate() {
        let g = s
            .global_type(mesh, r)
            .map_err(|e| crate::error::Error::Shape {
                op,
                message: format!("result {j}: {e}"),
            })?;
        out.push(g);
    }
    Ok(out)
}

/// `dense<[[0, 1], [2, 3]]> : tensor<2x2xi64>` (rows of equal length).
fn id_matrix(rows: &[Vec<i64>]) -> String {
    let cols = rows.first().map_or(0, Vec::len);
    let body: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "[{}]",
                r.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    format!(
        "dense<[{}]> : tensor<{}x{}xi64>",
        body.join(", "),
        rows.len(),
        cols
    )
}

/// `#stablehlo.channel_handle<handle = c, type = 1>` (type 1: device to device).
fn channel_handle(c: i64) -> String {
    format!("#stablehlo.channel_handle<handle = {c}, type = 1>")
}

fn check_reducer(
    op: &'static str,
    reducer: Reducer,
    x: &TensorType,
    regions: &[Signature],
) -> Result<()> {
    if reducer == Reducer::Replace {
        return shape_err(
            op,
            "`Replace` combines scatter updates, not values across devices",
        );
    }
    reducer.check(op, x)?;
    reducer.check_regions(op, &[TensorType::scalar(x.ty)], regions)
}

fn check_pairs(pairs: &[(i64, i64)]) -> Result<()> {
    let op = "collective_permute";
    let (mut sources, mut targets) = (
        std::collections::HashSet::new(),
        std::collections::HashSet::new(),
    );
    for &(s, t) in pairs {
        if !(0..=i64::from(i32::MAX)).contains(&s) || !(0..=i64::from(i32::MAX)).contains(&t) {
            return shape_err(op, format!("pair ({s}, {t}) has an id out of range"));
        }
        if !sources.insert(s) {
            return shape_err(
                op,
                format!("source {s} appears twice in {pairs:?}; each sends once"),
            );
        }
        if !targets.insert(t) {
            return shape_err(
                op,
                format!("target {t} appears twice in {pairs:?}; each receives once"),
            );
        }
    }
    Ok(())
}

/// `all_gather`: axis `dimension` grows `group` times.
pub fn all_gather(x: &TensorType, dimension: i64, group: i64) -> Result<TensorType> {
    let op = "all_gather";
    let d = axis(op, "gather", x, dimension)?;
    let mut t = x.clone();
    t.dims[d] = x.dims[d].saturating_mul(group);
    check_dims(op, &t.dims)?;
    Ok(t)
}

/// `reduce_scatter`: axis `dimension` (a multiple of `group`) shrinks `group` times.
pub fn reduce_scatter(x: &TensorType, dimension: i64, group: i64) -> Result<TensorType> {
    let op = "reduce_scatter";
    if !numeric(x.ty) && x.ty != ElementType::Pred {
        return shape_err(op, format!("{x} is not a numeric tensor"));
    }
    let d = axis(op, "scatter", x, dimension)?;
    if group < 1 || x.dims[d] % group != 0 {
        return shape_err(
            op,
            format!(
                "scatter axis {dimension} of {x} has {} elements, not a multiple of the group size {group}",
                x.dims[d]
            ),
        );
    }
    let mut t = x.clone();
    t.dims[d] = x.dims[d] / group;
    Ok(t)
}

/// `all_to_all`: `split` (a multiple of `count`) shrinks `count` times, `concat` grows
/// `count` times.
pub fn all_to_all(x: &TensorType, split: i64, concat: i64, count: i64) -> Result<TensorType> {
    let op = "all_to_all";
    let s = axis(op, "split", x, split)?;
    let c = axis(op, "concat", x, concat)?;
    if count < 1 || x.dims[s] % count != 0 {
        return shape_err(
            op,
            format!(
                "split axis {split} of {x} has {} elements, not a multiple of the group size {count}",
                x.dims[s]
            ),
        );
    }
    let mut t = x.clone();
    t.dims[s] /= count;
    t.dims[c] = t.dims[c].saturating_mul(count);
    check_dims(op, &t.dims)?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ElementType::*;

    fn t(d: &[i64]) -> TensorType {
        TensorType::new(F32, d)
    }

    #[test]
    fn shapes() {
        assert_eq!(all_gather(&t(&[2, 3]), 1, 4).unwrap(), t(&[2, 12]));
        assert!(all_gather(&t(&[2, 3]), 2, 4).is_err());
        assert_eq!(reduce_scatter(&t(&[8, 3]), 0, 4).unwrap(), t(&[2, 3]));
        let e = reduce_scatter(&t(&[6, 3]), 0, 4).unwrap_err().to_string();
        assert!(
            e.contains("reduce_scatter") && e.contains("group size 4"),
            "{e}"
        );
        assert_eq!(all_to_all(&t(&[8, 3]), 0, 1, 4).unwrap(), t(&[2, 12]));
        assert_eq!(all_to_all(&t(&[8, 3]), 0, 0, 4).unwrap(), t(&[8, 3]));
        assert!(all_to_all(&t(&[3, 3]), 0, 1, 4).is_err());
    }

    #[test]
    fn participants_checked() {
        let op = |groups: Vec<Vec<i64>>| CollectiveOp::AllReduce {
            reducer: Reducer::Sum,
            over: Participants::replicas(groups),
        };
        let x = t(&[2]);
        assert!(op(vec![vec![0, 1], vec![2, 3]]).infer(&[&x], &[]).is_ok());
        let e = op(vec![vec![0, 1], vec![2]])
            .infer(&[&x], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("same size"), "{e}");
        let e = op(vec![vec![0, 1], vec![1, 2]])
            .infer(&[&x], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("appears twice"), "{e}");
        assert!(op(vec![]).infer(&[&x], &[]).is_err());
        assert!(op(vec![vec![-1]]).infer(&[&x], &[]).is_err());
        let bad_channel = CollectiveOp::AllGather {
            dimension: 0,
            over: Participants::devices(vec![vec![0, 1]], 0),
        };
        assert!(bad_channel.infer(&[&x], &[]).is_err());
        let permute = |pairs: Vec<(i64, i64)>| CollectiveOp::CollectivePermute {
            pairs,
            channel: None,
        };
        assert!(permute(vec![(0, 1), (1, 0)]).infer(&[&x], &[]).is_ok());
        assert!(permute(vec![(0, 1), (2, 1)]).infer(&[&x], &[]).is_err());
        let id = CollectiveOp::ReplicaId.infer(&[], &[]).unwrap();
        assert_eq!(id, vec![TensorType::scalar(U32)]);
        let e = CollectiveOp::AllReduce {
            reducer: Reducer::And,
            over: Participants::all(2),
        }
        .infer(&[&x], &[])
        .unwrap_err()
        .to_string();
        assert!(e.contains("all_reduce") && e.contains("And"), "{e}");
    }

    #[test]
    fn attribute_text() {
        assert_eq!(
            id_matrix(&[vec![0, 1], vec![2, 3]]),
            "dense<[[0, 1], [2, 3]]> : tensor<2x2xi64>"
        );
        let l = CollectiveOp::AllGather {
            dimension: 1,
            over: Participants::devices(vec![vec![0, 1]], 3),
        }
        .lower(&[&t(&[2, 2])])
        .unwrap();
        let Lowering::Op(e) = l else {
            panic!("not an op")
        };
        assert_eq!(e.name, "stablehlo.all_gather");
        assert!(e
            .attrs
            .contains(&("use_global_device_ids", "unit".to_string())));
        assert!(e.attrs.contains(&(
            "channel_handle",
            "#stablehlo.channel_handle<handle = 3, type = 1>".to_string()
        )));
    }
}
