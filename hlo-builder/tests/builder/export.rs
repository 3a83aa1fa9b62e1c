//! Batch-polymorphic export: the artifact re-records to exactly what recording the function
//! gives at each size; served predictions at batch 1, 7, 64 and 359 equal per-row calls;
//! the second call of a size compiles nothing; functions that cannot follow the batch, and
//! calls that do not fit, are refused with errors that name the problem.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::common::*;
use hlo_builder::export::{ExportError, Exported, Server, Weight};
use hlo_builder::ops::linalg::Transpose;
use hlo_builder::ops::{CallKind, CheckpointPolicy, ControlOp, Op};
use hlo_builder::MemoryKind;
use pjrt::{CompileCache, CompileOptions};

/// Deterministic values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// A function using most primitives, regions and calls, with inputs that follow the batch:
/// x: f32[batch,3], img: f32[batch,4,4,2], idx: s32[batch].
fn broad(b: &mut Builder, batch: i64, w: &[Value]) -> hlo_builder::Result<Vec<Value>> {
    let x = b.parameter("x", F32, [batch, 3])?;
    let img = b.parameter("img", F32, [batch, 4, 4, 2])?;
    let idx = b.parameter("idx", S32, [batch])?;
    let (wm, k, spd) = (w[0], w[1], w[2]);
    let y = b.matmul(x, wm)?;
    let s = b.softmax(y, 1)?;
    let am = b.argmax(y, 1)?;
    let g = b.gelu(x, false)?;
    let (tv, ti) = b.top_k(x, 2)?;
    let cs = b.cumsum(x, 0)?; // along the batch: window and padding follow it
    let mut cc = ConvConfig::new(ConvDims::nhwc(2));
    cc.padding = vec![(1, 1), (1, 1)];
    cc.precision = [Precision::High, Precision::Highest];
    let conv = b.convolution(img, k, cc)?;
    let mp = b.max_pool(conv, [1, 2, 2, 1], [1, 2, 2, 1])?;
    let p = b.scalar(Pred, 0.0)?;
    let r = b.cond(
        p,
        &[x],
        |b, a| Ok(vec![b.neg(a[0])?]),
        |b, a| Ok(vec![b.tanh(a[0])?]),
    )?;
    let i0 = b.scalar(S32, 0.0)?;
    let wl = b.while_loop(
        &[i0, x],
        |b, a| {
            let n = b.scalar(S32, 3.0)?;
            Ok(vec![b.lt(a[0], n)?])
        },
        |b, a| {
            let one = b.scalar(S32, 1.0)?;
            let half = b.scalar(F32, 0.5)?;
            Ok(vec![b.add(a[0], one)?, b.mul(a[1], half)?])
        },
    )?;
    // A counted loop running `batch` times (its limit follows the batch) and a case.
    let fl_out = b.fori_loop(batch as i32, &[x], |b, _, s| {
        let k = b.scalar(F32, 0.5)?;
        Ok(vec![b.mul(s[0], k)?])
    })?;
    let one_i = b.scalar(S32, 1.0)?;
    let cs_out = b.case(
        one_i,
        &[x],
        vec![
            Box::new(|b: &mut Builder, a: &[Value]| Ok(vec![b.exp(a[0])?])),
            Box::new(|b: &mut Builder, a: &[Value]| Ok(vec![b.abs(a[0])?])),
        ],
    )?;
    let sq = Builder::computation("sq", &[TensorType::new(F32, [batch, 3])], |b, a| {
        Ok(vec![b.mul(a[0], a[0])?])
    })?;
    let c = b.call(&sq, &[x])?;
    let ck = b.record(
        &Op::Control(ControlOp::Call {
            kind: CallKind::Checkpoint(CheckpointPolicy::RecomputeAll),
        }),
        &[x],
        std::slice::from_ref(&sq),
    )?;
    // The offloading policy carries its memory kind through the codec.
    let ko = b.record(
        &Op::Control(ControlOp::Call {
            kind: CallKind::Checkpoint(CheckpointPolicy::Offload(MemoryKind::PINNED_HOST)),
        }),
        &[x],
        std::slice::from_ref(&sq),
    )?;
    let st = b.constant(&[5u64, 6], [2])?;
    let (_, u) = b.rng_uniform(st, F32, [batch, 2])?;
    let v = b.var(x, [0, 1])?;
    let m = b.mean_axes(x, [0])?; // divides by a splat of the batch size
    let col = b.reshape(idx, [batch, 1])?;
    let (i_lo, i_hi) = (b.scalar(S32, 0.0)?, b.scalar(S32, 2.0)?);
    let gi = b.clamp(i_lo, col, i_hi)?;
    let gathered = b.gather(
        x,
        gi,
        GatherDims {
            offset_dims: vec![1],
            collapsed_slice_dims: vec![0],
            start_index_map: vec![0],
            index_vector_dim: 1,
        },
        [1, 3],
        false,
    )?;
    let sc = b.scatter(
        &[x],
        gi,
        &[gathered],
        ScatterDims {
            update_window_dims: vec![1],
            inserted_window_dims: vec![0],
            scatter_dims_to_operand_dims: vec![0],
            index_vector_dim: 1,
        },
        |b, a| Ok(vec![b.add(a[0], a[1])?]),
    )?;
    let sorted = b.sort(&[x], 0, true, |b, a| Ok(vec![b.lt(a[0], a[1])?]))?[0];
    let padv = b.scalar(F32, 0.0)?;
    let padded = b.pad(x, padv, [1, 0], [0, 2], [1, 0])?;
    let rev = b.reverse(x, [0, 1])?;
    let cat = b.concatenate(&[x, rev], 0)?;
    let sl = b.slice(cat, [1, 0], [batch + 1, 3], [1, 2])?;
    let zero = b.scalar(S32, 0.0)?;
    let ds = b.dynamic_slice(x, &[zero, zero], [1, 2])?;
    let dus = b.dynamic_update_slice(x, ds, &[zero, zero])?;
    let io = b.iota(S32, [batch, 3], 0)?;
    let fl = b.convert(io, F32)?;
    let bits = b.bitcast_convert(fl, U32)?;
    let back = b.bitcast_convert(bits, F32)?;
    let sel = b.gt(back, x)?;
    let chosen = b.select(sel, x, back)?;
    let lo = b.scalar(F32, -0.5)?;
    let hi = b.scalar(F32, 0.5)?;
    let clamped = b.clamp(lo, chosen, hi)?;
    let chol = b.cholesky(spd, true)?;
    let rhs = b.transpose(x, [1, 0])?;
    let tri = b.triangular_solve(chol, rhs, true, true, false, Transpose::NoTranspose)?;
    let bar = b.optimization_barrier(&[clamped])?;
    let sg = b.stop_gradient(bar[0])?;
    let ninf = b.scalar(F32, f64::NEG_INFINITY)?;
    let win = b.reduce_window_by(
        &[x],
        &[ninf],
        WindowConfig::new([2, 1], [1, 1]),
        Reducer::Max,
    )?[0];
    let cc_out = b.custom_call(
        "Sharding",
        &[x],
        &[TensorType::new(F32, [batch, 3])],
        "",
        false,
    )?[0];
    Ok(vec![
        y, s, am, g, tv, ti, cs, conv, mp, r[0], wl[1], c[0], ck[0], u, v, m, sc[0], sorted,
        padded, sl, dus, sg, tri, win, cc_out, fl_out[0], cs_out[0], ko[0],
    ])
}

fn broad_weights() -> Vec<Weight> {
    // A symmetric positive definite 3x3 for the Cholesky factor.
    let spd = [4.0f32, 1.0, 0.5, 1.0, 3.0, 0.25, 0.5, 0.25, 2.0];
    vec![
        Weight::f32("w", [3, 4], &values(12, 1)).unwrap(),
        Weight::f32("k", [3, 3, 2, 2], &values(36, 2)).unwrap(),
        Weight::f32("spd", [3, 3], &spd).unwrap(),
    ]
}

/// The module recording `f` at `batch` gives directly.
type RecordFn = dyn Fn(&mut Builder, i64, &[Value]) -> hlo_builder::Result<Vec<Value>>;

fn recorded(f: &RecordFn, weights: &[Weight], batch: i64) -> Module {
    let mut b = Builder::new("broad");
    let ws: Vec<Value> = weights
        .iter()
        .map(|w| b.parameter(&w.name, w.ty.ty, &w.ty.dims).unwrap())
        .collect();
    let outs = f(&mut b, batch, &ws).unwrap();
    b.build(&outs).unwrap()
}

#[test]
fn the_artifact_re_records_what_recording_gives_at_every_size() {
    let weights = broad_weights();
    let exported = Exported::record("broad", 5, weights.clone(), broad).unwrap();
    assert_eq!(exported.probes(), &[5, 6, 1, 2, 3, 11]);
    let shown: Vec<String> = exported.inputs().iter().map(|s| s.to_string()).collect();
    assert_eq!(
        shown,
        [
            "x: f32[batch,3]",
            "img: f32[batch,4,4,2]",
            "idx: s32[batch]"
        ]
    );
    // The concatenation along the batch, sliced from 1 to batch+1: f32[batch, 2].
    assert_eq!(
        exported.outputs()[19].to_string(),
        "output 19: f32[batch,2]"
    );
    assert_eq!(exported.outputs()[2].to_string(), "output 2: s32[batch]");

    let bytes = exported.to_bytes();
    let loaded = Exported::from_bytes(&bytes).unwrap();
    assert_eq!(loaded, exported);
    for n in [5, 1, 7, 64] {
        let want = recorded(&broad, &weights, n);
        let got = loaded.specialize(n).unwrap();
        assert_eq!(got.parameter_types(), want.parameter_types(), "batch {n}");
        assert_eq!(
            got.to_text(),
            want.to_text(),
            "batch {n}: the StableHLO differs"
        );
    }
}

/// The MLP 64-32-10 with ReLU: logits and predicted classes of f32[batch,64] rows.
fn mlp(b: &mut Builder, batch: i64, w: &[Value]) -> hlo_builder::Result<Vec<Value>> {
    let x = b.parameter("x", F32, [batch, 64])?;
    let h = b.matmul(x, w[0])?;
    let h = b.add(h, w[1])?;
    let h = b.relu(h)?;
    let logits = b.matmul(h, w[2])?;
    // A constant baked into the graph (not a stored weight): the output bias.
    let bias = b.constant(&values(10, 9), [10])?;
    let logits = b.add(logits, bias)?;
    let classes = b.argmax(logits, 1)?;
    Ok(vec![logits, classes])
}

fn mlp_weights() -> Vec<Weight> {
    vec![
        Weight::f32("w1", [64, 32], &values(64 * 32, 3)).unwrap(),
        Weight::f32("b1", [32], &values(32, 4)).unwrap(),
        Weight::f32("w2", [32, 10], &values(320, 5)).unwrap(),
    ]
}

fn fresh_cache() -> (tempfile::TempDir, CompileCache) {
    let d = tempfile::tempdir().unwrap();
    let c = CompileCache::new(d.path().join("cache")).unwrap();
    (d, c)
}

#[test]
fn one_artifact_serves_1_7_64_and_359_rows_like_per_row_calls() {
    let exported = Exported::record("mlp", 64, mlp_weights(), mlp)
        .unwrap()
        .with_metadata("model", "test mlp");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlp.hloexport");
    exported.save(&path).unwrap();
    let loaded = Exported::load(&path).unwrap();
    assert_eq!(loaded.meta("model"), Some("test mlp"));

    let (_cdir, cache) = fresh_cache();
    let server = Server::new(loaded, client())
        .unwrap()
        .with_compile_options(CompileOptions::new().compile_cache(cache.clone()));
    let rows = 359usize;
    let x = values(rows * 64, 11);
    // Per-row calls (batch 1): the reference.
    let mut per_row_logits = Vec::new();
    let mut per_row_classes = Vec::new();
    for r in 0..rows {
        let one = lit(&x[r * 64..(r + 1) * 64], &[1, 64]);
        let out = server.run(&[&one]).unwrap();
        per_row_logits.extend(f32s(&out[0]));
        per_row_classes.extend(i32s(&out[1]));
    }
    assert_eq!(server.compiled_batches(), vec![1]);
    let after_rows = cache.stats();
    assert_eq!((after_rows.misses, after_rows.hits), (1, 0), "{after_rows}");

    for n in [1usize, 7, 64, 359] {
        let mut logits = Vec::new();
        let mut classes = Vec::new();
        for start in (0..rows).step_by(n) {
            let end = (start + n).min(rows);
            if end - start != n {
                continue; // whole batches only; the rest is covered by other sizes
            }
            let out = server
                .run(&[&lit(&x[start * 64..end * 64], &[n as i64, 64])])
                .unwrap();
            assert_eq!(out[0].dims(), &[n as i64, 10]);
            logits.extend(f32s(&out[0]));
            classes.extend(i32s(&out[1]));
        }
        let covered = classes.len();
        assert_eq!(
            classes,
            per_row_classes[..covered],
            "batch {n}: predictions differ from per-row calls"
        );
        assert_close(
            &format!("batch {n} logits"),
            &logits,
            &per_row_logits[..covered * 10],
            1e-5,
        );
    }
    assert_eq!(server.compiled_batches(), vec![1, 7, 64, 359]);
    let s = cache.stats();
    assert_eq!((s.misses, s.hits), (4, 0), "one compile per size: {s}");

    // The second call of a size compiles nothing and loads nothing.
    let before = cache.stats();
    server.run(&[&lit(&x[..7 * 64], &[7, 64])]).unwrap();
    assert_eq!(cache.stats(), before);

    // A new server (nothing in memory) loads every size from the persistent cache.
    let again = Server::new(Exported::load(&path).unwrap(), client())
        .unwrap()
        .with_compile_options(CompileOptions::new().compile_cache(cache.clone()));
    for n in [1i64, 7, 64, 359] {
        again.executable(n).unwrap();
    }
    let s = cache.stats();
    assert_eq!((s.misses, s.hits, s.rejected), (4, 4, 0), "{s}");

    // An independent host computation agrees with the served logits (row 0).
    let w = mlp_weights();
    let f = |w: &Weight| -> Vec<f32> {
        w.data
            .chunks(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    let (w1, b1, w2) = (f(&w[0]), f(&w[1]), f(&w[2]));
    let bias = values(10, 9);
    let h: Vec<f32> = (0..32)
        .map(|j| ((0..64).map(|i| x[i] * w1[i * 32 + j]).sum::<f32>() + b1[j]).max(0.0))
        .collect();
    let row0: Vec<f32> = (0..10)
        .map(|k| (0..32).map(|j| h[j] * w2[j * 10 + k]).sum::<f32>() + bias[k])
        .collect();
    assert_close("row 0 on the host", &per_row_logits[..10], &row0, 1e-4);
}

const CHILD_VAR: &str = "HLO_EXPORT_TEST_CHILD";

/// Not a test on its own: the child of `a_fresh_process_serves_from_the_artifact_without_compiling`.
#[test]
fn child_serve() {
    let Some(dir) = std::env::var_os(CHILD_VAR).map(PathBuf::from) else {
        return;
    };
    let cache = CompileCache::new(dir.join("cache")).unwrap();
    let server = Server::new(Exported::load(dir.join("mlp.hloexport")).unwrap(), client())
        .unwrap()
        .with_compile_options(CompileOptions::new().compile_cache(cache.clone()));
    let x = values(7 * 64, 12);
    let out = server.run(&[&lit(&x, &[7, 64])]).unwrap();
    let want: Vec<i32> = std::fs::read_to_string(dir.join("classes.txt"))
        .unwrap()
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(i32s(&out[1]), want);
    let s = cache.stats();
    assert_eq!(
        (s.hits, s.misses),
        (1, 0),
        "the batch-7 executable loads: {s}"
    );
}

#[test]
fn a_fresh_process_serves_from_the_artifact_without_compiling() {
    let dir = tempfile::tempdir().unwrap();
    Exported::record("mlp", 64, mlp_weights(), mlp)
        .unwrap()
        .save(dir.path().join("mlp.hloexport"))
        .unwrap();
    let cache = CompileCache::new(dir.path().join("cache")).unwrap();
    let server = Server::new(
        Exported::load(dir.path().join("mlp.hloexport")).unwrap(),
        client(),
    )
    .unwrap()
    .with_compile_options(CompileOptions::new().compile_cache(cache.clone()));
    let out = server.run(&[&lit(&values(7 * 64, 12), &[7, 64])]).unwrap();
    let classes: Vec<String> = i32s(&out[1]).iter().map(|c| c.to_string()).collect();
    std::fs::write(dir.path().join("classes.txt"), classes.join(" ")).unwrap();
    assert_eq!(cache.stats().stored, 1);

    let o = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "export::child_serve",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "the serving process failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 passed"));
}

#[test]
fn calls_that_do_not_fit_are_refused() {
    let exported = Exported::record("mlp", 64, mlp_weights(), mlp).unwrap();
    let server = Server::new(exported, client()).unwrap();
    let e = server
        .run(&[&lit(&values(3 * 32, 1), &[3, 32])])
        .unwrap_err();
    assert!(matches!(e, ExportError::Input { index: 0, .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "`mlp`: input 0 `x`: expected x: f32[batch,64], got f32[3,32]: dimension 1 must be 64"
    );
    let e = server
        .run(&[&lit(&vec![0.0f64; 3 * 64], &[3, 64])])
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("expected x: f32[batch,64], got f64[3,64]"),
        "{e}"
    );
    let e = server.run(&[&lit(&[0.0f32; 64], &[64])]).unwrap_err();
    assert!(e.to_string().contains("got f32[64]"), "{e}");
    let x = lit(&[0.0f32; 64], &[1, 64]);
    let e = server.run(&[&x, &x]).unwrap_err();
    assert!(
        matches!(
            e,
            ExportError::InputCount {
                expected: 1,
                got: 2,
                ..
            }
        ),
        "{e}"
    );
    let e = server.run(&[&lit(&[0.0f32; 0], &[0, 64])]).unwrap_err();
    assert!(e.to_string().contains("no batch size of at least 1"), "{e}");
    assert!(
        server.compiled_batches().is_empty(),
        "nothing was compiled for refused calls"
    );
}

#[test]
fn functions_that_cannot_follow_the_batch_are_refused_by_name() {
    // A dense constant of `batch` rows built on the host.
    let e = Exported::record("mask", 8, vec![], |b, batch, _| {
        let x = b.parameter("x", F32, [batch])?;
        let mask: Vec<f32> = (0..batch).map(|i| (i % 2) as f32).collect();
        let m = b.constant(&mask, [batch])?;
        Ok(vec![b.mul(x, m)?])
    })
    .unwrap_err();
    assert!(
        matches!(e, ExportError::BatchDependentConstant { .. }),
        "{e}"
    );
    assert!(
        e.to_string().contains("node 1 (`constant`) of `mask`"),
        "{e}"
    );

    // A dimension that is not a·batch + c (batch²).
    let e = Exported::record("square", 4, vec![], |b, batch, _| {
        let x = b.parameter("x", F32, [batch])?;
        let i = b.iota(F32, [batch * batch], 0)?;
        let s = b.reduce_sum(i, [0])?;
        Ok(vec![b.add(x, s)?])
    })
    .unwrap_err();
    assert!(matches!(e, ExportError::NotAffine { .. }), "{e}");
    assert!(
        e.to_string().contains("(`iota`)") && e.to_string().contains("16 at batch 4, 25 at 5"),
        "{e}"
    );

    // A splat constant 1/batch.
    let e = Exported::record("inverse", 4, vec![], |b, batch, _| {
        let x = b.parameter("x", F32, [batch])?;
        let c = b.scalar(F32, 1.0 / batch as f64)?;
        Ok(vec![b.mul(x, c)?])
    })
    .unwrap_err();
    assert!(matches!(e, ExportError::NotAffine { .. }), "{e}");
    assert!(e.to_string().contains("(`constant`)"), "{e}");

    // Different ops at different sizes.
    let e = Exported::record("branchy", 4, vec![], |b, batch, _| {
        let x = b.parameter("x", F32, [batch])?;
        Ok(vec![if batch % 2 == 0 { b.neg(x)? } else { b.exp(x)? }])
    })
    .unwrap_err();
    assert!(matches!(e, ExportError::Structure { batch: 5, .. }), "{e}");

    // No input follows the batch.
    let e = Exported::record("fixed", 4, vec![], |b, _, _| {
        let x = b.parameter("x", F32, [3])?;
        Ok(vec![b.neg(x)?])
    })
    .unwrap_err();
    assert!(matches!(e, ExportError::NoBatchInput { .. }), "{e}");

    // A function that only records at even sizes fails at the first odd one, by size.
    let e = Exported::record("even", 4, vec![], |b, batch, _| {
        let x = b.parameter("x", F32, [batch, 2])?;
        Ok(vec![b.reshape(x, [batch / 2, 4])?])
    })
    .unwrap_err();
    assert!(matches!(e, ExportError::Record { batch: 5, .. }), "{e}");
}

#[test]
fn the_mean_over_the_batch_follows_it() {
    // mean(x) divides by a splat constant of the batch size: it follows the batch.
    let exported = Exported::record("mean", 16, vec![], |b, batch, _| {
        let x = b.parameter("x", F32, [batch, 2])?;
        Ok(vec![b.mean_axes(x, [0])?])
    })
    .unwrap();
    let server = Server::new(exported, client()).unwrap();
    let x = [1.0f32, 10.0, 2.0, 20.0, 6.0, 60.0];
    let out = server.run(&[&lit(&x, &[3, 2])]).unwrap();
    assert_eq!(f32s(&out[0]), vec![3.0, 30.0]); // (1+2+6)/3, (10+20+60)/3
}

#[test]
fn damaged_artifacts_are_refused() {
    let bytes = Exported::record("mlp", 64, mlp_weights(), mlp)
        .unwrap()
        .to_bytes();
    for cut in [0, 8, 40, bytes.len() / 2, bytes.len() - 1] {
        let e = Exported::from_bytes(&bytes[..cut]).unwrap_err();
        assert!(matches!(e, ExportError::Format(_)), "cut at {cut}: {e}");
    }
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 3] ^= 0x10;
    let e = Exported::from_bytes(&flipped).unwrap_err();
    assert!(e.to_string().contains("digest"), "{e}");
    // Another format version (with a digest that matches): refused by version.
    let mut v2 = bytes[..bytes.len() - 32].to_vec();
    v2[8..12].copy_from_slice(&2u32.to_le_bytes());
    use sha2::Digest;
    let d = sha2::Sha256::digest(&v2);
    v2.extend_from_slice(&d);
    let e = Exported::from_bytes(&v2).unwrap_err();
    assert!(
        matches!(
            e,
            ExportError::Version {
                found: 2,
                supported: 1
            }
        ),
        "{e}"
    );
    // A file of tokens with a valid digest but nonsense inside: an error, not a panic.
    let mut junk = b"HLOXPRT\0".to_vec();
    junk.extend_from_slice(&1u32.to_le_bytes());
    junk.extend_from_slice(&[0, 0xff, 0xff, 0xff, 0xff, 0x0f, 2, 3, b'a', b'b', b'c']);
    let d = sha2::Sha256::digest(&junk);
    junk.extend_from_slice(&d);
    assert!(matches!(
        Exported::from_bytes(&junk),
        Err(ExportError::Format(_))
    ));
}
