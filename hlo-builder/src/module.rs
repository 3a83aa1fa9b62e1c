//! A lowered StableHLO module: its functions, MLIR text and bytecode, and a `pjrt::Program`.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::graph::Computation;
use crate::lower;
use crate::ops::{MiscOp, Op};
use crate::placement::{MemoryKind, Placement};
use crate::sharding::{Partitioner, Partitioning, ShardedArray};
use crate::types::TensorType;

/// A StableHLO module. Its first function is the entry point (`main`); functions it calls
/// are emitted once each as private functions. It knows the entry point's parameter and result
/// types, so running it from host data is one call.
#[derive(Debug, Clone)]
pub struct Module {
    functions: Vec<Arc<Computation>>,
    text: String,
    bytecode: Vec<u8>,
    partitioning: Option<Partitioning>,
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
        let l = lower::lower_module(&functions, &[], None, &Placement::default())?;
        Ok(Module {
            functions,
            text: l.text,
            bytecode: l.bytecode,
            partitioning: None,
            placement: Placement::default(),
        })
    }

    /// Lowers `main` with donated parameters: each `(parameter, result)` pair lets the
    /// compiled executable consume the parameter's buffer and reuse it for that result, so
    /// a step that replaces state (parameters, optimizer slots) allocates nothing new.
    /// Each parameter and each result may appear once, and the two must have the same type.
    pub fn with_donations(main: Arc<Computation>, donations: &[(usize, usize)]) -> Result<Module> {
        Module::lowered(main, donations, None, &Placement::default())
    }

    /// Lowers `main` partitioned over a device mesh: its parameters and results carry the
    /// shardings of `partitioning` (Shardy or GSPMD attributes), and
    /// [`compile_options`](Self::compile_options) asks for SPMD partitioning over the mesh's
    /// devices. `donations` as in [`with_donations`](Self::with_donations).
    pub fn partitioned(
        main: Arc<Computation>,
        partitioning: Partitioning,
        donations: &[(usize, usize)],
    ) -> Result<Module> {
        partitioning.check(&main.param_types(), &main.result_types())?;
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<&Computation> = vec![main.as_ref()];
        while let Some(c) = stack.pop() {
            if !seen.insert(c as *const Computation) {
                continue;
            }
            for (k, node) in c.graph.nodes.iter().enumerate() {
                stack.extend(node.regions.iter().map(|r| r.as_ref()));
                if let crate::ops::Op::Collective(crate::ops::CollectiveOp::ManualComputation {
                    mesh,
                    ..
                }) = &node.op
                {
                    if mesh != &partitioning.mesh || partitioning.partitioner != Partitioner::Shardy
                    {
                        return Err(Error::Sharding(format!(
                            "shard_map %{k} in {}: a manual region over {:?} needs the module partitioned over the same mesh with Shardy (the module: {:?}, {:?})",
                            c.name,
                            mesh.axes(),
                            partitioning.mesh.axes(),
                            partitioning.partitioner
                        )));
                    }
                }
                if let crate::ops::Op::Collective(crate::ops::CollectiveOp::ShardingConstraint {
                    sharding,
                }) = &node.op
                {
                    let t = node.types.first().ok_or_else(|| {
                        Error::Sharding(format!("sharding_constraint %{k} has no result"))
                    })?;
                    sharding.check(
                        &partitioning.mesh,
                        t,
                        &format!("sharding_constraint %{k} in {}", c.name),
                    )?;
                }
            }
        }
        Module::lowered(main, donations, Some(partitioning), &Placement::default())
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
        Module::lowered(main, donations, None, placement)
    }

    /// Lowers `main` with `donations`, partitioned and placed as given (checked first).
    fn lowered(
        main: Arc<Computation>,
        donations: &[(usize, usize)],
        partitioning: Option<Partitioning>,
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
        let l = lower::lower_module(&functions, donations, partitioning.as_ref(), placement)?;
        Ok(Module {
            functions,
            text: l.text,
            bytecode: l.bytecode,
            partitioning,
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
    /// memory kinds; that its plugin honours the placements and compiles the moves
    /// (`pjrt::Client::check_placement`, `check_moves`), else an error naming the kind, the
    /// plugin and what it does instead; and, for compiler-chosen layouts
    /// ([`LayoutMode::Auto`](crate::LayoutMode::Auto)), that the plugin compiles them and
    /// reports the layouts it chose (`pjrt::Client::check_auto_layouts`), else an error naming
    /// the plugin. [`compile_with`](Self::compile_with) runs it before
    /// compiling; call it yourself before compiling [`program`](Self::program) on another
    /// path.
    pub fn check_memory_kinds(&self, client: &pjrt::Client) -> Result<()> {
        // Compiler-chosen layouts: the plugin must compile them and report what it chose.
        let (auto_params, auto_results) = self.placement.auto_layouts();
        if auto_params || auto_results {
            client.check_auto_layouts("Module::compile", auto_params)?;
        }
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
        // SAFETY: the module was lowered from a builder graph: its functions are finished
        // before the functions that call them (no recursion), and regions, calls and emitted
        // ops are bounded when recorded (`MAX_REGION_DEPTH`, `MAX_EMITTED_OPS`), so it is
        // none of what `Program::validate` refuses in text form.
        unsafe { pjrt::Program::mlir_bytecode_unchecked(self.bytecode.clone()) }
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

    /// The mesh and shardings the module was partitioned with, if any.
    pub fn partitioning(&self) -> Option<&Partitioning> {
        self.partitioning.as_ref()
    }

    /// The compile options the module needs: one replica and one partition; a partitioned
    /// module one partition per mesh device, SPMD partitioning, and the Shardy partitioner
    /// when its shardings are Shardy's.
    pub fn compile_options(&self) -> pjrt::CompileOptions {
        self.apply_partitioning(pjrt::CompileOptions::new())
    }

    /// `options` with the partition count and partitioner set from the annotations.
    fn apply_partitioning(&self, mut options: pjrt::CompileOptions) -> pjrt::CompileOptions {
        if let Some(p) = &self.partitioning {
            options.num_partitions = p.mesh.size();
            options.use_spmd_partitioning = true;
            options.use_shardy_partitioner = p.partitioner == Partitioner::Shardy;
        }
        options
    }
}

impl Module {
    /// Checks, before any plugin sees the module, what `platform` (a client's
    /// `platform_name()`, e.g. `"cpu"`) cannot compile or would abort on, with `options`:
    /// ops the platform has no kernel for (`collective_broadcast` on XLA:CPU), and
    /// collectives naming replica (or device) ids past what the options provide. The error
    /// names the op and the offending values. [`compile_with`](Self::compile_with) runs it.
    pub fn check_for(&self, platform: &str, options: &pjrt::CompileOptions) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<&Computation> = self.functions.iter().map(|f| f.as_ref()).collect();
        while let Some(c) = stack.pop() {
            if !seen.insert(c as *const Computation) {
                continue;
            }
            for node in &c.graph.nodes {
                stack.extend(node.regions.iter().map(|r| r.as_ref()));
                if let crate::ops::Op::Collective(op) = &node.op {
                    check_collective(op, node.types.first(), platform, options)?;
                }
            }
        }
        Ok(())
    }

    /// Checks that `client` has the devices `options` ask for, all addressable by this
    /// process. On a CPU plugin a program that needs devices of other processes is refused
    /// as a multi-process program (the XLA:CPU plugins have no collectives across processes:
    /// "Multiprocess computations aren't implemented on the CPU backend"); one process gets
    /// more devices from the `cpu_device_count` client option.
    pub fn check_devices(client: &pjrt::Client, options: &pjrt::CompileOptions) -> Result<()> {
        let devices = client.addressable_devices()?;
        let need = options.num_replicas.saturating_mul(options.num_partitions);
        let platform = client.platform_name();
        let cpu = platform == "cpu";
        let refuse = |why: String| {
            Err(Error::Unsupported {
                op: if cpu {
                    "multi-process program"
                } else {
                    "compile"
                },
                message: if cpu {
                    format!(
                        "{why}: a multi-process program, which the XLA:CPU plugins cannot run (\"Multiprocess computations aren't implemented on the CPU backend\"); give one process more devices with `ClientOptions::cpu_device_count`"
                    )
                } else {
                    why
                },
            })
        };
        if need > devices.len() {
            return refuse(format!(
                "the program runs on {} replicas x {} partitions = {need} devices, but this {platform} client addresses {} device(s)",
                options.num_replicas,
                options.num_partitions,
                devices.len(),
            ));
        }
        if let Some(a) = &options.device_assignment {
            let ids: Vec<i64> = devices
                .iter()
                .map(|d| d.id().map(i64::from))
                .collect::<std::result::Result<_, _>>()?;
            for id in a.devices.iter().flatten() {
                if !ids.contains(id) {
                    return refuse(format!(
                        "the device assignment names device {id}, which this {platform} client cannot address (its devices: {ids:?})"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Compiles the module on `client` (MLIR bytecode) with
    /// [`compile_options`](Self::compile_options).
    pub fn compile(&self, client: &pjrt::Client) -> Result<Executable> {
        self.compile_with(client, &pjrt::CompileOptions::default())
    }

    /// Compiles the module on `client` with `options` (MLIR bytecode). A partitioned module
    /// sets the partition count and partitioner in `options` from its annotations.
    pub fn compile_with(
        &self,
        client: &pjrt::Client,
        options: &pjrt::CompileOptions,
    ) -> Result<Executable> {
        let options = &self.apply_partitioning(options.clone());
        self.check_for(client.platform_name(), options)?;
        Module::check_devices(client, options)?;
        self.check_memory_kinds(client)?;
        let exe = client.compile_with(&self.program(), options)?;
        Ok(Executable {
            exe,
            params: self.parameter_types(),
            results: self.result_types(),
            partitioning: self.partitioning.clone(),
        })
    }
}

/// A compiled module that checks its inputs against the entry point's parameter types.
#[derive(Debug)]
pub struct Executable {
    exe: pjrt::LoadedExecutable,
    params: Vec<TensorType>,
    results: Vec<TensorType>,
    partitioning: Option<Partitioning>,
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

    /// Runs on every device the executable was compiled for (replicas x partitions, in
    /// [`pjrt::LoadedExecutable::addressable_devices`] order) from host data: `args[d]` holds
    /// device `d`'s arguments (its own copy in a replicated program, its shard of each
    /// parameter in a partitioned one); returns each device's results (its shards).
    pub fn run_devices(&self, args: &[Vec<&pjrt::Literal>]) -> Result<Vec<Vec<pjrt::Literal>>> {
        let devices = self.exe.addressable_devices();
        if args.len() != devices.len() {
            return Err(Error::Run(format!(
                "the executable runs on {} devices, got argument lists for {}",
                devices.len(),
                args.len()
            )));
        }
        let client = self.exe.client();
        let mut buffers = Vec::with_capacity(args.len());
        for (d, (list, device)) in args.iter().zip(devices).enumerate() {
            if list.len() != self.params.len() {
                return Err(Error::Run(format!(
                    "device {d}: expected {} arguments ({}), got {}",
                    self.params.len(),
                    crate::ops::common::list(&self.params),
                    list.len()
                )));
            }
            let placement = pjrt::BufferPlacement::device(device);
            let mut bs = Vec::with_capacity(list.len());
            for (i, (l, p)) in list.iter().zip(&self.params).enumerate() {
                if l.element_type() != p.ty {
                    let got = TensorType::new(l.element_type(), l.dims());
                    return Err(Error::Run(format!(
                        "device {d}: argument {i} is {got}, the parameter is {p}"
                    )));
                }
                bs.push(client.buffer_from_bytes_with(
                    l.element_type(),
                    l.as_bytes(),
                    l.dims(),
                    pjrt::HostBufferSemantics::ImmutableOnlyDuringCall,
                    &placement,
                )?);
            }
            buffers.push(bs);
        }
        let refs: Vec<Vec<&pjrt::Buffer>> = buffers.iter().map(|v| v.iter().collect()).collect();
        let outs = self
            .exe
            .execute_sharded(&refs, &pjrt::ExecuteOptions::default())?;
        outs.iter()
            .map(|o| {
                o.iter()
                    .map(|b| b.to_literal().map_err(Error::from))
                    .collect()
            })
            .collect()
    }

    /// Runs a partitioned program on whole host values: splits each argument into the shards
    /// its sharding gives each device, runs on every device, and puts each result back
    /// together from the devices' shards. Without a partitioning it is [`run`](Self::run).
    pub fn run_partitioned(&self, args: &[&pjrt::Literal]) -> Result<Vec<pjrt::Literal>> {
        let Some(p) = &self.partitioning else {
            return self.run(args);
        };
        if args.len() != self.params.len() {
            return Err(Error::Run(format!(
                "expected {} arguments ({}), got {}",
                self.params.len(),
                crate::ops::common::list(&self.params),
                args.len()
            )));
        }
        let parts = self.device_partitions()?;
        let mut per_device: Vec<Vec<pjrt::Literal>> = vec![Vec::new(); parts.len()];
        for (i, (a, t)) in args.iter().zip(&self.params).enumerate() {
            if a.element_type() != t.ty || a.dims() != t.dims.as_slice() {
                let got = TensorType::new(a.element_type(), a.dims());
                return Err(Error::Run(format!(
                    "argument {i} is {got}, the parameter is {t}"
                )));
            }
            let shards = p.input(i, t).split_literal(&p.mesh, a)?;
            for (d, &part) in parts.iter().enumerate() {
                per_device[d].push(shards[part].clone());
            }
        }
        let refs: Vec<Vec<&pjrt::Literal>> =
            per_device.iter().map(|v| v.iter().collect()).collect();
        let outs = self.run_devices(&refs)?;
        let mut results = Vec::with_capacity(self.results.len());
        for (i, t) in self.results.iter().enumerate() {
            let mut shards: Vec<Option<pjrt::Literal>> = vec![None; p.mesh.size()];
            for (d, &part) in parts.iter().enumerate() {
                shards[part] = outs[d].get(i).cloned();
            }
            let shards: Vec<pjrt::Literal> = shards
                .into_iter()
                .enumerate()
                .map(|(k, s)| s.ok_or_else(|| Error::Run(format!("no device ran partition {k}"))))
                .collect::<Result<_>>()?;
            results.push(p.output(i, t).gather_literal(&p.mesh, t, &shards)?);
        }
        Ok(results)
    }

    /// Runs a partitioned program on values kept on the devices: argument `i` must have the
    /// parameter's type, the program's mesh and its sharding for parameter `i`; its shards
    /// must sit on the devices that run their partitions. The results come back sharded as
    /// the program's output shardings say, still on the devices. A donated parameter's shards
    /// are consumed.
    pub fn run_sharded(&self, args: &[&ShardedArray]) -> Result<Vec<ShardedArray>> {
        let Some(p) = &self.partitioning else {
            return Err(Error::Run(
                "run_sharded needs a partitioned program (Module::partitioned)".into(),
            ));
        };
        if args.len() != self.params.len() {
            return Err(Error::Run(format!(
                "expected {} arguments ({}), got {}",
                self.params.len(),
                crate::ops::common::list(&self.params),
                args.len()
            )));
        }
        let parts = self.device_partitions()?;
        let devices = self.exe.addressable_devices();
        for (i, (a, t)) in args.iter().zip(&self.params).enumerate() {
            let want = p.input(i, t);
            if a.ty() != t || a.mesh() != &p.mesh || a.sharding() != &want {
                return Err(Error::Run(format!(
                    "argument {i} is {} sharded {:?} over {:?}; parameter {i} is {t} sharded {:?} over {:?}",
                    a.ty(),
                    a.sharding().dims(),
                    a.mesh().axes(),
                    want.dims(),
                    p.mesh.axes()
                )));
            }
            for (d, &part) in parts.iter().enumerate() {
                if a.shards()[part].device()? != devices[d] {
                    return Err(Error::Run(format!(
                        "argument {i}: shard {part} is not on the device that runs partition {part} (or belongs to another client)"
                    )));
                }
            }
        }
        let lists: Vec<Vec<&pjrt::Buffer>> = parts
            .iter()
            .map(|&part| args.iter().map(|a| &a.shards()[part]).collect())
            .collect();
        let outs = self
            .exe
            .execute_sharded(&lists, &pjrt::ExecuteOptions::default())?;
        let mut per_part: Vec<Vec<Option<pjrt::Buffer>>> =
            (0..p.mesh.size()).map(|_| Vec::new()).collect();
        for (d, o) in outs.into_iter().enumerate() {
            per_part[parts[d]] = o.into_iter().map(Some).collect();
        }
        let mut results = Vec::with_capacity(self.results.len());
        for (i, t) in self.results.iter().enumerate() {
            let shards: Vec<pjrt::Buffer> = per_part
                .iter_mut()
                .enumerate()
                .map(|(k, v)| {
                    v.get_mut(i)
                        .and_then(Option::take)
                        .ok_or_else(|| Error::Run(format!("partition {k} returned no result {i}")))
                })
                .collect::<Result<_>>()?;
            results.push(ShardedArray::from_shards(
                t.clone(),
                &p.mesh,
                &p.output(i, t),
                shards,
            )?);
        }
        Ok(results)
    }

    /// The partition each of the executable's devices runs, in device order (0 for every
    /// device of a program that is not partitioned).
    pub fn device_partitions(&self) -> Result<Vec<usize>> {
        if self.partitioning.is_none() {
            return Ok(vec![0; self.exe.addressable_devices().len()]);
        }
        let n = self.partitioning.as_ref().map_or(1, |p| p.mesh.size());
        let ids = match self.exe.addressable_device_logical_ids() {
            Ok(ids) => ids,
            // Older plugins (0.81) lack the call; an SPMD executable with the default device
            // assignment runs partition `d` on its device `d`.
            Err(pjrt::Error::Unimplemented { .. }) if self.exe.addressable_devices().len() == n => {
                return Ok((0..n).collect());
            }
            Err(e) => return Err(e.into()),
        };
        ids.iter()
            .map(|id| {
                usize::try_from(id.partition)
                    .ok()
                    .filter(|&p| p < n && id.replica == 0)
                    .ok_or_else(|| {
                        Error::Run(format!(
                            "device at replica {} partition {} is outside the mesh of {n}",
                            id.replica, id.partition
                        ))
                    })
            })
            .collect()
    }

    /// The mesh and shardings the program was partitioned with, if any.
    pub fn partitioning(&self) -> Option<&Partitioning> {
        self.partitioning.as_ref()
    }

    /// The shardings the compiler settled on for the parameters and the outputs, read back
    /// from the executable through the plugin's Shardings extension; `None` where the plugin
    /// does not have it (the 0.81 CPU plugin). The shard shapes are in
    /// [`pjrt::LoadedExecutable::parameters`] and [`pjrt::Executable::output_dims`] on every
    /// plugin.
    pub fn shardings(
        &self,
    ) -> Result<
        Option<(
            Vec<pjrt::ext::shardings::OpSharding>,
            Vec<pjrt::ext::shardings::OpSharding>,
        )>,
    > {
        let Some(ext) = self
            .exe
            .client()
            .plugin()
            .extension::<pjrt::ext::shardings::Shardings>()
        else {
            return Ok(None);
        };
        let e = self.exe.executable();
        Ok(Some((
            ext.parameter_op_shardings(e)?,
            ext.output_op_shardings(e)?,
        )))
    }

    /// The on-device layouts of the parameters and of the outputs (serialized, like `{1,0}`
    /// for a row-major matrix), read back from the executable through the plugin's Layouts
    /// extension: with [`LayoutMode::Auto`](crate::LayoutMode::Auto) the ones the compiler
    /// chose. Buffers in the parameter layouts (on the CPU plugins, buffers made from
    /// row-major host data) run without a relayout. `None` where the plugin has no Layouts
    /// extension; an `Unimplemented` error where it cannot report parameter layouts (the
    /// 0.81 CPU plugin).
    pub fn layouts(&self) -> Result<Option<(Vec<String>, Vec<String>)>> {
        let Some(ext) = self
            .exe
            .client()
            .plugin()
            .extension::<pjrt::ext::layouts::Layouts>()
        else {
            return Ok(None);
        };
        let e = self.exe.executable();
        Ok(Some((
            ext.executable_parameter_layouts(e)?,
            ext.executable_output_layouts(e)?,
        )))
    }

    /// The underlying PJRT executable (for device-resident execution).
    pub fn loaded(&self) -> &pjrt::LoadedExecutable {
        &self.exe
    }

    /// The types `run` expects, in parameter order.
    pub fn parameter_types(&self) -> &[TensorType] {
        &self.params
    }

    /// The types `run` returns, in result order.
    pub fn result_types(&self) -> &[TensorType] {
        &self.results
    }
}

/// One collective against the platform and the options (see [`Module::check_for`]).
fn check_collective(
    op: &crate::ops::CollectiveOp,
    result: Option<&TensorType>,
    platform: &str,
    options: &pjrt::CompileOptions,
) -> Result<()> {
    use crate::ops::CollectiveOp;
    let name = op.name();
    if platform == "cpu" && matches!(op, CollectiveOp::CollectiveBroadcast { .. }) {
        return Err(Error::Unsupported {
            op: name,
            message: "XLA:CPU cannot compile collective_broadcast (it has no kernel for it); use all_gather or an all_reduce of the value masked to the source replica".into(),
        });
    }
    let custom = matches!(
        op,
        CollectiveOp::AllReduce {
            reducer: crate::ops::Reducer::Custom,
            ..
        } | CollectiveOp::ReduceScatter {
            reducer: crate::ops::Reducer::Custom,
            ..
        }
    );
    if platform == "cpu" && custom {
        return Err(Error::Unsupported {
            op: name,
            message: "XLA:CPU combines values across devices only with the named reducers (sum, product, max, min; and, or on pred); this reducer is a computation of its own (\"Unsupported reduction computation\")".into(),
        });
    }
    let bitwise = match op {
        CollectiveOp::AllReduce { reducer, .. } | CollectiveOp::ReduceScatter { reducer, .. } => {
            matches!(reducer, crate::ops::Reducer::And | crate::ops::Reducer::Or)
        }
        _ => false,
    };
    if let Some(t) =
        result.filter(|t| platform == "cpu" && bitwise && t.ty != crate::ElementType::Pred)
    {
        return Err(Error::Unsupported {
            op: name,
            message: format!(
                "XLA:CPU combines {t} across devices with sum, product, max or min only; `and` and `or` work on pred (\"Unsupported reduction computation\")"
            ),
        });
    }
    let global = op.participants().is_some_and(|p| p.global_device_ids);
    // With a channel (and no global ids) the ids may be partition ids (cross-partition
    // collectives, permutes); without one they are replica ids.
    let channel = match op {
        CollectiveOp::CollectivePermute { channel, .. } => channel.is_some(),
        _ => op.participants().is_some_and(|p| p.channel.is_some()),
    };
    let bound = if global {
        options.num_replicas.saturating_mul(options.num_partitions)
    } else if channel {
        options.num_replicas.max(options.num_partitions)
    } else {
        options.num_replicas
    };
    let max = op.max_id();
    if max >= 0 && max as u64 >= bound as u64 {
        let what = if global {
            "global device ids"
        } else if channel {
            "replica or partition ids"
        } else {
            "replica ids"
        };
        let ids = match op {
            CollectiveOp::CollectivePermute { pairs, .. } => format!("pairs {pairs:?}"),
            _ => format!(
                "groups {:?}",
                op.participants()
                    .map(|p| p.groups.clone())
                    .unwrap_or_default()
            ),
        };
        return Err(Error::Unsupported {
            op: name,
            message: format!(
                "{ids} name id {max}, but the program has {what} 0..{bound} ({} replicas x {} partitions)",
                options.num_replicas, options.num_partitions
            ),
        });
    }
    Ok(())
}
