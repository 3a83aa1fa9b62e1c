//! Memory layouts of buffers on their devices, and their C views for the functions that
//! take a device layout.

use pjrt_sys as sys;

use crate::error::{Error, Result};

/// The memory layout of a buffer on its device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryLayout {
    /// Tiled: dimension order minor-to-major, and tiles (each a list of tile dims).
    Tiled {
        /// Dimension order, minor to major.
        minor_to_major: Vec<i64>,
        /// Tiles, outermost first.
        tiles: Vec<Vec<i64>>,
    },
    /// Explicit byte strides per dimension.
    Strides {
        /// Byte strides.
        byte_strides: Vec<i64>,
    },
}

impl MemoryLayout {
    /// The dense row-major layout of a given rank.
    pub fn row_major(rank: usize) -> MemoryLayout {
        MemoryLayout::Tiled {
            minor_to_major: (0..rank as i64).rev().collect(),
            tiles: Vec::new(),
        }
    }
}

/// A `PJRT_Buffer_MemoryLayout` whose arrays point into owned vectors. Keep it alive (and
/// unmoved: box it) while the C side reads it.
pub(crate) struct RawLayout {
    pub(crate) c: sys::PJRT_Buffer_MemoryLayout,
    _minor_to_major: Vec<i64>,
    _tile_dims: Vec<i64>,
    _tile_sizes: Vec<usize>,
    _strides: Vec<i64>,
}

impl RawLayout {
    /// The C view of `layout`, checked against a rank.
    pub(crate) fn new(
        op: &'static str,
        layout: &MemoryLayout,
        rank: usize,
    ) -> Result<Box<RawLayout>> {
        let mut r = Box::new(RawLayout {
            c: sys::PJRT_Buffer_MemoryLayout::new(),
            _minor_to_major: Vec::new(),
            _tile_dims: Vec::new(),
            _tile_sizes: Vec::new(),
            _strides: Vec::new(),
        });
        match layout {
            MemoryLayout::Tiled {
                minor_to_major,
                tiles,
            } => {
                if !is_permutation(minor_to_major, rank) {
                    return Err(Error::InvalidArgument(format!(
                        "{op}: minor_to_major {minor_to_major:?} is not a permutation of 0..{rank}"
                    )));
                }
                // A zero tile dimension divides by zero in the plugin (SIGFPE on 0.115); a
                // negative one is meaningless. A tile has at most the array's rank.
                for (k, t) in tiles.iter().enumerate() {
                    if t.is_empty() || t.len() > rank.max(1) {
                        return Err(Error::InvalidArgument(format!(
                            "{op}: tile {k} {t:?} must have between 1 and {} dimensions (the array's rank)",
                            rank.max(1)
                        )));
                    }
                    if let Some(d) = t.iter().find(|&&d| d <= 0) {
                        return Err(Error::InvalidArgument(format!(
                            "{op}: tile {k} {t:?} has dimension {d}; tile dimensions must be positive"
                        )));
                    }
                }
                r._minor_to_major = minor_to_major.clone();
                r._tile_sizes = tiles.iter().map(|t| t.len()).collect();
                r._tile_dims = tiles.iter().flatten().copied().collect();
                let mut t = sys::PJRT_Buffer_MemoryLayout_Tiled::new();
                t.minor_to_major = r._minor_to_major.as_ptr();
                t.minor_to_major_size = r._minor_to_major.len();
                t.tile_dims = r._tile_dims.as_ptr();
                t.tile_dim_sizes = r._tile_sizes.as_ptr();
                t.num_tiles = r._tile_sizes.len();
                r.c.type_ = sys::PJRT_Buffer_MemoryLayout_Type_Tiled;
                r.c.layout.tiled = t;
            }
            MemoryLayout::Strides { byte_strides } => {
                if byte_strides.len() != rank {
                    return Err(Error::InvalidArgument(format!(
                        "{op}: {} byte strides for rank {rank}",
                        byte_strides.len()
                    )));
                }
                if let Some(s) = byte_strides.iter().find(|&&s| s < 0) {
                    return Err(Error::InvalidArgument(format!(
                        "{op}: byte stride {s} in {byte_strides:?} is negative"
                    )));
                }
                r._strides = byte_strides.clone();
                let mut s = sys::PJRT_Buffer_MemoryLayout_Strides::new();
                s.byte_strides = r._strides.as_ptr();
                s.num_byte_strides = r._strides.len();
                r.c.type_ = sys::PJRT_Buffer_MemoryLayout_Type_Strides;
                r.c.layout.strides = s;
            }
        }
        Ok(r)
    }

    /// The dense row-major layout of a given rank (`minor_to_major = rank-1, ..., 0`).
    pub(crate) fn row_major(rank: usize) -> Box<RawLayout> {
        let l = MemoryLayout::Tiled {
            minor_to_major: (0..rank as i64).rev().collect(),
            tiles: Vec::new(),
        };
        // A row-major permutation is always valid for its own rank.
        match RawLayout::new("row_major", &l, rank) {
            Ok(r) => r,
            Err(_) => unreachable_layout(rank),
        }
    }

    pub(crate) fn ptr(&mut self) -> *mut sys::PJRT_Buffer_MemoryLayout {
        &mut self.c
    }
}

#[cold]
/// True when `order` holds each of `0..rank` exactly once (a dimension order).
pub(crate) fn is_permutation(order: &[i64], rank: usize) -> bool {
    let mut seen = vec![false; rank];
    order.len() == rank
        && order.iter().all(|&d| {
            usize::try_from(d)
                .ok()
                .filter(|&d| d < rank && !seen[d])
                .map(|d| seen[d] = true)
                .is_some()
        })
}

fn unreachable_layout(rank: usize) -> Box<RawLayout> {
    // Not reachable: (rank-1..0) is a permutation of 0..rank. Return an empty tiled layout
    // rather than panic on a library path.
    let _ = rank;
    Box::new(RawLayout {
        c: sys::PJRT_Buffer_MemoryLayout::new(),
        _minor_to_major: Vec::new(),
        _tile_dims: Vec::new(),
        _tile_sizes: Vec::new(),
        _strides: Vec::new(),
    })
}
