//! Programs in the formats a plugin compiles, made by hand for the hostile-input tests (the
//! adversarial suite and the fuzz targets share them).
#![allow(dead_code)]

/// MLIR bytecode of `text`, written by MLIR with only `func` registered (as a foreign tool
/// would); empty when MLIR cannot parse the text that way.
pub fn bytecode_of(text: &str) -> Vec<u8> {
    use melior::ir::operation::OperationLike;
    let ctx = melior::Context::new();
    melior::dialect::DialectHandle::func().load_dialect(&ctx);
    ctx.set_allow_unregistered_dialects(true);
    melior::ir::Module::parse(&ctx, text)
        .map(|m| m.as_operation().write_bytecode())
        .unwrap_or_default()
}

/// A serialized `xla.HloModuleProto`: computation `k` is named `c{k}`, has id `k + 1` and one
/// instruction per entry of `calls[k]` calling that id; with `target`, computation 1 also has
/// a custom call to it. The fields are those of XLA's `hlo.proto`: module `computations` (3);
/// computation `name` (1), `instructions` (2), `id` (5); instruction `custom_call_target`
/// (28), `called_computation_ids` (38).
pub fn hlo_module(calls: &[Vec<u64>], target: Option<&str>) -> Vec<u8> {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    fn field(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
        varint(out, number << 3 | 2);
        varint(out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }
    let mut module = Vec::new();
    for (k, ids) in calls.iter().enumerate() {
        let mut comp = Vec::new();
        field(&mut comp, 1, format!("c{k}").as_bytes());
        for &id in ids {
            let mut ins = Vec::new();
            varint(&mut ins, 38 << 3);
            varint(&mut ins, id);
            field(&mut comp, 2, &ins);
        }
        if let (0, Some(t)) = (k, target) {
            let mut ins = Vec::new();
            field(&mut ins, 28, t.as_bytes());
            field(&mut comp, 2, &ins);
        }
        varint(&mut comp, 5 << 3);
        varint(&mut comp, k as u64 + 1);
        field(&mut module, 3, &comp);
    }
    module
}
