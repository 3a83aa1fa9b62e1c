//! Meshes and shardings: a program partitioned over many devices by naming mesh axes.
//!
//! A [`Mesh`] arranges the partitions of a program (`num_partitions` devices) in a grid with
//! named axes, e.g. `[("data", 2), ("model", 2)]`: partition `p` sits at the row-major
//! coordinates of `p` in that grid. A [`Sharding`] says, for each axis of one tensor, which
//! mesh axes split it (major to minor); mesh axes it does not name replicate it. A
//! [`Partitioning`] gives the shardings of the entry point's parameters and results, and the
//! [`Partitioner`] that reads them: Shardy (`sdy.mesh` + `sdy.sharding`, the default) or
//! GSPMD (`mhlo.sharding`). XLA's SPMD partitioner then splits the program; each device runs
//! on its shard of every value.
//!
//! ```
//! use hlo_builder::{Builder, ElementType::F32, Mesh, Partitioning, Sharding};
//!
//! let mesh = Mesh::new(&[("rows", 2), ("cols", 2)])?;
//! let mut b = Builder::new("matmul");
//! let x = b.parameter("x", F32, [4, 6])?;
//! let w = b.parameter("w", F32, [6, 8])?;
//! let y = b.matmul(x, w)?;
//! let p = Partitioning::new(mesh)
//!     .inputs(vec![Sharding::new(&[&["rows"], &[]]), Sharding::new(&[&[], &["cols"]])])
//!     .outputs(vec![Sharding::new(&[&["rows"], &["cols"]])]);
//! let m = b.build_partitioned(&[y], p)?;
//! assert!(m.to_text().contains("sdy.mesh"));
//! assert_eq!(m.compile_options().num_partitions, 4);
//! # Ok::<(), hlo_builder::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::ops::common::mlir_string;
use crate::types::TensorType;

fn err<T>(message: impl Into<String>) -> Result<T> {
    Err(Error::Sharding(message.into()))
}

/// A grid of devices with named axes; its size is the program's partition count.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mesh {
    axes: Vec<(String, i64)>,
}

impl Mesh {
    /// A mesh with these `(name, size)` axes, major to minor. Names are non-empty ASCII
    /// identifiers and distinct; sizes at least 1; at most 2^16 devices in all.
    pub fn new(axes: &[(&str, i64)]) -> Result<Mesh> {
        if axes.is_empty() {
            return err("a mesh needs at least one axis");
        }
        let mut total: i64 = 1;
        for (i, (name, size)) in axes.iter().enumerate() {
            if name.is_empty()
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || name.starts_with(|c: char| c.is_ascii_digit())
            {
                return err(format!(
                    "mesh axis name {name:?} must be an identifier (ASCII letters, digits, '_')"
                ));
            }
            if axes[..i].iter().any(|(n, _)| n == name) {
                return err(format!("mesh axis {name:?} appears twice in {axes:?}"));
            }
            if *size < 1 {
                return err(format!(
                    "mesh axis {name:?} has size {size}, must be at least 1"
                ));
            }
            total = total.saturating_mul(*size);
            if total > 1 << 16 {
                return err(format!("mesh {axes:?} has more than 65536 devices"));
            }
        }
        Ok(Mesh {
            axes: axes.iter().map(|(n, s)| (n.to_string(), *s)).collect(),
        })
    }

    /// The axes, `(name, size)`, major to minor.
    pub fn axes(&self) -> &[(String, i64)] {
        &self.axes
    }

    /// The number of devices (partitions).
    pub fn size(&self) -> usize {
        self.axes.iter().map(|(_, s)| *s as usize).product()
    }

    /// The size of the axis `name`.
    pub fn axis_size(&self, name: &str) -> Option<i64> {
        self.axes.iter().find(|(n, _)| n == name).map(|(_, s)| *s)
    }

    fn axis_index(&self, name: &str) -> Result<usize> {
        self.axes.iter().position(|(n, _)| n == name).map_or_else(
            || {
                err(format!(
                    "the mesh has no axis {name:?} (its axes: {:?})",
                    self.axes
                ))
            },
            Ok,
        )
    }

    /// The coordinates of partition `p` (row-major).
    pub fn coordinates(&self, p: usize) -> Vec<i64> {
        let mut c = vec![0; self.axes.len()];
        let mut rest = p as i64;
        for (i, (_, s)) in self.axes.iter().enumerate().rev() {
            c[i] = rest % s;
            rest /= s;
        }
        c
    }

    /// `#sdy.mesh<["a"=2, "b"=2]>`.
    pub(crate) fn shardy(&self) -> String {
        let axes: Vec<String> = self
            .axes
            .iter()
            .map(|(n, s)| format!("{}={s}", mlir_string(n)))
            .collect();
        format!("#sdy.mesh<[{}]>", axes.join(", "))
    }
}

/// How one tensor is split over a [`Mesh`]: for each of its axes, the mesh axes that split
/// it (major to minor; none: that axis is whole on every device). Mesh axes named nowhere
/// replicate the tensor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sharding {
    dims: Vec<Vec<String>>,
}

impl Sharding {
    /// A sharding naming, for each tensor axis, the mesh axes that split it:
    /// `Sharding::new(&[&["data"], &[]])` splits axis 0 over `data` and keeps axis 1 whole.
    pub fn new(dims: &[&[&str]]) -> Sharding {
        Sharding {
            dims: dims
                .iter()
                .map(|d| d.iter().map(|s| s.to_string()).collect())
                .collect(),
        }
    }

    /// The whole tensor on every device (rank `rank`).
    pub fn replicated(rank: usize) -> Sharding {
        Sharding {
            dims: vec![Vec::new(); rank],
        }
    }

    /// Axis `axis` of a rank-`rank` tensor split over the mesh axis `mesh_axis`; the rest
    /// whole.
    pub fn split(rank: usize, axis: usize, mesh_axis: &str) -> Sharding {
        let mut s = Sharding::replicated(rank);
        if let Some(d) = s.dims.get_mut(axis) {
            d.push(mesh_axis.to_string());
        }
        s
    }

    /// The mesh axes of each tensor axis.
    pub fn dims(&self) -> &[Vec<String>] {
        &self.dims
    }

    /// Whether no axis is split.
    pub fn is_replicated(&self) -> bool {
        self.dims.iter().all(Vec::is_empty)
    }

    /// Checks the sharding against `mesh` and a tensor of type `t`: one entry per tensor
    /// axis, known mesh axes each used once, and each split axis divisible by the product of
    /// its mesh axes. `what` names the value in errors.
    pub fn check(&self, mesh: &Mesh, t: &TensorType, what: &str) -> Result<()> {
        if self.dims.len() != t.rank() {
            return err(format!(
                "{what}: the sharding {:?} has {} entries but {t} has rank {}",
                self.dims,
                self.dims.len(),
                t.rank()
            ));
        }
        let mut used = vec![false; mesh.axes.len()];
        for (i, axes) in self.dims.iter().enumerate() {
            let mut k: i64 = 1;
            for a in axes {
                let j = mesh
                    .axis_index(a)
                    .map_err(|e| Error::Sharding(format!("{what}: {e}")))?;
                if std::mem::replace(&mut used[j], true) {
                    return err(format!(
                        "{what}: mesh axis {a:?} splits more than one tensor axis in {:?}",
                        self.dims
                    ));
                }
                k *= mesh.axes[j].1;
            }
            if t.dims[i] % k != 0 {
                return err(format!(
                    "{what}: axis {i} of {t} has {} elements, not a multiple of {k} (mesh axes {axes:?})",
                    t.dims[i]
                ));
            }
        }
        Ok(())
    }

    /// Into how many pieces each tensor axis is split.
    fn splits(&self, mesh: &Mesh) -> Result<Vec<i64>> {
        self.dims
            .iter()
            .map(|axes| {
                axes.iter()
                    .try_fold(1i64, |k, a| Ok(k * mesh.axes[mesh.axis_index(a)?].1))
            })
            .collect()
    }

    /// The shard type each device holds of a `global` tensor.
    pub fn shard_type(&self, mesh: &Mesh, global: &TensorType) -> Result<TensorType> {
        self.check(mesh, global, "shard_type")?;
        let k = self.splits(mesh)?;
        let mut t = global.clone();
        for (d, k) in t.dims.iter_mut().zip(k) {
            *d /= k;
        }
        Ok(t)
    }

    /// The whole value's type given the shard type `local` each device holds.
    pub fn global_type(&self, mesh: &Mesh, local: &TensorType) -> Result<TensorType> {
        if self.dims.len() != local.rank() {
            return err(format!(
                "the sharding {:?} has {} entries but {local} has rank {}",
                self.dims,
                self.dims.len(),
                local.rank()
            ));
        }
        let k = self.splits(mesh)?;
        let mut t = local.clone();
        for (d, k) in t.dims.iter_mut().zip(k) {
            *d = d.saturating_mul(k);
        }
        self.check(mesh, &t, "global_type")?;
        Ok(t)
    }

    /// Which piece of each tensor axis partition `p` holds.
    fn block(&self, mesh: &Mesh, p: usize) -> Result<Vec<i64>> {
        let c = mesh.coordinates(p);
        self.dims
            .iter()
            .map(|axes| {
                axes.iter().try_fold(0i64, |idx, a| {
                    let j = mesh.axis_index(a)?;
                    Ok(idx * mesh.axes[j].1 + c[j])
                })
            })
            .collect()
    }

    /// The first index of partition `p`'s shard of a `global` tensor, per axis.
    pub fn shard_offsets(&self, mesh: &Mesh, global: &TensorType, p: usize) -> Result<Vec<i64>> {
        let shard = self.shard_type(mesh, global)?;
        if p >= mesh.size() {
            return err(format!("partition {p} is not in a mesh of {}", mesh.size()));
        }
        Ok(self
            .block(mesh, p)?
            .iter()
            .zip(&shard.dims)
            .map(|(b, s)| b * s)
            .collect())
    }

    /// `#sdy.sharding<@mesh, [{"a"}, {}]>`.
    pub(crate) fn shardy(&self, mesh_symbol: &str) -> String {
        let dims: Vec<String> = self
            .dims
            .iter()
            .map(|axes| {
                let names: Vec<String> = axes.iter().map(|a| mlir_string(a)).collect();
                format!("{{{}}}", names.join(", "))
            })
            .collect();
        format!("#sdy.sharding<@{mesh_symbol}, [{}]>", dims.join(", "))
    }

    /// The GSPMD form (`{devices=[2,1,2]0,1,2,3 last_tile_dim_replicate}`): a tile
    /// assignment listing, for each tile (and replica of it), the partition holding it.
    pub fn gspmd(&self, mesh: &Mesh) -> Result<String> {
        let k = self.splits(mesh)?;
        if k.iter().all(|&k| k == 1) {
            return Ok("{replicated}".into());
        }
        let named: Vec<usize> = self
            .dims
            .iter()
            .flatten()
            .map(|a| mesh.axis_index(a))
            .collect::<Result<_>>()?;
        if let Some(a) = (0..named.len()).find(|&i| named[..i].contains(&named[i])) {
            return err(format!(
                "mesh axis {:?} splits more than one tensor axis in {:?}",
                mesh.axes[named[a]].0, self.dims
            ));
        }
        let rest: Vec<usize> = (0..mesh.axes.len())
            .filter(|j| !named.contains(j))
            .collect();
        let rep: i64 = rest.iter().map(|&j| mesh.axes[j].1).product();
        let n = mesh.size();
        let mut devices = vec![0usize; n];
        for p in 0..n {
            let c = mesh.coordinates(p);
            let tile = self.block(mesh, p)?;
            let r = rest
                .iter()
                .fold(0i64, |acc, &j| acc * mesh.axes[j].1 + c[j]);
            let mut lin: i64 = 0;
            for (t, kk) in tile.iter().zip(&k) {
                lin = lin * kk + t;
            }
            lin = lin * rep + r;
            devices[lin as usize] = p;
        }
        let mut shape: Vec<String> = k.iter().map(|k| k.to_string()).collect();
        if rep > 1 {
            shape.push(rep.to_string());
        }
        let list: Vec<String> = devices.iter().map(|d| d.to_string()).collect();
        Ok(format!(
            "{{devices=[{}]{}{}}}",
            shape.join(","),
            list.join(","),
            if rep > 1 {
                " last_tile_dim_replicate"
            } else {
                ""
            }
        ))
    }

    /// Splits host data (`global`, row-major) into one shard per partition of `mesh`.
    pub fn split_literal(&self, mesh: &Mesh, global: &pjrt::Literal) -> Result<Vec<pjrt::Literal>> {
        let t = TensorType::new(global.element_type(), global.dims());
        let shard = self.shard_type(mesh, &t)?;
        let es = global.element_type().byte_size().ok_or_else(|| {
            Error::Sharding(format!("{t}: sub-byte element types cannot be split"))
        })?;
        (0..mesh.size())
            .map(|p| {
                let off = self.shard_offsets(mesh, &t, p)?;
                let mut out = vec![0u8; shard.element_count() as usize * es];
                extract(global.as_bytes(), &t.dims, &off, &mut out, &shard.dims, es);
                Ok(pjrt::Literal::from_bytes(t.ty, &shard.dims, out)?)
            })
            .collect()
    }

    /// Puts the shards of each partition (as [`split_literal`](Self::split_literal) made
    /// them, or as a partitioned program returned them) back into one `global` tensor.
    pub fn gather_literal(
        &self,
        mesh: &Mesh,
        global: &TensorType,
        shards: &[pjrt::Literal],
    ) -> Result<pjrt::Literal> {
        let shard = self.shard_type(mesh, global)?;
        if shards.len() != mesh.size() {
            return err(format!(
                "gather {global}: {} shards for a mesh of {} devices",
                shards.len(),
                mesh.size()
            ));
        }
        let es = global.ty.byte_size().ok_or_else(|| {
            Error::Sharding(format!(
                "{global}: sub-byte element types cannot be gathered"
            ))
        })?;
        let mut out = vec![0u8; global.element_count() as usize * es];
        for (p, s) in shards.iter().enumerate() {
            if s.element_type() != global.ty || s.dims() != shard.dims.as_slice() {
                return err(format!(
                    "gather {global}: shard {p} is {}, expected {shard}",
                    TensorType::new(s.element_type(), s.dims())
                ));
            }
            let off = self.shard_offsets(mesh, global, p)?;
            // Replicas of one block hold the same data; the last one written wins.
            insert(&mut out, &global.dims, &off, s.as_bytes(), &shard.dims, es);
        }
        Ok(pjrt::Literal::from_bytes(global.ty, &global.dims, out)?)
    }
}

/// Calls `f(big_offset, small_offset, len)` (in bytes) for each contiguous run of the block
/// of a row-major `big_dims` tensor starting at `off` with size `small_dims`.
fn for_each_run(
    big_dims: &[i64],
    small_dims: &[i64],
    off: &[i64],
    es: usize,
    mut f: impl FnMut(usize, usize, usize),
) {
    let r = big_dims.len();
    if r == 0 {
        f(0, 0, es);
        return;
    }
    if small_dims.contains(&0) {
        return;
    }
    let mut strides = vec![1i64; r];
    for i in (0..r - 1).rev() {
        strides[i] = strides[i + 1] * big_dims[i + 1];
    }
    let run = small_dims[r - 1] as usize * es;
    let rows: i64 = small_dims[..r - 1].iter().product();
    let mut idx = vec![0i64; r - 1];
    for row in 0..rows as usize {
        let mut b = off[r - 1];
        for j in 0..r - 1 {
            b += (idx[j] + off[j]) * strides[j];
        }
        f(b as usize * es, row * run, run);
        for j in (0..r - 1).rev() {
            idx[j] += 1;
            if idx[j] < small_dims[j] {
                break;
            }
            idx[j] = 0;
        }
    }
}

fn extract(
    big: &[u8],
    big_dims: &[i64],
    off: &[i64],
    small: &mut [u8],
    small_dims: &[i64],
    es: usize,
) {
    for_each_run(big_dims, small_dims, off, es, |b, s, n| {
        small[s..s + n].copy_from_slice(&big[b..b + n]);
    });
}

fn insert(
    big: &mut [u8],
    big_dims: &[i64],
    off: &[i64],
    small: &[u8],
    small_dims: &[i64],
    es: usize,
) {
    for_each_run(big_dims, small_dims, off, es, |b, s, n| {
        big[b..b + n].copy_from_slice(&small[s..s + n]);
    });
}

/// A value split over the devices of a mesh and kept there: one device buffer per partition
/// (shard `p` on the client's addressable device `p`, where a partitioned executable with the
/// default device assignment runs partition `p`). Feed it to
/// [`Executable::run_sharded`](crate::Executable::run_sharded) call after call without going
/// through the host; [`to_literal`](Self::to_literal) gathers it back.
#[derive(Debug)]
pub struct ShardedArray {
    global: TensorType,
    mesh: Mesh,
    sharding: Sharding,
    shards: Vec<pjrt::Buffer>,
}

impl ShardedArray {
    /// Splits host `value` as `sharding` says and copies shard `p` to the client's
    /// addressable device `p`.
    pub fn from_literal(
        client: &pjrt::Client,
        mesh: &Mesh,
        sharding: &Sharding,
        value: &pjrt::Literal,
    ) -> Result<ShardedArray> {
        let devices = client.addressable_devices()?;
        if devices.len() < mesh.size() {
            return err(format!(
                "a mesh of {} devices on a client with {} addressable device(s)",
                mesh.size(),
                devices.len()
            ));
        }
        let pieces = sharding.split_literal(mesh, value)?;
        let mut shards = Vec::with_capacity(pieces.len());
        for (piece, device) in pieces.iter().zip(&devices) {
            shards.push(client.buffer_from_bytes_with(
                piece.element_type(),
                piece.as_bytes(),
                piece.dims(),
                pjrt::HostBufferSemantics::ImmutableOnlyDuringCall,
                &pjrt::BufferPlacement::device(device),
            )?);
        }
        Ok(ShardedArray {
            global: TensorType::new(value.element_type(), value.dims()),
            mesh: mesh.clone(),
            sharding: sharding.clone(),
            shards,
        })
    }

    /// Wraps device buffers, one per partition (in partition order), as the shards of a
    /// `global` value.
    pub fn from_shards(
        global: TensorType,
        mesh: &Mesh,
        sharding: &Sharding,
        shards: Vec<pjrt::Buffer>,
    ) -> Result<ShardedArray> {
        let shard = sharding.shard_type(mesh, &global)?;
        if shards.len() != mesh.size() {
            return err(format!(
                "{global}: {} shards for a mesh of {} devices",
                shards.len(),
                mesh.size()
            ));
        }
        for (p, b) in shards.iter().enumerate() {
            let (ty, dims) = (b.element_type()?, b.dims()?);
            if ty != shard.ty || dims != shard.dims.as_slice() {
                return err(format!(
                    "{global}: shard {p} is {}, expected {shard}",
                    TensorType::new(ty, &dims)
                ));
            }
        }
        Ok(ShardedArray {
            global,
            mesh: mesh.clone(),
            sharding: sharding.clone(),
            shards,
        })
    }

    /// Copies the shards to the host and puts the value back together.
    pub fn to_literal(&self) -> Result<pjrt::Literal> {
        let pieces: Vec<pjrt::Literal> = self
            .shards
            .iter()
            .map(|b| b.to_literal())
            .collect::<std::result::Result<_, _>>()?;
        self.sharding
            .gather_literal(&self.mesh, &self.global, &pieces)
    }

    /// The whole value's type.
    pub fn ty(&self) -> &TensorType {
        &self.global
    }

    /// The mesh.
    pub fn mesh(&self) -> &Mesh {
        &self.mesh
    }

    /// The sharding.
    pub fn sharding(&self) -> &Sharding {
        &self.sharding
    }

    /// The device buffers, one per partition.
    pub fn shards(&self) -> &[pjrt::Buffer] {
        &self.shards
    }
}

/// Which partitioner reads the shardings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Partitioner {
    /// Shardy: an `sdy.mesh` and `sdy.sharding` attributes; compiled with
    /// `use_shardy_partitioner`. JAX's default.
    #[default]
    Shardy,
    /// GSPMD: `mhlo.sharding` attributes with explicit tile assignments.
    Gspmd,
}

/// The shardings of an entry point's parameters and results over a mesh, and the partitioner
/// that reads them. A parameter or result without a sharding is replicated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Partitioning {
    /// The device mesh; its size is the partition count.
    pub mesh: Mesh,
    /// Shardy (default) or GSPMD.
    pub partitioner: Partitioner,
    /// One sharding per parameter (missing: replicated).
    pub inputs: Vec<Sharding>,
    /// One sharding per result (missing: replicated).
    pub outputs: Vec<Sharding>,
}

impl Partitioning {
    /// Everything replicated over `mesh`, partitioned by Shardy.
    pub fn new(mesh: Mesh) -> Partitioning {
        Partitioning {
            mesh,
            partitioner: Partitioner::Shardy,
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// Sets the parameters' shardings.
    pub fn inputs(mut self, inputs: Vec<Sharding>) -> Partitioning {
        self.inputs = inputs;
        self
    }

    /// Sets the results' shardings.
    pub fn outputs(mut self, outputs: Vec<Sharding>) -> Partitioning {
        self.outputs = outputs;
        self
    }

    /// Sets the partitioner.
    pub fn partitioner(mut self, p: Partitioner) -> Partitioning {
        self.partitioner = p;
        self
    }

    /// The sharding of parameter `i` of type `t` (replicated when none was given).
    pub fn input(&self, i: usize, t: &TensorType) -> Sharding {
        self.inputs
            .get(i)
            .cloned()
            .unwrap_or_else(|| Sharding::replicated(t.rank()))
    }

    /// The sharding of result `i` of type `t` (replicated when none was given).
    pub fn output(&self, i: usize, t: &TensorType) -> Sharding {
        self.outputs
            .get(i)
            .cloned()
            .unwrap_or_else(|| Sharding::replicated(t.rank()))
    }

    /// Checks every sharding against the entry point's types.
    pub(crate) fn check(&self, params: &[TensorType], results: &[TensorType]) -> Result<()> {
        if self.inputs.len() > params.len() || self.outputs.len() > results.len() {
            return err(format!(
                "{} input and {} output shardings for {} parameters and {} results",
                self.inputs.len(),
                self.outputs.len(),
                params.len(),
                results.len()
            ));
        }
        for (i, t) in params.iter().enumerate() {
            self.input(i, t)
                .check(&self.mesh, t, &format!("parameter {i}"))?;
        }
        for (i, t) in results.iter().enumerate() {
            self.output(i, t)
                .check(&self.mesh, t, &format!("result {i}"))?;
        }
        Ok(())
    }

    /// The attribute of one value: `sdy.sharding = ...` or `mhlo.sharding = "..."`.
    pub(crate) fn attr(&self, s: &Sharding) -> Result<String> {
        Ok(match self.partitioner {
            Partitioner::Shardy => format!("sdy.sharding = {}", s.shardy(MESH_SYMBOL)),
            Partitioner::Gspmd => format!("mhlo.sharding = {}", mlir_string(&s.gspmd(&self.mesh)?)),
        })
    }
}

/// The symbol of the module's `sdy.mesh`.
pub(crate) const MESH_SYMBOL: &str = "mesh";
