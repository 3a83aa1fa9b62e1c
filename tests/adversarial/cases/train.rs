//! The train step and checkpoints of the training API: the place for their cases.
//!
//! The training API (`autodiff::train`) is being rewritten; its cases come with it. Add them
//! here as entries of the vector below, like the other areas' files do, for example:
//!
//! ```ignore
//! case(Area::Train, "checkpoint-truncated", Expect::Error("checkpoint"), |ctx| {
//!     // write a checkpoint, cut it, load it: a clean error naming the file
//! }),
//! ```
//!
//! What to cover (found by the hostile-user run): a checkpoint that is truncated, has a
//! tensor of the wrong shape or dtype, a NaN, a missing or extra tensor, a header claiming
//! huge sizes; resuming on a data set smaller than a batch; a train step fed a batch of the
//! wrong shape or a buffer of another client; donated state reused after the step.

use crate::case::Case;

/// The train area's cases (none yet; see the module documentation).
pub fn cases() -> Vec<Case> {
    Vec::new()
}
