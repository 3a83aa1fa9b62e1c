//! The function table a plugin returns from `GetPjrtApi`, and its version.
//!
//! The table is append-only: slot `i` sits at byte offset `40 + 8 * i`, and a plugin built
//! from an older header has a shorter table. Check `struct_size` before reading a slot
//! (see [`PJRT_Api::has_slot`]); never copy or dereference the whole struct of an older
//! plugin.

use crate::*;

/// Major version of the header these bindings follow.
pub const PJRT_API_MAJOR: i32 = 0;
/// Minor version of the header these bindings follow.
pub const PJRT_API_MINOR: i32 = 114;

/// Byte offset of the first function slot in [`PJRT_Api`].
pub const PJRT_API_FIRST_SLOT_OFFSET: usize = 40;

/// Declares `PJRT_Api` (header fields, then one `Option<fn>` per slot, in table order) and
/// `API_SLOT_NAMES` from one list, so the two cannot disagree.
macro_rules! api_table {
    ($count:literal; $($slot:ident),* $(,)?) => {
        pjrt_structs! {
            /// The version a plugin was built with.
            pub struct PJRT_Api_Version / PJRT_Api_Version_STRUCT_SIZE {
                pub struct_size: usize,
                pub extension_start: *mut PJRT_Extension_Base,
                pub major_version: ::core::ffi::c_int,
                pub minor_version: ::core::ffi::c_int,
            }

            /// The plugin's function table at the 0.114 layout. Only the first
            /// `(struct_size - 40) / 8` slots exist in an older plugin's table.
            pub struct PJRT_Api / PJRT_Api_STRUCT_SIZE {
                pub struct_size: usize,
                pub extension_start: *mut PJRT_Extension_Base,
                pub pjrt_api_version: PJRT_Api_Version,
                $( pub $slot: Option<$slot>, )*
            }
        }

        /// Number of function slots in the 0.114 table.
        pub const API_SLOT_COUNT: usize = $count;

        /// The slot names in table order: slot `i` sits at byte offset `40 + 8 * i`.
        pub const API_SLOT_NAMES: [&str; $count] = [ $( stringify!($slot), )* ];
    };
}

api_table! { 138;
    PJRT_Error_Destroy,
    PJRT_Error_Message,
    PJRT_Error_GetCode,
    PJRT_Plugin_Initialize,
    PJRT_Plugin_Attributes,
    PJRT_Event_Destroy,
    PJRT_Event_IsReady,
    PJRT_Event_Error,
    PJRT_Event_Await,
    PJRT_Event_OnReady,
    PJRT_Client_Create,
    PJRT_Client_Destroy,
    PJRT_Client_PlatformName,
    PJRT_Client_ProcessIndex,
    PJRT_Client_PlatformVersion,
    PJRT_Client_Devices,
    PJRT_Client_AddressableDevices,
    PJRT_Client_LookupDevice,
    PJRT_Client_LookupAddressableDevice,
    PJRT_Client_AddressableMemories,
    PJRT_Client_Compile,
    PJRT_Client_DefaultDeviceAssignment,
    PJRT_Client_BufferFromHostBuffer,
    PJRT_DeviceDescription_Id,
    PJRT_DeviceDescription_ProcessIndex,
    PJRT_DeviceDescription_Attributes,
    PJRT_DeviceDescription_Kind,
    PJRT_DeviceDescription_DebugString,
    PJRT_DeviceDescription_ToString,
    PJRT_Device_GetDescription,
    PJRT_Device_IsAddressable,
    PJRT_Device_LocalHardwareId,
    PJRT_Device_AddressableMemories,
    PJRT_Device_DefaultMemory,
    PJRT_Device_MemoryStats,
    PJRT_Memory_Id,
    PJRT_Memory_Kind,
    PJRT_Memory_DebugString,
    PJRT_Memory_ToString,
    PJRT_Memory_AddressableByDevices,
    PJRT_Executable_Destroy,
    PJRT_Executable_Name,
    PJRT_Executable_NumReplicas,
    PJRT_Executable_NumPartitions,
    PJRT_Executable_NumOutputs,
    PJRT_Executable_SizeOfGeneratedCodeInBytes,
    PJRT_Executable_GetCostAnalysis,
    PJRT_Executable_OutputMemoryKinds,
    PJRT_Executable_OptimizedProgram,
    PJRT_Executable_Serialize,
    PJRT_LoadedExecutable_Destroy,
    PJRT_LoadedExecutable_GetExecutable,
    PJRT_LoadedExecutable_AddressableDevices,
    PJRT_LoadedExecutable_Delete,
    PJRT_LoadedExecutable_IsDeleted,
    PJRT_LoadedExecutable_Execute,
    PJRT_Executable_DeserializeAndLoad,
    PJRT_LoadedExecutable_Fingerprint,
    PJRT_Buffer_Destroy,
    PJRT_Buffer_ElementType,
    PJRT_Buffer_Dimensions,
    PJRT_Buffer_UnpaddedDimensions,
    PJRT_Buffer_DynamicDimensionIndices,
    PJRT_Buffer_GetMemoryLayout,
    PJRT_Buffer_OnDeviceSizeInBytes,
    PJRT_Buffer_Device,
    PJRT_Buffer_Memory,
    PJRT_Buffer_Delete,
    PJRT_Buffer_IsDeleted,
    PJRT_Buffer_CopyToDevice,
    PJRT_Buffer_ToHostBuffer,
    PJRT_Buffer_IsOnCpu,
    PJRT_Buffer_ReadyEvent,
    PJRT_Buffer_UnsafePointer,
    PJRT_Buffer_IncreaseExternalReferenceCount,
    PJRT_Buffer_DecreaseExternalReferenceCount,
    PJRT_Buffer_OpaqueDeviceMemoryDataPointer,
    PJRT_CopyToDeviceStream_Destroy,
    PJRT_CopyToDeviceStream_AddChunk,
    PJRT_CopyToDeviceStream_TotalBytes,
    PJRT_CopyToDeviceStream_GranuleSize,
    PJRT_CopyToDeviceStream_CurrentBytes,
    PJRT_TopologyDescription_Create,
    PJRT_TopologyDescription_Destroy,
    PJRT_TopologyDescription_PlatformName,
    PJRT_TopologyDescription_PlatformVersion,
    PJRT_TopologyDescription_GetDeviceDescriptions,
    PJRT_TopologyDescription_Serialize,
    PJRT_TopologyDescription_Attributes,
    PJRT_Compile,
    PJRT_Executable_OutputElementTypes,
    PJRT_Executable_OutputDimensions,
    PJRT_Buffer_CopyToMemory,
    PJRT_Client_CreateViewOfDeviceBuffer,
    PJRT_Executable_Fingerprint,
    PJRT_Client_TopologyDescription,
    PJRT_Executable_GetCompiledMemoryStats,
    PJRT_Memory_Kind_Id,
    PJRT_ExecuteContext_Create,
    PJRT_ExecuteContext_Destroy,
    PJRT_Buffer_CopyRawToHost,
    PJRT_AsyncHostToDeviceTransferManager_Destroy,
    PJRT_AsyncHostToDeviceTransferManager_TransferData,
    PJRT_Client_CreateBuffersForAsyncHostToDevice,
    PJRT_AsyncHostToDeviceTransferManager_RetrieveBuffer,
    PJRT_AsyncHostToDeviceTransferManager_Device,
    PJRT_AsyncHostToDeviceTransferManager_BufferCount,
    PJRT_AsyncHostToDeviceTransferManager_BufferSize,
    PJRT_AsyncHostToDeviceTransferManager_SetBufferError,
    PJRT_AsyncHostToDeviceTransferManager_AddMetadata,
    PJRT_Client_DmaMap,
    PJRT_Client_DmaUnmap,
    PJRT_Client_CreateUninitializedBuffer,
    PJRT_Client_UpdateGlobalProcessInfo,
    PJRT_TopologyDescription_Deserialize,
    PJRT_Client_CreateAliasBuffer,
    PJRT_Client_FulfillAliasBuffer,
    PJRT_LoadedExecutable_GetDeviceAssignment,
    PJRT_Client_CreateErrorBuffer,
    PJRT_AsyncHostToDeviceTransferManager_TransferLiteral,
    PJRT_Buffer_CopyRawToHostFuture,
    PJRT_Device_PoisonExecution,
    PJRT_Device_CreateAsyncTrackingEvent,
    PJRT_AsyncTrackingEvent_Destroy,
    PJRT_Executable_GetCompileOptions,
    PJRT_Buffer_DonateWithControlDependency,
    PJRT_Event_Create,
    PJRT_Event_Set,
    PJRT_Device_GetAttributes,
    PJRT_Client_Load,
    PJRT_LoadedExecutable_AddressableDeviceLogicalIds,
    PJRT_Buffer_Bitcast,
    PJRT_Error_ForEachPayload,
    PJRT_TopologyDescription_Fingerprint,
    PJRT_Executable_ParameterMemoryKinds,
    PJRT_Device_ClearMemoryStats,
    PJRT_TopologyDescription_MakeCanonicalShapeForMemorySpace,
    PJRT_TopologyDescription_GetMemorySpaceKindIds,
}

impl PJRT_Api {
    /// Byte offset of slot `index`.
    pub const fn slot_offset(index: usize) -> usize {
        PJRT_API_FIRST_SLOT_OFFSET + 8 * index
    }

    /// The `struct_size` of a table that has exactly `num_slots` slots.
    pub const fn struct_size_for_slots(num_slots: usize) -> usize {
        PJRT_API_FIRST_SLOT_OFFSET + 8 * num_slots
    }

    /// How many whole slots a table with this `struct_size` holds.
    pub const fn num_slots_for_struct_size(struct_size: usize) -> usize {
        if struct_size <= PJRT_API_FIRST_SLOT_OFFSET {
            0
        } else {
            (struct_size - PJRT_API_FIRST_SLOT_OFFSET) / 8
        }
    }

    /// Whether a table with this `struct_size` contains slot `index` (it may still be null).
    pub const fn has_slot(struct_size: usize, index: usize) -> bool {
        struct_size >= Self::slot_offset(index) + 8
    }

    /// The index of the slot called `name` (e.g. `"PJRT_Client_Create"`).
    pub fn slot_index(name: &str) -> Option<usize> {
        API_SLOT_NAMES.iter().position(|n| *n == name)
    }
}

const _: () = {
    assert!(core::mem::size_of::<PJRT_Api>() == PJRT_API_FIRST_SLOT_OFFSET + 8 * API_SLOT_COUNT);
    assert!(PJRT_Api_STRUCT_SIZE == PJRT_API_FIRST_SLOT_OFFSET + 8 * API_SLOT_COUNT);
    assert!(core::mem::offset_of!(PJRT_Api, PJRT_Error_Destroy) == PJRT_API_FIRST_SLOT_OFFSET);
    // Slot 118 is the first one after the 0.81 table (118 slots).
    assert!(core::mem::offset_of!(PJRT_Api, PJRT_Client_CreateErrorBuffer) == 40 + 8 * 118);
    assert!(core::mem::size_of::<PJRT_Api_Version>() == 24);
    assert!(core::mem::offset_of!(PJRT_Api, pjrt_api_version) == 16);
};

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn slot_names_are_unique_and_match_field_offsets() {
        let mut seen = std::collections::HashSet::new();
        for name in API_SLOT_NAMES {
            assert!(seen.insert(name), "{name} appears twice");
        }
        let layout = PJRT_Api::LAYOUT;
        assert_eq!(layout.fields.len(), 3 + API_SLOT_COUNT);
        for (i, name) in API_SLOT_NAMES.iter().enumerate() {
            let f = layout.field(name).expect("every slot is a field");
            assert_eq!(f.offset, PJRT_Api::slot_offset(i), "{name}");
            assert_eq!(f.size, 8, "{name}");
            assert_eq!(PJRT_Api::slot_index(name), Some(i));
        }
        assert_eq!(API_SLOT_NAMES[0], "PJRT_Error_Destroy");
        assert_eq!(API_SLOT_NAMES[118], "PJRT_Client_CreateErrorBuffer");
        assert_eq!(
            API_SLOT_NAMES[137],
            "PJRT_TopologyDescription_GetMemorySpaceKindIds"
        );
        assert_eq!(
            offset_of!(PJRT_Api, PJRT_TopologyDescription_GetMemorySpaceKindIds),
            40 + 8 * 137
        );
    }

    #[test]
    fn slot_bounds_follow_struct_size() {
        let s081 = PJRT_Api::struct_size_for_slots(118);
        assert_eq!(s081, 984);
        assert!(PJRT_Api::has_slot(s081, 117));
        assert!(!PJRT_Api::has_slot(s081, 118));
        assert_eq!(PJRT_Api::num_slots_for_struct_size(s081), 118);
        assert_eq!(PJRT_Api::num_slots_for_struct_size(16), 0);
    }

    #[test]
    fn struct_size_excludes_tail_padding_and_new_sets_it() {
        // A bool after three 8-byte fields: 25 bytes used, 32 allocated.
        assert_eq!(PJRT_Event_IsReady_Args_STRUCT_SIZE, 25);
        assert_eq!(size_of::<PJRT_Event_IsReady_Args>(), 32);
        let a = PJRT_Event_IsReady_Args::new();
        assert_eq!(a.struct_size, 25);
        assert!(a.event.is_null() && a.extension_start.is_null() && !a.is_ready);
        // Known sizes from the C header (checked against a C compiler).
        assert_eq!(PJRT_Client_Create_Args_STRUCT_SIZE, 88);
        assert_eq!(PJRT_NamedValue_STRUCT_SIZE, 56);
        assert_eq!(PJRT_Buffer_MemoryLayout_STRUCT_SIZE, 76);
        assert_eq!(size_of::<PJRT_Buffer_MemoryLayout>(), 80);
        let l = PJRT_Buffer_MemoryLayout::default();
        assert_eq!(l.struct_size, PJRT_Buffer_MemoryLayout_STRUCT_SIZE);
        assert_eq!(l.type_, PJRT_Buffer_MemoryLayout_Type_Tiled);
        // Structs without a struct_size field still get a zeroed new().
        let c = PJRT_Chunk::new();
        assert!(c.data.is_null() && c.deleter.is_none());
    }
}
