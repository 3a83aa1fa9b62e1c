//! Extension structs of the PJRT C API (header 0.114), one module per upstream extension
//! header, written by hand from the headers' facts.
//!
//! A plugin publishes its extensions as a linked list starting at `PJRT_Api::extension_start`;
//! every node begins with a [`PJRT_Extension_Base`] whose `type` says which struct it is.
//! [`EXTENSIONS`] lists every extension this crate knows: its type, a readable name and the
//! names of its function slots in table order.
//!
//! Like the main table, extension structs are append-only: a slot is present only if the
//! plugin's `base.struct_size` covers it (see [`slot_present`]).

use crate::{PJRT_Api, PJRT_Extension_Base, PJRT_Extension_Type};

pub mod abi_version;
pub mod callback;
pub mod collectives;
pub mod cross_host_transfers;
pub mod custom_partitioner;
pub mod device_event;
pub mod example;
pub mod executable_metadata;
pub mod ffi;
pub mod gpu;
pub mod host_memory_allocator;
pub mod layouts;
pub mod megascale;
pub mod memory_descriptions;
pub mod multi_slice;
pub mod phase_compile;
pub mod profiler;
pub mod raw_buffer;
pub mod shardings;
pub mod stream;
pub mod tpu_executable;
pub mod tpu_topology;
pub mod triton;
pub mod xla_ffi;
pub mod xla_transform;

#[cfg(test)]
mod layout_tests;
#[cfg(test)]
mod plugin_tests;

/// Layouts of every struct declared under [`ext`](self), for comparison with a C compiler's.
pub fn struct_layouts() -> impl Iterator<Item = &'static crate::StructLayout> {
    [
        abi_version::LAYOUTS,
        callback::LAYOUTS,
        collectives::LAYOUTS,
        cross_host_transfers::LAYOUTS,
        custom_partitioner::LAYOUTS,
        device_event::LAYOUTS,
        example::LAYOUTS,
        executable_metadata::LAYOUTS,
        ffi::LAYOUTS,
        gpu::LAYOUTS,
        host_memory_allocator::LAYOUTS,
        layouts::LAYOUTS,
        megascale::LAYOUTS,
        memory_descriptions::LAYOUTS,
        multi_slice::LAYOUTS,
        phase_compile::LAYOUTS,
        profiler::LAYOUTS,
        raw_buffer::LAYOUTS,
        shardings::LAYOUTS,
        stream::LAYOUTS,
        tpu_executable::LAYOUTS,
        tpu_topology::LAYOUTS,
        triton::LAYOUTS,
        xla_transform::LAYOUTS,
    ]
    .into_iter()
    .flatten()
}

/// The layout of the extension struct or args struct with this C name.
pub fn struct_layout(name: &str) -> Option<&'static crate::StructLayout> {
    struct_layouts().find(|l| l.name == name)
}

/// One extension this crate knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtensionInfo {
    /// The `PJRT_Extension_Type` value in `PJRT_Extension_Base::type`.
    pub ty: PJRT_Extension_Type,
    /// A readable name (the type constant without its `PJRT_Extension_Type_` prefix).
    pub name: &'static str,
    /// Names of the extension struct's function slots, in table order.
    pub function_names: &'static [&'static str],
    /// Size of the extension struct at header 0.114 (`X_STRUCT_SIZE`).
    pub struct_size: usize,
    /// The C name of the extension struct.
    pub struct_name: &'static str,
}

/// Every extension with a header at 0.114, ordered by type value. The types
/// `Unknown` (11) and `HostAllocator` (15, deprecated) have no header and are absent.
pub const EXTENSIONS: &[ExtensionInfo] = &[
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_Gpu_Custom_Call,
        name: "Gpu_Custom_Call",
        function_names: gpu::GPU_FUNCTION_NAMES,
        struct_size: gpu::PJRT_Gpu_Custom_Call_STRUCT_SIZE,
        struct_name: "PJRT_Gpu_Custom_Call",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_Profiler,
        name: "Profiler",
        function_names: profiler::PROFILER_FUNCTION_NAMES,
        struct_size: profiler::PJRT_Profiler_Extension_STRUCT_SIZE,
        struct_name: "PJRT_Profiler_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_Custom_Partitioner,
        name: "Custom_Partitioner",
        function_names: custom_partitioner::CUSTOM_PARTITIONER_FUNCTION_NAMES,
        struct_size: custom_partitioner::PJRT_Custom_Partitioner_Extension_STRUCT_SIZE,
        struct_name: "PJRT_Custom_Partitioner_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_Stream,
        name: "Stream",
        function_names: stream::STREAM_FUNCTION_NAMES,
        struct_size: stream::PJRT_Stream_Extension_STRUCT_SIZE,
        struct_name: "PJRT_Stream_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_Layouts,
        name: "Layouts",
        function_names: layouts::LAYOUTS_FUNCTION_NAMES,
        struct_size: layouts::PJRT_Layouts_Extension_STRUCT_SIZE,
        struct_name: "PJRT_Layouts_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_FFI,
        name: "FFI",
        function_names: ffi::FFI_FUNCTION_NAMES,
        struct_size: ffi::PJRT_FFI_Extension_STRUCT_SIZE,
        struct_name: "PJRT_FFI_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_MemoryDescriptions,
        name: "MemoryDescriptions",
        function_names: memory_descriptions::MEMORY_DESCRIPTIONS_FUNCTION_NAMES,
        struct_size: memory_descriptions::PJRT_MemoryDescriptions_Extension_STRUCT_SIZE,
        struct_name: "PJRT_MemoryDescriptions_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_Triton,
        name: "Triton",
        function_names: triton::TRITON_FUNCTION_NAMES,
        struct_size: triton::PJRT_Triton_Extension_STRUCT_SIZE,
        struct_name: "PJRT_Triton_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_RawBuffer,
        name: "RawBuffer",
        function_names: raw_buffer::RAW_BUFFER_FUNCTION_NAMES,
        struct_size: raw_buffer::PJRT_RawBuffer_Extension_STRUCT_SIZE,
        struct_name: "PJRT_RawBuffer_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_PhaseCompile,
        name: "PhaseCompile",
        function_names: phase_compile::PHASE_COMPILE_FUNCTION_NAMES,
        struct_size: phase_compile::PJRT_PhaseCompile_Extension_STRUCT_SIZE,
        struct_name: "PJRT_PhaseCompile_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_Example,
        name: "Example",
        function_names: example::EXAMPLE_FUNCTION_NAMES,
        struct_size: example::PJRT_Example_Extension_STRUCT_SIZE,
        struct_name: "PJRT_Example_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_CrossHostTransfers,
        name: "CrossHostTransfers",
        function_names: cross_host_transfers::CROSS_HOST_TRANSFERS_FUNCTION_NAMES,
        struct_size: cross_host_transfers::PJRT_CrossHostTransfers_Extension_STRUCT_SIZE,
        struct_name: "PJRT_CrossHostTransfers_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_ExecutableMetadata,
        name: "ExecutableMetadata",
        function_names: executable_metadata::EXECUTABLE_METADATA_FUNCTION_NAMES,
        struct_size: executable_metadata::PJRT_ExecutableMetadata_Extension_STRUCT_SIZE,
        struct_name: "PJRT_ExecutableMetadata_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_Callback,
        name: "Callback",
        function_names: callback::CALLBACK_FUNCTION_NAMES,
        struct_size: callback::PJRT_Callback_Extension_STRUCT_SIZE,
        struct_name: "PJRT_Callback_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_TpuTopology,
        name: "TpuTopology",
        function_names: tpu_topology::TPU_TOPOLOGY_FUNCTION_NAMES,
        struct_size: tpu_topology::PJRT_TpuTopology_Extension_STRUCT_SIZE,
        struct_name: "PJRT_TpuTopology_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_TpuExecutable,
        name: "TpuExecutable",
        function_names: tpu_executable::TPU_EXECUTABLE_FUNCTION_NAMES,
        struct_size: tpu_executable::PJRT_TpuExecutable_Extension_STRUCT_SIZE,
        struct_name: "PJRT_TpuExecutable_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_Megascale,
        name: "Megascale",
        function_names: megascale::MEGASCALE_FUNCTION_NAMES,
        struct_size: megascale::PJRT_Megascale_Extension_STRUCT_SIZE,
        struct_name: "PJRT_Megascale_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_Shardings,
        name: "Shardings",
        function_names: shardings::SHARDINGS_FUNCTION_NAMES,
        struct_size: shardings::PJRT_Shardings_Extension_STRUCT_SIZE,
        struct_name: "PJRT_Shardings_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_AbiVersion,
        name: "AbiVersion",
        function_names: abi_version::ABI_VERSION_FUNCTION_NAMES,
        struct_size: abi_version::PJRT_AbiVersion_Extension_STRUCT_SIZE,
        struct_name: "PJRT_AbiVersion_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_Collectives,
        name: "Collectives",
        function_names: collectives::COLLECTIVES_FUNCTION_NAMES,
        struct_size: collectives::PJRT_Collectives_Extension_STRUCT_SIZE,
        struct_name: "PJRT_Collectives_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_MultiSlice,
        name: "MultiSlice",
        function_names: multi_slice::MULTI_SLICE_FUNCTION_NAMES,
        struct_size: multi_slice::PJRT_MultiSlice_Extension_STRUCT_SIZE,
        struct_name: "PJRT_MultiSlice_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_HostMemoryAllocator,
        name: "HostMemoryAllocator",
        function_names: host_memory_allocator::HOST_MEMORY_ALLOCATOR_FUNCTION_NAMES,
        struct_size: host_memory_allocator::PJRT_HostMemoryAllocator_Extension_STRUCT_SIZE,
        struct_name: "PJRT_HostMemoryAllocator_Extension",
    },
    ExtensionInfo {
        ty: crate::PJRT_Extension_Type_XlaTransform,
        name: "XlaTransform",
        function_names: xla_transform::XLA_TRANSFORM_FUNCTION_NAMES,
        struct_size: xla_transform::PJRT_Xla_Transform_Extension_STRUCT_SIZE,
        struct_name: "PJRT_Xla_Transform_Extension",
    },
];

/// The entry of [`EXTENSIONS`] for an extension type, if this crate knows it.
pub fn extension_info(ty: PJRT_Extension_Type) -> Option<&'static ExtensionInfo> {
    EXTENSIONS.iter().find(|e| e.ty == ty)
}

/// Byte offset of function slot `index` in an extension struct: slots follow the 24-byte
/// `PJRT_Extension_Base`, 8 bytes each (true for every extension whose table is only
/// function pointers, i.e. all but Profiler).
pub const fn slot_offset(index: usize) -> usize {
    core::mem::size_of::<PJRT_Extension_Base>() + index * core::mem::size_of::<usize>()
}

/// Whether an extension whose `base.struct_size` is `struct_size` contains slot `index`.
pub const fn slot_present(struct_size: usize, index: usize) -> bool {
    struct_size >= slot_offset(index) + core::mem::size_of::<usize>()
}

/// Walks a plugin's extension list and calls `f` on each node, stopping after at most
/// `limit` nodes (guards against a cyclic list).
///
/// # Safety
/// `api` must point at a live `PJRT_Api` whose extension list is well formed.
pub unsafe fn for_each_extension(
    api: *const PJRT_Api,
    limit: usize,
    mut f: impl FnMut(&PJRT_Extension_Base),
) {
    if api.is_null() {
        return;
    }
    // SAFETY: the caller guarantees `api` is a live table; each `next` is a node or null.
    let mut node = unsafe { (*api).extension_start } as *const PJRT_Extension_Base;
    let mut seen = 0;
    while !node.is_null() && seen < limit {
        // SAFETY: non-null nodes of a well-formed list are valid extension bases.
        let base = unsafe { &*node };
        f(base);
        node = base.next;
        seen += 1;
    }
}

/// The first extension of type `ty` in a plugin's list, or null.
///
/// # Safety
/// As for [`for_each_extension`].
pub unsafe fn find_extension(
    api: *const PJRT_Api,
    ty: PJRT_Extension_Type,
) -> *const PJRT_Extension_Base {
    let mut found: *const PJRT_Extension_Base = core::ptr::null();
    // SAFETY: forwarded from the caller.
    unsafe {
        for_each_extension(api, 64, |b| {
            if found.is_null() && b.type_ == ty {
                found = b;
            }
        })
    };
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_ordered() {
        // 25 type values at 0.114, minus Unknown and the deprecated HostAllocator.
        assert_eq!(EXTENSIONS.len(), 23);
        for w in EXTENSIONS.windows(2) {
            assert!(w[0].ty < w[1].ty, "{} before {}", w[0].name, w[1].name);
        }
        for e in EXTENSIONS {
            assert!(e.struct_size >= 24, "{}", e.name);
            assert_eq!(extension_info(e.ty), Some(e));
        }
        assert!(extension_info(crate::PJRT_Extension_Type_Unknown).is_none());
    }

    #[test]
    fn function_names_are_the_struct_fields() {
        for e in EXTENSIONS {
            let l = struct_layout(e.struct_name).expect(e.struct_name);
            assert_eq!(l.struct_size, e.struct_size, "{}", e.name);
            let (table, skip) = if e.ty == crate::PJRT_Extension_Type_Profiler {
                // The functions sit in the table `profiler_api` points at, after
                // `struct_size` and `priv`.
                (
                    struct_layout("PLUGIN_Profiler_Api").expect("profiler api"),
                    2,
                )
            } else {
                assert_eq!(l.fields[0].name, "base", "{}", e.name);
                (l, 1)
            };
            let fields: Vec<&str> = table.fields[skip..].iter().map(|f| f.name).collect();
            assert_eq!(fields, e.function_names, "{}", e.name);
        }
    }

    #[test]
    fn slot_tables_match_struct_sizes() {
        // Every extension but Profiler is a base followed by pointer-sized slots only.
        for e in EXTENSIONS {
            if e.ty == crate::PJRT_Extension_Type_Profiler {
                continue;
            }
            assert_eq!(
                e.struct_size,
                slot_offset(e.function_names.len()),
                "{}",
                e.name
            );
            assert!(slot_present(e.struct_size, e.function_names.len() - 1));
            assert!(!slot_present(e.struct_size, e.function_names.len()));
        }
    }
}
