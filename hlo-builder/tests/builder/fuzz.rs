//! Randomized misuse: thousands of random op sequences with random (often invalid) shapes,
//! types, axes and attributes. Every misuse must be an `Err` (never a panic), every graph
//! whose ops were accepted must lower, and a sample of them must compile and run on the
//! CPU plugin. The PRNG is a seeded xorshift, so failures reproduce.
use crate::common::*;
use std::panic::{catch_unwind, AssertUnwindSafe};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    /// A dimension: mostly 0..=3, sometimes negative or absurdly large.
    fn dim(&mut self) -> i64 {
        match self.below(100) {
            0..=2 => -1,
            3 => 1 << 45,
            4..=9 => 0,
            _ => 1 + self.below(3) as i64,
        }
    }
    fn dims(&mut self) -> Vec<i64> {
        let r = self.below(4);
        (0..r).map(|_| self.dim()).collect()
    }
    /// An axis for rank `r`: usually valid, sometimes -1 or r.
    fn axis(&mut self, r: usize) -> i64 {
        self.below(r + 2) as i64 - if self.chance(10) { 1 } else { 0 }
    }
    fn axes(&mut self, r: usize) -> Vec<i64> {
        let n = self.below(r + 2);
        (0..n).map(|_| self.axis(r)).collect()
    }
    /// A small integer attribute (strides, paddings, sizes), sometimes invalid.
    fn small(&mut self) -> i64 {
        self.below(6) as i64 - 1
    }
    fn smalls(&mut self, n: usize) -> Vec<i64> {
        let n = if self.chance(10) { n + 1 } else { n };
        (0..n).map(|_| self.small()).collect()
    }
}

const TYPES: [ElementType; 13] = [
    F32, F32, F64, F16, BF16, S32, S32, S8, U8, U32, U64, Pred, C64,
];
const CONVERT_TO: [ElementType; 9] = [F32, S32, Pred, F16, BF16, C64, F8E4M3FN, F8E5M2, Token];

/// Records one random op; returns its name and whether it was accepted.
fn random_op(
    r: &mut Rng,
    b: &mut Builder,
    pool: &mut Vec<Value>,
    foreign: Value,
) -> (String, bool) {
    let t = |r: &mut Rng| {
        if r.chance(2) {
            foreign
        } else {
            pool[r.below(pool.len())]
        }
    };
    let x = t(r);
    let y = t(r);
    let z = t(r);
    let rank = b.ty(x).map(|t| t.rank()).unwrap_or(1);
    let which = r.below(39);
    let res: Result<Vec<Value>> = match which {
        0 => b.unary(r.pick(UnaryOp::ALL), x).map(|v| vec![v]),
        1 => b.binary(r.pick(BinaryOp::ALL), x, y).map(|v| vec![v]),
        2 => b
            .compare(r.pick(&ComparisonDirection::ALL), x, y)
            .map(|v| vec![v]),
        3 => b.select(x, y, z).map(|v| vec![v]),
        4 => b.clamp(x, y, z).map(|v| vec![v]),
        5 => b.convert(x, r.pick(&CONVERT_TO)).map(|v| vec![v]),
        6 => b.bitcast_convert(x, r.pick(&TYPES)).map(|v| vec![v]),
        7 => {
            let d = if r.chance(50) {
                vec![b.ty(x).map(|t| t.element_count()).unwrap_or(1)]
            } else {
                r.dims()
            };
            b.reshape(x, d).map(|v| vec![v])
        }
        8 => {
            let mut p: Vec<i64> = (0..rank as i64).collect();
            for i in (1..p.len()).rev() {
                p.swap(i, r.below(i + 1));
            }
            if r.chance(20) {
                p = r.axes(rank);
            }
            b.transpose(x, p).map(|v| vec![v])
        }
        9 => {
            let mut d = b.ty(x).map(|t| t.dims.to_vec()).unwrap_or_default();
            d.insert(0, r.dim());
            let bd: Vec<i64> = if r.chance(80) {
                (1..=rank as i64).collect()
            } else {
                r.axes(rank)
            };
            b.broadcast_in_dim(x, d, bd).map(|v| vec![v])
        }
        10 => {
            let d = r.dims();
            b.broadcast_to(x, d).map(|v| vec![v])
        }
        11 => {
            let (s, l, st) = (r.smalls(rank), r.smalls(rank), r.smalls(rank));
            b.slice(x, s, l, st).map(|v| vec![v])
        }
        12 => {
            let i = b.scalar(S32, r.small() as f64).unwrap();
            let starts = vec![i; rank];
            let sizes = r.smalls(rank);
            b.dynamic_slice(x, &starts, sizes).map(|v| vec![v])
        }
        13 => {
            let i = b.scalar(S32, 0.0).unwrap();
            b.dynamic_update_slice(x, y, &vec![i; rank])
                .map(|v| vec![v])
        }
        14 => {
            let a = r.axis(rank);
            b.concatenate(&[x, y], a).map(|v| vec![v])
        }
        15 => {
            let (lo, hi, int) = (r.smalls(rank), r.smalls(rank), r.smalls(rank));
            b.pad(x, y, lo, hi, int).map(|v| vec![v])
        }
        16 => {
            let a = r.axes(rank);
            b.reverse(x, a).map(|v| vec![v])
        }
        17 => {
            let d = GatherDims {
                offset_dims: r.axes(rank),
                collapsed_slice_dims: r.axes(rank),
                start_index_map: r.axes(rank),
                index_vector_dim: r.axis(1),
            };
            let ss = r.smalls(rank);
            if r.chance(50) {
                // a well-formed row gather: x[idx[k], ...] for idx = [0, 1]
                let dims = b.ty(x).map(|t| t.dims.to_vec()).unwrap_or_default();
                let idx = b.constant(&[0i32, 1], [2]).unwrap();
                let d = GatherDims {
                    offset_dims: (1..rank as i64).collect(),
                    collapsed_slice_dims: vec![0],
                    start_index_map: vec![0],
                    index_vector_dim: 1,
                };
                let mut ss = dims.clone();
                if let Some(s0) = ss.first_mut() {
                    *s0 = 1;
                }
                b.gather(x, idx, d, ss, false).map(|v| vec![v])
            } else {
                b.gather(x, y, d, ss, false).map(|v| vec![v])
            }
        }
        18 => {
            let dd = DotDims {
                lhs_batch: r.axes(1),
                rhs_batch: r.axes(1),
                lhs_contracting: vec![r.axis(rank)],
                rhs_contracting: vec![r.axis(rank)],
            };
            b.dot_general(x, y, dd, [Precision::Default; 2])
                .map(|v| vec![v])
        }
        19 => b.matmul(x, y).map(|v| vec![v]),
        20 => {
            let a = r.axes(rank);
            b.reduce_sum(x, a).map(|v| vec![v])
        }
        21 => {
            let a = r.axes(rank);
            let op = r.pick(BinaryOp::ALL);
            let init = y;
            b.reduce(&[x], &[init], a, move |b, a| {
                Ok(vec![b.binary(op, a[0], a[1])?])
            })
            .map(|v| v.to_vec())
        }
        22 => {
            let a = r.axis(rank);
            b.argmax(x, a).map(|v| vec![v])
        }
        23 => {
            let a = r.axis(rank);
            b.softmax(x, a).map(|v| vec![v])
        }
        24 => b.mean(x).map(|v| vec![v]),
        25 => {
            let a = r.axis(rank);
            b.sort(&[x, y], a, r.chance(50), |b, a| Ok(vec![b.lt(a[0], a[1])?]))
                .map(|v| v.to_vec())
        }
        26 => {
            let k = r.small();
            b.top_k(x, k).map(|(v, i)| vec![v, i])
        }
        27 => {
            let a = r.axis(rank);
            b.cumsum(x, a).map(|v| vec![v])
        }
        28 => {
            let n = rank.saturating_sub(2);
            let mut c = ConvConfig::new(if r.chance(50) {
                ConvDims::nhwc(n)
            } else {
                ConvDims::nchw(n)
            });
            if r.chance(30) {
                c.window_strides = r.smalls(n);
            }
            if r.chance(30) {
                c.padding = (0..n).map(|_| (r.small(), r.small())).collect();
            }
            if r.chance(20) {
                c.lhs_dilation = r.smalls(n);
            }
            if r.chance(20) {
                c.feature_group_count = r.small();
            }
            b.convolution(x, y, c).map(|v| vec![v])
        }
        29 => {
            let w = r.smalls(rank);
            let s = r.smalls(rank);
            b.max_pool(x, w, s).map(|v| vec![v])
        }
        30 => {
            let d = r.small();
            b.one_hot(x, d, F32).map(|v| vec![v])
        }
        31 => b.erf(x).map(|v| vec![v]),
        32 => b.cond(
            x,
            &[y],
            |b, a| Ok(vec![b.neg(a[0])?]),
            |_, a| Ok(vec![a[0]]),
        ),
        33 => {
            let d = ScatterDims {
                update_window_dims: r.axes(rank),
                inserted_window_dims: r.axes(rank),
                scatter_dims_to_operand_dims: r.axes(rank),
                index_vector_dim: r.axis(1),
            };
            if r.chance(50) {
                // a well-formed row scatter: add x's first row into row 0
                let dims = b.ty(x).map(|t| t.dims.to_vec()).unwrap_or_default();
                let idx = b.constant(&[0i32], [1, 1]).unwrap();
                let mut lim = dims.clone();
                if let Some(l0) = lim.first_mut() {
                    *l0 = (*l0).min(1);
                }
                let upd = b.slice(x, vec![0; rank], lim, vec![1; rank]);
                let d = ScatterDims {
                    update_window_dims: (1..rank as i64).collect(),
                    inserted_window_dims: vec![0],
                    scatter_dims_to_operand_dims: vec![0],
                    index_vector_dim: 1,
                };
                match upd {
                    Ok(u) => b.scatter(&[x], idx, &[u], d, |b, a| Ok(vec![b.add(a[0], a[1])?])),
                    Err(e) => Err(e),
                }
            } else {
                b.scatter(&[x], y, &[z], d, |b, a| Ok(vec![b.add(a[0], a[1])?]))
            }
        }
        34 => {
            let tys: Vec<TensorType> = [y, z]
                .iter()
                .filter_map(|t| b.ty(*t).ok().cloned())
                .collect();
            let br = vec![
                Builder::computation("b0", &tys, |_, a| Ok(a.to_vec())),
                Builder::computation("b1", &tys, |b, a| {
                    a.iter().map(|t| b.zeros_like(*t)).collect()
                }),
            ];
            match br.into_iter().collect::<Result<Vec<_>>>() {
                Ok(br) => b.case_with(x, &[y, z], br),
                Err(e) => Err(e),
            }
        }
        35 => {
            let f = b
                .ty(x)
                .cloned()
                .and_then(|t| Builder::computation("f", &[t], |b, a| Ok(vec![b.abs(a[0])?, a[0]])));
            match f {
                Ok(f) => {
                    let n = 1 + r.below(2);
                    b.call(&f, &[x, y][..n])
                }
                Err(e) => Err(e),
            }
        }
        36 => {
            let out = TensorType::new(r.pick(&TYPES), r.dims());
            // half the time from a well-formed u64[2] state
            let st = if r.chance(50) {
                b.constant(&[1u64, 2], [2]).unwrap()
            } else {
                x
            };
            b.rng_bit_generator(st, RngAlgorithm::ThreeFry, out)
                .map(|(s, v)| vec![s, v])
        }
        37 => {
            let (s, l) = (r.small(), r.small());
            let a = r.axis(rank);
            b.slice_axis(x, a, s, l).map(|v| vec![v])
        }
        _ => {
            let dims = r.dims();
            let ty = r.pick(&TYPES);
            match r.below(3) {
                0 => b.iota(ty, dims, r.axis(1)).map(|v| vec![v]),
                1 => b.splat(ty, dims, r.small() as f64).map(|v| vec![v]),
                _ => b.while_loop(
                    &[x, y],
                    |b, s| Ok(vec![b.ne(s[0], s[0])?]),
                    |_, s| Ok(s.to_vec()),
                ),
            }
        }
    };
    let ok = res.is_ok();
    if let Ok(v) = res {
        pool.extend(v);
    }
    (format!("op{which}"), ok)
}

#[test]
fn random_misuse_never_panics_and_accepted_graphs_compile() {
    // HLO_FUZZ_SEQUENCES / HLO_FUZZ_COMPILE_EVERY widen a run (defaults: 3000 and every 6th).
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(d)
    };
    let sequences = env("HLO_FUZZ_SEQUENCES", 3000);
    let compile_every = env("HLO_FUZZ_COMPILE_EVERY", 6).max(1);
    // HLO_FUZZ_SEED=<n> explores other sequences.
    let seed = std::env::var("HLO_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_1234_ABCD_0001u64);
    let mut r = Rng(seed | 1);
    let (mut accepted, mut rejected, mut compiled) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    let mut per_op: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    let other = {
        let mut o = Builder::new("other");
        o.parameter("z", F32, [2]).unwrap()
    };
    for seq in 0..sequences {
        let mut b = Builder::new("fuzz");
        let mut pool = Vec::new();
        let mut log = Vec::new();
        for i in 0..1 + r.below(3) {
            let (ty, d) = (r.pick(&TYPES), r.dims());
            match b.parameter(format!("p{i}"), ty, &d) {
                Ok(p) => pool.push(p),
                Err(e) => {
                    rejected += 1;
                    assert!(!e.to_string().is_empty());
                }
            }
            log.push(format!("param {ty:?} {d:?}"));
        }
        if pool.is_empty() {
            pool.push(b.parameter("p", F32, [2]).unwrap());
        }
        for _ in 0..12 {
            let out = catch_unwind(AssertUnwindSafe(|| {
                random_op(&mut r, &mut b, &mut pool, other)
            }));
            match out {
                Ok((name, ok)) => {
                    let e = per_op.entry(name.clone()).or_insert((0usize, 0usize));
                    if ok {
                        e.0 += 1
                    } else {
                        e.1 += 1
                    }
                    if ok {
                        accepted += 1
                    } else {
                        rejected += 1
                    }
                    log.push(format!("{name} {}", if ok { "ok" } else { "err" }));
                }
                Err(_) => panic!("sequence {seq}: an op panicked after {log:?}"),
            }
        }
        let n = pool.len();
        let outs: Vec<Value> = pool[n.saturating_sub(3)..].to_vec();
        let m = match catch_unwind(AssertUnwindSafe(|| b.build(&outs))) {
            Ok(Ok(m)) => m,
            Ok(Err(e)) => {
                failures.push(format!("sequence {seq}: build failed: {e} after {log:?}"));
                continue;
            }
            Err(_) => panic!("sequence {seq}: build panicked after {log:?}"),
        };
        if seq % compile_every == 0 {
            compiled += 1;
            let args: Vec<Literal> = m
                .parameter_types()
                .iter()
                .map(|t| Literal::zeros(t.ty, &t.dims).unwrap())
                .collect();
            let refs: Vec<&Literal> = args.iter().collect();
            match m.compile(client()).and_then(|e| e.run(&refs)) {
                Ok(res) => assert_eq!(res.len(), outs.len()),
                Err(e) => failures.push(format!("sequence {seq}: {e}\n{log:?}\n{}", m.to_text())),
            }
        }
    }
    eprintln!("fuzz: {sequences} sequences, {accepted} ops accepted, {rejected} rejected, {compiled} modules compiled and run");
    eprintln!("accepted/rejected per op kind: {per_op:?}");
    // Every op kind must have been accepted at least once (the fuzz reaches valid cases).
    let never: Vec<_> = per_op
        .iter()
        .filter(|(_, (ok, _))| *ok == 0)
        .map(|(k, _)| k.clone())
        .collect();
    for f in &failures {
        eprintln!("FAILURE {f}");
    }
    assert!(
        failures.is_empty(),
        "{} failures, first: {}",
        failures.len(),
        failures[0]
    );
    assert!(never.is_empty(), "op kinds never accepted: {never:?}");
    assert!(
        accepted > 5000 && rejected > 5000,
        "both paths exercised: {accepted} / {rejected}"
    );
}
