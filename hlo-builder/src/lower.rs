//! Lowering of recorded computations to a StableHLO module through melior. The only module
//! that touches MLIR; its lifetimes stay in here.
//!
//! StableHLO is not an upstream MLIR dialect, so the context allows unregistered dialects and
//! every StableHLO op is built generically with result types from our own shape inference and
//! dialect attributes parsed from their textual form.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::Arc;

use melior::dialect::DialectHandle;
use melior::ir::operation::{OperationBuilder, OperationLike};
use melior::ir::{
    Attribute, Block, BlockLike, Identifier, Location, Module, Region, RegionLike, Type, Value,
};
use melior::Context;

use crate::error::{Error, Result};
use crate::graph::{
    BinaryOp, ComparisonDirection, Computation, ConstantValue, ConvDims, Node, Op, Precision,
    RngAlgorithm, UnaryOp,
};
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
pub(crate) fn lower_module(
    funcs: &[Arc<Computation>],
    aliases: &[(usize, usize)],
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
            callees: Vec::new(),
            scheduled: HashSet::new(),
            queue: Vec::new(),
            diags: diags.clone(),
        };
        for f in funcs {
            l.scheduled.insert(Arc::as_ptr(f));
        }
        // The entry point is always `main` (what the plugins run), whatever its name.
        if let Some(f) = funcs.first() {
            l.callees.push((Arc::as_ptr(f), "main".to_string()));
        }
        for (i, f) in funcs.iter().enumerate() {
            let name = l.unique_name(&f.name, f);
            let op = l.function(f, &name, true, if i == 0 { aliases } else { &[] })?;
            module.body().append_operation(op);
        }
        // Callees are discovered while lowering; each is emitted once, privately.
        while let Some((c, name)) = l.queue.pop() {
            let op = l.function(&c, &name, false, &[])?;
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

struct Lowerer<'c> {
    ctx: &'c Context,
    loc: Location<'c>,
    types: HashMap<TensorType, Type<'c>>,
    /// Functions already named: (computation pointer, symbol name).
    callees: Vec<(*const Computation, String)>,
    /// Functions emitted or queued for emission.
    scheduled: HashSet<*const Computation>,
    queue: Vec<(Arc<Computation>, String)>,
    diags: Rc<RefCell<Vec<String>>>,
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
        if let Some((_, n)) = self.callees.iter().find(|(p, _)| *p == Arc::as_ptr(c)) {
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
        let mut k = 1;
        while self.callees.iter().any(|(_, n)| *n == name) {
            name = format!("{clean}_{k}");
            k += 1;
        }
        self.callees.push((Arc::as_ptr(c), name.clone()));
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
        if !aliases.is_empty() {
            let mut per_arg = vec![String::from("{}"); params.len()];
            for &(p, r) in aliases {
                per_arg[p] = format!("{{tf.aliasing_output = {r} : i32}}");
            }
            attrs.push((
                Identifier::new(self.ctx, "arg_attrs"),
                self.attr(&format!("[{}]", per_arg.join(", ")))?,
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
            if let Op::Parameter { index, .. } = node.op {
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
            let first = node.operands.first().and_then(|o| c.graph.ty(*o));
            let op = self.op(node, first, &operands)?;
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
        first: Option<&TensorType>,
        operands: &[Value<'c, 'a>],
    ) -> Result<melior::ir::Operation<'c>> {
        let mut rtys = Vec::with_capacity(node.types.len());
        for t in &node.types {
            rtys.push(self.ty(t)?);
        }
        let (name, attrs) = op_name_and_attrs(node, first)?;
        let mut regions = Vec::new();
        match &node.op {
            Op::Scatter { update, .. } => regions.push(self.region_with_args(update)?),
            Op::Sort { comparator, .. } => regions.push(self.region_with_args(comparator)?),
            Op::Reduce { body, .. } | Op::ReduceWindow { body, .. } => {
                regions.push(self.region_with_args(body)?)
            }
            Op::While { cond, body } => {
                regions.push(self.region_with_args(cond)?);
                regions.push(self.region_with_args(body)?);
            }
            Op::If {
                true_branch,
                false_branch,
            } => {
                regions.push(self.region_capturing(true_branch, &operands[1..])?);
                regions.push(self.region_capturing(false_branch, &operands[1..])?);
            }
            Op::Case { branches } => {
                for b in branches {
                    regions.push(self.region_capturing(b, &operands[1..])?);
                }
            }
            _ => {}
        }
        let mut named = Vec::with_capacity(attrs.len() + 1);
        for (k, v) in &attrs {
            named.push((Identifier::new(self.ctx, k), self.attr(v)?));
        }
        // Operands of if/case branches are captured, not passed.
        let passed: &[Value<'c, 'a>] = match &node.op {
            Op::If { .. } | Op::Case { .. } => &operands[..1],
            _ => operands,
        };
        let name = match &node.op {
            Op::Call { callee } => {
                let sym = self.unique_name(&callee.name, callee);
                if self.scheduled.insert(Arc::as_ptr(callee)) {
                    self.queue.push((callee.clone(), sym.clone()));
                }
                named.push((
                    Identifier::new(self.ctx, "callee"),
                    self.attr(&format!("@{sym}"))?,
                ));
                "func.call".to_string()
            }
            _ => name,
        };
        OperationBuilder::new(&name, self.loc)
            .add_operands(passed)
            .add_results(&rtys)
            .add_attributes(&named)
            .add_regions_vec(regions)
            .build()
            .map_err(|e| self.err(e))
    }
}

fn arr(v: &[i64]) -> String {
    if v.is_empty() {
        return "array<i64>".into();
    }
    let mut s = String::from("array<i64: ");
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{x}");
    }
    s.push('>');
    s
}

fn list(v: &[i64]) -> String {
    format!(
        "[{}]",
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn precision(p: &[Precision; 2]) -> String {
    let one = |p: Precision| match p {
        Precision::Default => "#stablehlo<precision DEFAULT>",
        Precision::High => "#stablehlo<precision HIGH>",
        Precision::Highest => "#stablehlo<precision HIGHEST>",
    };
    format!("[{}, {}]", one(p[0]), one(p[1]))
}

fn padding(p: &[(i64, i64)]) -> String {
    format!(
        "dense<[{}]> : tensor<{}x2xi64>",
        p.iter()
            .map(|(a, b)| format!("[{a}, {b}]"))
            .collect::<Vec<_>>()
            .join(", "),
        p.len()
    )
}

fn conv_dims(d: &ConvDims) -> String {
    let roles = |rank: usize, a: i64, an: &str, b: i64, bn: &str, sp: &[i64]| -> String {
        let mut v = vec![String::new(); rank];
        if let Some(x) = v.get_mut(a as usize) {
            *x = an.into();
        }
        if let Some(x) = v.get_mut(b as usize) {
            *x = bn.into();
        }
        for (i, &s) in sp.iter().enumerate() {
            if let Some(x) = v.get_mut(s as usize) {
                *x = i.to_string();
            }
        }
        format!("[{}]", v.join(", "))
    };
    let r = d.input_spatial.len() + 2;
    format!(
        "#stablehlo.conv<{}x{}->{}>",
        roles(
            r,
            d.input_batch,
            "b",
            d.input_feature,
            "f",
            &d.input_spatial
        ),
        roles(
            r,
            d.kernel_input_feature,
            "i",
            d.kernel_output_feature,
            "o",
            &d.kernel_spatial
        ),
        roles(
            r,
            d.output_batch,
            "b",
            d.output_feature,
            "f",
            &d.output_spatial
        )
    )
}

fn compare_type(t: ElementType) -> &'static str {
    if t.is_float() || t.is_complex() {
        "FLOAT"
    } else if t.is_signed_int() {
        "SIGNED"
    } else {
        "UNSIGNED"
    }
}

/// The textual `dense<...>` attribute of a constant.
pub(crate) fn dense_attr(t: &TensorType, v: &ConstantValue) -> String {
    let ty = t.mlir();
    let bytes: &[u8] = match v {
        ConstantValue::Splat(b) => b,
        ConstantValue::Dense(b) => b,
    };
    if t.ty == ElementType::Pred && t.element_count() > 0 {
        let lit = |b: u8| if b != 0 { "true" } else { "false" };
        return match v {
            ConstantValue::Splat(b) => {
                format!("dense<{}> : {ty}", lit(b.first().copied().unwrap_or(0)))
            }
            ConstantValue::Dense(b) => {
                let elems: Vec<&str> = b.iter().map(|&x| lit(x)).collect();
                format!("dense<{}> : {ty}", nested(&t.dims, &elems))
            }
        };
    }
    if t.element_count() == 0 {
        return format!("dense<> : {ty}");
    }
    let mut s = String::with_capacity(bytes.len() * 2 + 32);
    s.push_str("dense<\"0x");
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    let _ = write!(s, "\"> : {ty}");
    s
}

/// Nested bracket literal of `elems` in row-major order over `dims`.
fn nested(dims: &[i64], elems: &[&str]) -> String {
    fn go(dims: &[i64], elems: &[&str], pos: &mut usize, out: &mut String) {
        match dims.split_first() {
            None => {
                out.push_str(elems.get(*pos).copied().unwrap_or("0"));
                *pos += 1;
            }
            Some((&d, rest)) => {
                out.push('[');
                for i in 0..d {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    go(rest, elems, pos, out);
                }
                out.push(']');
            }
        }
    }
    let mut out = String::new();
    let mut pos = 0;
    go(dims, elems, &mut pos, &mut out);
    out
}

fn unary_name(u: UnaryOp) -> &'static str {
    use UnaryOp::*;
    match u {
        Neg => "stablehlo.negate",
        Abs => "stablehlo.abs",
        Sign => "stablehlo.sign",
        Exp => "stablehlo.exponential",
        Expm1 => "stablehlo.exponential_minus_one",
        Log => "stablehlo.log",
        Log1p => "stablehlo.log_plus_one",
        Sqrt => "stablehlo.sqrt",
        Rsqrt => "stablehlo.rsqrt",
        Cbrt => "stablehlo.cbrt",
        Tanh => "stablehlo.tanh",
        Logistic => "stablehlo.logistic",
        Sin => "stablehlo.sine",
        Cos => "stablehlo.cosine",
        Tan => "stablehlo.tan",
        Floor => "stablehlo.floor",
        Ceil => "stablehlo.ceil",
        RoundNearestAfz => "stablehlo.round_nearest_afz",
        RoundNearestEven => "stablehlo.round_nearest_even",
        Not => "stablehlo.not",
        IsFinite => "stablehlo.is_finite",
        Popcnt => "stablehlo.popcnt",
        CountLeadingZeros => "stablehlo.count_leading_zeros",
        Real => "stablehlo.real",
        Imag => "stablehlo.imag",
    }
}

fn binary_name(b: BinaryOp) -> &'static str {
    use BinaryOp::*;
    match b {
        Add => "stablehlo.add",
        Sub => "stablehlo.subtract",
        Mul => "stablehlo.multiply",
        Div => "stablehlo.divide",
        Rem => "stablehlo.remainder",
        Pow => "stablehlo.power",
        Max => "stablehlo.maximum",
        Min => "stablehlo.minimum",
        Atan2 => "stablehlo.atan2",
        And => "stablehlo.and",
        Or => "stablehlo.or",
        Xor => "stablehlo.xor",
        ShiftLeft => "stablehlo.shift_left",
        ShiftRightArithmetic => "stablehlo.shift_right_arithmetic",
        ShiftRightLogical => "stablehlo.shift_right_logical",
        Complex => "stablehlo.complex",
    }
}

/// A quoted MLIR string literal (printable ASCII kept, everything else as `\XX`).
fn mlir_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for b in s.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            out.push(b as char);
        } else {
            let _ = write!(out, "\\{b:02X}");
        }
    }
    out.push('"');
    out
}

fn bool_attr(b: bool) -> String {
    if b {
        "true".into()
    } else {
        "false".into()
    }
}

/// The StableHLO op name and textual attributes of a node (regions handled by the caller).
fn op_name_and_attrs(
    node: &Node,
    first: Option<&TensorType>,
) -> Result<(String, Vec<(&'static str, String)>)> {
    let t0 = node
        .types
        .first()
        .ok_or_else(|| Error::Lower(format!("{} has no result", node.op.name())))?;
    let mut a: Vec<(&'static str, String)> = Vec::new();
    let name = match &node.op {
        Op::Parameter { .. } => return Err(Error::Lower("parameters are block arguments".into())),
        Op::Constant(v) => {
            a.push(("value", dense_attr(t0, v)));
            "stablehlo.constant"
        }
        Op::Iota { dimension } => {
            a.push(("iota_dimension", format!("{dimension} : i64")));
            "stablehlo.iota"
        }
        Op::Unary(u) => unary_name(*u),
        Op::Binary(b) => binary_name(*b),
        Op::Compare(dir) => {
            let d = match dir {
                ComparisonDirection::Eq => "EQ",
                ComparisonDirection::Ne => "NE",
                ComparisonDirection::Ge => "GE",
                ComparisonDirection::Gt => "GT",
                ComparisonDirection::Le => "LE",
                ComparisonDirection::Lt => "LT",
            };
            a.push((
                "comparison_direction",
                format!("#stablehlo<comparison_direction {d}>"),
            ));
            // The operand type decides signed/unsigned/float ordering (t0 is pred).
            let ct = compare_type(first.map(|t| t.ty).unwrap_or(ElementType::F32));
            a.push(("compare_type", format!("#stablehlo<comparison_type {ct}>")));
            "stablehlo.compare"
        }
        Op::Select => "stablehlo.select",
        Op::Clamp => "stablehlo.clamp",
        Op::Convert => "stablehlo.convert",
        Op::BitcastConvert => "stablehlo.bitcast_convert",
        Op::Reshape => "stablehlo.reshape",
        Op::Transpose { permutation } => {
            a.push(("permutation", arr(permutation)));
            "stablehlo.transpose"
        }
        Op::BroadcastInDim {
            broadcast_dimensions,
        } => {
            a.push(("broadcast_dimensions", arr(broadcast_dimensions)));
            "stablehlo.broadcast_in_dim"
        }
        Op::Slice {
            start,
            limit,
            strides,
        } => {
            a.push(("start_indices", arr(start)));
            a.push(("limit_indices", arr(limit)));
            a.push(("strides", arr(strides)));
            "stablehlo.slice"
        }
        Op::DynamicSlice { slice_sizes } => {
            a.push(("slice_sizes", arr(slice_sizes)));
            "stablehlo.dynamic_slice"
        }
        Op::DynamicUpdateSlice => "stablehlo.dynamic_update_slice",
        Op::Concatenate { dimension } => {
            a.push(("dimension", format!("{dimension} : i64")));
            "stablehlo.concatenate"
        }
        Op::Pad {
            low,
            high,
            interior,
        } => {
            a.push(("edge_padding_low", arr(low)));
            a.push(("edge_padding_high", arr(high)));
            a.push(("interior_padding", arr(interior)));
            "stablehlo.pad"
        }
        Op::Reverse { dimensions } => {
            a.push(("dimensions", arr(dimensions)));
            "stablehlo.reverse"
        }
        Op::Gather {
            dims,
            slice_sizes,
            indices_are_sorted,
        } => {
            a.push((
                "dimension_numbers",
                format!(
                    "#stablehlo.gather<offset_dims = {}, collapsed_slice_dims = {}, start_index_map = {}, index_vector_dim = {}>",
                    list(&dims.offset_dims),
                    list(&dims.collapsed_slice_dims),
                    list(&dims.start_index_map),
                    dims.index_vector_dim
                ),
            ));
            a.push(("slice_sizes", arr(slice_sizes)));
            a.push(("indices_are_sorted", bool_attr(*indices_are_sorted)));
            "stablehlo.gather"
        }
        Op::Scatter {
            dims,
            indices_are_sorted,
            unique_indices,
            ..
        } => {
            a.push((
                "scatter_dimension_numbers",
                format!(
                    "#stablehlo.scatter<update_window_dims = {}, inserted_window_dims = {}, scatter_dims_to_operand_dims = {}, index_vector_dim = {}>",
                    list(&dims.update_window_dims),
                    list(&dims.inserted_window_dims),
                    list(&dims.scatter_dims_to_operand_dims),
                    dims.index_vector_dim
                ),
            ));
            a.push(("indices_are_sorted", bool_attr(*indices_are_sorted)));
            a.push(("unique_indices", bool_attr(*unique_indices)));
            "stablehlo.scatter"
        }
        Op::Sort {
            dimension,
            is_stable,
            ..
        } => {
            a.push(("dimension", format!("{dimension} : i64")));
            a.push(("is_stable", bool_attr(*is_stable)));
            "stablehlo.sort"
        }
        Op::DotGeneral { dims, precision: p } => {
            let mut parts = Vec::new();
            if !dims.lhs_batch.is_empty() {
                parts.push(format!(
                    "lhs_batching_dimensions = {}",
                    list(&dims.lhs_batch)
                ));
                parts.push(format!(
                    "rhs_batching_dimensions = {}",
                    list(&dims.rhs_batch)
                ));
            }
            if !dims.lhs_contracting.is_empty() {
                parts.push(format!(
                    "lhs_contracting_dimensions = {}",
                    list(&dims.lhs_contracting)
                ));
                parts.push(format!(
                    "rhs_contracting_dimensions = {}",
                    list(&dims.rhs_contracting)
                ));
            }
            a.push((
                "dot_dimension_numbers",
                format!("#stablehlo.dot<{}>", parts.join(", ")),
            ));
            a.push(("precision_config", precision(p)));
            "stablehlo.dot_general"
        }
        Op::Convolution(c) => {
            a.push(("window_strides", arr(&c.window_strides)));
            if !c.padding.is_empty() {
                a.push(("padding", padding(&c.padding)));
            }
            a.push(("lhs_dilation", arr(&c.lhs_dilation)));
            a.push(("rhs_dilation", arr(&c.rhs_dilation)));
            a.push(("dimension_numbers", conv_dims(&c.dims)));
            a.push((
                "feature_group_count",
                format!("{} : i64", c.feature_group_count),
            ));
            a.push((
                "batch_group_count",
                format!("{} : i64", c.batch_group_count),
            ));
            a.push(("precision_config", precision(&c.precision)));
            "stablehlo.convolution"
        }
        Op::Reduce { dimensions, .. } => {
            a.push(("dimensions", arr(dimensions)));
            "stablehlo.reduce"
        }
        Op::ReduceWindow { window, .. } => {
            a.push(("window_dimensions", arr(&window.dimensions)));
            a.push(("window_strides", arr(&window.strides)));
            a.push(("base_dilations", arr(&window.base_dilations)));
            a.push(("window_dilations", arr(&window.window_dilations)));
            if !window.padding.is_empty() {
                a.push(("padding", padding(&window.padding)));
            }
            "stablehlo.reduce_window"
        }
        Op::While { .. } => "stablehlo.while",
        Op::If { .. } => "stablehlo.if",
        Op::Case { .. } => "stablehlo.case",
        Op::Call { .. } => "func.call",
        Op::RngBitGenerator { algorithm } => {
            let n = match algorithm {
                RngAlgorithm::Default => "DEFAULT",
                RngAlgorithm::ThreeFry => "THREE_FRY",
                RngAlgorithm::Philox => "PHILOX",
            };
            a.push(("rng_algorithm", format!("#stablehlo<rng_algorithm {n}>")));
            "stablehlo.rng_bit_generator"
        }
        Op::OptimizationBarrier => "stablehlo.optimization_barrier",
        Op::CustomCall {
            target,
            backend_config,
            has_side_effect,
        } => {
            a.push(("call_target_name", mlir_string(target)));
            a.push(("backend_config", mlir_string(backend_config)));
            a.push(("has_side_effect", bool_attr(*has_side_effect)));
            "stablehlo.custom_call"
        }
    };
    Ok((name.to_string(), a))
}
