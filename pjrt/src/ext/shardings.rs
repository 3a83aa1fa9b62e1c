//! The Shardings extension: serialized `xla.OpSharding` of an executable's parameters and
//! outputs.

use pjrt_sys as sys;
use sys::ext::shardings as s;
use sys::ext::shardings::PJRT_Shardings_Extension;

use crate::error::Result;
use crate::plugin::vec_from_raw;
use crate::plugin::{ext_call, extension_struct};
use crate::Executable;

extension_struct!(
    /// The Shardings extension of a plugin.
    Shardings,
    sys::PJRT_Extension_Type_Shardings
);

/// Reads `n` (pointer, size) byte strings.
unsafe fn blobs(p: *const *const std::ffi::c_char, sizes: *const usize, n: usize) -> Vec<Vec<u8>> {
    // SAFETY: forwarded from the caller.
    let ps = unsafe { vec_from_raw(p, n) };
    // SAFETY: as above.
    let ss = unsafe { vec_from_raw(sizes, n) };
    ps.into_iter()
        .zip(ss)
        // SAFETY: each entry is readable for its size.
        .map(|(p, n)| unsafe { vec_from_raw(p.cast::<u8>(), n) })
        .collect()
}

impl Shardings {
    /// Each parameter's sharding as serialized `xla.OpSharding` bytes.
    pub fn parameter_shardings(&self, executable: &Executable) -> Result<Vec<Vec<u8>>> {
        let mut a = s::PJRT_Shardings_PJRT_Executable_ParameterShardings_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "Shardings::parameter_shardings",
            "`executable`",
            executable,
        )?;
        a.executable = executable.raw;
        ext_call!(
            &self.h,
            PJRT_Shardings_Extension,
            PJRT_Shardings_PJRT_Executable_ParameterShardings,
            &mut a
        )?;
        // SAFETY: arrays owned by the executable.
        Ok(unsafe { blobs(a.shardings, a.sharding_sizes, a.num_parameters) })
    }

    /// Each output's sharding as serialized `xla.OpSharding` bytes.
    pub fn output_shardings(&self, executable: &Executable) -> Result<Vec<Vec<u8>>> {
        let mut a = s::PJRT_Shardings_PJRT_Executable_OutputShardings_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "Shardings::output_shardings",
            "`executable`",
            executable,
        )?;
        a.executable = executable.raw;
        ext_call!(
            &self.h,
            PJRT_Shardings_Extension,
            PJRT_Shardings_PJRT_Executable_OutputShardings,
            &mut a
        )?;
        // SAFETY: arrays owned by the executable.
        Ok(unsafe { blobs(a.shardings, a.sharding_sizes, a.num_outputs) })
    }
}

impl Shardings {
    /// Each parameter's sharding, decoded.
    pub fn parameter_op_shardings(&self, executable: &Executable) -> Result<Vec<OpSharding>> {
        self.parameter_shardings(executable)?
            .iter()
            .map(|b| OpSharding::decode(b))
            .collect()
    }

    /// Each output's sharding, decoded.
    pub fn output_op_shardings(&self, executable: &Executable) -> Result<Vec<OpSharding>> {
        self.output_shardings(executable)?
            .iter()
            .map(|b| OpSharding::decode(b))
            .collect()
    }
}

/// The kind of an [`OpSharding`] (`xla.OpSharding.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpShardingType {
    /// The whole value on every device.
    Replicated,
    /// The whole value on one device.
    Maximal,
    /// One sharding per tuple element.
    Tuple,
    /// Split into tiles (`tile_dims`), placed on `devices`.
    Tiled,
    /// Partitioned by hand (already shard-shaped).
    Manual,
    /// A type this crate does not know (its number).
    Other(i64),
}

/// A decoded `xla.OpSharding`: how one value is split over the partitions of a program.
/// Devices are listed explicitly, also when the plugin wrote them as a reshaped and
/// transposed iota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpSharding {
    /// The kind.
    pub kind: OpShardingType,
    /// The tile assignment's shape: tiles per value axis, then any subgroup axes (see
    /// `replicate_on_last_tile_dim`, `last_tile_dims`).
    pub tile_dims: Vec<i64>,
    /// The partition holding each tile, row-major over `tile_dims`.
    pub devices: Vec<i64>,
    /// The last tile axis replicates rather than splits.
    pub replicate_on_last_tile_dim: bool,
    /// The kinds of trailing subgroup axes (raw `xla.OpSharding.Type` numbers).
    pub last_tile_dims: Vec<i64>,
    /// The element shardings of a tuple.
    pub tuple: Vec<OpSharding>,
}

impl OpSharding {
    /// Decodes serialized `xla.OpSharding` bytes.
    pub fn decode(bytes: &[u8]) -> Result<OpSharding> {
        use crate::proto::Reader;
        const M: &str = "xla.OpSharding";
        let mut kind = 0i64;
        let mut s = OpSharding {
            kind: OpShardingType::Replicated,
            tile_dims: Vec::new(),
            devices: Vec::new(),
            replicate_on_last_tile_dim: false,
            last_tile_dims: Vec::new(),
            tuple: Vec::new(),
        };
        let (mut iota_dims, mut iota_perm) = (Vec::new(), Vec::new());
        let mut r = Reader::new(bytes, M);
        while let Some((field, v)) = r.next_field()? {
            match field {
                1 => kind = v.as_i64().unwrap_or(0),
                3 => s.tile_dims.extend(v.ints(M)?),
                4 => s.devices.extend(v.ints(M)?),
                5 => {
                    if let Some(b) = v.as_bytes() {
                        s.tuple.push(OpSharding::decode(b)?);
                    }
                }
                6 => s.replicate_on_last_tile_dim = v.as_i64() == Some(1),
                8 => s.last_tile_dims.extend(v.ints(M)?),
                9 => iota_dims.extend(v.ints(M)?),
                10 => iota_perm.extend(v.ints(M)?),
                _ => {}
            }
        }
        s.kind = match kind {
            0 => OpShardingType::Replicated,
            1 => OpShardingType::Maximal,
            2 => OpShardingType::Tuple,
            3 => OpShardingType::Tiled,
            4 => OpShardingType::Manual,
            k => OpShardingType::Other(k),
        };
        if s.devices.is_empty() && !iota_dims.is_empty() {
            s.devices = iota_devices(&iota_dims, &iota_perm).ok_or_else(|| {
                crate::Error::InvalidArgument(format!(
                    "{M}: iota reshape {iota_dims:?} with transpose {iota_perm:?} is not a permutation"
                ))
            })?;
        }
        Ok(s)
    }

    /// The shard each partition holds of a value with dimensions `dims`: `dims[i]` divided
    /// by the tiles along axis `i` (rounded up, as XLA pads uneven tiles).
    pub fn shard_dims(&self, dims: &[i64]) -> Vec<i64> {
        if self.kind != OpShardingType::Tiled {
            return dims.to_vec();
        }
        dims.iter()
            .enumerate()
            .map(|(i, &d)| {
                let t = self.tile_dims.get(i).copied().unwrap_or(1).max(1);
                (d + t - 1) / t
            })
            .collect()
    }
}

/// `iota(prod dims)` reshaped to `dims`, transposed by `perm`, flattened.
fn iota_devices(dims: &[i64], perm: &[i64]) -> Option<Vec<i64>> {
    let r = dims.len();
    let perm: Vec<usize> = if perm.is_empty() {
        (0..r).collect()
    } else {
        perm.iter()
            .map(|&p| usize::try_from(p).ok())
            .collect::<Option<_>>()?
    };
    let mut seen = vec![false; r];
    if perm.len() != r
        || perm
            .iter()
            .any(|&p| p >= r || std::mem::replace(&mut seen[p], true))
    {
        return None;
    }
    if dims.iter().any(|&d| !(1..=1 << 20).contains(&d)) {
        return None;
    }
    let n: i64 = dims.iter().product();
    if n > 1 << 20 {
        return None;
    }
    let mut strides = vec![1i64; r];
    for i in (0..r.saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * dims[i + 1];
    }
    let out_dims: Vec<i64> = perm.iter().map(|&p| dims[p]).collect();
    let mut idx = vec![0i64; r];
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        out.push((0..r).map(|j| idx[j] * strides[perm[j]]).sum());
        for j in (0..r).rev() {
            idx[j] += 1;
            if idx[j] < out_dims[j] {
                break;
            }
            idx[j] = 0;
        }
    }
    Some(out)
}

impl std::fmt::Display for OpSharding {
    /// The HLO text form: `{replicated}`, `{maximal device=3}`,
    /// `{devices=[2,1,2]0,2,1,3 last_tile_dim_replicate}`, `{manual}`, `{tuple: ...}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let join = |v: &[i64]| {
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        match self.kind {
            OpShardingType::Replicated => write!(f, "{{replicated}}"),
            OpShardingType::Maximal => write!(
                f,
                "{{maximal device={}}}",
                self.devices.first().copied().unwrap_or(0)
            ),
            OpShardingType::Manual => write!(f, "{{manual}}"),
            OpShardingType::Tuple => {
                let parts: Vec<String> = self.tuple.iter().map(|t| t.to_string()).collect();
                write!(f, "{{tuple: {}}}", parts.join(", "))
            }
            OpShardingType::Tiled | OpShardingType::Other(_) => {
                write!(
                    f,
                    "{{devices=[{}]{}",
                    join(&self.tile_dims),
                    join(&self.devices)
                )?;
                if self.replicate_on_last_tile_dim {
                    write!(f, " last_tile_dim_replicate")?;
                }
                if !self.last_tile_dims.is_empty() {
                    write!(f, " last_tile_dims={{{}}}", join(&self.last_tile_dims))?;
                }
                write!(f, "}}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iota_expansion() {
        // [2,2] transposed: 0,2,1,3.
        assert_eq!(iota_devices(&[2, 2], &[1, 0]), Some(vec![0, 2, 1, 3]));
        assert_eq!(iota_devices(&[4], &[]), Some(vec![0, 1, 2, 3]));
        assert_eq!(iota_devices(&[2, 2], &[0, 0]), None);
    }

    #[test]
    fn decode_tiled() {
        let mut w = crate::proto::Writer::new();
        w.int(1, 3);
        w.packed_ints(3, &[2, 1, 2]);
        w.packed_ints(9, &[2, 2]);
        w.packed_ints(10, &[1, 0]);
        w.bool_true(6, true);
        let s = OpSharding::decode(&w.buf).unwrap();
        assert_eq!(
            s.to_string(),
            "{devices=[2,1,2]0,2,1,3 last_tile_dim_replicate}"
        );
        assert_eq!(s.shard_dims(&[8, 6]), vec![4, 6]);
    }
}
