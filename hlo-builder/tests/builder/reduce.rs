//! reduce (canned and custom reducers, several operands), reduce_window (pooling), cumsum,
//! argmax/argmin.
use crate::common::*;

#[test]
fn canned_reductions() {
    // x = [[1, -2, 3], [4, 5, -6]]
    let xs = [1.0f32, -2.0, 3.0, 4.0, 5.0, -6.0];
    let mut b = Builder::new("reduce");
    let x = b.parameter("x", F32, [2, 3]).unwrap();
    let p = b.parameter("p", Pred, [2, 2]).unwrap();
    let i = b.parameter("i", S32, [3]).unwrap();
    let outs = vec![
        b.reduce_sum(x, [1]).unwrap(),
        b.reduce_sum(x, [0, 1]).unwrap(),
        b.reduce_prod(x, [0]).unwrap(),
        b.reduce_max(x, [1]).unwrap(),
        b.reduce_min(x, [0]).unwrap(),
        b.reduce_and(p, [1]).unwrap(),
        b.reduce_or(p, [1]).unwrap(),
        b.reduce_max(i, [0]).unwrap(),
        b.reduce_and(i, [0]).unwrap(),
    ];
    let got = run(
        &b,
        &outs,
        &[
            &lit(&xs, &[2, 3]),
            &Literal::from_bools(&[true, true, false, true], &[2, 2]).unwrap(),
            &lit(&[-5i32, -9, -7], &[3]),
        ],
    );
    assert_eq!(f32s(&got[0]), vec![2.0, 3.0]);
    assert_eq!(f32s(&got[1]), vec![5.0]);
    assert_eq!(f32s(&got[2]), vec![4.0, -10.0, -18.0]);
    assert_eq!(f32s(&got[3]), vec![3.0, 5.0]);
    assert_eq!(f32s(&got[4]), vec![1.0, -2.0, -6.0]);
    assert_eq!(bools(&got[5]), vec![true, false]);
    assert_eq!(bools(&got[6]), vec![true, true]);
    assert_eq!(i32s(&got[7]), vec![-5]);
    assert_eq!(i32s(&got[8]), vec![-5 & -9 & -7]);
    // and/or over unsigned integers: the identity of `and` is all ones
    let mut b = Builder::new("uand");
    let u = b.parameter("u", U32, [3]).unwrap();
    let a = b.reduce_and(u, [0]).unwrap();
    let o = b.reduce_or(u, [0]).unwrap();
    let got = run(
        &b,
        &[a, o],
        &[&lit(&[0xF0F0_FFFFu32, 0xFFFF_0F0F, 0x8000_0FFF], &[3])],
    );
    assert_eq!(
        got[0].to_vec::<u32>().unwrap(),
        vec![0xF0F0_FFFF & 0xFFFF_0F0F & 0x8000_0FFF]
    );
    assert_eq!(
        got[1].to_vec::<u32>().unwrap(),
        vec![0xF0F0_FFFF | 0xFFFF_0F0F | 0x8000_0FFF]
    );
}

#[test]
fn custom_reducer_and_two_operands() {
    let xs = [1.0f32, -7.0, 3.0, 4.0, 5.0, -6.0];
    let mut b = Builder::new("custom");
    let x = b.parameter("x", F32, [2, 3]).unwrap();
    let z = b.scalar(F32, 0.0).unwrap();
    // largest magnitude: max(|acc|, |x|)
    let r = b
        .reduce(&[x], &[z], [1], |b, a| {
            let p = b.abs(a[0])?;
            let q = b.abs(a[1])?;
            Ok(vec![b.max(p, q)?])
        })
        .unwrap();
    // two operands at once: (sum, max) over axis 0
    let lo = b.scalar(F32, f64::NEG_INFINITY).unwrap();
    let two = b
        .reduce(&[x, x], &[z, lo], [0], |b, a| {
            Ok(vec![b.add(a[0], a[2])?, b.max(a[1], a[3])?])
        })
        .unwrap();
    let got = run(&b, &[r[0], two[0], two[1]], &[&lit(&xs, &[2, 3])]);
    assert_eq!(f32s(&got[0]), vec![7.0, 6.0]);
    assert_eq!(f32s(&got[1]), vec![5.0, -2.0, -3.0]);
    assert_eq!(f32s(&got[2]), vec![4.0, 5.0, 3.0]);
}

#[test]
fn argmax_argmin_ties_and_nan() {
    let xs = [1.0f32, 3.0, 3.0, -1.0, 2.0, f32::NAN, 0.0, 5.0];
    let mut b = Builder::new("argmax");
    let x = b.parameter("x", F32, [2, 4]).unwrap();
    let am = b.argmax(x, 1).unwrap();
    let an = b.argmin(x, 1).unwrap();
    let a0 = b.argmax(x, 0).unwrap();
    let got = run(&b, &[am, an, a0], &[&lit(&xs, &[2, 4])]);
    // row 0 ties at 3.0 -> first index 1; row 1 has NaN at 1 -> NaN wins (numpy)
    assert_eq!(i32s(&got[0]), vec![1, 1]);
    assert_eq!(i32s(&got[1]), vec![3, 1]);
    assert_eq!(i32s(&got[2]), vec![1, 1, 0, 1]);
}

#[test]
fn pooling_and_windows() {
    // 4x4 image 0..16, one channel, NHWC
    let xs: Vec<f32> = (0..16).map(|v| v as f32).collect();
    let mut b = Builder::new("pool");
    let x = b.parameter("x", F32, [1, 4, 4, 1]).unwrap();
    let mp = b.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1]).unwrap();
    let ap = b.avg_pool(x, [1, 2, 2, 1], [1, 2, 2, 1]).unwrap();
    // generic reduce_window: 3-wide sum windows along W, stride 1, padding 1 each side,
    // window dilation 1, on the flattened rows
    let v = b.reshape(x, [4, 4]).unwrap();
    let z = b.scalar(F32, 0.0).unwrap();
    let mut w = WindowConfig::new(vec![1, 3], vec![1, 1]);
    w.padding = vec![(0, 0), (1, 1)];
    let sw = b
        .reduce_window(&[v], &[z], w, |b, a| Ok(vec![b.add(a[0], a[1])?]))
        .unwrap();
    // dilated window: elements j and j+2 (window 2, dilation 2)
    let mut wd = WindowConfig::new(vec![1, 2], vec![1, 1]);
    wd.window_dilations = vec![1, 2];
    let dw = b
        .reduce_window(&[v], &[z], wd, |b, a| Ok(vec![b.add(a[0], a[1])?]))
        .unwrap();
    let got = run(&b, &[mp, ap, sw[0], dw[0]], &[&lit(&xs, &[1, 4, 4, 1])]);
    assert_eq!(f32s(&got[0]), vec![5.0, 7.0, 13.0, 15.0]);
    assert_eq!(f32s(&got[1]), vec![2.5, 4.5, 10.5, 12.5]);
    let mut want = Vec::new();
    for r in 0..4 {
        for c in 0..4i32 {
            want.push(
                (c - 1..=c + 1)
                    .filter(|k| (0..4).contains(k))
                    .map(|k| (r * 4 + k) as f32)
                    .sum(),
            );
        }
    }
    assert_eq!(f32s(&got[2]), want);
    let want_d: Vec<f32> = (0..4)
        .flat_map(|r| (0..2).map(move |c| ((r * 4 + c) + (r * 4 + c + 2)) as f32))
        .collect();
    assert_eq!(f32s(&got[3]), want_d);
}

#[test]
fn cumsum_along_each_axis() {
    let mut b = Builder::new("cumsum");
    let x = b.parameter("x", F32, [2, 3]).unwrap();
    let c1 = b.cumsum(x, 1).unwrap();
    let c0 = b.cumsum(x, 0).unwrap();
    let xi = b.parameter("xi", S32, [5]).unwrap();
    let ci = b.cumsum(xi, 0).unwrap();
    let got = run(
        &b,
        &[c1, c0, ci],
        &[
            &lit(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]),
            &lit(&[1i32, -1, 2, -2, 10], &[5]),
        ],
    );
    assert_eq!(f32s(&got[0]), vec![1.0, 3.0, 6.0, 4.0, 9.0, 15.0]);
    assert_eq!(f32s(&got[1]), vec![1.0, 2.0, 3.0, 5.0, 7.0, 9.0]);
    assert_eq!(i32s(&got[2]), vec![1, 0, 2, 0, 10]);
}
