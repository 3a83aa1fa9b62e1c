//! Constants, iota and data movement: reshape, transpose, broadcasts, slices, concatenate,
//! pad, reverse, gather, scatter, sort, top_k.
use crate::common::*;

/// 0, 1, 2, ... as f32.
fn seq(n: usize) -> Vec<f32> {
    (0..n).map(|i| i as f32).collect()
}

#[test]
fn constants_splats_and_iota() {
    let mut b = Builder::new("consts");
    let c = b.constant(&[1.5f32, -2.0, 3.25, 4.0], [2, 2]).unwrap();
    let ci = b.constant(&[7i64, -8], [2]).unwrap();
    let cb = b.constant_bool(&[true, false, true], [3]).unwrap();
    let s = b.splat(F32, [2, 3], 0.25).unwrap();
    let su = b.splat(U8, [2], 300.0).unwrap(); // saturates to 255
    let e = b.constant::<f32>(&[], [0, 3]).unwrap();
    let io = b.iota(S32, [2, 3], 1).unwrap();
    let iof = b.iota(F32, [3, 2], 0).unwrap();
    let got = run(&b, &[c, ci, cb, s, su, e, io, iof], &[]);
    assert_eq!(f32s(&got[0]), vec![1.5, -2.0, 3.25, 4.0]);
    assert_eq!(got[1].to_vec::<i64>().unwrap(), vec![7, -8]);
    assert_eq!(bools(&got[2]), vec![true, false, true]);
    assert_eq!(f32s(&got[3]), vec![0.25; 6]);
    assert_eq!(got[4].to_vec::<u8>().unwrap(), vec![255, 255]);
    assert_eq!(got[5].dims(), &[0, 3]);
    assert_eq!(i32s(&got[6]), vec![0, 1, 2, 0, 1, 2]);
    assert_eq!(f32s(&got[7]), vec![0.0, 0.0, 1.0, 1.0, 2.0, 2.0]);
}

#[test]
fn reshape_transpose_broadcast() {
    let mut b = Builder::new("move");
    let x = b.parameter("x", F32, [2, 3]).unwrap();
    let r = b.reshape(x, [3, 2]).unwrap();
    let t = b.transpose(x, [1, 0]).unwrap();
    let v = b.parameter("v", F32, [3]).unwrap();
    // v along axis 1 of [2,3]: every row is v
    let bd = b.broadcast_in_dim(v, [2, 3], [1]).unwrap();
    // numpy broadcasting: [2,3] + [3] adds v to each row; [2,1] against [3] gives [2,3]
    let a = b.add(x, v).unwrap();
    let col = b.reshape(x, [6, 1]).unwrap();
    let col = b.slice(col, [0, 0], [2, 1], [1, 1]).unwrap(); // [[0],[1]]
    let outer = b.mul(col, v).unwrap();
    let x3 = b.parameter("x3", F32, [2, 3, 4]).unwrap();
    let t3 = b.transpose(x3, [2, 0, 1]).unwrap(); // result[k,i,j] = x3[i,j,k]
    let got = run(
        &b,
        &[r, t, bd, a, outer, t3],
        &[
            &lit(&seq(6), &[2, 3]),
            &lit(&[10.0f32, 20.0, 30.0], &[3]),
            &lit(&seq(24), &[2, 3, 4]),
        ],
    );
    assert_eq!(f32s(&got[0]), seq(6));
    assert_eq!(got[0].dims(), &[3, 2]);
    assert_eq!(f32s(&got[1]), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    assert_eq!(f32s(&got[2]), vec![10.0, 20.0, 30.0, 10.0, 20.0, 30.0]);
    assert_eq!(f32s(&got[3]), vec![10.0, 21.0, 32.0, 13.0, 24.0, 35.0]);
    assert_eq!(f32s(&got[4]), vec![0.0, 0.0, 0.0, 10.0, 20.0, 30.0]);
    let mut want = Vec::new();
    for k in 0..4 {
        for i in 0..2 {
            for j in 0..3 {
                want.push((i * 12 + j * 4 + k) as f32);
            }
        }
    }
    assert_eq!(f32s(&got[5]), want);
}

#[test]
fn slices_static_and_dynamic() {
    let mut b = Builder::new("slices");
    let x = b.parameter("x", F32, [4, 5]).unwrap();
    // rows 1..4 step 2, cols 0..5 step 2: rows {1,3} x cols {0,2,4}
    let s = b.slice(x, [1, 0], [4, 5], [2, 2]).unwrap();
    let i = b.parameter("i", S32, []).unwrap();
    let j = b.parameter("j", S32, []).unwrap();
    let d = b.dynamic_slice(x, &[i, j], [2, 2]).unwrap();
    let u = b.splat(F32, [2, 2], -1.0).unwrap();
    let du = b.dynamic_update_slice(x, u, &[i, j]).unwrap();
    let got = run(
        &b,
        &[s, d, du],
        &[
            &lit(&seq(20), &[4, 5]),
            &Literal::scalar(2i32),
            &Literal::scalar(4i32),
        ],
    );
    assert_eq!(f32s(&got[0]), vec![5.0, 7.0, 9.0, 15.0, 17.0, 19.0]);
    // start (2, 4) is clamped to (2, 3) so the 2x2 window fits: rows 2..4, cols 3..5
    assert_eq!(f32s(&got[1]), vec![13.0, 14.0, 18.0, 19.0]);
    let mut want = seq(20);
    for (r, c) in [(2, 3), (2, 4), (3, 3), (3, 4)] {
        want[r * 5 + c] = -1.0;
    }
    assert_eq!(f32s(&got[2]), want);
}

#[test]
fn concatenate_pad_reverse() {
    let mut b = Builder::new("cpr");
    let x = b.parameter("x", F32, [2, 2]).unwrap();
    let y = b.parameter("y", F32, [2, 1]).unwrap();
    let c = b.concatenate(&[x, y, x], 1).unwrap();
    let z = b.scalar(F32, 9.0).unwrap();
    let v = b.reshape(x, [4]).unwrap();
    // low 1, high -1 (drops the last), interior 1: [9, 0, 9, 1, 9, 2, 9] then drop -> 7 elems
    let p = b.pad(v, z, [1], [-1], [1]).unwrap();
    let r = b.reverse(x, [0, 1]).unwrap();
    let got = run(
        &b,
        &[c, p, r],
        &[
            &lit(&[0.0f32, 1.0, 2.0, 3.0], &[2, 2]),
            &lit(&[7.0f32, 8.0], &[2, 1]),
        ],
    );
    assert_eq!(
        f32s(&got[0]),
        vec![0.0, 1.0, 7.0, 0.0, 1.0, 2.0, 3.0, 8.0, 2.0, 3.0]
    );
    // full: 9,0,9,1,9,2,9,3 (low 1 + 4 + 3 interior = 8), high -1 removes the trailing 3.
    assert_eq!(f32s(&got[1]), vec![9.0, 0.0, 9.0, 1.0, 9.0, 2.0, 9.0]);
    assert_eq!(f32s(&got[2]), vec![3.0, 2.0, 1.0, 0.0]);
}

#[test]
fn gather_rows_and_points() {
    let mut b = Builder::new("gather");
    let x = b.parameter("x", F32, [5, 3]).unwrap();
    let idx = b.parameter("idx", S32, [4]).unwrap();
    // rows x[idx[k], :] -> [4, 3]
    let rows = b
        .gather(
            x,
            idx,
            GatherDims {
                offset_dims: vec![1],
                collapsed_slice_dims: vec![0],
                start_index_map: vec![0],
                index_vector_dim: 1,
            },
            [1, 3],
            false,
        )
        .unwrap();
    let pts = b.parameter("pts", S32, [2, 2]).unwrap();
    // points x[pts[k,0], pts[k,1]] -> [2]
    let el = b
        .gather(
            x,
            pts,
            GatherDims {
                offset_dims: vec![],
                collapsed_slice_dims: vec![0, 1],
                start_index_map: vec![0, 1],
                index_vector_dim: 1,
            },
            [1, 1],
            false,
        )
        .unwrap();
    let got = run(
        &b,
        &[rows, el],
        &[
            &lit(&seq(15), &[5, 3]),
            &lit(&[4i32, 0, 2, 2], &[4]),
            &lit(&[1i32, 2, 3, 0], &[2, 2]),
        ],
    );
    assert_eq!(
        f32s(&got[0]),
        vec![12.0, 13.0, 14.0, 0.0, 1.0, 2.0, 6.0, 7.0, 8.0, 6.0, 7.0, 8.0]
    );
    assert_eq!(f32s(&got[1]), vec![5.0, 9.0]); // x[1,2] = 5, x[3,0] = 9
}

#[test]
fn scatter_add_and_overwrite() {
    let mut b = Builder::new("scatter");
    let x = b.parameter("x", F32, [5]).unwrap();
    let idx = b.parameter("idx", S32, [3, 1]).unwrap();
    let upd = b.parameter("upd", F32, [3]).unwrap();
    let dims = ScatterDims {
        update_window_dims: vec![],
        inserted_window_dims: vec![0],
        scatter_dims_to_operand_dims: vec![0],
        index_vector_dim: 1,
    };
    // x[idx[k]] += upd[k] (duplicates accumulate)
    let add = b
        .scatter(&[x], idx, &[upd], dims.clone(), |b, a| {
            Ok(vec![b.add(a[0], a[1])?])
        })
        .unwrap();
    // max-combine: x[i] = max(x[i], upd)
    let mx = b
        .scatter(&[x], idx, &[upd], dims, |b, a| Ok(vec![b.max(a[0], a[1])?]))
        .unwrap();
    let got = run(
        &b,
        &[add[0], mx[0]],
        &[
            &lit(&[1.0f32, 1.0, 1.0, 1.0, 1.0], &[5]),
            &lit(&[0i32, 3, 0], &[3, 1]),
            &lit(&[10.0f32, 20.0, 5.0], &[3]),
        ],
    );
    assert_eq!(f32s(&got[0]), vec![16.0, 1.0, 1.0, 21.0, 1.0]);
    assert_eq!(f32s(&got[1]), vec![10.0, 1.0, 1.0, 20.0, 1.0]);
}

#[test]
fn sort_several_operands_custom_comparator() {
    let keys = [3.0f32, 1.0, 2.0, 1.0, 5.0, 0.0];
    let vals = [0i32, 1, 2, 3, 4, 5];
    let mut b = Builder::new("sort");
    let k = b.parameter("k", F32, [2, 3]).unwrap();
    let v = b.parameter("v", S32, [2, 3]).unwrap();
    // descending by key, stable: comparator gets (k_a, k_b, v_a, v_b)
    let s = b
        .sort(&[k, v], 1, true, |b, a| Ok(vec![b.gt(a[0], a[1])?]))
        .unwrap();
    // ascending along axis 0 by key, ties broken by larger value first
    let s0 = b
        .sort(&[k, v], 0, false, |b, a| {
            let lt = b.lt(a[0], a[1])?;
            let eq = b.eq(a[0], a[1])?;
            let vgt = b.gt(a[2], a[3])?;
            let tie = b.and(eq, vgt)?;
            Ok(vec![b.or(lt, tie)?])
        })
        .unwrap();
    let got = run(
        &b,
        &[s[0], s[1], s0[0], s0[1]],
        &[&lit(&keys, &[2, 3]), &lit(&vals, &[2, 3])],
    );
    // row 0: keys 3,1,2 -> 3,2,1 with values 0,2,1 ; row 1: keys 1,5,0 -> 5,1,0 values 4,3,5
    assert_eq!(f32s(&got[0]), vec![3.0, 2.0, 1.0, 5.0, 1.0, 0.0]);
    assert_eq!(i32s(&got[1]), vec![0, 2, 1, 4, 3, 5]);
    // columns: (3,1)->(1,3) values (3,0); (1,5) stays (1,4); (2,0) -> (0,2) values (5,2)
    assert_eq!(f32s(&got[2]), vec![1.0, 1.0, 0.0, 3.0, 5.0, 2.0]);
    assert_eq!(i32s(&got[3]), vec![3, 1, 5, 0, 4, 2]);
}

#[test]
fn top_k_values_and_indices() {
    let xs = [0.5f32, 3.0, -1.0, 3.0, 2.0, 9.0, 8.0, 7.0, 1.0, 0.0];
    let mut b = Builder::new("topk");
    let x = b.parameter("x", F32, [2, 5]).unwrap();
    let (v, i) = b.top_k(x, 3).unwrap();
    assert_eq!(b.ty(i).unwrap().to_string(), "s32[2,3]");
    let got = run(&b, &[v, i], &[&lit(&xs, &[2, 5])]);
    // row 0: 3.0 (idx 1), 3.0 (idx 3, ties keep order), 2.0 (idx 4); row 1: 9, 8, 7
    assert_eq!(f32s(&got[0]), vec![3.0, 3.0, 2.0, 9.0, 8.0, 7.0]);
    assert_eq!(i32s(&got[1]), vec![1, 3, 4, 0, 1, 2]);
}

#[test]
fn large_constant_round_trips() {
    // 65536 distinct values through a dense constant (hex-encoded in the module)
    let data: Vec<f32> = (0..65536).map(|i| (i as f32).sin()).collect();
    let mut b = Builder::new("big");
    let c = b.constant(&data, [256, 256]).unwrap();
    let got = run(&b, &[c], &[]);
    assert_eq!(f32s(&got[0]), data);
}
