//! Programs handed to a plugin's compiler, and the checks that keep inputs known to crash
//! or mislead the compilers away from them.

use crate::error::{Error, Result};

/// The serialization of a [`Program`]'s code; the string is PJRT's `format` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProgramFormat {
    /// An MLIR module (StableHLO, or MHLO), as text or as MLIR bytecode: PJRT format "mlir".
    Mlir,
    /// A serialized `xla.HloModuleProto`: PJRT format "hlo".
    HloProto,
}

impl ProgramFormat {
    /// The string PJRT expects in `PJRT_Program.format`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProgramFormat::Mlir => "mlir",
            ProgramFormat::HloProto => "hlo",
        }
    }
}

/// Code for `Client::compile`: a format and the bytes in that format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Program {
    format: ProgramFormat,
    code: Vec<u8>,
}

impl Program {
    /// A StableHLO (or any MLIR) module as text.
    pub fn mlir_text(text: impl Into<String>) -> Program {
        Program {
            format: ProgramFormat::Mlir,
            code: text.into().into_bytes(),
        }
    }

    /// A module serialized as MLIR bytecode (e.g. melior's `write_bytecode`).
    pub fn mlir_bytecode(bytes: impl Into<Vec<u8>>) -> Program {
        Program {
            format: ProgramFormat::Mlir,
            code: bytes.into(),
        }
    }

    /// A serialized `xla.HloModuleProto`.
    pub fn hlo_proto(bytes: impl Into<Vec<u8>>) -> Program {
        Program {
            format: ProgramFormat::HloProto,
            code: bytes.into(),
        }
    }

    /// The code's format.
    pub fn format(&self) -> ProgramFormat {
        self.format
    }

    /// The code's bytes.
    pub fn code(&self) -> &[u8] {
        &self.code
    }

    /// True when the code is MLIR bytecode (it starts with the bytecode magic `ML\xefR`).
    pub fn is_mlir_bytecode(&self) -> bool {
        self.format == ProgramFormat::Mlir && self.code.starts_with(b"ML\xefR")
    }

    /// Checks what the plugins are known to crash on or misread, before any compiler sees
    /// the program ([`Client::compile`](crate::Client::compile) calls this):
    ///
    /// - MLIR text with a NUL byte: the plugins read the text as a C string and silently
    ///   compile only what comes before the NUL.
    /// - MLIR text in which a function calls itself, directly or through other functions:
    ///   every CPU plugin's compiler recurses until its stack overflows and kills the
    ///   process. The check reads the text's function definitions and symbol references
    ///   (see the module `mlir_scan`); the error names the cycle.
    /// - MLIR text whose calls chain more than 64 deep, or whose braces (regions) nest more
    ///   than 80 deep: the compilers recurse once per level (the 0.115 plugin's overflows a
    ///   2 MiB thread stack near 150 levels).
    /// - MLIR text whose functions amount to more than 100 million tokens once every call is
    ///   inlined (XLA inlines each call site; functions calling the previous one twice double
    ///   per level, and the compiler ran out of memory, aborting the process).
    /// - MLIR text with a custom call to a target XLA reserves for its own passes
    ///   ([`RESERVED_CUSTOM_CALL_TARGETS`](crate::RESERVED_CUSTOM_CALL_TARGETS), [`RESERVED_CUSTOM_CALL_PREFIXES`](crate::RESERVED_CUSTOM_CALL_PREFIXES); `Sharding` is
    ///   left to the plugin): the CPU plugins CHECK-fail on such calls.
    /// - An empty program.
    ///
    /// MLIR bytecode and HLO protos are passed on unread: their call graphs are not decoded
    /// here, so a recursive program in bytecode still reaches the compiler. Programs built by
    /// `hlo-builder` cannot be recursive (a function's callees are finished before it).
    pub fn validate(&self) -> Result<()> {
        if self.code.is_empty() {
            return Err(Error::InvalidProgram("the program is empty".into()));
        }
        if self.format != ProgramFormat::Mlir || self.is_mlir_bytecode() {
            return Ok(());
        }
        if let Some(at) = self.code.iter().position(|&b| b == 0) {
            return Err(Error::InvalidProgram(format!(
                "the MLIR text has a NUL byte at offset {at} (of {}); a plugin would compile only the text before it",
                self.code.len()
            )));
        }
        if let Some(t) = crate::mlir_scan::find_reserved_custom_call(&self.code) {
            return Err(Error::InvalidProgram(format!(
                "the MLIR text calls the custom-call target {t:?}, which XLA reserves for its own \
                 passes (the CPU plugins abort the process on calls to it they did not make)"
            )));
        }
        crate::mlir_scan::find_call_cycle(&self.code)
            .map_err(|cycle| Error::InvalidProgram(format!("the MLIR text has {cycle}")))
    }
}
