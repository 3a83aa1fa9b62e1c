//! Serves timed blocks of one workload (`benches::workloads`) to `compare/harness.py`, which
//! alternates them with blocks of JAX's twin so that both see the same machine load.
//!
//! Usage: `workload_server <workload> [--tuned | --how HOW] [--save-init FILE]` (HOW:
//! `plain`, `tuned` or `FORM,THREADS,K`, see `benches::workloads::How`). Prints
//! `ready <steps per call> <description>`; then for each line `N` read from stdin runs `N`
//! steps (calls) and prints the mean seconds per step. Ends at end of input.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Instant;

use benches::workloads::How;
use benches::BenchError;

fn main() {
    if let Err(e) = serve() {
        eprintln!("workload_server: {e}");
        std::process::exit(1);
    }
}

fn serve() -> Result<(), BenchError> {
    let mut args = std::env::args().skip(1);
    let mut name = None;
    let mut how = How::Plain;
    let mut init = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--tuned" => how = How::Tuned,
            "--how" => how = args.next().ok_or("--how needs a value")?.parse()?,
            "--save-init" => {
                init = Some(PathBuf::from(
                    args.next().ok_or("--save-init needs a file")?,
                ))
            }
            _ if name.is_none() => name = Some(a),
            other => return Err(format!("unexpected argument {other:?}").into()),
        }
    }
    let name = name.ok_or_else(|| {
        format!(
            "usage: workload_server <workload> [--tuned | --how HOW] [--save-init FILE]; workloads: {:?}",
            benches::workloads::WORKLOADS
        )
    })?;
    let (_plugin, client) = benches::bench_client()?;
    let mut w = benches::workloads::workload(&client, &name, how, init.as_deref())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready {} {}", w.k, w.describe)?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let n: usize = line
            .trim()
            .parse()
            .map_err(|e| format!("expected a step count on stdin, got {line:?}: {e}"))?;
        let t = Instant::now();
        w.run(n)?;
        writeln!(out, "{:e}", t.elapsed().as_secs_f64() / n.max(1) as f64)?;
        out.flush()?;
    }
    Ok(())
}
