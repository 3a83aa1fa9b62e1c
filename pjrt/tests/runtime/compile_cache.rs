//! The persistent compilation cache on the plugin under test: hits load what misses stored
//! and compute the same numbers; corrupt, truncated, foreign-plugin and mismatched entries
//! are compiled again, never loaded; side-effecting compiles bypass it; processes fill one
//! folder at once; the folder stays under its size bound, least recently used out first.
//!
//! Every test uses its own folder (a fresh `CompileCache`), so counts are its own.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pjrt::{Client, CompileCache, CompileOptions, Literal, Plugin, Program};
use sha2::{Digest, Sha256};

use super::common::{cache_counting, client};

/// `x + k` on f32[n]: a distinct program (and cache key) per (k, n).
fn program(k: f32, n: usize) -> Program {
    Program::mlir_text(format!(
        r#"func.func @main(%x: tensor<{n}xf32>) -> tensor<{n}xf32> {{
  %c = stablehlo.constant dense<{k:?}> : tensor<{n}xf32>
  %0 = stablehlo.add %x, %c : tensor<{n}xf32>
  return %0 : tensor<{n}xf32>
}}"#
    ))
}

fn fresh_cache() -> (tempfile::TempDir, CompileCache) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let cache = CompileCache::new(dir.path().join("cache")).expect("cache folder");
    (dir, cache)
}

fn opts(cache: &CompileCache) -> CompileOptions {
    CompileOptions::new().compile_cache(cache.clone())
}

/// Compiles `x + k` through `cache` on `client` and checks the numbers.
fn compile_and_check(client: &Client, cache: &CompileCache, k: f32, n: usize) {
    let exe = client
        .compile_with(&program(k, n), &opts(cache))
        .expect("compile through the cache");
    let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let out = exe.run(&[&Literal::vector(&x)]).expect("run")[0]
        .to_vec::<f32>()
        .expect("f32 output");
    let want: Vec<f32> = x.iter().map(|v| v + k).collect();
    assert_eq!(out, want, "x + {k} on f32[{n}]");
}

fn only_entry(cache: &CompileCache) -> PathBuf {
    let e = cache.entries().expect("list entries");
    assert_eq!(e.len(), 1, "one entry expected, found {e:?}");
    e[0].path.clone()
}

#[test]
fn a_second_compile_loads_and_computes_the_same() {
    let _counting = cache_counting();
    let (_dir, cache) = fresh_cache();
    compile_and_check(client(), &cache, 1.5, 4);
    let s = cache.stats();
    assert_eq!(
        (s.hits, s.misses, s.stored, s.rejected),
        (0, 1, 1, 0),
        "{s}"
    );
    assert!(s.compile_time > std::time::Duration::ZERO);
    let entry = only_entry(&cache);
    assert_eq!(entry.extension().unwrap(), "entry");

    compile_and_check(client(), &cache, 1.5, 4);
    let s = cache.stats();
    assert_eq!(
        (s.hits, s.misses, s.stored, s.rejected),
        (1, 1, 1, 0),
        "{s}"
    );
    assert!(s.load_time > std::time::Duration::ZERO);

    // Another constant, another shape, other options: other keys.
    compile_and_check(client(), &cache, 2.5, 4);
    compile_and_check(client(), &cache, 1.5, 5);
    client()
        .compile_with(
            &program(1.5, 4),
            // (The defaults already set it false: NaN-propagating min/max.)
            &opts(&cache).xla_option("xla_cpu_enable_fast_min_max", true),
        )
        .expect("compile with an XLA option");
    let s = cache.stats();
    assert_eq!((s.hits, s.misses), (1, 4), "{s}");
    assert_eq!(cache.entries().unwrap().len(), 4);

    // Off means off: nothing read, nothing written.
    client()
        .compile_with(&program(1.5, 4), &CompileOptions::new().no_compile_cache())
        .expect("compile without the cache");
    assert_eq!(cache.stats(), s);
}

/// Compiles through `cache` after damaging its only entry with `damage`; the entry must be
/// refused (compiled again, right numbers) and replaced by a good one (the next compile hits).
fn damaged_entry_is_recompiled(what: &str, damage: impl FnOnce(&Path)) {
    let (_dir, cache) = fresh_cache();
    compile_and_check(client(), &cache, 3.0, 6);
    damage(&only_entry(&cache));
    compile_and_check(client(), &cache, 3.0, 6);
    let s = cache.stats();
    assert_eq!(
        (s.hits, s.misses, s.rejected, s.stored),
        (0, 2, 1, 2),
        "{what}: {s}"
    );
    compile_and_check(client(), &cache, 3.0, 6);
    assert_eq!(cache.stats().hits, 1, "{what}: the replaced entry loads");
}

#[test]
fn a_corrupt_entry_is_recompiled_not_loaded() {
    let _counting = cache_counting();
    // One flipped bit in the middle (inside the plugin's executable): the plugins would load
    // it and compute wrong numbers or crash; the checksum refuses it.
    damaged_entry_is_recompiled("flipped byte", |p| {
        let mut b = std::fs::read(p).unwrap();
        let mid = b.len() / 2;
        b[mid] ^= 0x01;
        std::fs::write(p, b).unwrap();
    });
}

#[test]
fn a_truncated_entry_is_recompiled_not_loaded() {
    let _counting = cache_counting();
    damaged_entry_is_recompiled("truncated", |p| {
        let b = std::fs::read(p).unwrap();
        std::fs::write(p, &b[..b.len() * 2 / 3]).unwrap();
    });
    damaged_entry_is_recompiled("empty", |p| std::fs::write(p, b"").unwrap());
    damaged_entry_is_recompiled("not an entry", |p| {
        std::fs::write(p, b"#!/bin/sh\necho this is not an executable\n").unwrap()
    });
}

/// The parts of an entry file, by the layout documented in `pjrt/src/executable/cache`.
struct EntryParts {
    /// Everything before the executable's length.
    head: Vec<u8>,
    executable: Vec<u8>,
}

fn split_entry(bytes: &[u8]) -> EntryParts {
    assert_eq!(&bytes[..8], b"PJRTCCE\0");
    let mut at = 8 + 4 + 32 + 8;
    for _ in 0..2 {
        let present = bytes[at];
        at += 1;
        if present == 1 {
            let n = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            at += 4;
            for _ in 0..n {
                let rank = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
                at += 8 + 8 * rank;
            }
        }
    }
    let len = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
    EntryParts {
        head: bytes[..at].to_vec(),
        executable: bytes[at + 8..at + 8 + len].to_vec(),
    }
}

/// An entry file with `head` and `executable` and a correct checksum: what a writer with
/// another plugin, or a bug, could have left under this key.
fn forge_entry(head: &[u8], executable: &[u8]) -> Vec<u8> {
    let mut out = head.to_vec();
    out.extend_from_slice(&(executable.len() as u64).to_le_bytes());
    out.extend_from_slice(executable);
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

/// A CPU plugin other than the one under test, if one is installed.
fn other_plugin() -> Option<Plugin> {
    let mine = client().plugin().path().to_path_buf();
    pjrt::discovery::CPU_PLUGINS
        .iter()
        .filter_map(|p| pjrt::discovery::installed(p.name))
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .find(|p| *p != mine)
        .and_then(|p| Plugin::load(p).ok())
}

#[test]
fn a_foreign_plugin_entry_is_recompiled_not_loaded() {
    let _counting = cache_counting();
    let Some(other) = other_plugin() else {
        eprintln!("skipped: only one CPU plugin is installed");
        return;
    };
    let foreign = Client::new(&other, &pjrt::ClientOptions::new()).expect("other client");
    assert_ne!(foreign.identity().unwrap(), client().identity().unwrap());
    let (_dir, cache) = fresh_cache();

    // The same program on both plugins: different keys, so two entries.
    compile_and_check(&foreign, &cache, 4.0, 3);
    let foreign_entry = only_entry(&cache);
    compile_and_check(client(), &cache, 4.0, 3);
    let entries = cache.entries().unwrap();
    assert_eq!(entries.len(), 2, "one entry per plugin");
    let mine = entries
        .iter()
        .map(|e| e.path.clone())
        .find(|p| *p != foreign_entry)
        .unwrap();

    // 1. The other plugin's whole entry copied under this plugin's key: refused (it names
    //    another key), compiled again.
    std::fs::copy(&foreign_entry, &mine).unwrap();
    let before = cache.stats();
    compile_and_check(client(), &cache, 4.0, 3);
    let s = cache.stats();
    assert_eq!(
        (s.rejected, s.misses, s.hits),
        (before.rejected + 1, before.misses + 1, before.hits),
        "{s}"
    );

    // 2. Forged: this key, a valid checksum, the other plugin's executable inside. The
    //    envelope names its plugin, so it is refused before the plugin sees the blob (the
    //    0.81 plugin would load a newer plugin's blob and compute wrong numbers).
    let own = split_entry(&std::fs::read(&mine).unwrap());
    let theirs = split_entry(&std::fs::read(&foreign_entry).unwrap());
    std::fs::write(&mine, forge_entry(&own.head, &theirs.executable)).unwrap();
    let before = cache.stats();
    compile_and_check(client(), &cache, 4.0, 3);
    let s = cache.stats();
    assert_eq!(
        (s.rejected, s.misses, s.hits),
        (before.rejected + 1, before.misses + 1, before.hits),
        "{s}"
    );
    // And the replacement is this plugin's again.
    compile_and_check(client(), &cache, 4.0, 3);
    assert_eq!(cache.stats().hits, s.hits + 1);
}

#[test]
fn an_entry_that_loads_with_other_shapes_is_refused() {
    let _counting = cache_counting();
    let (_dir, cache) = fresh_cache();
    compile_and_check(client(), &cache, 5.0, 3);
    let three = only_entry(&cache);
    let own = split_entry(&std::fs::read(&three).unwrap());
    // This plugin's own executable for f32[7], filed under the f32[3] key with the f32[3]
    // shapes: the plugin loads it, the shapes it reports differ, so it is not used.
    let seven = client()
        .compile_with(&program(5.0, 7), &CompileOptions::new().no_compile_cache())
        .unwrap()
        .serialize()
        .unwrap();
    std::fs::write(&three, forge_entry(&own.head, &seven)).unwrap();
    compile_and_check(client(), &cache, 5.0, 3);
    let s = cache.stats();
    if client()
        .compile(&program(5.0, 3))
        .unwrap()
        .parameters()
        .is_some()
    {
        assert_eq!((s.rejected, s.misses, s.hits), (1, 2, 0), "{s}");
    } else {
        // Without parameter shapes the outputs still differ (f32[7] vs f32[3]).
        assert_eq!(s.rejected, 1, "{s}");
    }
}

#[test]
fn side_effecting_compiles_bypass_the_cache() {
    let _counting = cache_counting();
    let (dir, cache) = fresh_cache();
    let dump = dir.path().join("dump");
    let exe = client()
        .compile_with(
            &program(6.0, 2),
            &opts(&cache).xla_option("xla_dump_to", dump.to_string_lossy().as_ref()),
        )
        .expect("compile with dumps");
    assert_eq!(
        exe.run(&[&Literal::vector(&[1.0f32, 2.0])]).unwrap()[0]
            .to_vec::<f32>()
            .unwrap(),
        vec![7.0, 8.0]
    );
    let s = cache.stats();
    assert_eq!((s.bypassed, s.misses, s.stored), (1, 0, 0), "{s}");
    assert!(cache.entries().unwrap().is_empty());
    // The dump happened, as asked; a hit would have skipped it.
    let dumped = std::fs::read_dir(&dump).map(|d| d.count()).unwrap_or(0);
    assert!(
        dumped > 0,
        "xla_dump_to wrote nothing into {}",
        dump.display()
    );

    // A custom call: not cached (whatever the compile then says about the target).
    let cc = Program::mlir_text(
        r#"func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  %0 = stablehlo.custom_call @Sharding(%x) {backend_config = ""} : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}"#,
    );
    let _ = client().compile_with(&cc, &opts(&cache));
    let s = cache.stats();
    assert_eq!((s.bypassed, s.stored), (2, 0), "{s}");
    assert!(cache.entries().unwrap().is_empty());
}

#[test]
fn the_least_recently_used_entries_go_first() {
    let _counting = cache_counting();
    let (_dir, probe) = fresh_cache();
    compile_and_check(client(), &probe, 9.0, 8);
    let size = probe.size_bytes().unwrap();
    assert!(size > 0);

    // Room for two and a half entries of this size (same-sized programs).
    let (_dir2, cache) = fresh_cache();
    let cache = cache.with_max_bytes(size * 5 / 2);
    compile_and_check(client(), &cache, 1.0, 8);
    compile_and_check(client(), &cache, 2.0, 8);
    std::thread::sleep(std::time::Duration::from_millis(20));
    compile_and_check(client(), &cache, 1.0, 8); // a hit: entry 1 is now the newest
    assert_eq!(cache.stats().hits, 1);
    std::thread::sleep(std::time::Duration::from_millis(20));
    compile_and_check(client(), &cache, 3.0, 8); // over the bound: entry 2 goes
    let s = cache.stats();
    assert_eq!(s.evicted, 1, "{s}");
    assert!(cache.size_bytes().unwrap() <= cache.max_bytes());
    compile_and_check(client(), &cache, 1.0, 8);
    compile_and_check(client(), &cache, 3.0, 8);
    assert_eq!(cache.stats().hits, 3, "entries 1 and 3 stayed");
    compile_and_check(client(), &cache, 2.0, 8);
    assert_eq!(cache.stats().misses, s.misses + 1, "entry 2 was evicted");
}

/// The programs the concurrent-fill children compile.
const CHILD_PROGRAMS: usize = 6;
const CHILD_DIR_VAR: &str = "PJRT_TEST_CACHE_CHILD_DIR";

/// Not a test on its own: the child of `two_processes_fill_one_cache_at_once` (does nothing
/// unless that test sets its variable).
#[test]
fn child_fill() {
    let Some(dir) = std::env::var_os(CHILD_DIR_VAR) else {
        return;
    };
    let cache = CompileCache::new(PathBuf::from(dir)).unwrap();
    for i in 0..CHILD_PROGRAMS {
        compile_and_check(client(), &cache, 10.0 + i as f32, 16);
    }
}

/// Starts this test binary running only `test`, with `env` added; its output is kept.
fn spawn_child(env: &[(&str, &Path)], test: &str) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn the test binary")
}

/// Waits for a child and fails with its output if it failed.
fn check_child(c: std::process::Child, what: &str) {
    let o = c.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "{what} failed ({}):\n{}{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn two_processes_fill_one_cache_at_once() {
    let _counting = cache_counting();
    let (_dir, cache) = fresh_cache();
    let children: Vec<_> = (0..2)
        .map(|_| {
            spawn_child(
                &[(CHILD_DIR_VAR, cache.dir())],
                "runtime::compile_cache::child_fill",
            )
        })
        .collect();
    for c in children {
        check_child(c, "a filling process");
    }
    let entries = cache.entries().unwrap();
    assert_eq!(entries.len(), CHILD_PROGRAMS, "{entries:?}");
    // Nothing half-written is left, and every entry loads.
    let names: Vec<String> = std::fs::read_dir(cache.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".entry"))
        .collect();
    assert_eq!(names.len(), CHILD_PROGRAMS);
    for i in 0..CHILD_PROGRAMS {
        compile_and_check(client(), &cache, 10.0 + i as f32, 16);
    }
    let s = cache.stats();
    assert_eq!(
        (s.hits, s.misses, s.rejected),
        (CHILD_PROGRAMS as u64, 0, 0),
        "{s}"
    );
}

const ENV_CHILD_VAR: &str = "PJRT_TEST_CACHE_ENV_CHILD";

/// Not a test on its own: the child of `the_environment_moves_or_switches_off_the_default`.
#[test]
fn child_env() {
    let Some(mode) = std::env::var_os(ENV_CHILD_VAR) else {
        return;
    };
    let exe = client().compile(&program(7.0, 2)).unwrap();
    assert_eq!(
        exe.run(&[&Literal::vector(&[0.0f32, 1.0])]).unwrap()[0]
            .to_vec::<f32>()
            .unwrap(),
        vec![7.0, 8.0]
    );
    let total = pjrt::compile_cache_stats();
    if mode == "off" {
        assert!(CompileCache::default_cache().is_none());
        assert_eq!(total, pjrt::CompileCacheStats::default());
    } else {
        let c = CompileCache::default_cache().expect("a default cache");
        assert_eq!(c.dir(), Path::new(&mode));
        assert_eq!(c.max_bytes(), 3 << 20, "PJRT_COMPILE_CACHE_MAX_BYTES=3M");
        assert_eq!((c.stats().misses, c.stats().stored), (1, 1));
        assert_eq!(total, c.stats());
    }
}

#[test]
fn the_environment_moves_or_switches_off_the_default() {
    let _counting = cache_counting();
    let dir = tempfile::tempdir().unwrap();
    let moved = dir.path().join("moved");
    let c = spawn_child(
        &[
            (ENV_CHILD_VAR, &moved),
            ("PJRT_COMPILE_CACHE", &moved),
            ("PJRT_COMPILE_CACHE_MAX_BYTES", Path::new("3M")),
        ],
        "runtime::compile_cache::child_env",
    );
    check_child(c, "the process with a moved cache");
    assert_eq!(
        CompileCache::new(&moved).unwrap().entries().unwrap().len(),
        1
    );

    let c = spawn_child(
        &[
            (ENV_CHILD_VAR, Path::new("off")),
            ("PJRT_COMPILE_CACHE", Path::new("off")),
        ],
        "runtime::compile_cache::child_env",
    );
    check_child(c, "the process with the cache off");
}

#[test]
fn an_executable_from_a_hit_saves_bytes_that_run() {
    let _counting = cache_counting();
    // The plugins serialize a loaded executable without its compiled code; a hit must give
    // back the bytes it was loaded from, so that saving it (as `train_digits` does) works.
    let (dir, cache) = fresh_cache();
    compile_and_check(client(), &cache, 8.0, 3);
    let hit = client()
        .compile_with(&program(8.0, 3), &opts(&cache))
        .unwrap();
    assert_eq!(cache.stats().hits, 1);
    let path = dir.path().join("hit.pjrt");
    hit.save(&path).unwrap();
    let again = client().load_executable(&path).unwrap();
    let out = again.run(&[&Literal::vector(&[1.0f32, 2.0, 3.0])]).unwrap();
    assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![9.0, 10.0, 11.0]);
}
