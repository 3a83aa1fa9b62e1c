//! Lowering of recorded computations to a StableHLO module through melior. The only module
//! that touches MLIR; its lifetimes stay in here.
//!
//! StableHLO is not an upstream MLIR dialect, so the context allows unregistered dialects and
//! every StableHLO op is built generically with result types from our own shape inference and
//! dialect attributes parsed from their textual form.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use melior::dialect::DialectHandle;
use melior::ir::operation::{OperationBuilder, OperationLike};
use melior::ir::{
    Attribute, Block, BlockLike, Identifier, Location, Module, Region, RegionLike, Type, Value,
};
use melior::Context;

use crate::error::{Error, Result};
use crate::graph::{Computation, Node};
use crate::ops::common::mlir_string;
use crate::ops::{CollectiveOp, Emission, Lowering, Op, Reducer, RegionUse, SourceOp};
use crate::placement::Placement;
use crate::sharding::{Partitioner, Partitioning, MESH_SYMBOL};
use crate::types::{ElementType, TensorType};

/// A lowered module: MLIR text and MLIR bytecode.
pub(crate) struct Lowered {
    pub text: String,
    pub bytecode: Vec<u8>,
}

/// Lowers `main` (public, named after its computation) and every function it calls.
/// `aliases` lists `(parameter, result)` pairs of the entry point whose buffers are donated:
/// the parameter's buffer is consumed by the call and reused for that result
/// (`tf.aliasing_output` argument attributes, which XLA turns into input/output aliasing).
///
/// Lowering recurses once per level of nested regions (a `while` inside a `case` inside ...),
/// and so do MLIR's printer and bytecode writer: it runs on a thread of its own with a
/// [`LOWERING_STACK`] stack, so the depth the builder accepts
/// (the builder's `MAX_REGION_DEPTH`) lowers on any caller's thread (test threads have 2 MiB).
///
/// `partitioning` annotates the entry point's parameters and results with their shardings
/// (and, for Shardy, adds the `sdy.mesh` the shardings name).
///
/// `placement` puts the entry point's parameters and results in memory kinds
/// (`mhlo.memory_kind` argument and result attributes, which XLA reads when compiling).
pub(crate) fn lower_module(
    funcs: &[Arc<Computation>],
    aliases: &[(usize, usize)],
    partitioning: Option<&Partitioning>,
    placement: &Placement,
) -> Result<Lowered> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("hlo-builder-lower".into())
            .stack_size(LOWERING_STACK)
            .spawn_scoped(scope, || {
                lower_on_this_thread(funcs, aliases, partitioning, placement)
            })
            .map_err(|e| Error::Lower(format!("cannot start the lowering thread: {e}")))?
            .join()
            .unwrap_or_else(|_| Err(Error::Lower("the lowering thread panicked".into())))
    })
}

/// The lowering thread's stack: room for the builder's `MAX_REGION_DEPTH` nested regions in an
/// unoptimized build (about 11 KiB a level measured), many times over. Only the pages used
/// are ever touched.
pub(crate) const LOWERING_STACK: usize = 64 << 20;

fn lower_on_this_thread(
    funcs: &[Arc<Computation>],
    aliases: &[(usize, usize)],
    partitioning: Option<&Partitioning>,
    placement: &Placement,
) -> Result<Lowered> {
    let ctx = Context::new();
    DialectHandle::func().load_dialect(&ctx);
    ctx.set_allow_unregistered_dialects(true);
    let diags: Rc<RefCell<Vec<String>>> = Rc::default();
    let sink = diags.clone();
    let handler = ctx.attach_diagnostic_handler(move |d| {
        sink.borrow_mut().push(d.to_string());
        true
    });
    let result = (|| {
        let loc = Location::unknown(&ctx);
        let module = Module::new(loc);
        let mut l = Lowerer {
            ctx: &ctx,
            loc,
            types: HashMap::new(),
            callees: HashMap::new(),
            names: HashSet::new(),
            next_suffix: HashMap::new(),
            scheduled: HashSet::new(),
            queue: Vec::new(),
            diags: diags.clone(),
            partitioning: partitioning.cloned(),
        };
        for f in funcs {
            l.scheduled.insert(Arc::as_ptr(f));
        }
        if let Some(p) = partitioning.filter(|p| p.partitioner == Partitioner::Shardy) {
            let mesh = OperationBuilder::new("sdy.mesh", loc)
                .add_attributes(&[
                    (
                        Identifier::new(&ctx, "sym_name"),
                        l.attr(&mlir_string(MESH_SYMBOL))?,
                    ),
                    (Identifier::new(&ctx, "mesh"), l.attr(&p.mesh.shardy())?),
                ])
                .build()
                .map_err(|e| l.err(e))?;
            module.body().append_operation(mesh);
        }
        // The entry point is always `main` (what the plugins run), whatever its name.
        if let Some(f) = funcs.first() {
            l.callees.insert(Arc::as_ptr(f), "main".to_string());
            l.names.insert("main".to_string());
        }
        for (i, f) in funcs.iter().enumerate() {
            let name = l.unique_name(&f.name, f);
            let (al, part, pl) = if i == 0 {
                (aliases, partitioning, Some(placement))
            } else {
                (&[][..], None, None)
            };
            let op = l.function(f, &name, true, al, part, pl)?;
            module.body().append_operation(op);
        }
        // Callees are discovered while lowering; each is emitted once, privately.
        while let Some((c, name)) = l.queue.pop() {
            let op = l.function(&c, &name, false, &[], None, None)?;
            module.body().append_operation(op);
        }
        if !module.as_operation().verify() {
            return Err(l.err("the module does not verify"));
        }
        let text = module.as_operation().to_string();
        let bytecode = module.as_operation().write_bytecode();
        Ok(Lowered { text, bytecode })
    })();
    ctx.detach_diagnostic_handler(handler);
    result
}

/// A sharding constraint on an intermediate value: Shardy's `sdy.sharding_constraint`, or
/// GSPMD's `custom_call @Sharding` carrying `mhlo.sharding`.
fn constraint(p: &Partitioning, s: &crate::sharding::Sharding) -> Result<Emission> {
    Ok(match p.partitioner {
        Partitioner::Shardy => Emission::with(
            "sdy.sharding_constraint",
            vec![("sharding", s.shardy(MESH_SYMBOL))],
        ),
        Partitioner::Gspmd => Emission::with(
            "stablehlo.custom_call",
            vec![
                ("call_target_name", mlir_string("Sharding")),
                ("mhlo.sharding", mlir_string(&s.gspmd(&p.mesh)?)),
            ],
        ),
    })
}

struct Lowerer<'c> {
    ctx: &'c Context,
    loc: Location<'c>,
    types: HashMap<TensorType, Type<'c>>,
    /// Functions already named: computation pointer -> symbol name.
    callees: HashMap<*const Computation, String>,
    /// Symbol names in use, and the next suffix to try for each base name (a module may
    /// hold thousands of functions of one name: naming stays linear).
    names: HashSet<String>,
    next_suffix: HashMap<String, usize>,
    /// Functions emitted or queued for emission.
    scheduled: HashSet<*const Computation>,
    queue: Vec<(Arc<Computation>, String)>,
    diags: Rc<RefCell<Vec<String>>>,
    /// The module's mesh and partitioner (sharding constraints are written for it).
    partitioning: Option<Partitioning>,
}

impl<'c> Lowerer<'c> {
    fn err(&self, what: impl std::fmt::Display) -> Error {
        let d = self.diags.borrow();
        if d.is_empty() {
            Error::Lower(what.to_string())
        } else {
            Error::Lower(format!("{what}: {}", d.join("; ")))
        }
    }

    fn unique_name(&mut self, base: &str, c: &Arc<Computation>) -> String {
        if let Some(n) = self.callees.get(&Arc::as_ptr(c)) {
            return n.clone();
        }
        let mut clean: String = base
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ch == '_' {
                    ch
                } else {
                    '_'
                }
            })
            .collect();
        if clean.is_empty() || clean.starts_with(|ch: char| ch.is_ascii_digit()) {
            clean.insert(0, 'f');
        }
        let mut name = clean.clone();
        let k = self.next_suffix.entry(clean.clone()).or_insert(1);
        while self.names.contains(&name) {
            name = format!("{clean}_{k}");
            *k += 1;
        }
        self.names.insert(name.clone());
        self.callees.insert(Arc::as_ptr(c), name.clone());
        name
    }

    fn ty(&mut self, t: &TensorType) -> Result<Type<'c>> {
        if let Some(ty) = self.types.get(t) {
            return Ok(*ty);
        }
        let s = t.mlir();
        let ty =
            Type::parse(self.ctx, &s).ok_or_else(|| self.err(format!("cannot parse type {s}")))?;
        self.types.insert(t.clone(), ty);
        Ok(ty)
    }

    fn attr(&self, s: &str) -> Result<Attribute<'c>> {
        Attribute::parse(self.ctx, s).ok_or_else(|| self.err(format!("cannot parse attribute {s}")))
    }

    fn function(
        &mut self,
        c: &Arc<Computation>,
        name: &str,
        public: bool,
        aliases: &[(usize, usize)],
        partitioning: Option<&Partitioning>,
        placement: Option<&Placement>,
    ) -> Result<melior::ir::Operation<'c>> {
        let params = c.param_types();
        let results = c.result_types();
        let region = self.region_ending_in(c, "func.return")?;
        let fty = format!(
            "({}) -> ({})",
            params
                .iter()
                .map(|t| t.mlir())
                .collect::<Vec<_>>()
                .join(", "),
            results
                .iter()
                .map(|t| t.mlir())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut attrs = vec![
            (
                Identifier::new(self.ctx, "sym_name"),
                self.attr(&mlir_string(name))?,
            ),
            (Identifier::new(self.ctx, "function_type"), self.attr(&fty)?),
        ];
        let mut per_arg: Vec<Vec<String>> = vec![Vec::new(); params.len()];
        let mut per_res: Vec<Vec<String>> = vec![Vec::new(); results.len()];
        for &(p, r) in aliases {
            if let Some(a) = per_arg.get_mut(p) {
                a.push(format!("tf.aliasing_output = {r} : i32"));
            }
        }
        if let Some(part) = partitioning {
            for (i, t) in params.iter().enumerate() {
                per_arg[i].push(part.attr(&part.input(i, t))?);
            }
            for (i, t) in results.iter().enumerate() {
                per_res[i].push(part.attr(&part.output(i, t))?);
            }
        }
        if let Some(pl) = placement {
            let auto = "mhlo.layout_mode = \"auto\"".to_string();
            for (i, a) in per_arg.iter_mut().enumerate() {
                if pl.parameter_layout_mode(i) == crate::placement::LayoutMode::Auto {
                    a.push(auto.clone());
                }
            }
            for (i, a) in per_res.iter_mut().enumerate() {
                if pl.result_layout_mode(i) == crate::placement::LayoutMode::Auto {
                    a.push(auto.clone());
                }
            }
        }
        if let Some(pl) = placement.filter(|pl| pl.has_kinds()) {
            for (i, a) in per_arg.iter_mut().enumerate() {
                a.push(format!(
                    "mhlo.memory_kind = {}",
                    mlir_string(pl.parameter_kind(i).as_str())
                ));
            }
            for (i, a) in per_res.iter_mut().enumerate() {
                a.push(format!(
                    "mhlo.memory_kind = {}",
                    mlir_string(pl.result_kind(i).as_str())
                ));
            }
        }
        let dicts = |v: &[Vec<String>]| {
            let d: Vec<String> = v.iter().map(|a| format!("{{{}}}", a.join(", "))).collect();
            format!("[{}]", d.join(", "))
        };
        if per_arg.iter().any(|a| !a.is_empty()) {
            attrs.push((
                Identifier::new(self.ctx, "arg_attrs"),
                self.attr(&dicts(&per_arg))?,
            ));
        }
        if per_res.iter().any(|a| !a.is_empty()) {
            attrs.push((
                Identifier::new(self.ctx, "res_attrs"),
                self.attr(&dicts(&per_res))?,
            ));
        }
        if !public {
            attrs.push((
                Identifier::new(self.ctx, "sym_visibility"),
                self.attr("\"private\"")?,
            ));
        }
        OperationBuilder::new("func.func", self.loc)
            .add_attributes(&attrs)
            .add_regions([region])
            .build()
            .map_err(|e| self.err(e))
    }

    /// A region whose block takes the computation's parameters as arguments.
    fn region_with_args(&mut self, c: &Computation) -> Result<Region<'c>> {
        self.region_ending_in(c, "stablehlo.return")
    }

    /// One block taking `c`'s parameters as arguments, `c`'s body, and `terminator` (a
    /// function's `func.return` or a region's `stablehlo.return`) returning its results.
    fn region_ending_in(&mut self, c: &Computation, terminator: &str) -> Result<Region<'c>> {
        let mut ptys = Vec::new();
        for p in c.param_types() {
            ptys.push((self.ty(&p)?, self.loc));
        }
        let block = Block::new(&ptys);
        {
            let args: Vec<Value<'c, '_>> = (0..ptys.len())
                .map(|i| block.argument(i).map(Value::from))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| self.err(e))?;
            let outs = self.body(c, &block, &args)?;
            let ret = OperationBuilder::new(terminator, self.loc)
                .add_operands(&outs)
                .build()
                .map_err(|e| self.err(e))?;
            block.append_operation(ret);
        }
        let region = Region::new();
        region.append_block(block);
        Ok(region)
    }

    /// A region without block arguments whose parameters are values from the enclosing block
    /// (StableHLO `if`/`case` branches capture them).
    fn region_capturing(
        &mut self,
        c: &Computation,
        captured: &[Value<'c, '_>],
    ) -> Result<Region<'c>> {
        let block = Block::new(&[]);
        {
            let outs = self.body(c, &block, captured)?;
            let ret = OperationBuilder::new("stablehlo.return", self.loc)
                .add_operands(&outs)
                .build()
                .map_err(|e| self.err(e))?;
            block.append_operation(ret);
        }
        let region = Region::new();
        region.append_block(block);
        Ok(region)
    }

    /// Appends the ops of `c` to `block`; `params` are the values of its parameters.
    /// Returns the values of its results.
    fn body<'a>(
        &mut self,
        c: &Computation,
        block: &'a Block<'c>,
        params: &[Value<'c, 'a>],
    ) -> Result<Vec<Value<'c, 'a>>> {
        let mut vals: Vec<Vec<Value<'c, 'a>>> = Vec::with_capacity(c.graph.nodes.len());
        for node in &c.graph.nodes {
            if let Op::Source(SourceOp::Parameter { index, .. }) = node.op {
                let v = *params
                    .get(index)
                    .ok_or_else(|| self.err(format!("parameter {index} has no value")))?;
                vals.push(vec![v]);
                continue;
            }
            let mut operands = Vec::with_capacity(node.operands.len());
            for o in &node.operands {
                let v = vals
                    .get(o.node.index())
                    .and_then(|r| r.get(o.output as usize))
                    .ok_or_else(|| {
                        self.err(format!(
                            "operand %{}#{} is not defined before use",
                            o.node.0, o.output
                        ))
                    })?;
                operands.push(*v);
            }
            let mut tys = Vec::with_capacity(node.operands.len());
            for o in &node.operands {
                tys.push(
                    c.graph
                        .ty(*o)
                        .ok_or_else(|| self.err(format!("operand %{} has no type", o.node.0)))?,
                );
            }
            let lowering = match (&node.op, &self.partitioning) {
                (Op::Collective(CollectiveOp::ShardingConstraint { sharding }), Some(p)) => {
                    Lowering::Op(constraint(p, sharding)?)
                }
                (Op::Collective(CollectiveOp::ManualComputation { .. }), p)
                    if p.as_ref()
                        .is_none_or(|p| p.partitioner != Partitioner::Shardy) =>
                {
                    return Err(self.err(
                        "shard_map: a manual region needs a module partitioned with Shardy (Module::partitioned)",
                    ));
                }
                _ => node.op.lower(&tys, &node.types, node.regions.len())?,
            };
            if lowering == Lowering::Forward {
                let v = *operands
                    .first()
                    .ok_or_else(|| self.err(format!("{} has no operand", node.op.name())))?;
                vals.push(vec![v]);
                continue;
            }
            let op = self.op(node, lowering, &operands)?;
            let op = block.append_operation(op);
            let mut res = Vec::with_capacity(node.types.len());
            for i in 0..node.types.len() {
                res.push(Value::from(op.result(i).map_err(|e| self.err(e))?));
            }
            vals.push(res);
        }
        let mut outs = Vec::with_capacity(c.results.len());
        for r in &c.results {
            let v = vals
                .get(r.node.index())
                .and_then(|x| x.get(r.output as usize))
                .ok_or_else(|| self.err("result not defined"))?;
            outs.push(*v);
        }
        Ok(outs)
    }

    fn op<'a>(
        &mut self,
        node: &Node,
        lowering: Lowering,
        operands: &[Value<'c, 'a>],
    ) -> Result<melior::ir::Operation<'c>> {
        let mut rtys = Vec::with_capacity(node.types.len());
        for t in &node.types {
            rtys.push(self.ty(t)?);
        }
        let e = match lowering {
            Lowering::Op(e) => e,
            Lowering::Call => {
                let callee = node
                    .regions
                    .first()
                    .ok_or_else(|| self.err("call without a callee"))?;
                let sym = self.unique_name(&callee.name, callee);
                if self.scheduled.insert(Arc::as_ptr(callee)) {
                    self.queue.push((callee.clone(), sym.clone()));
                }
                let attr = (
                    Identifier::new(self.ctx, "callee"),
                    self.attr(&format!("@{sym}"))?,
                );
                return OperationBuilder::new("func.call", self.loc)
                    .add_operands(operands)
                    .add_results(&rtys)
                    .add_attributes(&[attr])
                    .build()
                    .map_err(|e| self.err(e));
            }
            Lowering::Forward => return Err(self.err("an identity has no operation")),
        };
        let Emission {
            name,
            attrs,
            regions: uses,
            passed,
        } = e;
        let passed = passed.unwrap_or(operands.len()).min(operands.len());
        let mut regions = Vec::with_capacity(uses.len());
        for u in uses {
            let region = |i: usize| {
                node.regions
                    .get(i)
                    .ok_or_else(|| self.err(format!("{} has no region {i}", node.op.name())))
            };
            regions.push(match u {
                RegionUse::Block(i) => {
                    let c = region(i)?.clone();
                    self.region_with_args(&c)?
                }
                RegionUse::BlockEndingIn(i, terminator) => {
                    let c = region(i)?.clone();
                    self.region_ending_in(&c, terminator)?
                }
                RegionUse::Capture(i) => {
                    let c = region(i)?.clone();
                    self.region_capturing(&c, &operands[passed..])?
                }
                RegionUse::Reducer(kind, tys) => self.reducer_region(kind, &tys)?,
            });
        }
        let mut named = Vec::with_capacity(attrs.len());
        for (k, v) in &attrs {
            named.push((Identifier::new(self.ctx, k), self.attr(v)?));
        }
        OperationBuilder::new(name, self.loc)
            .add_operands(&operands[..passed])
            .add_results(&rtys)
            .add_attributes(&named)
            .add_regions_vec(regions)
            .build()
            .map_err(|e| self.err(e))
    }

    /// The region of a named reducer: `(a..., b...) -> (a_j op b_j)...` on scalars of `tys`
    /// (for `Replace`: `-> b...`).
    fn reducer_region(&mut self, kind: Reducer, tys: &[ElementType]) -> Result<Region<'c>> {
        let mut args = Vec::with_capacity(2 * tys.len());
        for _ in 0..2 {
            for &t in tys {
                args.push((self.ty(&TensorType::scalar(t))?, self.loc));
            }
        }
        let n = tys.len();
        let block = Block::new(&args);
        {
            let mut outs: Vec<Value<'c, '_>> = Vec::with_capacity(n);
            for (j, &tj) in tys.iter().enumerate() {
                let a: Value = block.argument(j).map_err(|e| self.err(e))?.into();
                let b: Value = block.argument(n + j).map_err(|e| self.err(e))?.into();
                match kind.stablehlo_op() {
                    None if kind == Reducer::Replace => outs.push(b),
                    None => return Err(self.err(format!("{kind:?} needs a region of its own"))),
                    Some(name) => {
                        let rt = self.ty(&TensorType::scalar(tj))?;
                        let op = OperationBuilder::new(name, self.loc)
                            .add_operands(&[a, b])
                            .add_results(&[rt])
                            .build()
                            .map_err(|e| self.err(e))?;
                        let op = block.append_operation(op);
                        outs.push(op.result(0).map_err(|e| self.err(e))?.into());
                    }
                }
            }
            let ret = OperationBuilder::new("stablehlo.return", self.loc)
                .add_operands(&outs)
                .build()
                .map_err(|e| self.err(e))?;
            block.append_operation(ret);
        }
        let region = Region::new();
        region.append_block(block);
        Ok(region)
    }
}
