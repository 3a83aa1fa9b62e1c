//! `scan`: a counted loop over the leading axis, carrying state and stacking outputs, checked
//! against the same recurrence computed here.
use crate::common::*;

#[test]
fn scan_runs_a_recurrence_and_stacks_its_outputs() {
    // carry h (f64[2]); per step: h = tanh(w h + x_i), y_i = (h, sum(h)).
    let (n, w) = (5usize, [[0.5f64, -0.3], [0.2, 0.8]]);
    let xs: Vec<f64> = (0..n * 2).map(|i| (i as f64 * 0.37).sin()).collect();
    let mut b = Builder::new("rnn");
    let h0 = b.parameter("h0", F64, [2]).unwrap();
    let wt = b.parameter("w", F64, [2, 2]).unwrap();
    let x = b.parameter("xs", F64, [n as i64, 2]).unwrap();
    let (carry, ys) = b
        .scan(&[h0, wt], &[x], |b, c, x| {
            let h = b.matmul(c[1], c[0])?;
            let h = b.add(h, x[0])?;
            let h = b.tanh(h)?;
            let s = b.reduce_sum(h, [0])?;
            Ok((vec![h, c[1]], vec![h, s]))
        })
        .unwrap();
    assert_eq!(b.ty(ys[0]).unwrap().to_string(), "f64[5,2]");
    assert_eq!(b.ty(ys[1]).unwrap().to_string(), "f64[5]");
    assert!(matches!(
        b.op(carry[0]).unwrap(),
        Op::Control(ControlOp::While { counted: Some(c) }) if c.trips() == 5
    ));
    let h0v = [0.1, -0.2];
    let got = run(
        &b,
        &[carry[0], ys[0], ys[1]],
        &[
            &lit(&h0v, &[2]),
            &lit(&[w[0][0], w[0][1], w[1][0], w[1][1]], &[2, 2]),
            &lit(&xs, &[n as i64, 2]),
        ],
    );
    let mut h = h0v;
    let (mut hs, mut ss) = (Vec::new(), Vec::new());
    for i in 0..n {
        let a = (w[0][0] * h[0] + w[0][1] * h[1] + xs[2 * i]).tanh();
        let c = (w[1][0] * h[0] + w[1][1] * h[1] + xs[2 * i + 1]).tanh();
        h = [a, c];
        hs.extend(h);
        ss.push(a + c);
    }
    assert_close64("final carry", &f64s(&got[0]), &h, 1e-12);
    assert_close64("stacked h", &f64s(&got[1]), &hs, 1e-12);
    assert_close64("stacked sums", &f64s(&got[2]), &ss, 1e-12);
}

#[test]
fn scan_in_reverse_and_without_sequences() {
    let mut b = Builder::new("rev");
    let x = b.parameter("xs", S32, [4]).unwrap();
    let z = b.scalar(S32, 0.0).unwrap();
    // Reverse cumulative sum: y_i = sum(x[i..]).
    let (total, ys) = b
        .scan_with(4, true, &[z], &[x], |b, c, x| {
            let s = b.add(c[0], x[0])?;
            Ok((vec![s], vec![s]))
        })
        .unwrap();
    // No sequences: a counter that emits its square.
    let k = b.scalar(S32, 1.0).unwrap();
    let (_, sq) = b
        .scan_with(3, false, &[k], &[], |b, c, _| {
            let one = b.scalar(S32, 1.0)?;
            let sq = b.mul(c[0], c[0])?;
            Ok((vec![b.add(c[0], one)?], vec![sq]))
        })
        .unwrap();
    let got = run(
        &b,
        &[total[0], ys[0], sq[0]],
        &[&lit(&[1i32, 2, 3, 4], &[4])],
    );
    assert_eq!(i32s(&got[0]), vec![10]);
    assert_eq!(i32s(&got[1]), vec![10, 9, 7, 4]);
    assert_eq!(i32s(&got[2]), vec![1, 4, 9]);
}

#[test]
fn scan_misuse_is_an_error() {
    let mut b = Builder::new("bad");
    let x = b.parameter("xs", F32, [4, 2]).unwrap();
    let y = b.parameter("ys", F32, [3]).unwrap();
    let c = b.scalar(F32, 0.0).unwrap();
    let e = b
        .scan(&[c], &[x, y], |_, c, _| Ok((c.to_vec(), vec![])))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("f32[3]") && e.contains("leading axis of 4"),
        "{e}"
    );
    let e = b
        .scan(&[c], &[x], |b, _, x| {
            Ok((vec![b.reduce_sum(x[0], [0])?, x[0]], vec![]))
        })
        .unwrap_err()
        .to_string();
    assert!(e.contains("2 carry values for 1"), "{e}");
    let e = b
        .scan(&[c], &[x], |_, _, x| Ok((vec![x[0]], vec![])))
        .unwrap_err()
        .to_string();
    assert!(e.contains("f32[2]") && e.contains("f32[]"), "{e}");
    assert!(b
        .scan(&[c], &[], |_, c, _| Ok((c.to_vec(), vec![])))
        .is_err());
}
