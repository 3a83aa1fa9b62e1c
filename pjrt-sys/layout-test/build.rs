//! Runs bindgen over the official 0.81 header that `scripts/setup.sh` installs (beside the
//! 0.81 plugin in the per-user plugin folder, `pjrt_sys::plugin_cache_dir()`), and writes
//! into OUT_DIR:
//! - `bindings_081.rs`: bindgen's reading of the header;
//! - `checks_081.rs`: tables of every struct with its fields, every enumerator, and the
//!   `PJRT_Api` slot order, as bindgen saw them, for `tests/layout.rs` to compare with
//!   pjrt-sys.
//!
//! Nothing generated here is committed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bindgen::callbacks::{EnumVariantValue, FieldInfo, ParseCallbacks};
use bindgen::FieldVisibilityKind;

/// What bindgen reported while generating: fields per type (in order) and enumerators.
#[derive(Debug, Default)]
struct Seen {
    /// type name -> field names, in declaration order.
    fields: BTreeMap<String, Vec<String>>,
    /// enumerator name -> value.
    enumerators: BTreeMap<String, i64>,
}

#[derive(Debug)]
struct Collect(Arc<Mutex<Seen>>);

impl ParseCallbacks for Collect {
    fn field_visibility(&self, info: FieldInfo<'_>) -> Option<FieldVisibilityKind> {
        if let Ok(mut seen) = self.0.lock() {
            let fields = seen.fields.entry(info.type_name.to_string()).or_default();
            if !fields.iter().any(|f| f == info.field_name) {
                fields.push(info.field_name.to_string());
            }
        }
        None
    }

    fn enum_variant_name(
        &self,
        _enum_name: Option<&str>,
        name: &str,
        value: EnumVariantValue,
    ) -> Option<String> {
        let v = match value {
            EnumVariantValue::Boolean(b) => i64::from(b),
            EnumVariantValue::Signed(v) => v,
            EnumVariantValue::Unsigned(v) => v as i64,
        };
        if let Ok(mut seen) = self.0.lock() {
            seen.enumerators.insert(name.to_string(), v);
        }
        None
    }
}

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    // The set-up installs the header beside the 0.81 plugin, in the per-user plugin folder.
    let header = pjrt_sys::plugin_cache_dir()
        .unwrap_or_default()
        .join("cpu-0.81/pjrt_c_api.h");
    println!("cargo:rerun-if-changed={}", header.display());
    println!("cargo:rerun-if-env-changed=XDG_CACHE_HOME");
    println!("cargo:rerun-if-env-changed=HOME");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(header_081)");

    if !header.exists() {
        // Let the crate build; the test then fails and says what to do.
        std::fs::write(out.join("bindings_081.rs"), "").expect("write bindings_081.rs");
        std::fs::write(
            out.join("checks_081.rs"),
            format!(
                "pub const MISSING_HEADER: &str = {:?};\n",
                header.display().to_string()
            ),
        )
        .expect("write checks_081.rs");
        return;
    }
    println!("cargo:rustc-cfg=header_081");

    let seen = Arc::new(Mutex::new(Seen::default()));
    let bindings = bindgen::Builder::default()
        .header(header.display().to_string())
        .allowlist_item("PJRT_.*")
        .layout_tests(false)
        .generate_comments(false)
        .derive_debug(false)
        .formatter(bindgen::Formatter::None)
        .parse_callbacks(Box::new(Collect(Arc::clone(&seen))))
        .generate()
        .expect("bindgen could not read the 0.81 header");
    let text = bindings.to_string();
    std::fs::write(out.join("bindings_081.rs"), &text).expect("write bindings_081.rs");

    let seen = seen.lock().expect("collector poisoned");
    let mut checks = String::new();
    checks.push_str("pub const MISSING_HEADER: &str = \"\";\n");

    // Structs and unions that have real fields (opaque ones only have `_unused`).
    checks.push_str("pub fn c_structs() -> Vec<CStruct> { vec![\n");
    let mut n_structs = 0usize;
    for (ty, fields) in &seen.fields {
        let fields: Vec<&String> = fields.iter().filter(|f| f.as_str() != "_unused").collect();
        if fields.is_empty() || !text.contains(&format!(" {ty} ")) {
            continue;
        }
        n_structs += 1;
        writeln!(
            checks,
            "CStruct {{ name: {ty:?}, size: ::core::mem::size_of::<c081::{ty}>(), \
             align: ::core::mem::align_of::<c081::{ty}>(), fields: vec!["
        )
        .unwrap();
        for f in fields {
            writeln!(
                checks,
                "  CField {{ name: {f:?}, offset: ::core::mem::offset_of!(c081::{ty}, {f}), \
                 size: field_size(|p: *const c081::{ty}| unsafe {{ ::core::ptr::addr_of!((*p).{f}) }}) }},"
            )
            .unwrap();
        }
        checks.push_str("]},\n");
    }
    checks.push_str("]}\n");

    // Enumerators, paired with pjrt-sys's constant of the same name (a missing one fails
    // to compile, which is the point). `_STRUCT_SIZE` ones are struct sizes.
    checks.push_str("pub fn c_enumerators() -> Vec<(&'static str, i64, i64)> { vec![\n");
    for (name, value) in &seen.enumerators {
        writeln!(checks, "  ({name:?}, {value}i64, pjrt_sys::{name} as i64),").unwrap();
    }
    checks.push_str("]}\n");

    // The table's slot names in order (fields of PJRT_Api after the three header fields).
    let api = seen.fields.get("PJRT_Api").cloned().unwrap_or_default();
    checks.push_str("pub const C_API_SLOTS: &[&str] = &[\n");
    for f in api.iter().skip(3) {
        writeln!(checks, "  {f:?},").unwrap();
    }
    checks.push_str("];\n");
    writeln!(
        checks,
        "pub const N_STRUCTS_SEEN_BY_BUILD: usize = {n_structs};"
    )
    .unwrap();

    std::fs::write(out.join("checks_081.rs"), checks).expect("write checks_081.rs");
}
