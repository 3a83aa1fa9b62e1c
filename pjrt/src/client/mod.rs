//! The client: one plugin's view of its devices and memories, and what makes buffers and
//! executables.
//!
//! [`Client`] itself, its creation and options live here. Its other methods sit with what
//! they make or use, one `impl Client` per concept file; every public method, by file (a
//! test below keeps this list complete):
//!
//! - `client/handle.rs` (creation, identity): [`Client::new`], [`Client::default_cpu`],
//!   [`Client::from_path`], [`Client::plugin`], [`Client::platform_name`],
//!   [`Client::platform_version`], [`Client::process_index`], [`Client::number`],
//!   [`Client::same_as`], [`Client::with_cpu_threads`], [`Client::with_cpu_threads_like`],
//!   [`Client::cpu_threads`]
//! - `client/kv_store.rs` (distributed clients): [`Client::with_key_value_store`],
//!   [`Client::update_global_process_info`]; the stores it takes: in one process
//!   ([`MemoryKeyValueStore`]) or served by process 0 over TCP (`client/kv_tcp.rs`,
//!   [`TcpKeyValueStore`])
//! - `device/handle.rs` (devices): [`Client::devices`], [`Client::addressable_devices`],
//!   [`Client::first_device`], [`Client::lookup_device`],
//!   [`Client::lookup_addressable_device`], [`Client::default_device_assignment`]
//! - `device/memory.rs` (memories): [`Client::addressable_memories`],
//!   [`Client::memory_kinds`], [`Client::check_memory_kinds`]
//! - `device/placement.rs` (placements compiled programs honour): [`Client::check_placement`],
//!   [`Client::check_moves`], [`Client::check_auto_layouts`]
//! - `buffer/from_host.rs` (buffers from host data): [`Client::buffer_from_host`],
//!   [`Client::buffer_from_host_with`], [`Client::buffer_from_bytes`],
//!   [`Client::buffer_from_bytes_with`], [`Client::buffer_from_shared`],
//!   [`Client::buffer_from_vec`], [`Client::buffer_from_literal`]
//! - `buffer/host_order.rs` (host arrays in any dense order):
//!   [`Client::buffer_from_host_in_order`]
//! - `buffer/aligned.rs` (zero-copy host arrays): [`Client::buffer_from_aligned`],
//!   [`Client::buffer_from_aligned_mut`]
//! - `buffer/alias.rs` (buffers without host data): [`Client::create_uninitialized_buffer`],
//!   [`Client::create_error_buffer`], [`Client::create_alias_buffer`]
//! - `buffer/raw.rs` (foreign memory, DMA): [`Client::create_view_of_device_buffer`],
//!   [`Client::dma_map`], [`Client::dma_unmap`], [`Client::dma_map_slice`]
//! - `buffer/transfer_manager.rs` (buffers filled piece by piece):
//!   [`Client::create_buffers_for_async_host_to_device`]
//! - `executable/compile.rs` (compiling, loading): [`Client::compile`],
//!   [`Client::compile_with`], [`Client::load`]
//! - `executable/serialize.rs` (shipped executables): [`Client::identity`],
//!   [`Client::deserialize_executable`], [`Client::load_executable`],
//!   [`Client::deserialize_executable_verified`], [`Client::load_executable_verified`]
//! - `executable/topology.rs` (the client's topology): [`Client::topology`]
//! - `ndarray.rs` (arrays, with the feature `ndarray`):
//!   [`Client::buffer_from_ndarray`](Client)

mod handle;
mod kv_store;
mod kv_tcp;
mod limits;
mod options;

pub use handle::Client;
pub use kv_store::{KeyValueStore, MemoryKeyValueStore, ProcessInfo, ProcessState};
pub use kv_tcp::{TcpKeyValueStore, TCP_KV_MAX_BYTES, TCP_KV_MAX_TOTAL_BYTES};
pub use options::ClientOptions;

// Test code: `unwrap` and `panic!` here are the assertions; a failure fails the test, and
// none of it is compiled into the library.
#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                rs_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// The identifier `s` starts with.
    fn ident_at(s: &str) -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    }

    /// `(file under src/, method)` for every `pub fn` in a top-level `impl Client` block.
    fn client_methods(src: &Path) -> BTreeSet<(String, String)> {
        let mut files = Vec::new();
        rs_files(src, &mut files);
        let mut out = BTreeSet::new();
        for f in files {
            let rel = f
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let mut inside = false;
            for line in std::fs::read_to_string(&f).unwrap().lines() {
                if line.starts_with("impl Client {") {
                    inside = true;
                } else if line == "}" {
                    inside = false;
                } else if inside {
                    let rest = line.trim_start();
                    let rest = rest
                        .strip_prefix("pub fn ")
                        .or_else(|| rest.strip_prefix("pub unsafe fn "));
                    if let Some(rest) = rest {
                        out.insert((rel.clone(), ident_at(rest)));
                    }
                }
            }
        }
        out
    }

    /// `(file, method)` for every entry of the index at the top of this file.
    fn index(text: &str) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        let mut file = String::new();
        for line in text.lines().take_while(|l| l.starts_with("//!")) {
            if let Some(rest) = line.strip_prefix("//! - `") {
                file = rest.split('`').next().unwrap().to_string();
            }
            for part in line.split("[`Client::").skip(1) {
                out.insert((file.clone(), ident_at(part)));
            }
        }
        out
    }

    #[test]
    fn the_index_lists_every_client_method_where_it_is() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let found = client_methods(&src);
        let listed = index(&std::fs::read_to_string(src.join("client/mod.rs")).unwrap());
        let missing: Vec<_> = found.difference(&listed).collect();
        let stale: Vec<_> = listed.difference(&found).collect();
        assert!(
            missing.is_empty() && stale.is_empty(),
            "client/mod.rs index: not listed (file, method): {missing:?}; listed but not \
             there: {stale:?}"
        );
        assert!(
            found.len() > 30,
            "only {} Client methods found",
            found.len()
        );
    }
}
