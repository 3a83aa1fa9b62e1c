//! Serves timed blocks of the MLP training step (`benches::mlp_step`) to
//! `compare/jax_reference.py mlp_interleaved`, which alternates them with blocks of JAX's step
//! so that both see the same machine load (this machine's speed drifts by tens of percent
//! over minutes; numbers taken minutes apart do not compare).
//!
//! Usage: `step_server <benchmark name>`; prints `ready`, then for each line `N` read from
//! stdin runs N steps and prints the mean time per step in seconds. Ends at end of input.

use benches::BenchError;
use pjrt::{Client, ClientOptions, Plugin};

fn main() {
    if let Err(e) = serve() {
        eprintln!("step_server: {e}");
        std::process::exit(1);
    }
}

fn serve() -> Result<(), BenchError> {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(&(sizes, batch, name)) = benches::MLPS.iter().find(|m| m.2 == name) else {
        let names: Vec<&str> = benches::MLPS.iter().map(|m| m.2).collect();
        return Err(
            format!("usage: step_server <name>, name one of {names:?} (got {name:?})").into(),
        );
    };
    let plugin = Plugin::load_default()?;
    let client = Client::new(&plugin, &ClientOptions::new().cpu_device_count(1))?;
    let (mut step, [xb, yb]) = benches::mlp_step(&client, sizes, batch, name)?;
    examples::interleave::serve_timed_blocks(|| step.step_buffers(&[&xb, &yb])?.loss().map(drop))
}
