//! The TpuTopology extension (TPU plugins): chips, cores, processes and coordinates of a
//! TPU topology, subslices, and slice configurations.

use pjrt_sys as sys;
use sys::ext::tpu_topology as t;
use sys::ext::tpu_topology::PJRT_TpuTopology_Extension;

use crate::error::{Error, Result};
use crate::plugin::vec_from_raw;
use crate::plugin::{ext_call, extension_struct};
use crate::TopologyDescription;

extension_struct!(
    /// The TpuTopology extension of a plugin.
    TpuTopology,
    sys::PJRT_Extension_Type_TpuTopology
);

/// Largest coordinate rank and id list the wrappers make room for.
const MAX_DIMS: usize = 8;
const MAX_IDS: usize = 65536;

/// A slice configuration: dims, wraparound per dim, twist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceConfig {
    /// Dimensions (up to 4).
    pub dimensions: Vec<i32>,
    /// Wraparound per dimension.
    pub wrap: Vec<bool>,
    /// Twisted torus.
    pub twist: bool,
}

impl SliceConfig {
    fn from_raw(c: &t::PJRT_TpuTopology_SliceConfig) -> SliceConfig {
        let n = c.dim_size.min(4);
        SliceConfig {
            dimensions: c.dimensions[..n].to_vec(),
            wrap: c.wrap[..n].to_vec(),
            twist: c.twist,
        }
    }
}

/// Declares getters of one scalar out-field taking only the topology.
macro_rules! scalar_getters {
    ($($(#[$m:meta])* $fname:ident, $Args:ident, $slot:ident, $out:ident: $ty:ty;)*) => {
        $(
            $(#[$m])*
            pub fn $fname(&self, topology: &TopologyDescription) -> Result<$ty> {
                let mut a = t::$Args::new();
                crate::plugin::check_owner(&self.h, concat!("TpuTopology::", stringify!($fname)), "`topology`", topology)?;
                a.topology = topology.raw;
                ext_call!(&self.h, PJRT_TpuTopology_Extension, $slot, &mut a)?;
                Ok(a.$out)
            }
        )*
    };
}

fn check_len(op: &str, n: usize, max: usize) -> Result<()> {
    if n > max {
        return Err(Error::InvalidArgument(format!(
            "{op}: plugin reported {n} entries, more than the {max} given"
        )));
    }
    Ok(())
}

impl TpuTopology {
    scalar_getters! {
        /// Whether the topology is a subslice.
        is_subslice_topology, PJRT_TpuTopology_IsSubsliceTopology_Args, is_subslice_topology, is_subslice_topology: bool;
        /// Whether the enhanced barrier is on.
        is_enhanced_barrier_enabled, PJRT_TpuTopology_IsEnhancedBarrierEnabled_Args, is_enhanced_barrier_enabled, is_enhanced_barrier_enabled: bool;
        /// Whether ICI connectivity is limited.
        has_limited_ici_connectivity, PJRT_TpuTopology_HasLimitedIciConnectivity_Args, has_limited_ici_connectivity, has_limited_ici_connectivity: bool;
        /// Number of processes.
        process_count, PJRT_TpuTopology_ProcessCount_Args, process_count, process_count: i32;
        /// Chips per process.
        chips_per_process, PJRT_TpuTopology_ChipsPerProcess_Args, chips_per_process, chips_per_process: i32;
        /// Cores (of the default type) per chip.
        core_count_per_chip, PJRT_TpuTopology_CoreCountPerChip_Args, core_count_per_chip, core_count_of_default_type_per_chip: i32;
        /// Number of chips.
        chip_count, PJRT_TpuTopology_ChipCount_Args, chip_count, chip_count: i32;
        /// Number of cores (of the default type).
        core_count, PJRT_TpuTopology_CoreCount_Args, core_count, core_count_of_default_type: i32;
        /// Logical devices per process.
        logical_device_count_per_process, PJRT_TpuTopology_LogiDeviceCountPerProcess_Args, logical_device_count_per_process, logical_device_count_of_default_type_per_process: i32;
        /// Logical devices.
        logical_device_count, PJRT_TpuTopology_LogiDeviceCount_Args, logical_device_count, logical_device_count_of_default_type: i32;
        /// Logical devices per chip.
        logical_device_count_per_chip, PJRT_TpuTopology_LogiDeviceCountPerChip_Args, logical_device_count_per_chip, logical_device_count_of_default_type_per_chip: i32;
        /// Cores per process.
        core_count_per_process, PJRT_TpuTopology_CoreCountPerProcess_Args, core_count_per_process, core_count_of_default_type_per_process: i32;
    }

    /// A subslice of the topology with the given per-host chip bounds and host bounds.
    pub fn subslice(
        &self,
        topology: &TopologyDescription,
        chips_per_host_bounds: &[i32],
        host_bounds: &[i32],
    ) -> Result<TopologyDescription> {
        let mut a = t::PJRT_TpuTopology_Subslice_Args::new();
        crate::plugin::check_owner(&self.h, "TpuTopology::subslice", "`topology`", topology)?;
        a.topology = topology.raw;
        a.chips_per_host_bounds = chips_per_host_bounds.as_ptr();
        a.chips_per_host_bounds_num_dims = chips_per_host_bounds.len();
        a.host_bounds = host_bounds.as_ptr();
        a.host_bounds_num_dims = host_bounds.len();
        ext_call!(&self.h, PJRT_TpuTopology_Extension, subslice, &mut a)?;
        Ok(TopologyDescription::owned(
            topology.plugin(),
            a.subslice_topology,
        ))
    }

    /// The subslice device id of a full-topology device id.
    pub fn subslice_device_id_from_full_device_id(
        &self,
        client_topology: &TopologyDescription,
        subslice_topology: &TopologyDescription,
        subslice_origin: &[i32],
        full_device_id: i32,
    ) -> Result<i32> {
        let mut a = t::PJRT_TpuTopology_SubsliceDeviceIdFromFullDeviceId_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "TpuTopology::subslice_device_id_from_full_device_id",
            "`client_topology`",
            client_topology,
        )?;
        a.client_topology = client_topology.raw;
        crate::plugin::check_owner(
            &self.h,
            "TpuTopology::subslice_device_id_from_full_device_id",
            "`subslice_topology`",
            subslice_topology,
        )?;
        a.subslice_topology = subslice_topology.raw;
        a.subslice_origin = subslice_origin.as_ptr();
        a.subslice_origin_dim_num = subslice_origin.len();
        a.full_device_id = full_device_id;
        ext_call!(
            &self.h,
            PJRT_TpuTopology_Extension,
            subslice_device_id_from_full_device_id,
            &mut a
        )?;
        Ok(a.subslice_device_id)
    }

    /// A copy of the topology with other host bounds.
    pub fn replace_host_bounds(
        &self,
        topology: &TopologyDescription,
        host_bounds: &[i32],
    ) -> Result<TopologyDescription> {
        let mut a = t::PJRT_TpuTopology_ReplaceHostBounds_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "TpuTopology::replace_host_bounds",
            "`topology`",
            topology,
        )?;
        a.topology = topology.raw;
        a.host_bounds = host_bounds.as_ptr();
        a.host_bounds_dim_num = host_bounds.len();
        ext_call!(
            &self.h,
            PJRT_TpuTopology_Extension,
            replace_host_bounds,
            &mut a
        )?;
        Ok(TopologyDescription::owned(
            topology.plugin(),
            a.new_topology,
        ))
    }

    /// Whether `dest_chip_id` is reachable from `source_chip_id` over limited ICI.
    pub fn is_reachable_over_limited_ici(
        &self,
        topology: &TopologyDescription,
        source_chip_id: i32,
        dest_chip_id: i32,
    ) -> Result<bool> {
        let mut a = t::PJRT_TpuTopology_IsReachableOverLimitedIci_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "TpuTopology::is_reachable_over_limited_ici",
            "`topology`",
            topology,
        )?;
        a.topology = topology.raw;
        a.source_chip_id = source_chip_id;
        a.dest_chip_id = dest_chip_id;
        ext_call!(
            &self.h,
            PJRT_TpuTopology_Extension,
            is_reachable_over_limited_ici,
            &mut a
        )?;
        Ok(a.is_reachable_over_limited_ici)
    }

    /// The process ids.
    pub fn process_ids(&self, topology: &TopologyDescription) -> Result<Vec<i32>> {
        let mut out = vec![0i32; MAX_IDS];
        let mut a = t::PJRT_TpuTopology_ProcessIds_Args::new();
        crate::plugin::check_owner(&self.h, "TpuTopology::process_ids", "`topology`", topology)?;
        a.topology = topology.raw;
        a.max_process_ids = MAX_IDS as i32;
        a.process_ids = out.as_mut_ptr();
        ext_call!(&self.h, PJRT_TpuTopology_Extension, process_ids, &mut a)?;
        check_len("process_ids", a.num_process_ids, MAX_IDS)?;
        out.truncate(a.num_process_ids);
        Ok(out)
    }

    /// The logical device ids on a process.
    pub fn logical_device_ids_on_process(
        &self,
        topology: &TopologyDescription,
        process_id: i32,
    ) -> Result<Vec<i32>> {
        let mut out = vec![0i32; MAX_IDS];
        let mut a = t::PJRT_TpuTopology_LogiDeviceIdsOnProcess_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "TpuTopology::logical_device_ids_on_process",
            "`topology`",
            topology,
        )?;
        a.topology = topology.raw;
        a.process_id = process_id;
        a.max_logical_device_ids = MAX_IDS as i32;
        a.logical_device_of_default_type_ids = out.as_mut_ptr();
        ext_call!(
            &self.h,
            PJRT_TpuTopology_Extension,
            logical_device_ids_on_process,
            &mut a
        )?;
        check_len(
            "logical_device_ids_on_process",
            a.num_logical_device_ids,
            MAX_IDS,
        )?;
        out.truncate(a.num_logical_device_ids);
        Ok(out)
    }

    /// (process id, index on the process) of a chip.
    pub fn proc_id_and_idx_on_proc_for_chip(
        &self,
        topology: &TopologyDescription,
        chip_id: i32,
    ) -> Result<(i32, i32)> {
        let mut a = t::PJRT_TpuTopology_ProcIdAndIdxOnProcForChip_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "TpuTopology::proc_id_and_idx_on_proc_for_chip",
            "`topology`",
            topology,
        )?;
        a.topology = topology.raw;
        a.chip_id = chip_id;
        ext_call!(
            &self.h,
            PJRT_TpuTopology_Extension,
            proc_id_and_idx_on_proc_for_chip,
            &mut a
        )?;
        Ok((a.process_id, a.index_on_process))
    }

    /// (process id, index on the process) of a logical device.
    pub fn proc_id_and_idx_on_proc_for_logical_device(
        &self,
        topology: &TopologyDescription,
        device_id: i32,
    ) -> Result<(i32, i32)> {
        let mut a = t::PJRT_TpuTopology_ProcIdAndIdxOnProcForLogiDevice_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "TpuTopology::proc_id_and_idx_on_proc_for_logical_device",
            "`topology`",
            topology,
        )?;
        a.topology = topology.raw;
        a.device_id = device_id;
        ext_call!(
            &self.h,
            PJRT_TpuTopology_Extension,
            proc_id_and_idx_on_proc_for_logi_device,
            &mut a
        )?;
        Ok((a.process_id, a.index_on_process))
    }

    /// The coordinates of a process.
    pub fn process_coord_from_id(
        &self,
        topology: &TopologyDescription,
        process_id: i32,
    ) -> Result<Vec<i32>> {
        let mut out = [0i32; MAX_DIMS];
        let mut a = t::PJRT_TpuTopology_ProcessCoordFromId_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "TpuTopology::process_coord_from_id",
            "`topology`",
            topology,
        )?;
        a.topology = topology.raw;
        a.process_id = process_id;
        a.coords_max_dims = MAX_DIMS;
        a.coords = out.as_mut_ptr();
        ext_call!(
            &self.h,
            PJRT_TpuTopology_Extension,
            process_coord_from_id,
            &mut a
        )?;
        check_len("process_coord_from_id", a.coords_num_dims, MAX_DIMS)?;
        Ok(out[..a.coords_num_dims].to_vec())
    }

    /// The chip id at coordinates.
    pub fn chip_id_from_coord(
        &self,
        topology: &TopologyDescription,
        coords: &[i32],
    ) -> Result<i32> {
        let mut a = t::PJRT_TpuTopology_ChipIdFromCoord_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "TpuTopology::chip_id_from_coord",
            "`topology`",
            topology,
        )?;
        a.topology = topology.raw;
        a.coords = coords.as_ptr();
        a.coords_num_dims = coords.len();
        ext_call!(
            &self.h,
            PJRT_TpuTopology_Extension,
            chip_id_from_coord,
            &mut a
        )?;
        Ok(a.chip_id)
    }

    /// The logical device id at chip coordinates and index on the chip.
    pub fn logical_device_id_from_chip_coord_and_idx(
        &self,
        topology: &TopologyDescription,
        chip_coords: &[i32],
        index_on_chip: i32,
    ) -> Result<i32> {
        let mut a = t::PJRT_TpuTopology_LogiDeviceIdFromChipCoordAndIdx_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "TpuTopology::logical_device_id_from_chip_coord_and_idx",
            "`topology`",
            topology,
        )?;
        a.topology = topology.raw;
        a.chip_coords = chip_coords.as_ptr();
        a.chip_coords_num_dims = chip_coords.len();
        a.logical_device_index_on_chip = index_on_chip;
        ext_call!(
            &self.h,
            PJRT_TpuTopology_Extension,
            logical_device_id_from_chip_coord_and_idx,
            &mut a
        )?;
        Ok(a.logical_device_of_default_type_id)
    }

    /// (chip coordinates, index on the chip) of a logical device.
    pub fn chip_coord_and_idx_for_logical_device(
        &self,
        topology: &TopologyDescription,
        device_id: i32,
    ) -> Result<(Vec<i32>, i32)> {
        let mut out = [0i32; MAX_DIMS];
        let mut a = t::PJRT_TpuTopology_ChipCoordAndIdxForLogiDevice_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "TpuTopology::chip_coord_and_idx_for_logical_device",
            "`topology`",
            topology,
        )?;
        a.topology = topology.raw;
        a.device_id = device_id;
        a.chip_coords_max_dims = MAX_DIMS;
        a.chip_coords = out.as_mut_ptr();
        ext_call!(
            &self.h,
            PJRT_TpuTopology_Extension,
            chip_coord_and_idx_for_logi_device,
            &mut a
        )?;
        check_len(
            "chip_coord_and_idx_for_logical_device",
            a.chip_coords_num_dims,
            MAX_DIMS,
        )?;
        Ok((
            out[..a.chip_coords_num_dims].to_vec(),
            a.device_index_on_chip,
        ))
    }

    /// Chips-per-process bounds.
    pub fn chips_per_process_bounds(&self, topology: &TopologyDescription) -> Result<Vec<i32>> {
        let mut out = [0i32; MAX_DIMS];
        let mut a = t::PJRT_TpuTopology_ChipsPerProcessBounds_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "TpuTopology::chips_per_process_bounds",
            "`topology`",
            topology,
        )?;
        a.topology = topology.raw;
        a.chip_per_process_bounds_max_dims = MAX_DIMS;
        a.chip_per_process_bounds = out.as_mut_ptr();
        ext_call!(
            &self.h,
            PJRT_TpuTopology_Extension,
            chips_per_process_bounds,
            &mut a
        )?;
        check_len(
            "chips_per_process_bounds",
            a.chip_per_process_bounds_num_dims,
            MAX_DIMS,
        )?;
        Ok(out[..a.chip_per_process_bounds_num_dims].to_vec())
    }

    /// Chip bounds.
    pub fn chip_bounds(&self, topology: &TopologyDescription) -> Result<Vec<i32>> {
        let mut out = [0i32; MAX_DIMS];
        let mut a = t::PJRT_TpuTopology_ChipBounds_Args::new();
        crate::plugin::check_owner(&self.h, "TpuTopology::chip_bounds", "`topology`", topology)?;
        a.topology = topology.raw;
        a.chip_bounds_max_dims = MAX_DIMS;
        a.chip_bounds = out.as_mut_ptr();
        ext_call!(&self.h, PJRT_TpuTopology_Extension, chip_bounds, &mut a)?;
        check_len("chip_bounds", a.chip_bounds_num_dims, MAX_DIMS)?;
        Ok(out[..a.chip_bounds_num_dims].to_vec())
    }

    /// Process bounds.
    pub fn process_bounds(&self, topology: &TopologyDescription) -> Result<Vec<i32>> {
        let mut out = [0i32; MAX_DIMS];
        let mut a = t::PJRT_TpuTopology_ProcessBounds_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "TpuTopology::process_bounds",
            "`topology`",
            topology,
        )?;
        a.topology = topology.raw;
        a.process_bounds_max_dims = MAX_DIMS;
        a.process_bounds = out.as_mut_ptr();
        ext_call!(&self.h, PJRT_TpuTopology_Extension, process_bounds, &mut a)?;
        check_len("process_bounds", a.process_bounds_num_dims, MAX_DIMS)?;
        Ok(out[..a.process_bounds_num_dims].to_vec())
    }

    /// The routing strategy's name (read into a 4 KiB buffer).
    pub fn routing_strategy(&self, topology: &TopologyDescription) -> Result<String> {
        let mut buf = vec![0u8; 4096];
        let mut a = t::PJRT_TpuTopology_GetRoutingStrategy_Args::new();
        crate::plugin::check_owner(
            &self.h,
            "TpuTopology::routing_strategy",
            "`topology`",
            topology,
        )?;
        a.topology = topology.raw;
        a.routing_strategy = buf.as_mut_ptr().cast();
        a.routing_strategy_len = buf.len();
        ext_call!(
            &self.h,
            PJRT_TpuTopology_Extension,
            get_routing_strategy,
            &mut a
        )?;
        let n = a.routing_strategy_len.min(buf.len());
        let s = &buf[..n];
        let end = s.iter().position(|&b| b == 0).unwrap_or(n);
        Ok(String::from_utf8_lossy(&s[..end]).into_owned())
    }

    /// The configuration of a named slice of a platform type.
    pub fn slice_config(&self, platform_type: &str, slice_name: &str) -> Result<SliceConfig> {
        let mut c = t::PJRT_TpuTopology_SliceConfig::new();
        let mut a = t::PJRT_TpuTopology_GetSliceConfig_Args::new();
        a.platform_type_name = platform_type.as_ptr().cast();
        a.platform_type_name_len = platform_type.len();
        a.slice_name = slice_name.as_ptr().cast();
        a.slice_name_len = slice_name.len();
        a.slice_config = &mut c;
        ext_call!(
            &self.h,
            PJRT_TpuTopology_Extension,
            get_slice_config,
            &mut a
        )?;
        Ok(SliceConfig::from_raw(&c))
    }

    /// All slice configurations of a platform type (up to 1024).
    pub fn slice_configs(&self, platform_type: &str) -> Result<Vec<SliceConfig>> {
        let mut cs = vec![t::PJRT_TpuTopology_SliceConfig::new(); 1024];
        let mut a = t::PJRT_TpuTopology_GetSliceConfigs_Args::new();
        a.platform_type_name = platform_type.as_ptr().cast();
        a.platform_type_name_len = platform_type.len();
        a.slice_configs = cs.as_mut_ptr();
        a.max_slice_configs = cs.len();
        ext_call!(
            &self.h,
            PJRT_TpuTopology_Extension,
            get_slice_configs,
            &mut a
        )?;
        check_len("slice_configs", a.num_slice_configs, cs.len())?;
        Ok(cs[..a.num_slice_configs]
            .iter()
            .map(SliceConfig::from_raw)
            .collect())
    }

    /// (chips per tray, trays) of a platform type's default configuration.
    pub fn default_platform_config(&self, platform_type: &str) -> Result<(i64, i64)> {
        let mut a = t::PJRT_TpuTopology_GetDefaultPlatformConfig_Args::new();
        a.platform_type_name = platform_type.as_ptr().cast();
        a.platform_type_name_len = platform_type.len();
        ext_call!(
            &self.h,
            PJRT_TpuTopology_Extension,
            get_default_platform_config,
            &mut a
        )?;
        Ok((a.num_chips_per_tray, a.num_trays))
    }
}

#[allow(dead_code)]
unsafe fn _v(p: *const i32, n: usize) -> Vec<i32> {
    // SAFETY: forwarded.
    unsafe { vec_from_raw(p, n) }
}
