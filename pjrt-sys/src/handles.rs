//! The handles of the core API's objects: opaque types the plugin owns and hands out by
//! pointer. They have a module of their own, apart from the functions that take them (in
//! the area modules), because every area names several: a client makes buffers on devices,
//! an executable runs on buffers, a topology describes devices.

use crate::layout::pjrt_opaque;

pjrt_opaque! {
    /// A client, created by `PJRT_Client_Create` and freed by `PJRT_Client_Destroy`.
    PJRT_Client,
    /// A device, owned by its client.
    PJRT_Device,
    /// What a device is (id, kind, attributes), independent of a client.
    PJRT_DeviceDescription,
    /// A device-resident array, owned by the caller; free with `PJRT_Buffer_Destroy`.
    PJRT_Buffer,
    /// A compiled program not bound to devices; owned by the caller.
    PJRT_Executable,
    /// A program loaded onto a client's devices, ready to execute; owned by the caller.
    PJRT_LoadedExecutable,
    /// A description of a set of devices.
    PJRT_TopologyDescription,
    /// Fills a set of device buffers from host data piece by piece; owned by the caller.
    PJRT_AsyncHostToDeviceTransferManager,
    /// A stream that a recv callback writes chunks into.
    PJRT_CopyToDeviceStream,
}
