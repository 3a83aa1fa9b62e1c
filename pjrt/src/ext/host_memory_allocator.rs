//! The HostMemoryAllocator extension: host memory allocated by the plugin (pinned, NUMA
//! placed), owned by Rust and freed with the plugin's deleter.

use std::ffi::c_void;

use pjrt_sys as sys;
use sys::ext::host_memory_allocator as h;
use sys::ext::host_memory_allocator::PJRT_HostMemoryAllocator_Extension;

use crate::error::{Error, Result};
use crate::plugin::{call_deleter, ext_call, extension_struct};
use crate::Client;

extension_struct!(
    /// The HostMemoryAllocator extension of a plugin.
    HostMemoryAllocator,
    sys::PJRT_Extension_Type_HostMemoryAllocator
);

/// Host memory from the plugin; freed on drop.
pub struct HostAllocation {
    ptr: *mut u8,
    len: usize,
    deleter: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
    deleter_arg: *mut c_void,
}

// SAFETY: plain memory owned by this value.
unsafe impl Send for HostAllocation {}

impl HostAllocation {
    /// The bytes.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: `len` bytes owned by this allocation.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    /// The length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for HostAllocation {
    fn drop(&mut self) {
        // SAFETY: the plugin's deleter for its allocation, once.
        unsafe { call_deleter(self.deleter, (self.ptr.cast(), self.deleter_arg)) };
    }
}

impl HostMemoryAllocator {
    /// Allocates `size` bytes (on `numa_node`, or anywhere with -1).
    pub fn allocate(&self, client: &Client, size: usize, numa_node: i32) -> Result<HostAllocation> {
        let mut a = h::PJRT_HostMemoryAllocator_Allocate_Args::new();
        crate::plugin::check_owner(&self.h, "HostMemoryAllocator::allocate", "`client`", client)?;
        a.client = client.raw();
        a.size = size;
        a.numa_node = numa_node;
        ext_call!(
            &self.h,
            PJRT_HostMemoryAllocator_Extension,
            allocate,
            &mut a
        )?;
        if a.ptr.is_null() && size > 0 {
            return Err(Error::InvalidArgument(
                "host memory allocator returned null".into(),
            ));
        }
        Ok(HostAllocation {
            ptr: a.ptr,
            len: size,
            deleter: a.deleter,
            deleter_arg: a.deleter_arg,
        })
    }
}
