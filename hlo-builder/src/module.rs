//! A lowered StableHLO module: its functions, MLIR text and bytecode, and a `pjrt::Program`.

use std::sync::Arc;

use crate::error::Result;
use crate::graph::Computation;
use crate::lower;
use crate::types::TensorType;

/// A StableHLO module. Its first function is the entry point (`main`); functions it calls
/// are emitted once each as private functions. It knows the entry point's parameter and result
/// types, so running it from host data is one call.
#[derive(Debug, Clone)]
pub struct Module {
    functions: Vec<Arc<Computation>>,
    text: String,
    bytecode: Vec<u8>,
}

impl Module {
    /// Lowers `main` (and everything it calls) to a module.
    pub fn new(main: Arc<Computation>) -> Result<Module> {
        Module::with_functions(vec![main])
    }

    /// Lowers several public functions into one module; the first is the entry point.
    pub fn with_functions(functions: Vec<Arc<Computation>>) -> Result<Module> {
        if functions.is_empty() {
            return Err(crate::Error::Lower("a module needs at least one function".into()));
        }
        let l = lower::lower_module(&functions)?;
        Ok(Module { functions, text: l.text, bytecode: l.bytecode })
    }

    /// The module as MLIR text (StableHLO ops in generic form).
    pub fn to_text(&self) -> &str {
        &self.text
    }

    /// The module as MLIR bytecode.
    pub fn bytecode(&self) -> &[u8] {
        &self.bytecode
    }

    /// A program for `pjrt::Client::compile` (MLIR bytecode).
    pub fn program(&self) -> pjrt::Program {
        pjrt::Program::mlir_bytecode(self.bytecode.clone())
    }

    /// A program for `pjrt::Client::compile` carrying the MLIR text.
    pub fn program_text(&self) -> pjrt::Program {
        pjrt::Program::mlir_text(self.text.clone())
    }

    /// The functions, entry point first.
    pub fn functions(&self) -> &[Arc<Computation>] {
        &self.functions
    }

    /// The entry point's parameter types.
    pub fn parameter_types(&self) -> Vec<TensorType> {
        self.functions[0].param_types()
    }

    /// The entry point's result types.
    pub fn result_types(&self) -> Vec<TensorType> {
        self.functions[0].result_types()
    }
}
