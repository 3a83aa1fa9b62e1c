//! Recording + lowering speed: a 3000-op elementwise chain (JAX traces and lowers the same
//! chain in about 0.4 s on this machine, see FACTS.md) and a 10000-op graph mixing
//! elementwise ops, matmuls, reductions and broadcasts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{criterion_group, criterion_main, Criterion};

/// Counts live heap bytes, to report the memory a recorded op costs.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, Ordering::Relaxed);
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Prints the heap bytes per recorded op of the two graphs (graph only, nothing lowered).
fn memory_per_op() {
    for (name, make, n) in [
        ("3000-op chain", chain as fn(usize) -> Builder, 3000),
        ("10000-op graph", graph, 10000),
    ] {
        let before = LIVE.load(Ordering::Relaxed);
        let b = make(n);
        let bytes = LIVE.load(Ordering::Relaxed) - before;
        let ops = b.graph().len();
        println!(
            "memory: {name}: {ops} nodes, {bytes} bytes live, {:.0} bytes per recorded op",
            bytes as f64 / ops as f64
        );
        drop(b);
    }
}
use hlo_builder::{Builder, ElementType::F32, Value};

/// x -> sin -> *x -> +x -> exp ... (3000 unary/binary ops on f32[128]).
fn chain(n: usize) -> Builder {
    let mut b = Builder::new("chain");
    let x = b.parameter("x", F32, [128]).unwrap();
    let mut y = x;
    for i in 0..n {
        y = match i % 4 {
            0 => b.sin(y).unwrap(),
            1 => b.mul(y, x).unwrap(),
            2 => b.add(y, x).unwrap(),
            _ => b.tanh(y).unwrap(),
        };
    }
    b.finish_check(y)
}

/// A wider graph: layers of matmul + bias + activation + normalization, about `n` ops.
fn graph(n: usize) -> Builder {
    let mut b = Builder::new("graph");
    let x = b.parameter("x", F32, [16, 32]).unwrap();
    let w = b.parameter("w", F32, [32, 32]).unwrap();
    let bias = b.parameter("b", F32, [32]).unwrap();
    let mut h = x;
    let mut outs: Vec<Value> = Vec::new();
    while b.graph().len() < n {
        let m = b.matmul(h, w).unwrap();
        let a = b.add(m, bias).unwrap();
        let r = b.gelu(a, true).unwrap();
        let s = b.softmax(r, 1).unwrap();
        let v = b.mean(s).unwrap();
        outs.push(v);
        h = b.sub(s, v).unwrap();
    }
    outs.push(h);
    b.finish_check(outs[outs.len() - 1])
}

trait FinishCheck {
    fn finish_check(self, t: Value) -> Self;
}
impl FinishCheck for Builder {
    fn finish_check(self, t: Value) -> Self {
        assert!(self.ty(t).is_ok());
        self
    }
}

fn bench(c: &mut Criterion) {
    memory_per_op();
    c.bench_function("record 3000-op chain", |bn| bn.iter(|| chain(3000)));
    c.bench_function("record + lower 3000-op chain", |bn| {
        bn.iter(|| {
            let b = chain(3000);
            let last = b.tensor(hlo_builder::ValueId {
                node: hlo_builder::NodeId(b.graph().len() as u32 - 1),
                output: 0,
            });
            b.build(&[last]).unwrap().to_text().len()
        })
    });
    c.bench_function("record + lower 10000-op graph", |bn| {
        bn.iter(|| {
            let b = graph(10000);
            let last = b.tensor(hlo_builder::ValueId {
                node: hlo_builder::NodeId(b.graph().len() as u32 - 1),
                output: 0,
            });
            b.build(&[last]).unwrap().bytecode().len()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
