//! Compile options, encoded as `xla.CompileOptionsProto` by our own protobuf writer.
//!
//! Field numbers (from `xla/pjrt/proto/compile_options.proto` and `xla/xla.proto`):
//! CompileOptionsProto: argument_layouts 1, parameter_is_tupled_arguments 2,
//! executable_build_options 3, compile_portable_executable 4.
//! ExecutableBuildOptionsProto: device_ordinal 1, num_replicas 4, num_partitions 5,
//! use_spmd_partitioning 6, use_auto_spmd_partitioning 7, device_assignment 9,
//! use_shardy_partitioner 19. DeviceAssignmentProto: replica_count 1, computation_count 2,
//! computation_devices 3 (each: replica_device_ids 1). ShapeProto: element_type 2,
//! dimensions 3, layout 5 (LayoutProto: minor_to_major 1).
//! CompileOptionsProto.env_option_overrides 7 is a map (entries: key 1, value 2) of
//! OptionOverrideProto: string_field 1, bool_field 2, int_field 3, double_field 4.

use crate::error::{Error, Result};
use crate::executable::CompileCacheSetting;
use crate::proto::{Reader, Value, Writer};
use crate::ElementType;
use std::collections::BTreeMap;

/// The value of one XLA compiler option (a field of XLA's `DebugOptions`, set by name through
/// [`CompileOptions::xla_option`]). Enum fields take their value name as a string.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum XlaOption {
    /// A bool field.
    Bool(bool),
    /// An integer field (int32 or int64).
    Int(i64),
    /// A float or double field.
    Float(f64),
    /// A string field, or an enum field by value name.
    Str(String),
}

impl PartialEq for XlaOption {
    fn eq(&self, other: &XlaOption) -> bool {
        match (self, other) {
            (XlaOption::Bool(a), XlaOption::Bool(b)) => a == b,
            (XlaOption::Int(a), XlaOption::Int(b)) => a == b,
            // Bitwise, so that equality is reflexive (NaN equals itself) and `Eq` holds.
            (XlaOption::Float(a), XlaOption::Float(b)) => a.to_bits() == b.to_bits(),
            (XlaOption::Str(a), XlaOption::Str(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for XlaOption {}

impl From<bool> for XlaOption {
    fn from(v: bool) -> XlaOption {
        XlaOption::Bool(v)
    }
}
impl From<i64> for XlaOption {
    fn from(v: i64) -> XlaOption {
        XlaOption::Int(v)
    }
}
impl From<i32> for XlaOption {
    fn from(v: i32) -> XlaOption {
        XlaOption::Int(i64::from(v))
    }
}
impl From<f64> for XlaOption {
    fn from(v: f64) -> XlaOption {
        XlaOption::Float(v)
    }
}
impl From<&str> for XlaOption {
    fn from(v: &str) -> XlaOption {
        XlaOption::Str(v.to_string())
    }
}
impl From<String> for XlaOption {
    fn from(v: String) -> XlaOption {
        XlaOption::Str(v)
    }
}

impl XlaOption {
    fn encode(&self) -> Writer {
        let mut w = Writer::new();
        match self {
            XlaOption::Str(v) => w.bytes(1, v.as_bytes()),
            XlaOption::Bool(v) => w.int(2, i64::from(*v)),
            XlaOption::Int(v) => w.int(3, *v),
            XlaOption::Float(v) => w.double(4, *v),
        }
        w
    }

    fn decode(bytes: &[u8]) -> Result<Option<XlaOption>> {
        const M: &str = "xla.OptionOverrideProto";
        let mut out = None;
        let mut r = Reader::new(bytes, M);
        while let Some((f, v)) = r.next_field()? {
            out = match (f, v) {
                (1, Value::Bytes(b)) => {
                    Some(XlaOption::Str(String::from_utf8_lossy(b).into_owned()))
                }
                (2, Value::Varint(b)) => Some(XlaOption::Bool(b != 0)),
                (3, Value::Varint(i)) => Some(XlaOption::Int(i as i64)),
                (4, Value::Fixed64(d)) => Some(XlaOption::Float(f64::from_bits(d))),
                _ => out,
            };
        }
        Ok(out)
    }
}

/// Which device runs each (replica, partition) of a program.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DeviceAssignment {
    /// Replicas per partition.
    pub replica_count: usize,
    /// Partitions ("computations").
    pub computation_count: usize,
    /// Device ids, `devices[replica][partition]`.
    pub devices: Vec<Vec<i64>>,
}

impl DeviceAssignment {
    /// An assignment from `devices[replica][partition]` device ids.
    pub fn new(devices: Vec<Vec<i64>>) -> Result<DeviceAssignment> {
        let replica_count = devices.len();
        let computation_count = devices.first().map_or(0, Vec::len);
        if replica_count == 0
            || computation_count == 0
            || devices.iter().any(|r| r.len() != computation_count)
        {
            return Err(Error::InvalidCompileOptions(format!(
                "device assignment must be a non-empty rectangle of device ids [replica][partition], got {devices:?}"
            )));
        }
        Ok(DeviceAssignment {
            replica_count,
            computation_count,
            devices,
        })
    }

    /// The device id of one replica and partition.
    pub fn device(&self, replica: usize, partition: usize) -> Option<i64> {
        self.devices.get(replica)?.get(partition).copied()
    }

    pub(crate) fn encode(&self) -> Writer {
        let mut w = Writer::new();
        w.int(1, self.replica_count as i64);
        w.int(2, self.computation_count as i64);
        for p in 0..self.computation_count {
            let ids: Vec<i64> = self.devices.iter().map(|r| r[p]).collect();
            let mut cd = Writer::new();
            cd.packed_ints(1, &ids);
            w.message(3, &cd);
        }
        w
    }

    /// Decodes a serialized `xla.DeviceAssignmentProto`.
    pub fn decode(bytes: &[u8]) -> Result<DeviceAssignment> {
        const M: &str = "xla.DeviceAssignmentProto";
        let mut r = Reader::new(bytes, M);
        let (mut replicas, mut comps, mut by_comp) = (0i64, 0i64, Vec::<Vec<i64>>::new());
        while let Some((f, v)) = r.next_field()? {
            match f {
                1 => replicas = v.as_i64().unwrap_or(0),
                2 => comps = v.as_i64().unwrap_or(0),
                3 => {
                    let mut ids = Vec::new();
                    let mut cr = Reader::new(v.as_bytes().unwrap_or(&[]), M);
                    while let Some((cf, cv)) = cr.next_field()? {
                        if cf == 1 {
                            ids.extend(cv.ints(M)?);
                        }
                    }
                    by_comp.push(ids);
                }
                _ => {}
            }
        }
        let (replica_count, computation_count) = (replicas.max(0) as usize, comps.max(0) as usize);
        if by_comp.len() != computation_count || by_comp.iter().any(|c| c.len() != replica_count) {
            return Err(Error::Decode {
                message: M,
                reason: format!("{replica_count} replicas x {computation_count} computations but device lists {by_comp:?}"),
            });
        }
        let devices = (0..replica_count)
            .map(|r| by_comp.iter().map(|c| c[r]).collect())
            .collect();
        Ok(DeviceAssignment {
            replica_count,
            computation_count,
            devices,
        })
    }
}

/// An argument's shape and (optionally) its layout, for [`CompileOptions::argument_layouts`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ArgumentLayout {
    /// Element type.
    pub element_type: ElementType,
    /// Dims.
    pub dims: Vec<i64>,
    /// Layout as minor-to-major dimension order; `None` lets the compiler choose.
    pub minor_to_major: Option<Vec<i64>>,
}

impl ArgumentLayout {
    fn encode(&self) -> Writer {
        let mut w = Writer::new();
        w.int(2, i64::from(self.element_type.to_xla_primitive()));
        w.packed_ints(3, &self.dims);
        if let Some(m2m) = &self.minor_to_major {
            let mut l = Writer::new();
            l.packed_ints(1, m2m);
            // An empty minor_to_major (a scalar) still needs the layout message present.
            w.message(5, &l);
        }
        w
    }
}

/// Options for `Client::compile`. `CompileOptions::default()` is one replica, one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct CompileOptions {
    /// Number of replicas (at least 1).
    pub num_replicas: usize,
    /// Number of partitions (at least 1).
    pub num_partitions: usize,
    /// The device ordinal to compile for, if any.
    pub device_ordinal: Option<i64>,
    /// An explicit device assignment (its size must match replicas x partitions).
    pub device_assignment: Option<DeviceAssignment>,
    /// Partition with SPMD (GSPMD or Shardy) rather than MPMD.
    pub use_spmd_partitioning: bool,
    /// Let the compiler choose shardings automatically.
    pub use_auto_spmd_partitioning: bool,
    /// Use the Shardy partitioner.
    pub use_shardy_partitioner: bool,
    /// Fixed argument layouts (empty: the compiler's default layouts).
    pub argument_layouts: Vec<ArgumentLayout>,
    /// Arguments are passed as one tuple.
    pub parameter_is_tupled_arguments: bool,
    /// Compile a portable executable (not bound to a device; pick one at execute time).
    pub compile_portable_executable: bool,
    /// XLA compiler options set by name (`env_option_overrides`: the same names as the
    /// `XLA_FLAGS` environment variable, without `--`), for this compilation only. A name the
    /// plugin does not know makes the compile fail with the plugin's message.
    pub xla_options: BTreeMap<String, XlaOption>,
    /// Which compilation cache to use (not sent to the plugin; see
    /// [`CompileCache`](crate::CompileCache)).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub compile_cache: CompileCacheSetting,
}

/// The XLA options that make `min`/`max` (and the reductions built on them) propagate NaN,
/// as StableHLO specifies: the CPU compiler's default "fast" min/max returns the other
/// operand (`maximum(1, NaN) = 1`). Every plugin of 0.81 and newer knows both names.
pub const NAN_PROPAGATING_MIN_MAX: [(&str, bool); 2] = [
    ("xla_cpu_enable_fast_min_max", false),
    ("xla_gpu_enable_fast_min_max", false),
];

/// The largest replica or partition count: the plugins read them as C `int`s (a count of
/// `1 << 32` becomes 0 and aborts the compiler; `u32::MAX` becomes -1).
const MAX_COUNT: usize = i32::MAX as usize;

impl Default for CompileOptions {
    /// One replica, one partition, and NaN-propagating min/max
    /// ([`NAN_PROPAGATING_MIN_MAX`]; [`fast_min_max`](CompileOptions::fast_min_max) turns
    /// the compiler's fast, NaN-dropping version back on).
    fn default() -> CompileOptions {
        CompileOptions {
            num_replicas: 1,
            num_partitions: 1,
            device_ordinal: None,
            device_assignment: None,
            use_spmd_partitioning: false,
            use_auto_spmd_partitioning: false,
            use_shardy_partitioner: false,
            argument_layouts: Vec::new(),
            parameter_is_tupled_arguments: false,
            compile_portable_executable: false,
            xla_options: NAN_PROPAGATING_MIN_MAX
                .iter()
                .map(|(k, v)| (k.to_string(), XlaOption::Bool(*v)))
                .collect(),
            compile_cache: CompileCacheSetting::Default,
        }
    }
}

impl CompileOptions {
    /// One replica, one partition.
    pub fn new() -> CompileOptions {
        CompileOptions::default()
    }

    /// Sets the number of replicas.
    pub fn replicas(mut self, n: usize) -> CompileOptions {
        self.num_replicas = n;
        self
    }

    /// Sets the number of partitions.
    pub fn partitions(mut self, n: usize) -> CompileOptions {
        self.num_partitions = n;
        self
    }

    /// Sets an explicit device assignment.
    pub fn device_assignment(mut self, a: DeviceAssignment) -> CompileOptions {
        self.device_assignment = Some(a);
        self
    }

    /// Turns SPMD partitioning on or off.
    pub fn spmd(mut self, on: bool) -> CompileOptions {
        self.use_spmd_partitioning = on;
        self
    }

    /// Turns the Shardy partitioner on or off.
    pub fn shardy(mut self, on: bool) -> CompileOptions {
        self.use_shardy_partitioner = on;
        self
    }

    /// Compiles a portable executable.
    pub fn portable(mut self, on: bool) -> CompileOptions {
        self.compile_portable_executable = on;
        self
    }

    /// `true`: let the compiler use its fast `min`/`max`, which drop NaN
    /// (`maximum(1, NaN) = 1`); `false` (the default): NaN propagates, as StableHLO says.
    pub fn fast_min_max(mut self, on: bool) -> CompileOptions {
        for (name, _) in NAN_PROPAGATING_MIN_MAX {
            self.xla_options
                .insert(name.to_string(), XlaOption::Bool(on));
        }
        self
    }

    /// Sets one XLA compiler option for this compilation, e.g.
    /// `.xla_option("xla_cpu_enable_fast_math", true)` (the names `XLA_FLAGS` takes, without
    /// `--`; see XLA's `DebugOptions`). Setting a name again replaces its value.
    pub fn xla_option(
        mut self,
        name: impl Into<String>,
        value: impl Into<XlaOption>,
    ) -> CompileOptions {
        self.xla_options.insert(name.into(), value.into());
        self
    }

    /// Checks what would make a plugin abort: zero replicas or partitions, an assignment of
    /// the wrong size, a portable executable with more than one device.
    pub fn validate(&self) -> Result<()> {
        if self.num_replicas == 0 || self.num_partitions == 0 {
            return Err(Error::InvalidCompileOptions(format!(
                "num_replicas and num_partitions must be at least 1 (got {} replicas, {} partitions); plugins abort on 0",
                self.num_replicas, self.num_partitions
            )));
        }
        if self.num_replicas > MAX_COUNT || self.num_partitions > MAX_COUNT {
            return Err(Error::InvalidCompileOptions(format!(
                "num_replicas and num_partitions must fit a C int (at most {MAX_COUNT}), got {} replicas, {} partitions; the plugins would truncate them (1 << 32 becomes 0 and aborts)",
                self.num_replicas, self.num_partitions
            )));
        }
        let devices = self.num_replicas.checked_mul(self.num_partitions);
        if devices.is_none_or(|n| n > MAX_COUNT) {
            return Err(Error::InvalidCompileOptions(format!(
                "{} replicas x {} partitions is more devices than a C int can count",
                self.num_replicas, self.num_partitions
            )));
        }
        if let Some(o) = self.device_ordinal {
            if !(0..=i64::from(i32::MAX)).contains(&o) {
                return Err(Error::InvalidCompileOptions(format!(
                    "device_ordinal must be between 0 and {}, got {o}; plugins abort on a negative ordinal",
                    i32::MAX
                )));
            }
        }
        for (i, l) in self.argument_layouts.iter().enumerate() {
            crate::literal::element_count("CompileOptions::argument_layouts", &l.dims)?;
            if let Some(m2m) = &l.minor_to_major {
                let rank = l.dims.len();
                let mut seen = vec![false; rank];
                let ok = m2m.len() == rank
                    && m2m.iter().all(|&d| {
                        usize::try_from(d)
                            .ok()
                            .filter(|&d| d < rank && !seen[d])
                            .map(|d| seen[d] = true)
                            .is_some()
                    });
                if !ok {
                    return Err(Error::InvalidCompileOptions(format!(
                        "argument layout {i}: minor_to_major {m2m:?} is not a permutation of 0..{rank}"
                    )));
                }
            }
        }
        if let Some(a) = &self.device_assignment {
            if a.replica_count != self.num_replicas || a.computation_count != self.num_partitions {
                return Err(Error::InvalidCompileOptions(format!(
                    "device assignment is {} replicas x {} partitions but the options say {} x {}",
                    a.replica_count, a.computation_count, self.num_replicas, self.num_partitions
                )));
            }
            if a.devices.len() != a.replica_count
                || a.devices.iter().any(|r| r.len() != a.computation_count)
            {
                return Err(Error::InvalidCompileOptions(format!(
                    "device assignment says {} x {} but its rows are {:?} long",
                    a.replica_count,
                    a.computation_count,
                    a.devices.iter().map(Vec::len).collect::<Vec<_>>()
                )));
            }
            let mut seen = std::collections::BTreeSet::new();
            for id in a.devices.iter().flatten() {
                if !(0..=i64::from(i32::MAX)).contains(id) {
                    return Err(Error::InvalidCompileOptions(format!(
                        "device assignment: device id {id} is not between 0 and {}",
                        i32::MAX
                    )));
                }
                if !seen.insert(*id) {
                    return Err(Error::InvalidCompileOptions(format!(
                        "device assignment: device id {id} appears twice"
                    )));
                }
            }
        }
        for name in self.xla_options.keys() {
            if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
                return Err(Error::InvalidCompileOptions(format!(
                    "XLA option name {name:?} is not an option name (letters, digits and `_`, no leading `--`)"
                )));
            }
        }
        if self.compile_portable_executable && (self.num_replicas, self.num_partitions) != (1, 1) {
            return Err(Error::InvalidCompileOptions(
                "a portable executable must have exactly one replica and one partition".into(),
            ));
        }
        Ok(())
    }

    /// The serialized `xla.CompileOptionsProto`, after [`validate`](Self::validate).
    /// Replicas and partitions are always written, never zero.
    pub fn encode(&self) -> Result<Vec<u8>> {
        self.validate()?;
        let mut b = Writer::new();
        if let Some(o) = self.device_ordinal {
            b.int(1, o);
        }
        b.int(4, self.num_replicas as i64);
        b.int(5, self.num_partitions as i64);
        b.bool_true(6, self.use_spmd_partitioning);
        b.bool_true(7, self.use_auto_spmd_partitioning);
        if let Some(a) = &self.device_assignment {
            b.message(9, &a.encode());
        }
        b.bool_true(19, self.use_shardy_partitioner);

        let mut w = Writer::new();
        for l in &self.argument_layouts {
            w.message(1, &l.encode());
        }
        w.bool_true(2, self.parameter_is_tupled_arguments);
        w.message(3, &b);
        w.bool_true(4, self.compile_portable_executable);
        for (name, value) in &self.xla_options {
            let mut e = Writer::new();
            e.bytes(1, name.as_bytes());
            e.message(2, &value.encode());
            w.message(7, &e);
        }
        Ok(w.buf)
    }

    /// Decodes the fields this type knows from a serialized `xla.CompileOptionsProto`
    /// (e.g. from `Executable::compile_options`); other fields are ignored.
    pub fn decode(bytes: &[u8]) -> Result<CompileOptions> {
        const M: &str = "xla.CompileOptionsProto";
        let mut o = CompileOptions {
            num_replicas: 0,
            num_partitions: 0,
            xla_options: BTreeMap::new(),
            ..CompileOptions::default()
        };
        let mut r = Reader::new(bytes, M);
        while let Some((f, v)) = r.next_field()? {
            match f {
                1 => o
                    .argument_layouts
                    .push(decode_shape(v.as_bytes().unwrap_or(&[]))?),
                2 => o.parameter_is_tupled_arguments = v.as_i64() == Some(1),
                3 => {
                    let mut br = Reader::new(v.as_bytes().unwrap_or(&[]), M);
                    while let Some((bf, bv)) = br.next_field()? {
                        match bf {
                            1 => o.device_ordinal = bv.as_i64(),
                            4 => o.num_replicas = bv.as_i64().unwrap_or(0).max(0) as usize,
                            5 => o.num_partitions = bv.as_i64().unwrap_or(0).max(0) as usize,
                            6 => o.use_spmd_partitioning = bv.as_i64() == Some(1),
                            7 => o.use_auto_spmd_partitioning = bv.as_i64() == Some(1),
                            9 => {
                                o.device_assignment =
                                    Some(DeviceAssignment::decode(bv.as_bytes().unwrap_or(&[]))?)
                            }
                            19 => o.use_shardy_partitioner = bv.as_i64() == Some(1),
                            _ => {}
                        }
                    }
                }
                4 => o.compile_portable_executable = v.as_i64() == Some(1),
                7 => {
                    let (mut name, mut value) = (None, None);
                    let mut er = Reader::new(v.as_bytes().unwrap_or(&[]), M);
                    while let Some((ef, ev)) = er.next_field()? {
                        match (ef, ev.as_bytes()) {
                            (1, Some(b)) => name = Some(String::from_utf8_lossy(b).into_owned()),
                            (2, Some(b)) => value = XlaOption::decode(b)?,
                            _ => {}
                        }
                    }
                    if let (Some(n), Some(val)) = (name, value) {
                        o.xla_options.insert(n, val);
                    }
                }
                _ => {}
            }
        }
        Ok(o)
    }
}

/// Decodes an `xla.ShapeProto` that is an array (not a tuple) into an [`ArgumentLayout`].
pub(crate) fn decode_shape(bytes: &[u8]) -> Result<ArgumentLayout> {
    const M: &str = "xla.ShapeProto";
    let (mut et, mut dims, mut m2m) = (0i64, Vec::new(), None);
    let mut r = Reader::new(bytes, M);
    while let Some((f, v)) = r.next_field()? {
        match f {
            2 => et = v.as_i64().unwrap_or(0),
            3 => dims.extend(v.ints(M)?),
            5 => {
                let mut l = Vec::new();
                let mut lr = Reader::new(v.as_bytes().unwrap_or(&[]), M);
                while let Some((lf, lv)) = lr.next_field()? {
                    if lf == 1 {
                        l.extend(lv.ints(M)?);
                    }
                }
                m2m = Some(l);
            }
            _ => {}
        }
    }
    let element_type = ElementType::from_xla_primitive(et as i32).ok_or_else(|| Error::Decode {
        message: M,
        reason: format!("not an array shape (element type {et})"),
    })?;
    Ok(ArgumentLayout {
        element_type,
        dims,
        minor_to_major: m2m,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xla_options_round_trip() {
        let o = CompileOptions::new()
            .xla_option("xla_cpu_enable_fast_math", true)
            .xla_option("xla_cpu_parallel_codegen_split_count", 4)
            .xla_option("xla_gpu_memory_limit_slop_factor", 0.5)
            .xla_option("xla_dump_to", "/tmp/x")
            .xla_option("xla_cpu_enable_fast_math", false);
        assert_eq!(
            o.xla_options.len(),
            4 + NAN_PROPAGATING_MIN_MAX.len(),
            "setting a name again replaces it"
        );
        let bytes = o.encode().unwrap();
        let back = CompileOptions::decode(&bytes).unwrap();
        assert_eq!(back, o);
        assert_eq!(
            back.xla_options["xla_cpu_enable_fast_math"],
            XlaOption::Bool(false)
        );
        assert_eq!(
            back.xla_options["xla_gpu_memory_limit_slop_factor"],
            XlaOption::Float(0.5)
        );
        // One map entry: key "a", value { bool_field: true }.
        let one = CompileOptions {
            xla_options: BTreeMap::new(),
            ..CompileOptions::default()
        }
        .xla_option("a", true)
        .encode()
        .unwrap();
        assert_eq!(
            &one[one.len() - 9..],
            &[0x3a, 0x07, 0x0a, 0x01, b'a', 0x12, 0x02, 0x10, 0x01]
        );
    }

    #[test]
    fn minimal_options_bytes() {
        // executable_build_options (field 3, 4 bytes) { num_replicas: 1, num_partitions: 1 },
        // then the two NaN-propagating min/max overrides (field 7).
        let bytes = CompileOptions::default().encode().unwrap();
        assert_eq!(&bytes[..6], &[0x1a, 0x04, 0x20, 0x01, 0x28, 0x01]);
        let back = CompileOptions::decode(&bytes).unwrap();
        assert_eq!(back, CompileOptions::default());
        for (name, on) in NAN_PROPAGATING_MIN_MAX {
            assert_eq!(back.xla_options[name], XlaOption::Bool(on));
        }
        let fast = CompileOptions::default().fast_min_max(true);
        assert_eq!(
            fast.xla_options["xla_cpu_enable_fast_min_max"],
            XlaOption::Bool(true)
        );
        // Without any override: exactly the minimal bytes the plugins accept.
        let bare = CompileOptions {
            xla_options: BTreeMap::new(),
            ..CompileOptions::default()
        };
        assert_eq!(
            bare.encode().unwrap(),
            vec![0x1a, 0x04, 0x20, 0x01, 0x28, 0x01]
        );
    }

    #[test]
    fn counts_ordinals_and_ids_the_plugins_truncate_are_refused() {
        for (r, p) in [
            (1usize << 32, 1),
            (u32::MAX as usize, 1),
            (1, 1 << 31),
            (1 << 16, 1 << 16),
        ] {
            let e = CompileOptions::default()
                .replicas(r)
                .partitions(p)
                .encode()
                .unwrap_err();
            assert!(
                matches!(e, Error::InvalidCompileOptions(_)),
                "{r} x {p}: {e}"
            );
        }
        let o = CompileOptions {
            device_ordinal: Some(-1),
            ..CompileOptions::default()
        };
        let e = o.encode().unwrap_err();
        assert!(e.to_string().contains("device_ordinal"), "{e}");
        let o = CompileOptions {
            device_ordinal: Some(0),
            ..CompileOptions::default()
        };
        assert!(o.encode().is_ok());
        let o = CompileOptions::default()
            .replicas(2)
            .device_assignment(DeviceAssignment::new(vec![vec![0], vec![-3]]).unwrap());
        assert!(o.encode().unwrap_err().to_string().contains("-3"));
        let o = CompileOptions::default()
            .replicas(2)
            .device_assignment(DeviceAssignment::new(vec![vec![1], vec![1]]).unwrap());
        assert!(o.encode().unwrap_err().to_string().contains("twice"));
        let mut o = CompileOptions::default();
        o.argument_layouts.push(ArgumentLayout {
            element_type: ElementType::F32,
            dims: vec![2, 3],
            minor_to_major: Some(vec![0, 0]),
        });
        assert!(o.encode().unwrap_err().to_string().contains("permutation"));
    }

    #[test]
    fn zero_replicas_or_partitions_are_refused() {
        let e = CompileOptions::default().replicas(0).encode().unwrap_err();
        assert!(matches!(e, Error::InvalidCompileOptions(_)), "{e}");
        assert!(e.to_string().contains("0 replicas"), "{e}");
        let e = CompileOptions::default()
            .partitions(0)
            .encode()
            .unwrap_err();
        assert!(matches!(e, Error::InvalidCompileOptions(_)), "{e}");
    }

    #[test]
    fn round_trip_with_assignment_and_layouts() {
        let opts = CompileOptions::default()
            .replicas(2)
            .partitions(1)
            .spmd(true)
            .shardy(true)
            .device_assignment(DeviceAssignment::new(vec![vec![0], vec![1]]).unwrap());
        let mut opts = opts;
        opts.argument_layouts.push(ArgumentLayout {
            element_type: ElementType::BF16,
            dims: vec![2, 3],
            minor_to_major: Some(vec![1, 0]),
        });
        let bytes = opts.encode().unwrap();
        // argument_layouts first: field 1, a ShapeProto with element_type 16 (BF16 in XLA).
        assert_eq!(&bytes[..4], &[0x0a, 0x0c, 0x10, 0x10]);
        let back = CompileOptions::decode(&bytes).unwrap();
        assert_eq!(back, opts);
    }

    #[test]
    fn assignment_size_must_match() {
        let opts = CompileOptions::default()
            .device_assignment(DeviceAssignment::new(vec![vec![0, 1]]).unwrap());
        assert!(matches!(
            opts.encode(),
            Err(Error::InvalidCompileOptions(_))
        ));
        assert!(DeviceAssignment::new(vec![vec![0, 1], vec![2]]).is_err());
    }
}
