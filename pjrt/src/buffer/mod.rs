//! Buffers: arrays on devices, and every way data gets into and out of them.
//!
//! - `handle.rs`: [`Buffer`]: what it is, where it lives, deletion, device-to-device copies.
//! - `from_host.rs`: host data into new buffers ([`HostBufferSemantics`],
//!   [`BufferPlacement`]).
//! - `aligned.rs`: [`AlignedVec`], host arrays a CPU plugin can alias without a copy.
//! - `to_host.rs`: buffers back to the host, and raw copies whose destination comes later
//!   ([`PendingRawCopy`]).
//! - `alias.rs`: buffers whose contents do not come from the host: uninitialized, error,
//!   alias ([`AliasFulfiller`]), bitcast views, donation ([`ControlDependency`]).
//! - `raw.rs`: raw device pointers, [`ExternalReference`]s, views of foreign memory, DMA
//!   mapping ([`DmaMapping`]).
//! - `layout.rs`: [`MemoryLayout`] and its C view.
//! - `pending.rs`: data the caller must deliver, and the refusal of reads that would wait
//!   for it forever.
//! - `host_order.rs`: host arrays in a chosen dimension order (column-major, ...) in and out.
//! - `transfer_manager.rs`: [`AsyncTransferManager`], buffers filled piece by piece.
//! - `stream.rs`: [`CopyToDeviceStream`], what a recv callback feeds.

mod alias;
mod aligned;
mod from_host;
mod handle;
mod host_order;
mod layout;
mod pending;
mod raw;
mod stream;
mod to_host;
mod transfer_manager;

pub use alias::{AliasFulfiller, ControlDependency};
pub use aligned::{AlignedVec, HOST_ALIGNMENT};
pub use from_host::{BufferPlacement, HostBufferSemantics};
pub use handle::Buffer;
pub use layout::MemoryLayout;
pub(crate) use layout::RawLayout;
pub(crate) use pending::PendingSet;
pub use raw::{DmaMapping, ExternalReference};
pub use stream::CopyToDeviceStream;
pub use to_host::PendingRawCopy;
pub use transfer_manager::{AsyncTransferManager, ShapeSpec};
