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
    /// Made by an `unsafe` constructor: [`Program::validate`] passes it unread.
    unchecked: bool,
}

impl Program {
    /// A StableHLO (or any MLIR) module as text.
    pub fn mlir_text(text: impl Into<String>) -> Program {
        Program {
            format: ProgramFormat::Mlir,
            code: text.into().into_bytes(),
            unchecked: false,
        }
    }

    /// A module serialized as MLIR bytecode.
    ///
    /// This crate cannot read MLIR bytecode (its ops' attributes are encoded by dialects
    /// this crate does not link), so it cannot check that the program is safe to hand to a
    /// compiler: [`validate`](Self::validate), and so `Client::compile`, refuse it. Read it
    /// with `hlo_builder::program_from_bytecode` (MLIR parses it and the program is checked
    /// as text), or, for bytecode from a source you trust, use
    /// [`mlir_bytecode_unchecked`](Self::mlir_bytecode_unchecked).
    pub fn mlir_bytecode(bytes: impl Into<Vec<u8>>) -> Program {
        Program {
            format: ProgramFormat::Mlir,
            code: bytes.into(),
            unchecked: false,
        }
    }

    /// MLIR bytecode that [`validate`](Self::validate) passes on unread.
    ///
    /// # Safety
    ///
    /// The plugins' compilers crash the process (stack overflow, `CHECK` failure, out of
    /// memory) on programs that [`validate`](Self::validate) refuses in text form: calls
    /// that recurse, calls or regions nested past the compilers' stacks, programs too large
    /// once inlined, custom calls to XLA's reserved targets. The caller guarantees the
    /// bytecode has none of these: it was made by a trusted tool (`hlo-builder` uses this
    /// for the modules it lowers, which cannot recurse and are depth-checked when
    /// recorded), or checked another way.
    pub unsafe fn mlir_bytecode_unchecked(bytes: impl Into<Vec<u8>>) -> Program {
        Program {
            format: ProgramFormat::Mlir,
            code: bytes.into(),
            unchecked: true,
        }
    }

    /// A serialized `xla.HloModuleProto` (its call graph and custom-call targets are
    /// checked by [`validate`](Self::validate)).
    pub fn hlo_proto(bytes: impl Into<Vec<u8>>) -> Program {
        Program {
            format: ProgramFormat::HloProto,
            code: bytes.into(),
            unchecked: false,
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
    /// - An HLO proto: the same call-graph and custom-call checks, on its computations'
    ///   `called_computation_ids` and `custom_call_target`s; bytes that do not decode as a
    ///   protobuf message are refused.
    /// - MLIR bytecode made by [`mlir_bytecode`](Self::mlir_bytecode): refused, since this
    ///   crate cannot read it (see there). Bytecode made by the `unsafe`
    ///   [`mlir_bytecode_unchecked`](Self::mlir_bytecode_unchecked) passes unread.
    pub fn validate(&self) -> Result<()> {
        if self.code.is_empty() {
            return Err(Error::InvalidProgram("the program is empty".into()));
        }
        if self.format == ProgramFormat::HloProto {
            return crate::hlo_scan::check(&self.code);
        }
        if self.is_mlir_bytecode() {
            if self.unchecked {
                return Ok(());
            }
            return Err(Error::InvalidProgram(format!(
                "MLIR bytecode ({} bytes) cannot be checked by pjrt-runtime, which does not read \
                 bytecode: a recursive call or too deep a nesting in it would crash the plugin's \
                 compiler. Read it with `hlo_builder::program_from_bytecode` (MLIR parses it and \
                 the program is checked as text), pass MLIR text, or, for bytecode you trust, use \
                 the unsafe `Program::mlir_bytecode_unchecked`",
                self.code.len()
            )));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytecode_is_refused_unless_made_unchecked() {
        let code = b"ML\xefR\x00rest of a module".to_vec();
        let e = Program::mlir_bytecode(code.clone()).validate().unwrap_err();
        assert!(e.to_string().contains("cannot be checked"), "{e}");
        assert!(e.to_string().contains("program_from_bytecode"), "{e}");
        // SAFETY: validate only; nothing is compiled.
        let trusted = unsafe { Program::mlir_bytecode_unchecked(code) };
        trusted.validate().unwrap();
        // Bytes without the magic are read as text and checked as text.
        let e = Program::mlir_bytecode(b"func.func @f() { call @f() }".to_vec())
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("recursive call"), "{e}");
    }
}
