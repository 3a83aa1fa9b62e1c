//! Record tensor programs with shape checks and emit StableHLO.
//!
//! ```
//! use hlo_builder::{Builder, ElementType::F32};
//!
//! let mut b = Builder::new("affine");
//! let x = b.parameter("x", F32, [2, 3])?;
//! let w = b.parameter("w", F32, [3, 4])?;
//! let bias = b.parameter("b", F32, [4])?;
//! let y = b.matmul(x, w)?; // f32[2,4]
//! let y = b.add(y, bias)?; // the bias is broadcast explicitly
//! let y = b.relu(y)?;
//! assert_eq!(b.ty(y)?.to_string(), "f32[2,4]");
//!
//! // Shapes are checked as ops are recorded:
//! let err = b.matmul(x, x).unwrap_err();
//! assert!(err.to_string().starts_with("matmul: contracting dimensions differ"));
//!
//! let module = b.build(&[y])?;
//! assert!(module.to_text().contains("stablehlo.dot_general"));
//!
//! // Compile on the CPU plugin and run from host data.
//! let client = pjrt::Client::default_cpu()?;
//! let exe = module.compile(&client)?;
//! let x = pjrt::Literal::from_slice(&[1.0f32, 0.0, -1.0, 0.5, 0.5, 0.5], &[2, 3])?;
//! let w = pjrt::Literal::from_slice(&[1.0f32; 12], &[3, 4])?;
//! let bias = pjrt::Literal::from_slice(&[0.0f32, 1.0, -1.0, -2.0], &[4])?;
//! let out = exe.run(&[&x, &w, &bias])?;
//! // row sums 0 and 1.5, plus the bias, then relu
//! assert_eq!(out[0].to_vec::<f32>()?, vec![0.0, 1.0, 0.0, 0.0, 1.5, 2.5, 0.5, 0.0]);
//! # Ok::<(), hlo_builder::Error>(())
//! ```
//!
//! The graph ([`Graph`], [`Node`], [`Op`]) is public so other crates (autodiff) can walk it
//! and append ops through the same checked path ([`Builder::record`]); see `DESIGN.md`.
//! Primitives are grouped by family in [`ops`]: each family file holds its ops' attributes,
//! shape rules and lowering table.
//!
//! [`export`] writes a recorded function as a self-contained artifact that serves any batch
//! size ([`Exported`], [`export::Server`]).
#![deny(missing_docs)]

mod builder;
mod bytecode;
mod checks;
mod error;
pub mod export;
mod graph;
mod lower;
mod methods;
mod module;
pub mod ops;
mod placement;
pub mod sharding;
mod tensor;
mod types;

pub use builder::{BranchFn, Builder, RegionFn};
pub use bytecode::{program_from_bytecode, MAX_BYTECODE_BYTES};
pub use checks::{MAX_EMITTED_OPS, MAX_REGION_DEPTH};
pub use error::{Error, Result};
pub use export::{ExportError, Exported};
pub use graph::{Computation, Graph, Node, NodeId, Value, ValueId};
pub use module::{Executable, Module};
pub use ops::{
    BinaryOp, CallKind, CheckpointPolicy, CollectiveOp, ComparisonDirection, ConstantValue,
    ControlOp, ConvConfig, ConvDims, Counted, CustomRules, DotDims, ElementwiseOp, GatherDims,
    LinalgOp, MiscOp, Op, Participants, Precision, ReduceOp, Reducer, RngAlgorithm, ScatterDims,
    ShapeOp, SourceOp, UnaryOp, WindowConfig,
};
pub use placement::{LayoutMode, MemoryKind, Placement};
pub use sharding::{Mesh, Partitioner, Partitioning, ShardedArray, Sharding};
pub use tensor::{AsOperand, Axes, Operand, Recording, Tensor};
pub use types::{Dims, ElementType, TensorType};
