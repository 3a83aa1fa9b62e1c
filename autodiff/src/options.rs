//! The options of the reverse sweep: the forms XLA runs some gradients in (a leaf module:
//! the sweep and the rules both read it).

/// How the reverse sweep writes gradients that XLA runs at different speeds in different
/// forms (the values are the same up to rounding). The default suits most programs;
/// [`TrainStepBuilder::program_variants_tuned`](crate::train::TrainStepBuilder::program_variants_tuned)
/// times the forms and keeps the faster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct GradOptions {
    /// The form of a contraction's gradient whose left operand is contracted over its
    /// leading axes (a dense layer's weight gradient `xᵀ·g`).
    pub weight_gradients: WeightGradients,
}

impl GradOptions {
    /// The default options.
    pub const DEFAULT: GradOptions = GradOptions {
        weight_gradients: WeightGradients::Contract,
    };

    /// Every combination of forms, the default first (what tuning tries).
    pub fn variants() -> Vec<GradOptions> {
        [WeightGradients::Contract, WeightGradients::TransposeFirst]
            .into_iter()
            .map(|weight_gradients| GradOptions { weight_gradients })
            .collect()
    }

    /// These options with the weight gradients in `form`.
    pub fn weight_gradients(mut self, form: WeightGradients) -> GradOptions {
        self.weight_gradients = form;
        self
    }
}

/// The forms of a weight gradient `xᵀ·g` (see [`GradOptions`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum WeightGradients {
    /// One `dot_general` contracting `x` over its leading axes (the operand read
    /// transposed); XLA's CPU backend runs it through a transposed-operand kernel.
    #[default]
    Contract,
    /// `xᵀ` materialized first (a transpose behind an optimization barrier, so XLA cannot
    /// fold it back into the dot), then a plain row-major product: faster for small layers
    /// on the CPU plugins (the transposed-operand kernel's threading costs more than the
    /// copy), slower for large ones.
    TransposeFirst,
}
