//! Nothing grows for the life of the process: custom rules, checkpoint policies and counted
//! loops live in the graph that uses them, and go when it goes.

use std::sync::Arc;

use crate::common::*;

/// Records a small function with a custom VJP, a checkpoint, a stop_gradient and a counted
/// loop, differentiates it, and (when `lower`) lowers the result. `token` is captured by the
/// custom rule.
fn one_graph(token: &Arc<()>, lower: bool) {
    let mut b = Builder::new("g");
    let x = b.parameter("x", F32, [8]).unwrap();
    let t = token.clone();
    let y = autodiff::custom_vjp(
        &mut b,
        "square",
        &[x],
        |b, a| Ok(vec![b.mul(a[0], a[0])?]),
        move |b, xs, _ys, cts| {
            let _keep = &t;
            let two = b.scalar(F32, 2.0)?;
            let d = b.mul(xs[0], two)?;
            Ok(vec![Some(b.mul(d, cts[0])?)])
        },
    )
    .unwrap()[0];
    let z = autodiff::checkpoint(&mut b, "sin", &[y], |b, a| Ok(vec![b.sin(a[0])?])).unwrap()[0];
    let s = autodiff::stop_gradient(&mut b, z).unwrap();
    let w = autodiff::fori_loop(&mut b, 3, &[z], |b, _i, st| Ok(vec![b.tanh(st[0])?])).unwrap()[0];
    let w = b.add(w, s).unwrap();
    let l = b.reduce_sum(w, [0]).unwrap();
    let g = autodiff::grad(&mut b, l, &[x]).unwrap();
    if lower {
        b.build(&[l, g[0]]).unwrap();
    }
}

/// Resident memory of this process in bytes (Linux).
fn rss() -> usize {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = s
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[test]
fn custom_rules_are_freed_with_their_graph() {
    let token = Arc::new(());
    one_graph(&token, true);
    // Every clone the custom rule held went with the builder: nothing kept it.
    assert_eq!(Arc::strong_count(&token), 1);
}

/// Run by `memory_stays_flat_over_10000_graphs` in a child process of its own (other tests
/// would move this process's memory while it measures).
#[test]
#[ignore = "run as a child process by memory_stays_flat_over_10000_graphs"]
fn child_ten_thousand_graphs() {
    let token = Arc::new(());
    // Warm up: the allocator's arenas and MLIR's one-time setup.
    for i in 0..1000 {
        one_graph(&token, i % 100 == 0);
    }
    let before = rss();
    for i in 0..9000 {
        one_graph(&token, i % 100 == 0);
    }
    let after = rss();
    assert_eq!(Arc::strong_count(&token), 1);
    println!("RSS after 1000 graphs: {before} bytes, after 10000: {after} bytes");
    // A process-global entry per graph would grow without bound; allow the allocator 4 MB
    // of slack.
    assert!(
        after <= before + 4 * 1024 * 1024,
        "memory grew by {} bytes over 9000 graphs",
        after.saturating_sub(before)
    );
}

#[test]
fn memory_stays_flat_over_10000_graphs() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "lifetime::child_ten_thousand_graphs",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "the child test did not run:\n{text}"
    );
    if let Some(line) = text.lines().find(|l| l.starts_with("RSS")) {
        eprintln!("{line}");
    }
}
