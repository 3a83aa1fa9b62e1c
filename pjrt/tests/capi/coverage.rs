//! The coverage report: which safe function wraps each C function (found by scanning
//! `pjrt/src` for the two checked call macros), and on which plugin each was called with
//! which outcome (from the crate's call log, recorded while the exercises ran).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use pjrt::call_log::Outcome;
use pjrt::Plugin;
use pjrt_sys::ext::EXTENSIONS;

/// A function that cannot be reached on some plugin, and why. `None` = every plugin.
const EXCEPTIONS: &[(&str, Option<&str>, &str)] = &[
    ("PJRT_CopyToDeviceStream_Destroy", None, "needs a stream, which only a recv callback receives; the CPU plugins never call recv callbacks"),
    ("PJRT_CopyToDeviceStream_AddChunk", None, "as PJRT_CopyToDeviceStream_Destroy"),
    ("PJRT_CopyToDeviceStream_TotalBytes", None, "as PJRT_CopyToDeviceStream_Destroy"),
    ("PJRT_CopyToDeviceStream_GranuleSize", None, "as PJRT_CopyToDeviceStream_Destroy"),
    ("PJRT_CopyToDeviceStream_CurrentBytes", None, "as PJRT_CopyToDeviceStream_Destroy"),
    ("PJRT_AsyncTrackingEvent_Destroy", None, "needs a tracking event; the CPU plugins create none (0.106, 0.115: none returned; 0.81: absent)"),
    ("PJRT_Event_Set", Some("0.81"), "absent from the 0.81 table, and so is PJRT_Event_Create, which makes the only settable events"),
    ("PJRT_TopologyDescription_Destroy", Some("0.81"), "no owned topology can be made on 0.81 (Create UNIMPLEMENTED, Deserialize NOT_FOUND); the client's own is never destroyed"),
    ("PJRT_TopologyDescription_Destroy", Some("0.106"), "as on 0.81"),
    ("PhaseCompile.phase_compile_run_phases", None, "needs a phase compiler; the CPU plugins leave phase_compile_get_compiler null"),
    ("PhaseCompile.phase_compile_get_phase_names", None, "as phase_compile_run_phases"),
    ("PhaseCompile.phase_compile_c_buffers_destroy", None, "frees what run_phases / get_phase_names return"),
    ("MemoryDescriptions.PJRT_MemoryDescription_Kind", None, "the CPU plugins report no memory descriptions to ask about"),
    ("PhaseCompile.phase_compile_destroy_compiler", None, "null on the CPU plugins, and only called when a compiler from phase_compile_get_compiler (also null) is dropped"),
    ("PJRT_Client_CreateErrorBuffer", Some("0.81"), "absent on 0.81; its wrapper checks the slot itself before looking up a memory, so no call is recorded (the exercise asserts `Unimplemented`)"),
];

/// Functions whose only wrappers are `unsafe fn`, and why no safe form exists (yet). A name
/// ending in `.` or `_` is a prefix (a whole extension, or a family of functions). Any other function without a safe wrapper fails
/// the test.
const UNSAFE_ONLY: &[(&str, &str)] = &[
    (
        "PJRT_Buffer_UnsafePointer",
        "hands out the device address; what is done with it is untracked",
    ),
    (
        "PJRT_Buffer_OpaqueDeviceMemoryDataPointer",
        "as PJRT_Buffer_UnsafePointer (`ExternalReference::device_pointer` pins the memory)",
    ),
    (
        "PJRT_Client_CreateViewOfDeviceBuffer",
        "the caller vouches for foreign memory's size, alignment and lifetime",
    ),
    ("Stream.wait_stream", "takes a native stream handle"),
    (
        "RawBuffer.PJRT_RawBuffer_GetHostPointer",
        "hands out a host address of device memory",
    ),
    (
        "CrossHostTransfers.PJRT_Transfers_PJRT_Client_MakeCrossHostReceiveBuffers",
        "caller-filled notifier callback struct; not yet given a safe form",
    ),
    (
        "CrossHostTransfers.PJRT_Transfers_PJRT_Buffer_CopyToRemoteDevice",
        "caller-filled descriptor and completion callback; not yet given a safe form",
    ),
    (
        "Collectives.communicator_",
        "the collective operations work on raw device memory (collectives objects and communicators themselves have safe owners)",
    ),
];

fn unsafe_only(name: &str) -> Option<&'static str> {
    UNSAFE_ONLY
        .iter()
        .find(|(n, _)| {
            if n.ends_with('.') || n.ends_with('_') {
                name.starts_with(n)
            } else {
                *n == name
            }
        })
        .map(|(_, why)| *why)
}

fn exception(name: &str, plugin: &str) -> Option<&'static str> {
    EXCEPTIONS
        .iter()
        .find(|(n, p, _)| *n == name && p.is_none_or(|p| p == plugin))
        .map(|(_, _, why)| *why)
}

/// One place a C function is called from: `Type::method` and whether that method is an
/// `unsafe fn` of the public API.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Wrapper {
    name: String,
    kind: &'static str,
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn ident_after(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Scans the crate's sources: C function name -> wrappers.
fn scan() -> BTreeMap<String, BTreeSet<Wrapper>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rs_files(&src, &mut files);
    let ext_by_struct: BTreeMap<&str, &str> = EXTENSIONS
        .iter()
        .map(|e| (e.struct_name, e.name))
        .chain([("PLUGIN_Profiler_Api", "Profiler")])
        .collect();
    let mut out: BTreeMap<String, BTreeSet<Wrapper>> = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let module = f
            .strip_prefix(&src)
            .unwrap()
            .with_extension("")
            .display()
            .to_string();
        let lines: Vec<&str> = text.lines().collect();
        let (mut imp, mut func, mut unsafe_pub) = (module.clone(), String::new(), false);
        let mut in_macro = false;
        let mut in_getters = false;
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("macro_rules!") {
                in_macro = true;
            }
            if in_macro {
                if *line == "}" {
                    in_macro = false;
                }
                continue;
            }
            if line.starts_with("impl") {
                let head = line.trim_end_matches('{').trim();
                let ty = head.rsplit(" for ").next().unwrap_or(head);
                let ty = ty.trim_start_matches("impl").trim();
                let ty = if ty.starts_with('<') {
                    ty.split_once('>').map_or(ty, |(_, t)| t).trim()
                } else {
                    ty
                };
                imp = ident_after(ty.trim_start_matches("<'_>"));
            } else if line.starts_with('}') {
                imp = module.clone();
            }
            if let Some(pos) = line.find("fn ") {
                let before = &line[..pos];
                if !before.contains("//")
                    && !before.contains('"')
                    && !line.trim_start().starts_with("//")
                {
                    func = ident_after(&line[pos + 3..]);
                    unsafe_pub = before.trim() == "pub unsafe";
                }
            }
            let joined: String = lines[i..(i + 4).min(lines.len())].join(" ");
            let wrapper = || Wrapper {
                name: format!("{imp}::{func}"),
                kind: if unsafe_pub { "unsafe" } else { "safe" },
            };
            if let Some(p) = line.find("ext_call!(") {
                let rest = joined[joined.find("ext_call!(").unwrap_or(0) + 10..].trim_start();
                let rest = rest.strip_prefix("@ret").unwrap_or(rest);
                let parts: Vec<&str> = rest.splitn(4, ',').map(|s| s.trim()).collect();
                let _ = p;
                if parts.len() >= 3 {
                    let ty = parts[1].rsplit("::").next().unwrap_or(parts[1]);
                    let slot = ident_after(parts[2]);
                    if let Some(ext) = ext_by_struct.get(ty) {
                        out.entry(format!("{ext}.{slot}"))
                            .or_default()
                            .insert(wrapper());
                    }
                }
            } else if let Some(p) = line.find("call!(") {
                if let Some(q) = joined[p..].find("PJRT_") {
                    let slot = ident_after(&joined[p + q..]);
                    if pjrt_sys::API_SLOT_NAMES.contains(&slot.as_str()) {
                        out.entry(slot).or_default().insert(wrapper());
                    }
                }
            }
            if let Some(p) = line.find("(*raw).PJRT_") {
                let slot = ident_after(&line[p + 7..]);
                if pjrt_sys::API_SLOT_NAMES.contains(&slot.as_str()) {
                    out.entry(slot).or_default().insert(wrapper());
                }
            }
            if in_getters {
                // `name, Args, slot, out: type;` inside a getter-declaring macro invocation.
                let parts: Vec<&str> = line.trim().split(',').map(|s| s.trim()).collect();
                if parts.len() >= 4 && parts[1].ends_with("_Args") {
                    let ext = ext_of_file(&f);
                    if let Some(e) = ext {
                        out.entry(format!("{}.{}", e.name, parts[2]))
                            .or_default()
                            .insert(Wrapper {
                                name: format!("{imp}::{}", parts[0]),
                                kind: "safe",
                            });
                    }
                }
                if line.trim() == "}" {
                    in_getters = false;
                }
            }
            if line.trim_end().ends_with("scalar_getters! {")
                || line.trim_end().ends_with("blob_to_blob! {")
            {
                in_getters = true;
            }
            if let Some(p) = line.find(".note(\"") {
                // A deprecated slot without a callable signature (always Unimplemented).
                let after = &line[p + 7..];
                let slot = ident_after(after);
                let ext_name = f.file_stem().unwrap().to_string_lossy().to_string();
                if let Some(e) = EXTENSIONS
                    .iter()
                    .find(|e| e.name.to_lowercase().replace('_', "") == ext_name.replace('_', ""))
                {
                    out.entry(format!("{}.{slot}", e.name))
                        .or_default()
                        .insert(Wrapper {
                            name: format!("{imp}::{func}"),
                            kind: "deprecated",
                        });
                }
            }
        }
    }
    out
}

/// The extension a wrapper module file belongs to (`ext/tpu_topology.rs` -> TpuTopology).
fn ext_of_file(f: &Path) -> Option<&'static pjrt_sys::ext::ExtensionInfo> {
    let stem = f.file_stem()?.to_string_lossy().replace('_', "");
    EXTENSIONS
        .iter()
        .find(|e| e.name.to_lowercase().replace('_', "") == stem)
}

fn cell(outcomes: Option<&BTreeSet<Outcome>>, exception: Option<&str>) -> String {
    match (outcomes, exception) {
        (Some(o), _) if !o.is_empty() => {
            let labels: Vec<String> = o.iter().map(|x| x.label()).collect();
            labels.join(" / ")
        }
        (_, Some(_)) => "unreachable*".into(),
        _ => "—".into(),
    }
}

/// Builds the report, checks the evidence, compares with the committed file.
pub fn check(plugins: &[(&'static str, PathBuf)]) {
    let wrappers = scan();
    let log = pjrt::call_log::snapshot();
    let labels: Vec<&str> = plugins.iter().map(|(l, _)| *l).collect();
    let loaded: Vec<Plugin> = plugins
        .iter()
        .map(|(_, p)| Plugin::load(p).unwrap())
        .collect();
    let mut problems = Vec::new();

    // 1. Every slot and every extension function has a wrapper.
    for name in pjrt_sys::API_SLOT_NAMES {
        if !wrappers.contains_key(name) {
            problems.push(format!("{name}: no wrapper"));
        }
    }
    for e in EXTENSIONS {
        for f in e.function_names {
            if !wrappers.contains_key(&format!("{}.{f}", e.name)) {
                problems.push(format!("{}.{f}: no wrapper", e.name));
            }
        }
    }

    // 1b. ... and a safe one, unless listed (with a reason) in UNSAFE_ONLY.
    for (name, ws) in &wrappers {
        if ws.iter().all(|w| w.kind == "unsafe") && unsafe_only(name).is_none() {
            problems.push(format!(
                "{name}: only unsafe wrappers ({ws:?}) and not in UNSAFE_ONLY"
            ));
        }
    }
    for (n, _) in UNSAFE_ONLY {
        let hit = wrappers.iter().any(|(k, ws)| {
            (if n.ends_with('.') || n.ends_with('_') {
                k.starts_with(n)
            } else {
                k == n
            }) && ws.iter().all(|w| w.kind == "unsafe")
        });
        if !hit {
            problems.push(format!(
                "UNSAFE_ONLY entry {n} is stale: it has a safe wrapper now (or no such function)"
            ));
        }
    }

    // 2. Every function a plugin has was called on it (unless unreachable, with a reason).
    // PJRT_Plugin_Initialize runs once per process, when the plugin first loads (perhaps on
    // another test's thread, unrecorded): `Plugin::load` succeeding is the evidence.
    let init_ok: BTreeSet<Outcome> = [Outcome::Ok].into();
    let outcomes = |label: &str, name: &str| {
        if name == "PJRT_Plugin_Initialize" {
            return Some(&init_ok);
        }
        log.get(&(label.to_string(), name.to_string()))
    };
    for (label, p) in labels.iter().zip(&loaded) {
        for name in pjrt_sys::API_SLOT_NAMES {
            let called = outcomes(label, name).is_some_and(|o| !o.is_empty());
            let present = p.has_function(name);
            if !called && exception(name, label).is_none() {
                problems.push(format!(
                    "{name} on {label}: {} but never called by the exercises",
                    if present { "in the table" } else { "absent" }
                ));
            }
        }
        for e in EXTENSIONS {
            for f in e.function_names {
                let key = format!("{}.{f}", e.name);
                if outcomes(label, &key).is_none_or(|o| o.is_empty())
                    && exception(&key, label).is_none()
                {
                    problems.push(format!("{key} on {label}: never looked up or called"));
                }
            }
        }
    }

    // 3. The report.
    let mut md = String::new();
    let n_ext: usize = EXTENSIONS.iter().map(|e| e.function_names.len()).sum();
    let wrapped_core = pjrt_sys::API_SLOT_NAMES
        .iter()
        .filter(|n| wrappers.contains_key(**n))
        .count();
    let wrapped_ext = EXTENSIONS
        .iter()
        .flat_map(|e| {
            e.function_names
                .iter()
                .map(move |f| format!("{}.{f}", e.name))
        })
        .filter(|k| wrappers.contains_key(k))
        .count();
    writeln!(md, "# PJRT C API coverage (header 0.114)\n").unwrap();
    writeln!(md, "Generated by `cargo test -p pjrt-runtime --test runtime capi_all_plugins` (`UPDATE_COVERAGE=1` rewrites it);").unwrap();
    writeln!(md, "the test fails when this file differs from what the code and the plugins give. Do not edit by hand.\n").unwrap();
    writeln!(
        md,
        "- Core table: {wrapped_core} of {} functions wrapped.",
        pjrt_sys::API_SLOT_NAMES.len()
    )
    .unwrap();
    writeln!(
        md,
        "- Extensions: {wrapped_ext} of {n_ext} functions in {} extensions wrapped.",
        EXTENSIONS.len()
    )
    .unwrap();
    writeln!(md, "- *Wrapper*: the function that makes the call (found by scanning `pjrt/src` for `call!` / `ext_call!`).").unwrap();
    writeln!(md, "  *Kind*: `safe`; `unsafe` (a public `unsafe fn`: raw pointers, or an extension whose argument struct the caller fills);").unwrap();
    writeln!(
        md,
        "  `deprecated` (no callable signature in the header: always `Unimplemented`)."
    )
    .unwrap();
    writeln!(md, "- Plugin columns: outcomes recorded while the exercises ran on that plugin: `ok`, an error code the plugin").unwrap();
    writeln!(md, "  returned (e.g. `UNIMPLEMENTED`), or `absent` (past the plugin's table, a null slot, or no such extension:").unwrap();
    writeln!(md, "  the wrapper returned `Unimplemented` without calling). `unreachable*`: see the notes at the end.\n").unwrap();
    let header = |md: &mut String| {
        write!(md, "| Function | Wrapper | Kind |").unwrap();
        for l in &labels {
            write!(md, " {l} |").unwrap();
        }
        writeln!(md).unwrap();
        write!(md, "|---|---|---|").unwrap();
        for _ in &labels {
            write!(md, "---|").unwrap();
        }
        writeln!(md).unwrap();
    };
    let row = |md: &mut String, name: &str, shown: &str| {
        let ws = wrappers.get(name);
        let wnames = ws.map_or("**none**".to_string(), |w| {
            w.iter()
                .map(|w| format!("`{}`", w.name))
                .collect::<Vec<_>>()
                .join(", ")
        });
        let kind = ws.map_or("—".to_string(), |w| {
            let k: BTreeSet<&str> = w.iter().map(|w| w.kind).collect();
            k.into_iter().collect::<Vec<_>>().join(", ")
        });
        write!(md, "| `{shown}` | {wnames} | {kind} |").unwrap();
        for l in &labels {
            write!(md, " {} |", cell(outcomes(l, name), exception(name, l))).unwrap();
        }
        writeln!(md).unwrap();
    };
    writeln!(md, "## Core table (`PJRT_Api`)\n").unwrap();
    header(&mut md);
    for name in pjrt_sys::API_SLOT_NAMES {
        row(&mut md, name, name);
    }
    for e in EXTENSIONS {
        writeln!(md, "\n## Extension {} (`{}`)\n", e.name, e.struct_name).unwrap();
        header(&mut md);
        for f in e.function_names {
            row(&mut md, &format!("{}.{f}", e.name), f);
        }
    }
    let safe_core = pjrt_sys::API_SLOT_NAMES
        .iter()
        .filter(|n| {
            wrappers
                .get(**n)
                .is_some_and(|w| w.iter().any(|w| w.kind == "safe"))
        })
        .count();
    let safe_ext = EXTENSIONS
        .iter()
        .flat_map(|e| {
            e.function_names
                .iter()
                .map(move |f| format!("{}.{f}", e.name))
        })
        .filter(|k| {
            wrappers
                .get(k)
                .is_some_and(|w| w.iter().any(|w| w.kind == "safe"))
        })
        .count();
    writeln!(md, "\n## Summary\n").unwrap();
    writeln!(
        md,
        "- With a safe wrapper: core {safe_core} of {}, extensions {safe_ext} of {n_ext}.",
        pjrt_sys::API_SLOT_NAMES.len()
    )
    .unwrap();
    writeln!(md, "- Only `unsafe` (or deprecated) wrappers, and why:\n").unwrap();
    for (n, why) in UNSAFE_ONLY {
        writeln!(
            md,
            "  - `{n}{}`: {why}.",
            if n.ends_with('.') || n.ends_with('_') {
                "*"
            } else {
                ""
            }
        )
        .unwrap();
    }
    writeln!(md, "\n## Notes: unreachable on the CPU plugins\n").unwrap();
    for (n, p, why) in EXCEPTIONS {
        writeln!(
            md,
            "- `{n}`{}: {why}.",
            p.map_or(String::new(), |p| format!(" (on {p})"))
        )
        .unwrap();
    }

    assert!(
        problems.is_empty(),
        "coverage problems:\n{}",
        problems.join("\n")
    );

    if labels.len() < 3 {
        eprintln!("coverage: only {labels:?} installed; the report needs all three CPU plugins, not compared");
        return;
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/capi_coverage.md");
    if std::env::var_os("UPDATE_COVERAGE").is_some() {
        std::fs::write(&path, &md).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != md {
        let first = committed.lines().zip(md.lines()).position(|(a, b)| a != b);
        panic!(
            "docs/capi_coverage.md differs from the generated report (first differing line {:?}); run with UPDATE_COVERAGE=1 to rewrite it",
            first.map(|i| (i + 1, md.lines().nth(i)))
        );
    }
}
