//! Convolutions over channels-last inputs: [`Conv1d`] (`[n, w, c]`) and [`Conv2d`]
//! (`[n, h, w, c]`), kernels `[k..., in, out]`.

use hlo_builder::{ConvConfig, ConvDims, Result, Tensor};

use super::init::Init;
use super::param::Param;
use crate::nn::Module;

/// Spatial padding of a convolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Padding {
    /// No padding: only whole windows.
    Valid,
    /// Pad so that the output has `ceil(input / stride)` positions (the extra element, if
    /// any, at the end).
    Same,
    /// (low, high) per spatial axis.
    Explicit(Vec<(i64, i64)>),
}

impl Padding {
    fn resolve(&self, input: &[i64], window: &[i64], strides: &[i64]) -> Result<Vec<(i64, i64)>> {
        match self {
            Padding::Valid => Ok(vec![(0, 0); input.len()]),
            Padding::Same => Ok(input
                .iter()
                .zip(window)
                .zip(strides)
                .map(|((&n, &k), &s)| {
                    let out = (n + s - 1) / s.max(1);
                    let total = ((out - 1) * s + k - n).max(0);
                    (total / 2, total - total / 2)
                })
                .collect()),
            Padding::Explicit(p) if p.len() == input.len() => Ok(p.clone()),
            Padding::Explicit(p) => Err(hlo_builder::Error::Shape {
                op: "conv",
                message: format!(
                    "explicit padding {p:?} has {} entries for {} spatial axes",
                    p.len(),
                    input.len()
                ),
            }),
        }
    }
}

/// A convolution over `S` spatial axes.
#[derive(Clone, Debug, Module)]
pub struct Conv<const S: usize> {
    /// The kernel, spatial axes first, then `[in, out]`.
    pub kernel: Param,
    /// The bias, `[out]`, if any.
    pub bias: Option<Param>,
    #[module(skip)]
    /// The step of the window per spatial axis.
    pub strides: [i64; S],
    #[module(skip)]
    /// How the input is padded.
    pub padding: Padding,
}

/// 1-D convolution. Shapes: `x: T[n, w, in] -> T[n, w', out]`; `kernel: [k, in, out]` (He
/// normal), `bias: [out]` (zeros).
pub type Conv1d = Conv<1>;
/// 2-D convolution. Shapes: `x: T[n, h, w, in] -> T[n, h', w', out]`; `kernel:
/// [kh, kw, in, out]` (He normal), `bias: [out]` (zeros).
pub type Conv2d = Conv<2>;

impl<const S: usize> Conv<S> {
    /// A convolution from `inputs` to `outputs` channels with windows `window`, stride 1 and
    /// "same" padding.
    pub fn new(inputs: i64, outputs: i64, window: [i64; S]) -> Conv<S> {
        let mut dims: Vec<i64> = window.to_vec();
        dims.extend([inputs, outputs]);
        Conv {
            kernel: Param::new(dims, Init::HeNormal),
            bias: Some(Param::new([outputs], Init::Zeros)),
            strides: [1; S],
            padding: Padding::Same,
        }
    }
    /// The same convolution with `strides`.
    pub fn with_strides(mut self, strides: [i64; S]) -> Conv<S> {
        self.strides = strides;
        self
    }
    /// The same convolution with `padding`.
    pub fn with_padding(mut self, padding: Padding) -> Conv<S> {
        self.padding = padding;
        self
    }
    /// The same convolution without a bias.
    pub fn no_bias(mut self) -> Conv<S> {
        self.bias = None;
        self
    }

    /// Convolves `x` (channels last).
    #[track_caller]
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let k = self.kernel.tensor(x)?;
        if x.rank() != S + 2 {
            return Err(hlo_builder::Error::Shape {
                op: "conv",
                message: format!(
                    "input {} must be [n, {}channels] for a {S}-D convolution",
                    x.ty(),
                    "spatial..., ".repeat(S)
                ),
            });
        }
        let input = &x.dims()[1..=S];
        let window = &k.dims()[..S];
        let mut c = ConvConfig::new(ConvDims::nhwc(S));
        c.window_strides = self.strides.to_vec();
        c.padding = self.padding.resolve(input, window, &self.strides)?;
        let y = x.convolution(&k, c)?;
        match &self.bias {
            Some(b) => y + b.tensor(x)?,
            None => Ok(y),
        }
    }
}
