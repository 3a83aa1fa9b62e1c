//! Programs handed to a plugin's compiler.

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
}
