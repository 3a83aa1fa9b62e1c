//! Devices, memories and events.
//!
//! - `handle.rs`: [`Device`] and what it does; the client's device lookups; tracking events.
//! - `description.rs`: [`DeviceDescription`].
//! - `memory.rs`: [`Memory`], and which memories devices and clients reach.
//! - `event.rs`: [`Event`] (wait, callback, `Future`) and [`UserEvent`].

mod description;
mod event;
mod handle;
mod memory;
mod placement;

pub use description::DeviceDescription;
pub use event::{Event, UserEvent};
pub use handle::{AsyncTrackingEvent, Device, MemoryStats};
pub use memory::Memory;
