//! The training loop: [`fit`] runs a [`TrainStep`](super::TrainStep) over the batches of
//! each epoch (any iterator), tells a callback what happens (each step, each epoch's end),
//! and stops when the epochs are done or the callback says so. It does not wait for a step's
//! loss before dispatching the next: the losses of an epoch are read at its end. It prints
//! nothing; progress goes to the callback and to `tracing` events.

use std::time::{Duration, Instant};

use pjrt::Literal;

use super::data::HostData;
use super::error::TrainError;
use super::step::{StepOutput, StepsOutput, TrainStep};
use crate::nn::{permutation, seeded, Module};

/// What the loop tells its callback.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event {
    /// A step was dispatched (its loss is not read yet).
    Step {
        /// The epoch, from 0.
        epoch: usize,
        /// The step's number: how many steps the train step had completed before it.
        step: u64,
    },
    /// An epoch ended; its losses were read.
    EpochEnd {
        /// The epoch that ended, from 0.
        epoch: usize,
        /// The number of steps dispatched so far.
        step: u64,
        /// The mean of the epoch's losses.
        mean_loss: f32,
    },
}

/// What the callback tells the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep training.
    Continue,
    /// End the loop after this event (its result is returned as usual).
    Stop,
}

/// Why the loop stopped with an error: a step (with its number), a non-finite loss, or the
/// callback's own error.
#[derive(Debug, thiserror::Error)]
pub enum FitError<E> {
    /// A step failed.
    #[error("fit: step {step} (epoch {epoch}) failed: {source}")]
    Step {
        /// The step's number (how many steps came before it).
        step: u64,
        /// Its epoch.
        epoch: usize,
        /// The step's error.
        source: TrainError,
    },
    /// A step's loss, read at the end of its epoch, was NaN or infinite.
    #[error("fit: the loss became {loss} at step {step} (epoch {epoch})")]
    NonFinite {
        /// The first step of the epoch whose loss is not finite.
        step: u64,
        /// Its epoch.
        epoch: usize,
        /// The loss (NaN or infinite).
        loss: f32,
    },
    /// The callback returned an error.
    ///
    /// (`error` is not a `source`, so that any displayable error fits, `Box<dyn Error>`
    /// included.)
    #[error("fit: after epoch {epoch}: {error}")]
    Callback {
        /// The epoch after which it failed.
        epoch: usize,
        /// The callback's error.
        error: E,
    },
}

/// What a loop did.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// (step number, loss) for every step.
    pub losses: Vec<(u64, f32)>,
    /// Mean loss of each epoch: (epochs completed, mean loss).
    pub epoch_losses: Vec<(usize, f32)>,
    /// Steps completed at the end (the step's count: a restored step continues its count).
    pub step: u64,
    /// Epochs completed at the end.
    pub epoch: usize,
    /// True when the callback stopped the loop.
    pub stopped_early: bool,
    /// Wall time spent in the loop's steps.
    pub train_time: Duration,
    /// Batches run.
    pub batches: u64,
}

/// Dispatched calls whose losses are read at the end of the epoch.
enum Pending {
    One(Vec<StepOutput>),
    Many(StepsOutput),
}

impl Pending {
    fn losses(&self) -> Result<Vec<f32>, TrainError> {
        match self {
            Pending::One(outs) => outs.iter().map(StepOutput::loss).collect(),
            Pending::Many(out) => out.losses(),
        }
    }
}

/// `k` batches (each one literal per input) stacked on a new leading axis.
fn stack(group: &[Vec<Literal>]) -> Result<Vec<Literal>, TrainError> {
    let Some(first) = group.first() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(first.len());
    for i in 0..first.len() {
        let (ty, dims) = (first[i].element_type(), first[i].dims().to_vec());
        let mut bytes = Vec::with_capacity(first[i].as_bytes().len() * group.len());
        for (j, batch) in group.iter().enumerate() {
            let l = batch.get(i).ok_or_else(|| TrainError::Spec {
                name: "fit".into(),
                message: format!(
                    "batch {j} of a group has {} inputs, the first has {}",
                    batch.len(),
                    first.len()
                ),
            })?;
            if l.element_type() != ty || l.dims() != dims.as_slice() {
                return Err(TrainError::Spec {
                    name: "fit".into(),
                    message: format!(
                        "input {i} of batch {j} of a group is {}{:?}, the first batch's is {ty}{dims:?}",
                        l.element_type(),
                        l.dims()
                    ),
                });
            }
            bytes.extend_from_slice(l.as_bytes());
        }
        let mut d = vec![group.len() as i64];
        d.extend_from_slice(&dims);
        out.push(Literal::from_bytes(ty, &d, bytes)?);
    }
    Ok(out)
}

/// Runs epochs `start_epoch..epochs`: for each, the batches `batches(epoch)` gives (each one
/// host array per declared input of the step), then the callback with `EpochEnd`. The
/// callback also gets the step (to evaluate with functions bound to it). A step's error, a
/// non-finite loss or the callback's error ends the loop with that error.
pub fn fit<M, I, E>(
    step: &mut TrainStep<M>,
    start_epoch: usize,
    epochs: usize,
    mut batches: impl FnMut(usize) -> I,
    mut callback: impl FnMut(&TrainStep<M>, Event) -> Result<Flow, E>,
) -> Result<History, FitError<E>>
where
    M: Module,
    I: IntoIterator<Item = Vec<Literal>>,
{
    let mut h = History {
        step: step.steps(),
        epoch: start_epoch,
        ..History::default()
    };
    for epoch in start_epoch..epochs {
        let t0 = Instant::now();
        let mut pending: Vec<Pending> = Vec::new();
        let k = step.steps_per_call();
        let mut group: Vec<Vec<Literal>> = Vec::with_capacity(k);
        let mut stop = false;
        let mut iter = batches(epoch).into_iter();
        loop {
            let next = iter.next();
            let done = next.is_none();
            if let Some(batch) = next {
                group.push(batch);
            }
            // A full group of k batches goes as one call; a last short group one by one.
            let flush = group.len() == k || (done && !group.is_empty());
            if flush {
                let n = step.steps();
                let steps = group.len() as u64;
                let out = if group.len() == k && k > 1 {
                    let stacked = stack(&group).map_err(|source| FitError::Step {
                        step: n,
                        epoch,
                        source,
                    })?;
                    let data: Vec<HostData<'_>> = stacked.iter().map(HostData::from).collect();
                    step.step_many(&data).map(Pending::Many)
                } else {
                    let mut outs = Vec::with_capacity(group.len());
                    let mut r = Ok(());
                    for batch in &group {
                        let data: Vec<HostData<'_>> = batch.iter().map(HostData::from).collect();
                        match step.step(&data) {
                            Ok(o) => outs.push(o),
                            Err(e) => {
                                r = Err(e);
                                break;
                            }
                        }
                    }
                    r.map(|()| Pending::One(outs))
                };
                let out = out.map_err(|source| FitError::Step {
                    step: n,
                    epoch,
                    source,
                })?;
                pending.push(out);
                group.clear();
                h.batches += steps;
                for s in n..n + steps {
                    let flow = callback(step, Event::Step { epoch, step: s })
                        .map_err(|error| FitError::Callback { epoch, error })?;
                    if flow == Flow::Stop {
                        stop = true;
                    }
                }
            }
            if done || stop {
                break;
            }
        }
        if stop {
            h.stopped_early = true;
        }
        // Read the epoch's losses (the steps ran while the next ones were dispatched).
        let mut sum = 0.0f64;
        let mut count = 0usize;
        let mut n = h.step;
        for out in pending {
            let losses = out.losses().map_err(|source| FitError::Step {
                step: n,
                epoch,
                source,
            })?;
            for loss in losses {
                if !loss.is_finite() {
                    return Err(FitError::NonFinite {
                        step: n,
                        epoch,
                        loss,
                    });
                }
                h.losses.push((n, loss));
                sum += loss as f64;
                count += 1;
                n += 1;
            }
        }
        h.train_time += t0.elapsed();
        h.step = step.steps();
        h.epoch = epoch + 1;
        let mean_loss = (sum / count.max(1) as f64) as f32;
        h.epoch_losses.push((h.epoch, mean_loss));
        tracing::debug!(
            target: "autodiff::train",
            epoch = h.epoch,
            step = h.step,
            mean_loss,
            "epoch"
        );
        if h.stopped_early {
            break;
        }
        let flow = callback(
            step,
            Event::EpochEnd {
                epoch: h.epoch,
                step: h.step,
                mean_loss,
            },
        )
        .map_err(|error| FitError::Callback {
            epoch: h.epoch,
            error,
        })?;
        if flow == Flow::Stop {
            h.stopped_early = h.epoch < epochs;
            break;
        }
    }
    Ok(h)
}

/// The row order of epoch `epoch`: a permutation of `0..rows` that depends only on
/// `(seed, epoch)`, so a resumed run sees the same batches as an uninterrupted one.
pub fn epoch_order(rows: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mix = seed
        ^ (epoch as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(0xD1B5_4A32_D192_ED03);
    permutation(&mut seeded(mix), rows)
}

/// Copies the rows `indices` of a row-major table with rows of `row_len` values into
/// `dst` (cleared first; its allocation is reused).
pub fn gather_rows<T: Copy>(src: &[T], row_len: usize, indices: &[usize], dst: &mut Vec<T>) {
    dst.clear();
    for &i in indices {
        if let Some(row) = src.get(i * row_len..(i + 1) * row_len) {
            dst.extend_from_slice(row);
        }
    }
}

/// The batches of one epoch of a row-major dataset: `rows` rows shuffled by
/// [`epoch_order`], cut into batches of `batch_size` (the remainder is skipped, since a
/// step's shapes are fixed); `make(indices)` builds one batch's arrays.
pub fn shuffled_batches<'a, T: 'a>(
    rows: usize,
    batch_size: usize,
    seed: u64,
    epoch: usize,
    mut make: impl FnMut(&[usize]) -> T + 'a,
) -> impl Iterator<Item = T> + 'a {
    let order = epoch_order(rows, seed, epoch);
    let n = rows.checked_div(batch_size).unwrap_or(0);
    (0..n).map(move |b| make(&order[b * batch_size..(b + 1) * batch_size]))
}

// Test code: `unwrap` and `panic!` here are the assertions; a failure fails the test, and
// none of it is compiled into the library.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_are_reproducible_permutations() {
        let o = epoch_order(10, 3, 0);
        assert_eq!(o, epoch_order(10, 3, 0));
        assert_ne!(o, epoch_order(10, 3, 1));
        let mut s = o.clone();
        s.sort();
        assert_eq!(s, (0..10).collect::<Vec<_>>());
        let b: Vec<Vec<usize>> = shuffled_batches(10, 3, 3, 0, |i| i.to_vec()).collect();
        assert_eq!(b.len(), 3);
        let mut seen: Vec<usize> = b.concat();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 9);
        let mut dst = Vec::new();
        gather_rows(&[1, 2, 3, 4, 5, 6], 2, &[2, 0], &mut dst);
        assert_eq!(dst, [5, 6, 1, 2]);
    }
}
