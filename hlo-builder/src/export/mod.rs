//! Batch-polymorphic export: record a function once, serve it at any batch size.
//!
//! [`Exported::record`] records a function (a closure that records its inputs and ops into a
//! [`Builder`](crate::Builder) for a given batch size) and checks which of its integers follow the batch
//! size; the result is a self-contained artifact ([`Exported::save`], a versioned file with a
//! digest) holding the graph at the export size, which integers follow the batch, the stored
//! weights and metadata. A process without the model's code loads it ([`Exported::load`]),
//! and a [`Server`] specializes it to the batch size of each call on first use (the stored
//! graph re-recorded node by node through [`Builder::record`](crate::Builder::record) at that size, lowered,
//! compiled), keeping one executable per size (and the compilation cache keeps them across
//! processes).
//!
//! ```
//! use hlo_builder::export::{Exported, Server, Weight};
//! use hlo_builder::ElementType::F32;
//!
//! // y = relu(x · w), with w stored in the artifact; x: f32[batch, 3].
//! let w = Weight::f32("w", [3, 2], &[1.0, -1.0, 2.0, 0.5, -1.0, 1.0])?;
//! let exported = Exported::record("affine", 4, vec![w], |b, batch, w| {
//!     let x = b.parameter("x", F32, [batch, 3])?;
//!     let y = b.matmul(x, w[0])?;
//!     Ok(vec![b.relu(y)?])
//! })?;
//! assert_eq!(exported.inputs()[0].to_string(), "x: f32[batch,3]");
//!
//! let bytes = exported.to_bytes();                  // or .save(path)
//! let loaded = Exported::from_bytes(&bytes)?;       // no Rust code of the model needed
//! let server = Server::new(loaded, &pjrt::Client::default_cpu()?)?;
//! let x = pjrt::Literal::from_slice(&[1.0f32, 1.0, 1.0], &[1, 3])?; // batch 1
//! let y = server.run(&[&x])?;
//! assert_eq!(y[0].to_vec::<f32>()?, vec![2.0, 0.5]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Limits
//! - The function must record the same ops, in the same order, at every batch size, and
//!   every integer attribute and dimension must be `a·batch + c`. It is recorded at the
//!   export size `B` and at `B + 1` (which fix `a` and `c`) and checked at 1, 2, 3 and
//!   `2B + 1`; a function that differs only at other sizes (say, one that branches on
//!   `batch > 1000` in Rust) is not caught. Recording fails loudly at any size where the
//!   closure fails (one that needs an even batch, say).
//! - Dense constants whose data depends on the batch size (a mask of `batch` rows built on
//!   the host) are refused at export, naming the node: build them in the graph (`iota`,
//!   comparisons) or pass them as inputs. Splat constants may follow the batch when their
//!   value is `a·batch + c` (the element count `mean` divides by); `1/batch` may not.
//! - Calls with custom differentiation rules are exported as plain calls (the rules are
//!   code; exports are for evaluation).
//! - At least one input must follow the batch size; the batch of a call is read from its
//!   inputs, and inputs whose other dimensions or element types differ are refused.

mod affine;
mod artifact;
mod codec;
mod error;
mod serve;
mod tokens;

pub use artifact::{Exported, Signature, Weight, FORMAT_VERSION, MAGIC};
pub use error::ExportError;
pub use serve::Server;
