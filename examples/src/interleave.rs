//! The served side of an interleaved comparison with JAX (`benches/compare/*.py`): the
//! Python driver alternates blocks of JAX's step with blocks of ours, run by a process that
//! waits on a pipe, so that both see the same machine load.
//!
//! Protocol: print `ready`; then for each line `N` read from stdin run `N` steps and print
//! the mean seconds per step; end at end of input.

use std::error::Error;
use std::io::{BufRead, Write};
use std::time::Instant;

/// Serves timed blocks of `step` (one call = one step, waited for) on stdin/stdout.
pub fn serve_timed_blocks<E>(
    mut step: impl FnMut() -> Result<(), E>,
) -> Result<(), Box<dyn Error + Send + Sync>>
where
    E: Into<Box<dyn Error + Send + Sync>>,
{
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let n: u32 = line
            .trim()
            .parse()
            .map_err(|e| format!("expected a step count on stdin, got {line:?}: {e}"))?;
        let t = Instant::now();
        for _ in 0..n {
            step().map_err(Into::into)?;
        }
        writeln!(out, "{:e}", t.elapsed().as_secs_f64() / f64::from(n.max(1)))?;
        out.flush()?;
    }
    Ok(())
}
