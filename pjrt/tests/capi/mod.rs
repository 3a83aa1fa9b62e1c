//! The whole C API through the safe wrappers, on every installed CPU plugin (0.81, 0.106,
//! 0.115) in one process, and the coverage report built from it (`docs/capi_coverage.md`).
//!
//! One test, [`capi_all_plugins`], runs every exercise below on every plugin with the
//! crate's call log on, so each C function the wrappers call is recorded with the plugin
//! and its outcome; [`coverage`] then checks that every function the plugins have was
//! called, and that the committed report matches (`UPDATE_COVERAGE=1` rewrites it).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use pjrt::{Client, ClientOptions, Plugin};

mod core;
mod coverage;
mod exts;
mod gpu;

/// The CPU plugins the set-up installs, in version order: (label, path).
pub fn installed_plugins() -> Vec<(&'static str, PathBuf)> {
    // Where the set-up installs them, found at run time.
    let root = pjrt::discovery::plugins_dir().unwrap_or_default();
    [
        ("0.81", "cpu-0.81/xla_cpu_pjrt.so"),
        ("0.106", "cpu-0.106/libpjrt_cpu.so"),
        ("0.115", "cpu-0.115/pjrt_c_api_cpu_plugin.so"),
    ]
    .iter()
    .map(|(v, p)| (*v, root.join(p)))
    .filter(|(_, p)| p.is_file())
    .collect()
}

/// What every exercise gets: one plugin and a client of it.
pub struct Ctx {
    pub plugin: Plugin,
    pub client: Client,
    /// The plugin's minor API version.
    pub minor: i32,
}

type Exercise = fn(&Ctx);

/// Every exercise, by name.
const EXERCISES: &[(&str, Exercise)] = &[
    ("core_wrappers_of_the_base_api", core::base_api),
    (
        "transfer_manager_moves_64_mib_in_chunks",
        core::transfer_manager_64mib,
    ),
    (
        "transfer_manager_literal_metadata_errors",
        core::transfer_manager_literal_and_errors,
    ),
    ("topology_of_the_client", core::topology),
    (
        "topology_compile_and_client_load",
        core::topology_compile_and_load,
    ),
    ("uninitialized_alias_bitcast_buffers", core::special_buffers),
    (
        "raw_copy_future_and_donation",
        core::raw_copy_future_and_donation,
    ),
    ("raw_pointers_views_and_dma", core::raw_pointers_views_dma),
    (
        "device_attributes_stats_poison_tracking",
        core::device_extras,
    ),
    ("user_events", core::user_events),
    (
        "executable_extras_and_execute_context",
        core::executable_extras,
    ),
    (
        "key_value_store_client_and_process_info",
        core::kv_store_client,
    ),
    (
        "functions_past_the_0_81_table_are_unimplemented",
        core::past_table_0_81,
    ),
    ("ext_layouts", exts::layouts),
    (
        "ext_memory_descriptions_shardings_phase_compile",
        exts::descriptions_shardings_phase,
    ),
    (
        "ext_xla_transform_sees_every_compilation",
        exts::xla_transform,
    ),
    ("ext_ffi_custom_call_runs_rust", exts::ffi_custom_call),
    ("ext_absent_extensions_are_none", exts::absent_extensions),
];

/// Runs every exercise on every installed plugin (recording calls), then checks coverage.
#[test]
fn capi_all_plugins() {
    let plugins = installed_plugins();
    assert!(
        !plugins.is_empty(),
        "no CPU plugin installed: run scripts/setup.sh"
    );
    pjrt::call_log::record_on_this_thread(true);
    let mut failures = Vec::new();
    for (label, path) in &plugins {
        let plugin = Plugin::load(path).expect("load plugin");
        let client = Client::new(&plugin, &ClientOptions::new()).expect("client");
        let ctx = Ctx {
            minor: plugin.api_version().minor,
            plugin,
            client,
        };
        for (name, f) in EXERCISES {
            let r = catch_unwind(AssertUnwindSafe(|| f(&ctx)));
            if let Err(p) = r {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{name} on {label}: {msg}"));
            }
        }
    }
    pjrt::call_log::record_on_this_thread(false);
    assert!(
        failures.is_empty(),
        "{} exercises failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    coverage::check(&plugins);
}
