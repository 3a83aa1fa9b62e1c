//! Reading a serialized `xla.HloModuleProto` before a plugin compiles it: the computations,
//! which computations each one calls, and its custom-call targets.
//!
//! The fields read (from XLA's `hlo.proto`): `HloModuleProto.computations` (3);
//! `HloComputationProto.name` (1), `instructions` (2) and `id` (5); `HloInstructionProto.custom_call_target`
//! (28), `called_computation_ids` (38) and `frontend_attributes` (68, a
//! `FrontendAttributes` whose `map` (1) holds key/value entries). Everything else is skipped.
//! The call graph then goes through the same check as MLIR text
//! ([`CallGraph::check`](crate::mlir_scan::CallGraph::check)): the compilers walk called
//! computations recursively, so a computation that calls itself overflows their stack.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::mlir_scan::CallGraph;
use crate::proto::Reader;

/// One instruction's fields that matter here.
#[derive(Default)]
struct Instruction<'a> {
    target: Option<&'a [u8]>,
    calls: Vec<i64>,
    placement_attribute: bool,
}

fn instruction(bytes: &[u8]) -> Result<Instruction<'_>> {
    let mut out = Instruction::default();
    let mut r = Reader::new(bytes, "xla.HloInstructionProto");
    while let Some((field, v)) = r.next_field()? {
        match field {
            28 => out.target = v.as_bytes(),
            38 => out.calls.extend(v.ints("xla.HloInstructionProto")?),
            68 => {
                let Some(attrs) = v.as_bytes() else { continue };
                let mut a = Reader::new(attrs, "xla.FrontendAttributes");
                while let Some((f, entry)) = a.next_field()? {
                    let (1, Some(entry)) = (f, entry.as_bytes()) else {
                        continue;
                    };
                    let mut e = Reader::new(entry, "xla.FrontendAttributes.MapEntry");
                    while let Some((k, key)) = e.next_field()? {
                        if k == 1 && key.as_bytes() == Some(b"_xla_buffer_placement") {
                            out.placement_attribute = true;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Checks a serialized `HloModuleProto`: `Err` naming a custom call to a target XLA reserves
/// (except `Sharding`, and `annotate_device_placement` carrying `_xla_buffer_placement`, as
/// for MLIR text), a call cycle, calls nested too deep, or a module too large once inlined;
/// or a decoding error for bytes that are not such a proto.
pub(crate) fn check(code: &[u8]) -> Result<()> {
    let invalid = |m: String| Error::InvalidProgram(format!("the HLO proto has {m}"));
    // Computations by position: id, instruction count, called ids (with call-site counts).
    let mut ids: Vec<i64> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut own: Vec<u64> = Vec::new();
    let mut calls: Vec<HashMap<i64, u64>> = Vec::new();
    let mut r = Reader::new(code, "xla.HloModuleProto");
    while let Some((field, v)) = r.next_field()? {
        let (3, Some(comp)) = (field, v.as_bytes()) else {
            continue;
        };
        let mut id = 0i64;
        let mut name = String::new();
        let mut count = 0u64;
        let mut called: HashMap<i64, u64> = HashMap::new();
        let mut c = Reader::new(comp, "xla.HloComputationProto");
        while let Some((f, v)) = c.next_field()? {
            match (f, v.as_bytes()) {
                (1, Some(n)) => name = String::from_utf8_lossy(n).into_owned(),
                (5, _) => id = v.as_i64().unwrap_or(0),
                (2, Some(ins)) => {
                    count += 1;
                    let ins = instruction(ins)?;
                    if let Some(t) = ins.target {
                        let name = String::from_utf8_lossy(t);
                        let placed = name == "annotate_device_placement" && ins.placement_attribute;
                        if name != "Sharding"
                            && !placed
                            && crate::reserved::reserved_target(&name).is_some()
                        {
                            return Err(invalid(format!(
                                "a custom call to the target {name:?}, which XLA reserves for its \
                                 own passes (the CPU plugins abort the process on calls to it they \
                                 did not make)"
                            )));
                        }
                    }
                    for callee in ins.calls {
                        *called.entry(callee).or_insert(0) += 1;
                    }
                }
                _ => {}
            }
        }
        ids.push(id);
        names.push(format!("{name} (id {id})"));
        own.push(count);
        calls.push(called);
    }
    let mut index: HashMap<i64, usize> = HashMap::with_capacity(ids.len());
    for (k, &id) in ids.iter().enumerate() {
        if index.insert(id, k).is_some() {
            return Err(invalid(format!("two computations with the id {id}")));
        }
    }
    let mut edges = Vec::with_capacity(ids.len());
    let mut uses = Vec::with_capacity(ids.len());
    for called in &calls {
        let (mut e, mut u) = (Vec::new(), Vec::new());
        let mut sorted: Vec<(&i64, &u64)> = called.iter().collect();
        sorted.sort_unstable();
        for (callee, n) in sorted {
            // A call to an id no computation has is the compiler's to refuse.
            if let Some(&m) = index.get(callee) {
                e.push(m);
                u.push(*n);
            }
        }
        edges.push(e);
        uses.push(u);
    }
    CallGraph {
        names,
        own,
        edges,
        uses,
    }
    .check("instructions")
    .map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Writer;

    /// A computation `name` (id `id`) with one instruction per entry of `calls` (the ids it
    /// calls) and one custom call to each of `targets`.
    fn computation(name: &str, id: i64, calls: &[&[i64]], targets: &[&str]) -> Writer {
        let mut c = Writer::new();
        c.bytes(1, name.as_bytes());
        for ids in calls {
            let mut i = Writer::new();
            i.packed_ints(38, ids);
            c.message(2, &i);
        }
        for t in targets {
            let mut i = Writer::new();
            i.bytes(28, t.as_bytes());
            c.message(2, &i);
        }
        c.int(5, id);
        c
    }

    fn module(comps: &[Writer]) -> Vec<u8> {
        let mut m = Writer::new();
        for c in comps {
            m.message(3, c);
        }
        m.buf
    }

    fn err(code: &[u8]) -> String {
        check(code).unwrap_err().to_string()
    }

    #[test]
    fn calls_that_come_back_are_refused() {
        let ok = module(&[
            computation("main", 1, &[&[2], &[2, 3]], &[]),
            computation("f", 2, &[&[3]], &[]),
            computation("g", 3, &[], &["my_kernel", "Sharding"]),
        ]);
        check(&ok).unwrap();
        let direct = module(&[computation("main", 1, &[&[1]], &[])]);
        assert!(
            err(&direct).contains("a recursive call: main (id 1) -> main (id 1)"),
            "{}",
            err(&direct)
        );
        let mutual = module(&[
            computation("main", 1, &[&[2]], &[]),
            computation("a", 2, &[&[3]], &[]),
            computation("b", 3, &[&[2]], &[]),
        ]);
        assert!(err(&mutual).contains("a (id 2) -> b (id 3) -> a (id 2)"));
        let dup = module(&[computation("a", 1, &[], &[]), computation("b", 1, &[], &[])]);
        assert!(err(&dup).contains("two computations with the id 1"));
    }

    #[test]
    fn deep_chains_wide_inlining_and_reserved_targets_are_refused() {
        let chain: Vec<Writer> = (0..100)
            .map(|k| {
                let next = [k + 1];
                let calls: &[&[i64]] = if k < 99 { &[&next] } else { &[] };
                computation("c", k, calls, &[])
            })
            .collect();
        assert!(err(&module(&chain)).contains("calls nested"));
        // Each computation calls the next twice in 40 instructions: 2^40 once inlined.
        let twice: Vec<Writer> = (0..41)
            .map(|k| {
                let next = [k + 1];
                let calls: &[&[i64]] = if k < 40 { &[&next, &next] } else { &[] };
                computation("t", k, calls, &[])
            })
            .collect();
        assert!(err(&module(&twice)).contains("once its calls are inlined"));
        let topk = module(&[computation("main", 1, &[], &["TopK"])]);
        assert!(err(&topk).contains("\"TopK\""));
    }

    #[test]
    fn bytes_that_are_no_proto_are_refused() {
        assert!(check(&[0xff; 64]).is_err());
        let ok = module(&[
            computation("main", 1, &[&[2]], &[]),
            computation("f", 2, &[], &[]),
        ]);
        for cut in 1..ok.len() {
            // Every truncation either decodes (a shorter valid message) or is refused;
            // nothing panics.
            let _ = check(&ok[..cut]);
        }
    }
}
