//! A safe, complete wrapper of the PJRT C API.

mod program;
mod types;

pub use program::{Program, ProgramFormat};
pub use types::{ElementType, NativeType};
