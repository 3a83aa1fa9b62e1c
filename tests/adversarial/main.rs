//! The adversarial suite: hundreds of hostile inputs to the builder, autodiff, the runtime,
//! files (executables, data, plugins) and the plugins, each run in a process of its own with
//! a memory limit and a wall-clock timeout, classified by what happened.
//!
//! ```sh
//! cargo test -p integration-tests --test adversarial          # every case (make test runs it)
//! ADVERSARIAL_FILTER=runtime/foreign cargo test -p integration-tests --test adversarial
//! ADVERSARIAL_CASE=files/exe-flip-at-100 cargo test -p integration-tests --test adversarial
//! ```
//!
//! The binary is its own driver (`harness = false`): without `ADVERSARIAL_CASE` it prepares
//! shared files (executables compiled once, a signing key), runs every case as a child
//! process of this same binary with `ADVERSARIAL_CASE=<name>`, and classifies each child:
//!
//! - **clean error**: the library refused with an error (and the case expected one whose
//!   message names the problem);
//! - **correct result**: the library produced a result the case checked;
//! - **crash**: the child died of a signal (SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, ...);
//! - **hang**: the child ran past the timeout and was killed;
//! - **panic**: the child panicked (exit code 101);
//! - **wrong result**: a result that is wrong, or an input accepted that had to be refused;
//! - **unexpected**: an error where a result was expected, a result where an error was, or
//!   an error about something else than the case's subject.
//!
//! It prints a table of cases by area and outcome, writes it to
//! `target/tmp/adversarial/report.md`, and fails unless every case is a clean error or a
//! correct result as expected. Children get `RLIMIT_AS` (4 GiB, `ADVERSARIAL_MEMORY_GIB`),
//! no core files, and `ADVERSARIAL_TIMEOUT` seconds (60); `ADVERSARIAL_JOBS` children run
//! at once (the number of cores).

mod case;
mod cases;
#[path = "../common/programs.rs"]
mod programs;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use case::{Area, Ctx, Expect, Outcome};

const CASE_VAR: &str = "ADVERSARIAL_CASE";
const DIR_VAR: &str = "ADVERSARIAL_DIR";
const MARK: &str = "ADVERSARIAL-OUTCOME\t";

fn main() -> ExitCode {
    // `cargo test` passes libtest flags (e.g. `--nocapture`, a filter): ignored here; the
    // environment variables above select cases.
    match std::env::var(CASE_VAR) {
        Ok(name) => child(&name),
        Err(_) => driver(),
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------------------
// The child: one case.

/// Limits this process's address space and turns off core files, before anything else.
fn limit_self() {
    let gib = env_u64("ADVERSARIAL_MEMORY_GIB", 4);
    let set = |resource, value: u64| {
        let lim = libc::rlimit {
            rlim_cur: value as libc::rlim_t,
            rlim_max: value as libc::rlim_t,
        };
        // SAFETY: setrlimit reads the struct we pass; it changes only this process's limits.
        unsafe { libc::setrlimit(resource, &lim) }
    };
    set(libc::RLIMIT_CORE, 0);
    set(libc::RLIMIT_AS, gib << 30);
}

/// Cases that must fail in each way the driver classifies: run first, so a broken driver
/// (one that would call a crash an error) cannot pass the suite.
fn selftests() -> Vec<(case::Case, Class)> {
    use case::{case, wrong, Area::Runtime, Expect::Correct};
    vec![
        (
            case(Runtime, "selftest-abort", Correct, |_| {
                std::process::abort()
            }),
            Class::Crash,
        ),
        (
            case(Runtime, "selftest-segv", Correct, |_| {
                // The first SIGSEGV reaches Rust's stack-overflow handler, which restores the
                // default action and returns; the second kills the process, as a real fault
                // would. SAFETY: raising a signal in this child on purpose.
                unsafe {
                    libc::raise(libc::SIGSEGV);
                    libc::raise(libc::SIGSEGV);
                }
                wrong("still alive")
            }),
            Class::Crash,
        ),
        (
            case(Runtime, "selftest-hang", Correct, |_| loop {
                std::thread::sleep(Duration::from_secs(1))
            }),
            Class::Hang,
        ),
        (
            case(Runtime, "selftest-panic", Correct, |_| panic!("on purpose")),
            Class::Panic,
        ),
        (
            case(Runtime, "selftest-wrong", Correct, |_| wrong("on purpose")),
            Class::Wrong,
        ),
        (
            case(Runtime, "selftest-memory-limit", Correct, |_| {
                // 8 GiB, touched: past the child's address-space limit, so the allocation
                // fails (Rust aborts on a failed infallible allocation).
                let v = vec![1u8; 8 << 30];
                wrong(format!("allocated {} bytes past the limit", v.len()))
            }),
            Class::Crash,
        ),
    ]
}

fn child(name: &str) -> ExitCode {
    limit_self();
    let mut all = cases::all();
    all.extend(selftests().into_iter().map(|(c, _)| c));
    let Some(c) = all.iter().find(|c| c.name == name) else {
        eprintln!("no case named {name}");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(std::env::var(DIR_VAR).unwrap_or_default());
    let scratch = dir.join("scratch").join(name.replace('/', "_"));
    let _ = std::fs::create_dir_all(&scratch);
    let ctx = Ctx::new(dir, scratch.clone());
    let outcome = match (c.body)(&ctx) {
        Ok(o) => o,
        Err(e) => Outcome::Error(e.to_string()),
    };
    let _ = std::fs::remove_dir_all(&scratch);
    let (kind, detail) = match &outcome {
        Outcome::Error(m) => ("error", m),
        Outcome::Correct(m) => ("correct", m),
        Outcome::Wrong(m) => ("wrong", m),
    };
    let detail: String = detail
        .replace(['\n', '\t'], " ")
        .chars()
        .take(2000)
        .collect();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{MARK}{kind}\t{detail}");
    let _ = out.flush();
    // Skip the statics' destructors: what a case made was dropped inside it.
    std::process::exit(0)
}

// ---------------------------------------------------------------------------------------
// The driver.

/// What happened to one case, as the table counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Class {
    CleanError,
    Correct,
    Crash,
    Hang,
    Panic,
    Wrong,
    Unexpected,
}

impl Class {
    const ALL: [Class; 7] = [
        Class::CleanError,
        Class::Correct,
        Class::Crash,
        Class::Hang,
        Class::Panic,
        Class::Wrong,
        Class::Unexpected,
    ];

    fn name(self) -> &'static str {
        match self {
            Class::CleanError => "clean error",
            Class::Correct => "correct result",
            Class::Crash => "crash",
            Class::Hang => "hang",
            Class::Panic => "panic",
            Class::Wrong => "wrong result",
            Class::Unexpected => "unexpected",
        }
    }

    fn ok(self) -> bool {
        matches!(self, Class::CleanError | Class::Correct)
    }
}

struct Report {
    name: String,
    area: Area,
    class: Class,
    detail: String,
    seconds: f64,
}

fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGSEGV => "SIGSEGV".into(),
        libc::SIGABRT => "SIGABRT".into(),
        libc::SIGBUS => "SIGBUS".into(),
        libc::SIGFPE => "SIGFPE".into(),
        libc::SIGILL => "SIGILL".into(),
        libc::SIGKILL => "SIGKILL".into(),
        libc::SIGTRAP => "SIGTRAP".into(),
        s => format!("signal {s}"),
    }
}

/// Runs one case in a child and classifies it.
fn run_child(exe: &Path, dir: &Path, c: &case::Case, timeout: Duration) -> Report {
    let start = Instant::now();
    let report = |class, detail: String| Report {
        name: c.name.clone(),
        area: c.area,
        class,
        detail,
        seconds: start.elapsed().as_secs_f64(),
    };
    let spawned = Command::new(exe)
        .env(CASE_VAR, &c.name)
        .env(DIR_VAR, dir)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(ch) => ch,
        Err(e) => return report(Class::Unexpected, format!("cannot start the child: {e}")),
    };
    // Read both pipes on threads, so a chatty plugin cannot block the child.
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let tail = |s: &str| -> String {
        let t: Vec<&str> = s.lines().rev().take(4).collect();
        t.into_iter().rev().collect::<Vec<_>>().join(" | ")
    };
    let Some(status) = status else {
        return report(Class::Hang, format!("killed after {timeout:?}"));
    };
    use std::os::unix::process::ExitStatusExt;
    if let Some(sig) = status.signal() {
        return report(
            Class::Crash,
            format!("{}; stderr: {}", signal_name(sig), tail(&stderr)),
        );
    }
    if status.code() == Some(101) || stderr.contains("panicked at") {
        return report(Class::Panic, tail(&stderr));
    }
    let Some(line) = stdout.lines().rev().find_map(|l| l.strip_prefix(MARK)) else {
        return report(
            Class::Unexpected,
            format!(
                "exit {status} without an outcome; stderr: {}",
                tail(&stderr)
            ),
        );
    };
    let (kind, detail) = line.split_once('\t').unwrap_or((line, ""));
    let detail = detail.to_string();
    match (kind, c.expect) {
        ("wrong", _) => report(Class::Wrong, detail),
        ("error", Expect::Error(needle)) => {
            if detail.to_lowercase().contains(&needle.to_lowercase()) {
                report(Class::CleanError, detail)
            } else {
                report(
                    Class::Unexpected,
                    format!("an error without `{needle}`: {detail}"),
                )
            }
        }
        ("error", Expect::Correct) => report(
            Class::Unexpected,
            format!("an error, a result expected: {detail}"),
        ),
        ("correct", Expect::Correct) => report(Class::Correct, detail),
        ("correct", Expect::Error(needle)) => report(
            Class::Unexpected,
            format!("a result, an error about `{needle}` expected: {detail}"),
        ),
        (k, _) => report(Class::Unexpected, format!("unknown outcome {k}: {detail}")),
    }
}

fn driver() -> ExitCode {
    let started = Instant::now();
    let all = cases::all();
    // Names must be unique: children find their case by name.
    let mut seen = std::collections::HashSet::new();
    for c in &all {
        if !seen.insert(c.name.clone()) {
            eprintln!("adversarial: two cases named {}", c.name);
            return ExitCode::FAILURE;
        }
    }
    let filter = std::env::var("ADVERSARIAL_FILTER").unwrap_or_default();
    let selected: Vec<&case::Case> = all.iter().filter(|c| c.name.contains(&filter)).collect();
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("adversarial");
    let dir = root.join(format!("run-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir)
        .map_err(|e| e.to_string())
        .and_then(|_| cases::prepare(&dir))
    {
        eprintln!("adversarial: preparing the shared files failed: {e}");
        return ExitCode::FAILURE;
    }
    let prepared = started.elapsed();
    // The driver's own check: each way of failing is classified as such.
    for (c, want) in selftests() {
        let exe = std::env::current_exe().unwrap_or_default();
        let r = run_child(&exe, &dir, &c, Duration::from_secs(3));
        if r.class != want {
            eprintln!(
                "adversarial: the driver classified {} as {}, not {}: {}",
                c.name,
                r.class.name(),
                want.name(),
                r.detail
            );
            return ExitCode::FAILURE;
        }
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("adversarial: cannot find this binary: {e}");
            return ExitCode::FAILURE;
        }
    };
    let jobs = env_u64(
        "ADVERSARIAL_JOBS",
        std::thread::available_parallelism().map_or(2, |n| n.get() as u64),
    )
    .max(1) as usize;
    let timeout = Duration::from_secs(env_u64("ADVERSARIAL_TIMEOUT", 60));
    println!(
        "adversarial: {} cases ({} selected), {jobs} at a time, timeout {timeout:?}, memory limit {} GiB",
        all.len(),
        selected.len(),
        env_u64("ADVERSARIAL_MEMORY_GIB", 4)
    );
    let next = Arc::new(Mutex::new(0usize));
    let reports: Arc<Mutex<Vec<Report>>> = Arc::default();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            let (next, reports, selected, exe, dir) = (&next, &reports, &selected, &exe, &dir);
            s.spawn(move || loop {
                let i = {
                    let mut n = next.lock().unwrap_or_else(|p| p.into_inner());
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some(c) = selected.get(i) else { break };
                let r = run_child(exe, dir, c, timeout);
                if !r.class.ok() {
                    println!(
                        "  {} {}: {}",
                        r.class.name().to_uppercase(),
                        r.name,
                        r.detail
                    );
                }
                reports.lock().unwrap_or_else(|p| p.into_inner()).push(r);
            });
        }
    });
    let mut reports = std::mem::take(&mut *reports.lock().unwrap_or_else(|p| p.into_inner()));
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    let _ = std::fs::remove_dir_all(&dir);
    let elapsed = started.elapsed();
    let table = render(&reports, elapsed, prepared);
    println!("{table}");
    let _ = std::fs::write(root.join("report.md"), &table);
    let slowest: Vec<String> = {
        let mut by_time: Vec<&Report> = reports.iter().collect();
        by_time.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        by_time
            .iter()
            .take(5)
            .map(|r| format!("{} {:.1} s", r.name, r.seconds))
            .collect()
    };
    println!("slowest: {}", slowest.join(", "));
    let bad = reports.iter().filter(|r| !r.class.ok()).count();
    if bad > 0 {
        println!("adversarial: {bad} of {} cases failed:", reports.len());
        for r in reports.iter().filter(|r| !r.class.ok()) {
            println!("  {} [{}] {}", r.name, r.class.name(), r.detail);
        }
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// The markdown table of cases by area and outcome.
fn render(reports: &[Report], elapsed: Duration, prepared: Duration) -> String {
    let mut counts: BTreeMap<(Area, Class), usize> = BTreeMap::new();
    for r in reports {
        *counts.entry((r.area, r.class)).or_default() += 1;
    }
    let mut t = String::new();
    t.push_str("| area | cases |");
    for c in Class::ALL {
        t.push_str(&format!(" {} |", c.name()));
    }
    t.push_str("\n|---|---:|");
    for _ in Class::ALL {
        t.push_str("---:|");
    }
    t.push('\n');
    let mut total = vec![0usize; Class::ALL.len()];
    for a in Area::ALL {
        let n: usize = Class::ALL
            .iter()
            .map(|c| counts.get(&(a, *c)).copied().unwrap_or(0))
            .sum();
        t.push_str(&format!("| {} | {n} |", a.name()));
        for (k, c) in Class::ALL.iter().enumerate() {
            let v = counts.get(&(a, *c)).copied().unwrap_or(0);
            total[k] += v;
            t.push_str(&format!(" {v} |"));
        }
        t.push('\n');
    }
    t.push_str(&format!("| **all** | **{}** |", reports.len()));
    for v in total {
        t.push_str(&format!(" **{v}** |"));
    }
    t.push_str(&format!(
        "\n\n{} cases in {:.0} s ({:.0} s preparing shared files).\n",
        reports.len(),
        elapsed.as_secs_f64(),
        prepared.as_secs_f64()
    ));
    t
}
