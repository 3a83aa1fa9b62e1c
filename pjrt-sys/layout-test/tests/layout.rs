//! Compares pjrt-sys's hand-written layouts with bindgen's reading of the official 0.81
//! header: every struct both define must agree in size and field offsets, except structs
//! that grew after 0.81 (then the 0.81 fields must sit where they were and ours may only
//! be larger); every 0.81 enumerator must have the same value; every 0.81 `PJRT_Api` slot
//! must sit at the same index.

#![allow(
    dead_code,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    clippy::all
)]

mod c081 {
    #![allow(
        dead_code,
        non_camel_case_types,
        non_snake_case,
        non_upper_case_globals
    )]
    #![allow(unnecessary_transmutes, unsafe_op_in_unsafe_fn, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/bindings_081.rs"));
}

#[derive(Debug)]
pub struct CField {
    name: &'static str,
    offset: usize,
    size: usize,
}

#[derive(Debug)]
pub struct CStruct {
    name: &'static str,
    size: usize,
    align: usize,
    fields: Vec<CField>,
}

fn field_size<S, T>(_: fn(*const S) -> *const T) -> usize {
    core::mem::size_of::<T>()
}

#[cfg(header_081)]
mod checks {
    use super::*;
    include!(concat!(env!("OUT_DIR"), "/checks_081.rs"));
}

/// bindgen's names for C's anonymous unions and their fields, and ours.
const ANON_TYPES: &[(&str, &str)] = &[
    ("PJRT_NamedValue__bindgen_ty_1", "PJRT_NamedValue_Union"),
    (
        "PJRT_Buffer_MemoryLayout__bindgen_ty_1",
        "PJRT_Buffer_MemoryLayout_Union",
    ),
];
const ANON_FIELDS: &[(&str, &str, &str)] = &[
    ("PJRT_NamedValue", "__bindgen_anon_1", "value"),
    ("PJRT_Buffer_MemoryLayout", "__bindgen_anon_1", "layout"),
];

/// Types that are opaque in pjrt-sys or only forward-declared, yet bindgen saw fields
/// for: none expected.
const NOT_OURS: &[&str] = &[];

#[cfg(not(header_081))]
#[test]
fn layouts_match_the_0_81_header() {
    panic!(
        "the official 0.81 header is missing (looked for {}): run `bash scripts/setup.sh` \
         from the repository root, then rerun the tests",
        checks_missing::MISSING_HEADER
    );
}

#[cfg(not(header_081))]
mod checks_missing {
    include!(concat!(env!("OUT_DIR"), "/checks_081.rs"));
}

#[cfg(header_081)]
#[test]
fn layouts_match_the_0_81_header() {
    let mut problems = Vec::new();
    let mut structs_checked = 0usize;
    let mut fields_checked = 0usize;
    let mut grown = Vec::new();

    for c in checks::c_structs() {
        let our_name = ANON_TYPES
            .iter()
            .find(|(b, _)| *b == c.name)
            .map(|(_, o)| *o)
            .unwrap_or(c.name);
        if NOT_OURS.contains(&our_name) {
            continue;
        }
        let Some(ours) = pjrt_sys::struct_layout(our_name) else {
            problems.push(format!(
                "{}: defined by the 0.81 header, missing in pjrt-sys",
                c.name
            ));
            continue;
        };
        structs_checked += 1;
        let mut c_end = 0;
        for f in &c.fields {
            let our_field = ANON_FIELDS
                .iter()
                .find(|(s, b, _)| *s == c.name && *b == f.name)
                .map(|(_, _, o)| *o)
                .unwrap_or(f.name);
            c_end = c_end.max(f.offset + f.size);
            match ours.field(our_field) {
                None => problems.push(format!("{}.{}: missing in pjrt-sys", c.name, f.name)),
                Some(o) => {
                    fields_checked += 1;
                    if o.offset != f.offset || o.size != f.size {
                        problems.push(format!(
                            "{}.{}: 0.81 has offset {} size {}, pjrt-sys has offset {} size {}",
                            c.name, f.name, f.offset, f.size, o.offset, o.size
                        ));
                    }
                }
            }
        }
        if ours.fields.len() == c.fields.len() {
            if ours.size != c.size || ours.align != c.align {
                problems.push(format!(
                    "{}: 0.81 size {} align {}, pjrt-sys size {} align {}",
                    c.name, c.size, c.align, ours.size, ours.align
                ));
            }
        } else {
            // Grown after 0.81: every new field must come after the old ones.
            let new_fields: Vec<_> = ours
                .fields
                .iter()
                .filter(|o| {
                    !c.fields.iter().any(|f| {
                        f.name == o.name
                            || ANON_FIELDS
                                .iter()
                                .any(|(s, b, n)| *s == c.name && *b == f.name && *n == o.name)
                    })
                })
                .collect();
            for n in &new_fields {
                if n.offset < c_end {
                    problems.push(format!(
                        "{}.{}: added after 0.81 but sits at offset {} inside the 0.81 fields (which end at {})",
                        c.name, n.name, n.offset, c_end
                    ));
                }
            }
            if ours.size < c.size {
                problems.push(format!(
                    "{}: grew after 0.81 but pjrt-sys's size {} is below 0.81's {}",
                    c.name, ours.size, c.size
                ));
            }
            grown.push(format!("{} (+{} fields)", c.name, new_fields.len()));
        }
    }

    // Enumerators, including the header's `<Struct>_STRUCT_SIZE` values.
    let mut enumerators_checked = 0usize;
    let mut struct_sizes_checked = 0usize;
    for (name, theirs, ours) in checks::c_enumerators() {
        if let Some(s) = name.strip_suffix("_STRUCT_SIZE") {
            struct_sizes_checked += 1;
            let grew = grown.iter().any(|g| g.split(' ').next() == Some(s));
            if grew && ours < theirs || !grew && ours != theirs {
                problems.push(format!(
                    "{name}: 0.81 says {theirs}, pjrt-sys says {ours}{}",
                    if grew {
                        " (the struct grew, so it may only be larger)"
                    } else {
                        ""
                    }
                ));
            }
        } else {
            enumerators_checked += 1;
            if ours != theirs {
                problems.push(format!(
                    "{name}: 0.81 value {theirs}, pjrt-sys value {ours}"
                ));
            }
        }
    }

    // Table order.
    for (i, slot) in checks::C_API_SLOTS.iter().enumerate() {
        if pjrt_sys::API_SLOT_NAMES.get(i) != Some(slot) {
            problems.push(format!(
                "PJRT_Api slot {i}: 0.81 has {slot}, pjrt-sys has {:?}",
                pjrt_sys::API_SLOT_NAMES.get(i)
            ));
        }
    }

    println!(
        "checked against the 0.81 header: {structs_checked} structs/unions ({} seen by the build), \
         {fields_checked} fields, {struct_sizes_checked} STRUCT_SIZE values, \
         {enumerators_checked} enumerators, {} PJRT_Api slots",
        checks::N_STRUCTS_SEEN_BY_BUILD,
        checks::C_API_SLOTS.len()
    );
    println!("grown since 0.81 ({}): {}", grown.len(), grown.join(", "));

    assert!(
        problems.is_empty(),
        "{} layout problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // Guard against a build that silently saw nothing (a wrong header, an allowlist typo).
    assert!(
        structs_checked >= 120,
        "only {structs_checked} structs checked"
    );
    assert!(
        fields_checked >= 700,
        "only {fields_checked} fields checked"
    );
    assert!(
        struct_sizes_checked >= 120,
        "only {struct_sizes_checked} STRUCT_SIZE values checked"
    );
    assert!(
        enumerators_checked >= 60,
        "only {enumerators_checked} enumerators checked"
    );
    assert_eq!(
        checks::C_API_SLOTS.len(),
        118,
        "the 0.81 table has 118 slots"
    );
}
