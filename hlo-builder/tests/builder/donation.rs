//! Donated parameters: `build_with_donations` marks entry-point arguments whose buffers the
//! executable consumes and reuses for a result.

use crate::common::*;

/// `state' = state * 2 + x`, with `state` (parameter 0) donated to result 0.
fn step() -> (Builder, Value) {
    let mut b = Builder::new("step");
    let s = b.parameter("state", F32, [4]).unwrap();
    let x = b.parameter("x", F32, [4]).unwrap();
    let two = b.splat(F32, [4], 2.0).unwrap();
    let y = b.mul(s, two).unwrap();
    let y = b.add(y, x).unwrap();
    (b, y)
}

#[test]
fn donated_argument_is_marked_consumed_and_updated_in_place() {
    let (b, y) = step();
    let m = b.build_with_donations(&[y], &[(0, 0)]).unwrap();
    assert!(
        m.to_text().contains("tf.aliasing_output = 0 : i32"),
        "{}",
        m.to_text()
    );
    let exe = m.compile(client()).unwrap();
    let c = client();
    let state = c.buffer_from_host(&[1.0f32, 2.0, 3.0, 4.0], &[4]).unwrap();
    let x = c.buffer_from_host(&[0.5f32; 4], &[4]).unwrap();
    let out = exe.loaded().execute(&[&state, &x]).unwrap();
    // 2 * [1, 2, 3, 4] + 0.5
    assert_eq!(out[0].to_vec::<f32>().unwrap(), [2.5, 4.5, 6.5, 8.5]);
    // The donated buffer was consumed by the call; the other argument was not.
    assert!(state.to_vec::<f32>().is_err());
    assert_eq!(x.to_vec::<f32>().unwrap(), [0.5; 4]);
}

#[test]
fn bad_donations_are_errors() {
    let (mut b, y) = step();
    let e = b
        .build_with_donations(&[y], &[(2, 0)])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("donate parameter 2 to result 0: out of range"),
        "{e}"
    );
    let e = b
        .build_with_donations(&[y, y], &[(0, 0), (0, 1)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("already donated"), "{e}");
    let e = b
        .build_with_donations(&[y], &[(0, 0), (1, 0)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("already reuses"), "{e}");
    let r = b.reduce_sum(y, [0]).unwrap();
    let e = b
        .build_with_donations(&[r], &[(0, 0)])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the parameter is f32[4] but the result is f32[]"),
        "{e}"
    );
}
