//! A lowered StableHLO module: its functions, MLIR text and bytecode, and a `pjrt::Program`.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::graph::Computation;
use crate::lower;
use crate::ops::{MiscOp, Op};
use crate::placement::{MemoryKind, Placement};
use crate::types::TensorType;

/// A StableHLO module. Its first function is the entry point (`main`); functions it calls
/// are emitted once each as private functions. It knows the entry point's parameter and result
/// types, so running it from host data is one call.
#[derive(Debug, Clone)]
pub struct Module {
    functions: Vec<Arc<Computation>>,
    text: String,
    bytecode: Vec<u8>,
    placement: Placement,
}

impl Module {
    /// Lowers `main` (and everything it calls) to a module.
    pub fn new(main: Arc<Computation>) -> Result<Module> {
        Module::with_functions(vec![main])
    }

    /// Lowers several public functions into one module; the first is the entry point and is
    /// emitted as `main` whatever its name.
    pub fn with_functions(functions: Vec<Arc<Computation>>) -> Result<Module> {
        if functions.is_empty() {
            return Err(crate::Error::Lower(
                "a module needs at least one function".into(),
            ));
        }
        let l = lower::lower_module(&functions, &[], &Placement::default())?;
        Ok(Module {
            functions,
            text: l.text,
            bytecode: l.bytecode,
            placement: Placement::default(),
        })
    }

    /// Lowers `main` with donated parameters: each `(parameter, result)` pair lets the
    /// compiled executable consume the parameter's buffer and reuse it for that result, so
    /// a step that replaces state (parameters, optimizer slots) allocates nothing new.
    /// Each parameter and each result may appear once, and the two must have the same type.
    pub fn with_donations(main: Arc<Computation>, donations: &[(usize, usize)]) -> Result<Module> {
        Module::with_placement(main, donations, &Placement::default())
    }

    /// Lowers `main` with donated parameters (as [`with_donations`](Self::with_donations))
    /// and its parameters and results placed in memory kinds (`mhlo.memory_kind` argument
    /// and result attributes, which the plugins read). A donated parameter and its result
    /// must be in the same memory kind.
    pub fn with_placement(
        main: Arc<Computation>,
        donations: &[(usize, usize)],
        placement: &Placement,
    ) -> Result<Module> {
        let params = main.param_types();
        let results = main.result_types();
        placement.check(params.len(), results.len())?;
        let mut seen_p = vec![false; params.len()];
        let mut seen_r = vec![false; results.len()];
        for &(p, r) in donations {
            let bad = |why: String| {
                Err(crate::Error::Lower(format!(
                    "donate parameter {p} to result {r}: {why}"
                )))
            };
            let (Some(pt), Some(rt)) = (params.get(p), results.get(r)) else {
                return bad(format!(
                    "out of range ({} parameters, {} results)",
                    params.len(),
                    results.len()
                ));
            };
            if pt != rt {
                return bad(format!("the parameter is {pt} but the result is {rt}"));
            }
            if std::mem::replace(&mut seen_p[p], true) {
                return bad("the parameter is already donated".into());
            }
            if std::mem::replace(&mut seen_r[r], true) {
                return bad("the result already reuses another parameter".into());
            }
            let (pk, rk) = (placement.parameter_kind(p), placement.result_kind(r));
            if pk != rk {
                return bad(format!(
                    "the parameter is placed in `{pk}` but the result in `{rk}`; a donated buffer stays in its memory"
                ));
            }
        }
        let functions = vec![main];
        let l = lower::lower_module(&functions, donations, placement)?;
        Ok(Module {
            functions,
            text: l.text,
            bytecode: l.bytecode,
            placement: placement.clone(),
        })
    }

    /// The memory kinds the module uses: of its placed parameters and results and of its
    /// [`Builder::place`](crate::Builder::place) moves (in every function and region), each
    /// once, in order of first use.
    pub fn memory_kinds(&self) -> Vec<MemoryKind> {
        let mut kinds: Vec<MemoryKind> = Vec::new();
        for k in self.placement.kinds().chain(self.moves().iter()) {
            if !kinds.contains(k) {
                kinds.push(k.clone());
            }
        }
        kinds
    }

    /// The kinds of the module's in-program moves, each once.
    fn moves(&self) -> Vec<MemoryKind> {
        let mut kinds: Vec<MemoryKind> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<&Computation> = self.functions.iter().map(|f| &**f).collect();
        while let Some(c) = stack.pop() {
            if !seen.insert(c as *const Computation) {
                continue;
            }
            for n in c.graph.nodes() {
                if let Op::Misc(MiscOp::Place { memory }) = &n.op {
                    if !kinds.contains(memory) {
                        kinds.push(memory.clone());
                    }
                }
                stack.extend(n.regions.iter().map(|r| &**r));
            }
        }
        kinds
    }

    /// Checks that `client` has a memory of every kind the module uses
    /// ([`memory_kinds`](Self::memory_kinds)), else an error naming the kind and the client's
    /// memory kinds; and that its plugin honours the placements and compiles the moves
    /// (`pjrt::Client::check_placement`, `check_moves`), else an error naming the kind, the
    /// plugin and what it does instead. [`compile_with`](Self::compile_with) runs it before
    /// compiling; call it yourself before compiling [`program`](Self::program) on another
    /// path.
    pub fn check_memory_kinds(&self, client: &pjrt::Client) -> Result<()> {
        for k in self.placement.kinds() {
            client.check_placement("Module::compile", k.as_str())?;
        }
        for k in self.moves() {
            client.check_moves("Module::compile", k.as_str())?;
        }
        Ok(())
    }

    /// The memory kinds of the entry point's parameters and results.
    pub fn placement(&self) -> &Placement {
        &self.placement
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

impl Module {
    /// Compiles the module on `client` (MLIR bytecode, default options).
    pub fn compile(&self, client: &pjrt::Client) -> Result<Executable> {
        self.compile_with(client, &pjrt::CompileOptions::default())
    }

    /// Compiles the module on `client` with `options` (MLIR bytecode).
    pub fn compile_with(
        &self,
        client: &pjrt::Client,
        options: &pjrt::CompileOptions,
    ) -> Result<Executable> {
        self.check_memory_kinds(client)?;
        let exe = client.compile_with(&self.program(), options)?;
        Ok(Executable {
            exe,
            params: self.parameter_types(),
            results: self.result_types(),
        })
    }
}

/// A compiled module that checks its inputs against the entry point's parameter types.
#[derive(Debug)]
pub struct Executable {
    exe: pjrt::LoadedExecutable,
    params: Vec<TensorType>,
    results: Vec<TensorType>,
}

impl Executable {
    /// Runs on host data: one literal per parameter, in order; returns one literal per result.
    pub fn run(&self, args: &[&pjrt::Literal]) -> Result<Vec<pjrt::Literal>> {
        if args.len() != self.params.len() {
            return Err(Error::Run(format!(
                "expected {} arguments ({}), got {}",
                self.params.len(),
                crate::ops::common::list(&self.params),
                args.len()
            )));
        }
        for (i, (a, p)) in args.iter().zip(&self.params).enumerate() {
            if a.element_type() != p.ty || a.dims() != p.dims.as_slice() {
                let got = TensorType::new(a.element_type(), a.dims());
                return Err(Error::Run(format!(
                    "argument {i} is {got}, the parameter is {p}"
                )));
            }
        }
        Ok(self.exe.run(args)?)
    }

    /// The underlying PJRT executable (for device-resident execution).
    pub fn loaded(&self) -> &pjrt::LoadedExecutable {
        &self.exe
    }

    pub fn parameter_types(&self) -> &[TensorType] {
        &self.params
    }

    pub fn result_types(&self) -> &[TensorType] {
        &self.results
    }
}
