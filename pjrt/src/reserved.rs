//! The custom-call targets XLA reserves for its own passes: refused in MLIR text by
//! [`Program::validate`](crate::Program::validate) and by `hlo-builder`'s `custom_call`.

/// Custom-call targets that XLA itself interprets (found in XLA's sources: its dynamic
/// padder, SPMD partitioner, host offloading, TopK and approximate-TopK rewriters, sharding
/// and layout annotations, 64-bit splitting, ...). A call to one of them that XLA did not make
/// reaches those passes with operands they do not expect, and the CPU plugins abort the
/// process (CHECK failures). [`Program::validate`](crate::Program::validate) refuses them in MLIR text, and
/// `hlo-builder`'s `custom_call` refuses to record them.
pub const RESERVED_CUSTOM_CALL_TARGETS: &[&str] = &[
    "AllocateBuffer",
    "annotate_device_placement",
    "ApproxTopK",
    "AssumeGatherIndicesInBound",
    "control_dep",
    "DynamicConvolutionForward",
    "DynamicConvolutionInputGrad",
    "DynamicConvolutionKernelGrad",
    "DynamicGte",
    "DynamicReduceWindowSamePadding",
    "DynamicSelectAndScatterSamePadding",
    "DynamicTuple",
    "GatherScatterIndicesBitpacked",
    "GetRngSeed",
    "InspectSharding",
    "LayoutConstraint",
    "mosaic_gpu",
    "mosaic_gpu_v2",
    "MoveToDevice",
    "MoveToHost",
    "PadToStatic",
    "PartialReduce",
    "Pin",
    "PinToDevice",
    "PlaceHolder",
    "SetBound",
    "Sharding",
    "SliceId",
    "SliceToDynamic",
    "SPMDFullToShardShape",
    "SPMDShardShapeToFull",
    "SPMDShardToFullShape",
    "TopK",
    "tpu_custom_call",
    "Unpin",
    "X64Combine",
    "X64SplitHigh",
    "X64SplitLow",
];

/// Prefixes of target names XLA reserves: `__` (its internal GPU and library calls such as
/// `__cublas$gemm`, `__gpu$TopK`) and `xla.sdy.` (Shardy's annotations).
pub const RESERVED_CUSTOM_CALL_PREFIXES: &[&str] = &["__", "xla.sdy."];

/// Why `target` is reserved (see [`RESERVED_CUSTOM_CALL_TARGETS`]), if it is.
pub fn reserved_target(target: &str) -> Option<&'static str> {
    if RESERVED_CUSTOM_CALL_TARGETS.contains(&target) {
        return Some("a name XLA reserves");
    }
    RESERVED_CUSTOM_CALL_PREFIXES
        .iter()
        .find(|p| target.starts_with(**p))
        .map(|_| "in a namespace XLA reserves")
}
