//! Layout checks of the extension structs.

use super::struct_layouts;

/// Prints every extension struct's layout in the form the C-side checker prints
/// (`S name size align struct_size` then `F name field offset size` per field), so the
/// two outputs can be diffed. Run with `--ignored --nocapture`.
#[test]
#[ignore]
fn dump_layouts_for_c_comparison() {
    for l in struct_layouts() {
        println!("S {} {} {} {}", l.name, l.size, l.align, l.struct_size);
        for f in l.fields {
            println!("F {} {} {} {}", l.name, f.name, f.offset, f.size);
        }
    }
}

#[test]
fn names_are_unique_and_struct_sizes_end_at_last_field() {
    let mut names: Vec<&str> = struct_layouts().map(|l| l.name).collect();
    let n = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), n, "a struct is declared twice");
    for l in struct_layouts() {
        let last = l.fields.last().map(|f| f.offset + f.size).unwrap_or(0);
        assert_eq!(l.struct_size, last, "{}", l.name);
        assert!(l.struct_size <= l.size, "{}", l.name);
    }
}

/// Checks a struct's Rust layout against `(sizeof, alignof, end of last field)` measured
/// with a C++ compiler on the 0.114 headers (x86-64 Linux).
fn check(name: &str, size: usize, align: usize, struct_size: usize) {
    let l = super::struct_layout(name).unwrap_or_else(|| panic!("{name} is not declared"));
    assert_eq!(
        (l.size, l.align, l.struct_size),
        (size, align, struct_size),
        "{name}"
    );
}

/// Checks an extension struct's slot offsets against the C compiler's.
fn check_fields(name: &str, fields: &[(&str, usize)]) {
    let l = super::struct_layout(name).unwrap_or_else(|| panic!("{name} is not declared"));
    let got: Vec<(&str, usize)> = l.fields.iter().map(|f| (f.name, f.offset)).collect();
    assert_eq!(got, fields, "{name}");
}

#[test]
fn measured_abi_version() {
    check("PJRT_Client_RuntimeAbiVersion_Args", 24, 8, 24);
    check("PJRT_Executable_GetAbiVersion_Args", 24, 8, 24);
    check("PJRT_RuntimeAbiVersion_Destroy_Args", 16, 8, 16);
    check(
        "PJRT_RuntimeAbiVersion_IsCompatibleWithRuntime_Args",
        24,
        8,
        24,
    );
    check(
        "PJRT_RuntimeAbiVersion_IsCompatibleWithExecutable_Args",
        24,
        8,
        24,
    );
    check("PJRT_RuntimeAbiVersion_ToProto_Args", 48, 8, 48);
    check("PJRT_RuntimeAbiVersion_PlatformId_Args", 24, 8, 24);
    check("PJRT_ExecutableAbiVersion_Destroy_Args", 16, 8, 16);
    check("PJRT_ExecutableAbiVersion_ToProto_Args", 48, 8, 48);
    check("PJRT_ExecutableAbiVersion_PlatformId_Args", 24, 8, 24);
    check("PJRT_RuntimeAbiVersion_FromProto_Args", 32, 8, 32);
    check("PJRT_ExecutableAbiVersion_FromProto_Args", 32, 8, 32);
    check("PJRT_AbiVersion_Extension", 120, 8, 120);
    check_fields(
        "PJRT_AbiVersion_Extension",
        &[
            ("base", 0),
            ("client_runtime_abi_version", 24),
            ("executable_get_abi_version", 32),
            ("runtime_abi_version_destroy", 40),
            ("runtime_abi_version_is_compatible_with_runtime", 48),
            ("runtime_abi_version_is_compatible_with_executable", 56),
            ("runtime_abi_version_to_proto", 64),
            ("runtime_abi_version_platform_id", 72),
            ("executable_abi_version_destroy", 80),
            ("executable_abi_version_to_proto", 88),
            ("executable_abi_version_platform_id", 96),
            ("runtime_abi_version_from_proto", 104),
            ("executable_abi_version_from_proto", 112),
        ],
    );
}

#[test]
fn measured_callback() {
    check("PJRT_Callback_Tpu_SliceBuilderArgs", 16, 8, 12);
    check("PJRT_Callback_PrefatalArgs", 32, 8, 32);
    check("PJRT_Callback_RegisterCallback_Args", 40, 8, 40);
    check("PJRT_Callback_InvokeCallback_Args", 32, 8, 32);
    check("PJRT_Callback_Extension", 40, 8, 40);
    check_fields(
        "PJRT_Callback_Extension",
        &[
            ("base", 0),
            ("register_callback", 24),
            ("invoke_callback", 32),
        ],
    );
}

#[test]
fn measured_collectives() {
    check("PJRT_Collectives_Destroy_Args", 16, 8, 16);
    check("PJRT_Collectives_CreateCommunicators_Args", 104, 8, 104);
    check("PJRT_Collectives_Communicator_Destroy_Args", 16, 8, 16);
    check("PJRT_Collectives_CpuExecutor", 48, 8, 48);
    check("PJRT_Collectives_Communicator_AllReduce_Args", 88, 8, 88);
    check(
        "PJRT_Collectives_Communicator_ReduceScatter_Args",
        88,
        8,
        88,
    );
    check("PJRT_Collectives_Communicator_AllGather_Args", 80, 8, 80);
    check(
        "PJRT_Collectives_Communicator_CollectivePermute_Args",
        112,
        8,
        112,
    );
    check("PJRT_Collectives_Communicator_AllToAll_Args", 96, 8, 96);
    check("PJRT_Collectives_Communicator_ToString_Args", 48, 8, 48);
    check("PJRT_Collectives_Extension", 96, 8, 96);
    check_fields(
        "PJRT_Collectives_Extension",
        &[
            ("base", 0),
            ("collectives_destroy", 24),
            ("collectives_create_communicators", 32),
            ("communicator_destroy", 40),
            ("communicator_all_reduce", 48),
            ("communicator_reduce_scatter", 56),
            ("communicator_all_gather", 64),
            ("communicator_collective_permute", 72),
            ("communicator_all_to_all", 80),
            ("communicator_to_string", 88),
        ],
    );
}

#[test]
fn measured_cross_host_transfers() {
    check(
        "PJRT_Transfers_PJRT_Client_CrossHostSendBuffers_Args",
        64,
        8,
        64,
    );
    check(
        "PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers_Args",
        96,
        8,
        96,
    );
    check("PJRT_Transfers_CrossHostRecvNotifierInfo", 16, 8, 16);
    check(
        "PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers_Args",
        104,
        8,
        104,
    );
    check("PJRT_Transfers_CrossHostRemoteSendCallbackInfo", 16, 8, 16);
    check(
        "PJRT_Transfers_PJRT_Buffer_CopyToRemoteDevice_Args",
        72,
        8,
        72,
    );
    check("PJRT_CrossHostTransfers_Extension", 56, 8, 56);
    check_fields(
        "PJRT_CrossHostTransfers_Extension",
        &[
            ("base", 0),
            ("PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers", 24),
            ("PJRT_Transfers_PJRT_Buffer_CopyToRemoteDevice", 32),
            ("PJRT_Transfers_PJRT_Client_CrossHostReceiveBuffers", 40),
            ("PJRT_Transfers_PJRT_Client_CrossHostSendBuffers", 48),
        ],
    );
}

#[test]
fn measured_custom_partitioner() {
    check("JAX_CustomCallPartitioner_string", 16, 8, 16);
    check("JAX_CustomCallPartitioner_aval", 40, 8, 40);
    check("JAX_CustomCallPartitioner_version_and_error", 48, 8, 48);
    check("JAX_CustomCallPartitioner_Partition_Args", 160, 8, 160);
    check(
        "JAX_CustomCallPartitioner_InferShardingFromOperands_Args",
        120,
        8,
        120,
    );
    check(
        "JAX_CustomCallPartitioner_PropagateUserSharding_Args",
        96,
        8,
        96,
    );
    check("JAX_CustomCallPartitioner_Callbacks", 56, 8, 49);
    check("PJRT_Register_Custom_Partitioner_Args", 32, 8, 32);
    check("PJRT_Register_Batch_Partitionable_Args", 24, 8, 24);
    check("PJRT_Custom_Partitioner_Extension", 40, 8, 40);
    check_fields(
        "PJRT_Custom_Partitioner_Extension",
        &[
            ("base", 0),
            ("register_custom_partitioner", 24),
            ("register_batch_partitionable", 32),
        ],
    );
}

#[test]
fn measured_device_event() {
    check("PJRT_DeviceEvent_FunctionTable", 72, 8, 72);
    check("PJRT_DeviceEvent", 16, 8, 16);
    check("PJRT_DeviceEventVector", 32, 8, 32);
    check("PJRT_DeviceEventPromise_FunctionTable", 72, 8, 72);
    check("PJRT_DeviceEventPromise", 8, 8, 8);
}

#[test]
fn measured_example() {
    check("PJRT_Example_Extension", 48, 8, 48);
    check("PJRT_ExampleExtension_ExampleMethod_Args", 16, 8, 16);
    check(
        "PJRT_ExampleExtension_CreateExampleExtensionCpp_Args",
        8,
        8,
        8,
    );
    check_fields(
        "PJRT_Example_Extension",
        &[
            ("base", 0),
            ("example_method", 24),
            ("create", 32),
            ("destroy", 40),
        ],
    );
}

#[test]
fn measured_executable_metadata() {
    check("PJRT_ExecutableMetadata", 16, 8, 16);
    check(
        "PJRT_ExecutableMetadata_GetExecutableMetadata_Args",
        16,
        8,
        16,
    );
    check(
        "PJRT_ExecutableMetadata_DestroySerializedMetadata_Args",
        8,
        8,
        8,
    );
    check("PJRT_ExecutableMetadata_Extension", 40, 8, 40);
    check_fields(
        "PJRT_ExecutableMetadata_Extension",
        &[
            ("base", 0),
            ("get_executable_metadata", 24),
            ("destroy_serialized_metadata", 32),
        ],
    );
}

#[test]
fn measured_ffi() {
    check("PJRT_FFI_Type_Info", 24, 8, 24);
    check("PJRT_FFI_Type_Register_Args", 48, 8, 48);
    check("PJRT_FFI_UserData", 16, 8, 16);
    check("PJRT_FFI_UserData_Add_Args", 40, 8, 40);
    check("PJRT_FFI_Register_Handler_Args", 56, 8, 52);
    check("PJRT_FFI_Extension", 48, 8, 48);
    check_fields(
        "PJRT_FFI_Extension",
        &[
            ("base", 0),
            ("type_register", 24),
            ("user_data_add", 32),
            ("register_handler", 40),
        ],
    );
}

#[test]
fn measured_gpu() {
    check("PJRT_Gpu_Register_Custom_Call_Args", 64, 8, 64);
    check("PJRT_Gpu_Custom_Call", 32, 8, 32);
    check_fields("PJRT_Gpu_Custom_Call", &[("base", 0), ("custom_call", 24)]);
}

#[test]
fn measured_host_memory_allocator() {
    check("PJRT_HostMemoryAllocator_Allocate_Args", 64, 8, 64);
    check("PJRT_HostMemoryAllocator_Extension", 32, 8, 32);
    check_fields(
        "PJRT_HostMemoryAllocator_Extension",
        &[("base", 0), ("allocate", 24)],
    );
}

#[test]
fn measured_layouts() {
    check("PJRT_Layouts_MemoryLayout_Destroy_Args", 24, 8, 24);
    check("PJRT_Layouts_MemoryLayout_Serialize_Args", 56, 8, 56);
    check("PJRT_Layouts_PJRT_Buffer_MemoryLayout_Args", 32, 8, 32);
    check("PJRT_Layouts_PJRT_Client_GetDefaultLayout_Args", 56, 8, 56);
    check(
        "PJRT_Layouts_PJRT_Topology_GetDefaultLayout_Args",
        56,
        8,
        56,
    );
    check(
        "PJRT_Layouts_PJRT_Executable_GetOutputLayouts_Args",
        40,
        8,
        40,
    );
    check(
        "PJRT_Layouts_PJRT_Executable_GetParameterLayouts_Args",
        40,
        8,
        40,
    );
    check("PJRT_Layouts_Extension", 80, 8, 80);
    check_fields(
        "PJRT_Layouts_Extension",
        &[
            ("base", 0),
            ("PJRT_Layouts_MemoryLayout_Destroy", 24),
            ("PJRT_Layouts_MemoryLayout_Serialize", 32),
            ("PJRT_Layouts_PJRT_Client_GetDefaultLayout", 40),
            ("PJRT_Layouts_PJRT_Buffer_MemoryLayout", 48),
            ("PJRT_Layouts_PJRT_Topology_GetDefaultLayout", 56),
            ("PJRT_Layouts_PJRT_Executable_GetOutputLayouts", 64),
            ("PJRT_Layouts_PJRT_Executable_GetParameterLayouts", 72),
        ],
    );
}

#[test]
fn measured_megascale() {
    check(
        "PJRT_Megascale_CreateClientContextFromPjRtClient_Args",
        24,
        8,
        24,
    );
    check("PJRT_Megascale_CreateDefaultClientContext_Args", 16, 8, 16);
    check("PJRT_Megascale_DeleteClientContext_Args", 16, 8, 16);
    check("PJRT_Megascale_CreateAoTConfig_Args", 32, 8, 32);
    check("PJRT_Megascale_CreateMultiSliceConfig_Args", 80, 8, 80);
    check("PJRT_Megascale_ClientContext_Initialize_Args", 16, 8, 16);
    check(
        "PJRT_Megascale_ClientContext_UnblockPendingWork_Args",
        32,
        8,
        32,
    );
    check("PJRT_Megascale_ClientContext_MegascalePort_Args", 24, 8, 20);
    check("PJRT_Megascale_ProcessesInfo", 64, 8, 60);
    check("PJRT_Megascale_CreateMegascaleCollectives_Args", 48, 8, 48);
    check("PJRT_Megascale_DeviceId_To_MegascaleId_Args", 24, 8, 24);
    check("PJRT_Megascale_MegascaleId_To_DeviceId_Args", 24, 8, 24);
    check("PJRT_Megascale_RegisterErrorHandler_Args", 40, 8, 40);
    check("PJRT_Megascale_UnregisterErrorHandler_Args", 24, 8, 24);
    check("PJRT_Megascale_ErrorAggregator_Create_Args", 32, 8, 32);
    check("PJRT_Megascale_ErrorAggregator_Delete_Args", 16, 8, 16);
    check("PJRT_Megascale_ErrorDigest_Delete_Args", 16, 8, 16);
    check("PJRT_Megascale_ErrorAggregator_AddError_Args", 48, 8, 48);
    check(
        "PJRT_Megascale_ErrorAggregator_ProcessAndShutdown_Args",
        24,
        8,
        24,
    );
    check(
        "PJRT_Megascale_ErrorAggregator_LogErrorDigest_Args",
        24,
        8,
        24,
    );
    check("PJRT_Megascale_ErrorAggregator_Size_Args", 24, 8, 24);
    check("PJRT_Megascale_ErrorAggregator_Active_Args", 24, 8, 17);
    check(
        "PJRT_Megascale_GetInterfaceAddressesHelper_Args",
        104,
        8,
        104,
    );
    check("PJRT_Megascale_GetOrCreateRuntimeError_Args", 104, 8, 104);
    check("PJRT_Megascale_Extension", 248, 8, 248);
    check_fields(
        "PJRT_Megascale_Extension",
        &[
            ("base", 0),
            ("create_client_context_from_pjrt_client", 24),
            ("create_default_client_context", 32),
            ("delete_client_context", 40),
            ("create_aot_config", 48),
            ("create_multi_slice_config", 56),
            ("delete_multi_slice_config", 64),
            ("multi_slice_config_num_slices", 72),
            ("multi_slice_config_slice_id", 80),
            ("multi_slice_config_get_num_devices_per_slice", 88),
            ("multi_slice_config_serialize", 96),
            ("client_context_initialize", 104),
            ("client_context_unblock_pending_work", 112),
            ("client_context_megascale_port", 120),
            ("create_megascale_collectives", 128),
            ("device_id_to_megascale_id", 136),
            ("megascale_id_to_device_id", 144),
            ("register_megascale_error_handler", 152),
            ("unregister_megascale_error_handler", 160),
            ("error_aggregator_create", 168),
            ("error_aggregator_delete", 176),
            ("error_digest_delete", 184),
            ("error_aggregator_add_error", 192),
            ("error_aggregator_process_and_shutdown", 200),
            ("error_aggregator_log_error_digest", 208),
            ("error_aggregator_size", 216),
            ("error_aggregator_active", 224),
            ("get_interface_addresses_helper", 232),
            ("get_or_create_runtime_error", 240),
        ],
    );
}

#[test]
fn measured_memory_descriptions() {
    check("PJRT_DeviceDescription_MemoryDescriptions_Args", 48, 8, 48);
    check("PJRT_MemoryDescription_Kind_Args", 48, 8, 44);
    check("PJRT_MemoryDescriptions_Extension", 40, 8, 40);
    check_fields(
        "PJRT_MemoryDescriptions_Extension",
        &[
            ("base", 0),
            ("PJRT_DeviceDescription_MemoryDescriptions", 24),
            ("PJRT_MemoryDescription_Kind", 32),
        ],
    );
}

#[test]
fn measured_multi_slice() {
    check("PJRT_MultiSlice_Config_Destroy_Args", 16, 8, 16);
    check("PJRT_MultiSlice_Config_NumSlices_Args", 24, 8, 20);
    check("PJRT_MultiSlice_Config_SliceId_Args", 24, 8, 20);
    check("PJRT_MultiSlice_Config_NumDevicesPerSlice_Args", 56, 8, 56);
    check("PJRT_MultiSlice_Config_Serialize_Args", 48, 8, 48);
    check("PJRT_MultiSlice_Extension", 64, 8, 64);
    check_fields(
        "PJRT_MultiSlice_Extension",
        &[
            ("base", 0),
            ("config_destroy", 24),
            ("config_num_slices", 32),
            ("config_slice_id", 40),
            ("config_num_devices_per_slice", 48),
            ("config_serialize", 56),
        ],
    );
}

#[test]
fn measured_phase_compile() {
    check("PJRT_PhaseCompile_Get_Compiler_Args", 24, 8, 24);
    check("PJRT_PhaseCompile_Destroy_Compiler_Args", 24, 8, 24);
    check("PJRT_PhaseCompile_Run_Phase_Args", 120, 8, 120);
    check("PJRT_PhaseCompile_Get_PhaseNames_Args", 48, 8, 48);
    check("PJRT_PhaseCompile_C_Buffers_Destroy_Args", 40, 8, 40);
    check("PJRT_PhaseCompile_Extension", 64, 8, 64);
    check_fields(
        "PJRT_PhaseCompile_Extension",
        &[
            ("base", 0),
            ("phase_compile_get_compiler", 24),
            ("phase_compile_destroy_compiler", 32),
            ("phase_compile_run_phases", 40),
            ("phase_compile_get_phase_names", 48),
            ("phase_compile_c_buffers_destroy", 56),
        ],
    );
}

#[test]
fn measured_profiler() {
    check("PLUGIN_Profiler_Error_Destroy_Args", 24, 8, 24);
    check("PLUGIN_Profiler_Error_Message_Args", 40, 8, 40);
    check("PLUGIN_Profiler_Error_GetCode_Args", 32, 8, 28);
    check("PLUGIN_Profiler_Create_Args", 32, 8, 32);
    check("PLUGIN_Profiler_Destroy_Args", 16, 8, 16);
    check("PLUGIN_Profiler_Start_Args", 16, 8, 16);
    check("PLUGIN_Profiler_Stop_Args", 16, 8, 16);
    check("PLUGIN_Profiler_CollectData_Args", 32, 8, 32);
    check("PLUGIN_Profiler_Consume_Args", 24, 8, 24);
    check("PLUGIN_Profiler_ConsumeResult_Destroy_Args", 16, 8, 16);
    check("PLUGIN_Profiler_Serialize_Args", 40, 8, 40);
    check("PLUGIN_Profiler_Api", 104, 8, 104);
    check("PJRT_Profiler_Extension", 40, 8, 40);
    check_fields(
        "PJRT_Profiler_Extension",
        &[
            ("base", 0),
            ("profiler_api", 24),
            ("traceme_context_id", 32),
        ],
    );
}

#[test]
fn measured_raw_buffer() {
    check("PJRT_RawBuffer_FunctionTable", 128, 8, 128);
    check("PJRT_RawBuffer", 8, 8, 8);
    check("PJRT_RawBuffer_CreateRawAliasOfBuffer_Args", 32, 8, 32);
    check("PJRT_RawBuffer_Destroy_Args", 24, 8, 24);
    check("PJRT_RawBuffer_GetHostPointer_Args", 32, 8, 32);
    check("PJRT_RawBuffer_GetOnDeviceSizeInBytes_Args", 32, 8, 32);
    check("PJRT_RawBuffer_GetMemorySpace_Args", 32, 8, 32);
    check("PJRT_RawBuffer_CopyRawDeviceToHost_Args", 56, 8, 56);
    check("PJRT_RawBuffer_CopyRawHostToDevice_Args", 56, 8, 56);
    check("PJRT_RawBuffer_Extension", 80, 8, 80);
    check_fields(
        "PJRT_RawBuffer_Extension",
        &[
            ("base", 0),
            ("PJRT_RawBuffer_CreateRawAliasOfBuffer", 24),
            ("PJRT_RawBuffer_Destroy", 32),
            ("PJRT_RawBuffer_GetOnDeviceSizeInBytes", 40),
            ("PJRT_RawBuffer_GetMemorySpace", 48),
            ("PJRT_RawBuffer_CopyRawHostToDevice", 56),
            ("PJRT_RawBuffer_CopyRawDeviceToHost", 64),
            ("PJRT_RawBuffer_GetHostPointer", 72),
        ],
    );
}

#[test]
fn measured_shardings() {
    check(
        "PJRT_Shardings_PJRT_Executable_ParameterShardings_Args",
        48,
        8,
        48,
    );
    check(
        "PJRT_Shardings_PJRT_Executable_OutputShardings_Args",
        48,
        8,
        48,
    );
    check("PJRT_Shardings_Extension", 40, 8, 40);
    check_fields(
        "PJRT_Shardings_Extension",
        &[
            ("base", 0),
            ("PJRT_Shardings_PJRT_Executable_ParameterShardings", 24),
            ("PJRT_Shardings_PJRT_Executable_OutputShardings", 32),
        ],
    );
}

#[test]
fn measured_stream() {
    check("PJRT_Get_Stream_For_External_Ready_Events_Args", 24, 8, 24);
    check("PJRT_Wait_Until_Buffer_Ready_On_Stream_Args", 24, 8, 24);
    check("PJRT_Stream_Extension", 40, 8, 40);
    check_fields(
        "PJRT_Stream_Extension",
        &[("base", 0), ("get_stream", 24), ("wait_stream", 32)],
    );
}

#[test]
fn measured_tpu_executable() {
    check("PJRT_TpuExecutable_GetTargetArguments_Args", 56, 8, 56);
    check("PJRT_TpuExecutable_GetHloModuleWithConfig_Args", 56, 8, 56);
    check("PJRT_TpuExecutable_RunHloCostAnalysis_Args", 80, 8, 80);
    check("PJRT_TpuExecutable_GetCompiledMemoryStats_Args", 56, 8, 56);
    check("PJRT_TpuExecutable_SetTpuCompilationEnv_Args", 56, 8, 56);
    check(
        "PJRT_TpuExecutable_GetTpuCompilationEnvFieldAsString_Args",
        72,
        8,
        72,
    );
    check("PJRT_TpuExecutable_IsTpuPredeterminedError_Args", 32, 8, 25);
    check("PJRT_TpuExecutable_Extension", 88, 8, 88);
    check_fields(
        "PJRT_TpuExecutable_Extension",
        &[
            ("base", 0),
            ("get_target_arguments", 24),
            ("get_hlo_module_with_config", 32),
            ("get_core_program_abi_version", 40),
            ("get_compiled_memory_stats", 48),
            ("run_hlo_cost_analysis", 56),
            ("set_tpu_compilation_env", 64),
            ("get_tpu_compilation_env_field_as_string", 72),
            ("is_tpu_predetermined_error", 80),
        ],
    );
}

#[test]
fn measured_tpu_topology() {
    check("PJRT_TpuTopology_SliceConfig", 32, 8, 29);
    check("PJRT_TpuTopology_Subslice_Args", 56, 8, 56);
    check("PJRT_TpuTopology_IsSubsliceTopology_Args", 24, 8, 17);
    check(
        "PJRT_TpuTopology_SubsliceDeviceIdFromFullDeviceId_Args",
        48,
        8,
        48,
    );
    check("PJRT_TpuTopology_ReplaceHostBounds_Args", 40, 8, 40);
    check("PJRT_TpuTopology_IsEnhancedBarrierEnabled_Args", 24, 8, 17);
    check("PJRT_TpuTopology_HasLimitedIciConnectivity_Args", 24, 8, 17);
    check("PJRT_TpuTopology_IsReachableOverLimitedIci_Args", 32, 8, 25);
    check("PJRT_TpuTopology_ProcessCount_Args", 24, 8, 20);
    check("PJRT_TpuTopology_ChipsPerProcess_Args", 24, 8, 20);
    check("PJRT_TpuTopology_CoreCountPerChip_Args", 24, 8, 20);
    check("PJRT_TpuTopology_ChipCount_Args", 24, 8, 20);
    check("PJRT_TpuTopology_CoreCount_Args", 24, 8, 20);
    check("PJRT_TpuTopology_LogiDeviceCount_Args", 24, 8, 20);
    check("PJRT_TpuTopology_LogiDeviceCountPerProcess_Args", 24, 8, 20);
    check("PJRT_TpuTopology_LogiDeviceCountPerChip_Args", 24, 8, 20);
    check("PJRT_TpuTopology_CoreCountPerProcess_Args", 24, 8, 20);
    check("PJRT_TpuTopology_ProcessIds_Args", 40, 8, 40);
    check("PJRT_TpuTopology_LogiDeviceIdsOnProcess_Args", 40, 8, 40);
    check("PJRT_TpuTopology_ProcIdAndIdxOnProcForChip_Args", 32, 8, 28);
    check(
        "PJRT_TpuTopology_ProcIdAndIdxOnProcForLogiDevice_Args",
        32,
        8,
        28,
    );
    check("PJRT_TpuTopology_ProcessCoordFromId_Args", 48, 8, 48);
    check("PJRT_TpuTopology_ChipIdFromCoord_Args", 40, 8, 36);
    check(
        "PJRT_TpuTopology_LogiDeviceIdFromChipCoordAndIdx_Args",
        40,
        8,
        40,
    );
    check(
        "PJRT_TpuTopology_ChipCoordAndIdxForLogiDevice_Args",
        56,
        8,
        52,
    );
    check("PJRT_TpuTopology_ChipsPerProcessBounds_Args", 40, 8, 40);
    check("PJRT_TpuTopology_ChipBounds_Args", 40, 8, 40);
    check("PJRT_TpuTopology_ProcessBounds_Args", 40, 8, 40);
    check("PJRT_TpuTopology_GetRoutingStrategy_Args", 32, 8, 32);
    check("PJRT_TpuTopology_GetSliceConfig_Args", 48, 8, 48);
    check("PJRT_TpuTopology_GetSliceConfigs_Args", 48, 8, 48);
    check("PJRT_TpuTopology_GetDefaultPlatformConfig_Args", 40, 8, 40);
    check("PJRT_TpuTopology_Extension", 272, 8, 272);
    check_fields(
        "PJRT_TpuTopology_Extension",
        &[
            ("base", 0),
            ("subslice", 24),
            ("is_subslice_topology", 32),
            ("subslice_device_id_from_full_device_id", 40),
            ("replace_host_bounds", 48),
            ("is_enhanced_barrier_enabled", 56),
            ("has_limited_ici_connectivity", 64),
            ("is_reachable_over_limited_ici", 72),
            ("process_count", 80),
            ("chips_per_process", 88),
            ("core_count_per_chip", 96),
            ("chip_count", 104),
            ("core_count", 112),
            ("logical_device_count_per_process", 120),
            ("logical_device_count", 128),
            ("logical_device_count_per_chip", 136),
            ("core_count_per_process", 144),
            ("process_ids", 152),
            ("logical_device_ids_on_process", 160),
            ("proc_id_and_idx_on_proc_for_chip", 168),
            ("proc_id_and_idx_on_proc_for_logi_device", 176),
            ("process_coord_from_id", 184),
            ("chip_id_from_coord", 192),
            ("logical_device_id_from_chip_coord_and_idx", 200),
            ("chip_coord_and_idx_for_logi_device", 208),
            ("chips_per_process_bounds", 216),
            ("chip_bounds", 224),
            ("process_bounds", 232),
            ("get_routing_strategy", 240),
            ("get_slice_config", 248),
            ("get_slice_configs", 256),
            ("get_default_platform_config", 264),
        ],
    );
}

#[test]
fn measured_triton() {
    check("PJRT_Triton_Compile_Args", 96, 8, 96);
    check("PJRT_Triton_Extension", 32, 8, 32);
    check_fields("PJRT_Triton_Extension", &[("base", 0), ("compile", 24)]);
}

#[test]
fn measured_xla_transform() {
    check("PJRT_XlaTransform_string", 16, 8, 16);
    check("PJRT_XlaTransform_version_and_error", 48, 8, 48);
    check("PJRT_XlaTransform_Args", 96, 8, 89);
    check("PJRT_XlaTransform_Callbacks", 24, 8, 24);
    check("PJRT_Register_Xla_Transform_Args", 40, 8, 40);
    check("PJRT_Clear_Xla_Transform_Args", 48, 8, 41);
    check("PJRT_Xla_Transform_Extension", 40, 8, 40);
    check_fields(
        "PJRT_Xla_Transform_Extension",
        &[
            ("base", 0),
            ("register_xla_transform", 24),
            ("clear_xla_transform", 32),
        ],
    );
}
