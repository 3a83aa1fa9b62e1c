//! Rotary position embeddings.

use hlo_builder::{ElementType, Result, Tensor};

/// Rotates pairs of features by angles proportional to the position (rotary position
/// embeddings, the "rotate half" form): for feature `i < d/2` with frequency
/// `10000^(-2i/d)`, `(x_i, x_{i+d/2})` turns by `position * frequency`. Shapes:
/// `x: T[..., t, d]` (`d` even), `positions: int or float[t]` -> `T[..., t, d]`.
#[track_caller]
pub fn rope(x: &Tensor, positions: &Tensor) -> Result<Tensor> {
    let d = x.dim(-1)?;
    let t = x.dim(-2)?;
    if d % 2 != 0 {
        return Err(hlo_builder::Error::Shape {
            op: "rope",
            message: format!("the feature axis of {} must be even", x.ty()),
        });
    }
    let half = d / 2;
    let rec = x.recording();
    let freqs: Vec<f32> = (0..half)
        .map(|i| 10000f32.powf(-2.0 * i as f32 / d as f32))
        .collect();
    let freqs = rec.constant(&freqs, [1, half])?;
    let pos = positions.to_dtype(ElementType::F32)?.reshape([t, 1])?;
    let angles = pos.matmul(&freqs)?; // [t, half]
    let (cos, sin) = (
        angles.cos()?.to_dtype(x.dtype())?,
        angles.sin()?.to_dtype(x.dtype())?,
    );
    let parts = x.split([half, half], -1)?;
    let (a, b) = (&parts[0], &parts[1]);
    let ra = ((a * &cos)? - (b * &sin)?)?;
    let rb = ((a * &sin)? + (b * &cos)?)?;
    Tensor::cat(&[&ra, &rb], -1)
}
