//! The training loop: [`fit`] hands each batch's row indices to a step closure (which
//! typically gathers the rows into reused host buffers and calls
//! [`TrainStep::step`](super::TrainStep::step)), evaluates every `eval_every` epochs, stops
//! early when a target metric is reached, and reports progress through `tracing` events.

use std::time::{Duration, Instant};

use super::nn::{permutation, seeded};

/// How long and how to train.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// Passes over the training data (at most).
    pub epochs: usize,
    /// Rows per step. Every step has exactly this many rows (shapes are static), so the
    /// last `n % batch_size` rows of each epoch's shuffled order are skipped that epoch.
    pub batch_size: usize,
    /// Seed of the per-epoch shuffles.
    pub seed: u64,
    /// Evaluate every this many epochs (0: only after the last epoch).
    pub eval_every: usize,
    /// Stop as soon as an evaluation reaches this metric (higher is better).
    pub target: Option<f64>,
    /// Emit a `tracing` event (target `autodiff::train`, level INFO) after each evaluation.
    pub verbose: bool,
    /// Name carried by the progress events.
    pub name: String,
    /// Name of the evaluation metric in the progress events.
    pub metric_name: String,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            epochs: 10,
            batch_size: 64,
            seed: 0,
            eval_every: 1,
            target: None,
            verbose: true,
            name: "train".to_string(),
            metric_name: "eval".to_string(),
        }
    }
}

/// Why a loop could not run: a bad schedule, or the error of a step or evaluation.
#[derive(Debug, thiserror::Error)]
pub enum FitError<E> {
    #[error(
        "fit: batch size {batch_size} must be between 1 and the number of training rows {rows}"
    )]
    BatchSize { batch_size: usize, rows: usize },
    #[error("fit: step {step} (epoch {epoch}) failed: {source}")]
    Step { step: u64, epoch: usize, source: E },
    #[error("fit: evaluation after epoch {epoch} failed: {source}")]
    Eval { epoch: usize, source: E },
    #[error("fit: the loss became {loss} at step {step} (epoch {epoch})")]
    NonFinite { step: u64, epoch: usize, loss: f32 },
}

/// One evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EvalPoint {
    /// Epochs completed (counting those of a resumed run).
    pub epoch: usize,
    /// Steps completed.
    pub step: u64,
    /// The metric the evaluation returned (e.g. test accuracy).
    pub metric: f64,
}

/// What a loop did.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// (step number, loss) for every step, step numbers counting from the start step.
    pub losses: Vec<(u64, f32)>,
    /// Mean loss of each epoch: (epoch, mean loss).
    pub epoch_losses: Vec<(usize, f32)>,
    pub evals: Vec<EvalPoint>,
    /// Steps completed at the end (start step included).
    pub step: u64,
    /// Epochs completed at the end (start epoch included).
    pub epoch: usize,
    /// True when the target metric was reached before the last epoch.
    pub stopped_early: bool,
    /// Time spent inside step closures.
    pub train_time: Duration,
    /// Rows consumed by steps.
    pub rows: u64,
}

impl History {
    /// Training throughput in rows per second.
    pub fn rows_per_sec(&self) -> f64 {
        self.rows as f64 / self.train_time.as_secs_f64().max(1e-9)
    }
    /// The last evaluation's metric.
    pub fn last_metric(&self) -> Option<f64> {
        self.evals.last().map(|e| e.metric)
    }
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
        dst.extend_from_slice(&src[i * row_len..(i + 1) * row_len]);
    }
}

/// Runs the loop from `start_epoch` / `start_step` (0 / 0 for a fresh run).
///
/// `step(indices)` trains on the rows `indices` (exactly `batch_size` of them) and returns
/// the batch loss; `eval()` returns a metric where higher is better.
pub fn fit<E, S, V>(
    schedule: &Schedule,
    rows: usize,
    start_epoch: usize,
    start_step: u64,
    mut step: S,
    mut eval: V,
) -> Result<History, FitError<E>>
where
    S: FnMut(&[usize]) -> Result<f32, E>,
    V: FnMut() -> Result<f64, E>,
{
    let bs = schedule.batch_size;
    if bs == 0 || bs > rows {
        return Err(FitError::BatchSize {
            batch_size: bs,
            rows,
        });
    }
    let mut h = History {
        step: start_step,
        epoch: start_epoch,
        ..History::default()
    };
    let steps_per_epoch = rows / bs;
    let wall = Instant::now();
    for epoch in start_epoch..schedule.epochs {
        let order = epoch_order(rows, schedule.seed, epoch);
        let mut sum = 0.0f64;
        for b in 0..steps_per_epoch {
            let idx = &order[b * bs..(b + 1) * bs];
            let t = Instant::now();
            let loss = step(idx).map_err(|source| FitError::Step {
                step: h.step,
                epoch,
                source,
            })?;
            h.train_time += t.elapsed();
            if !loss.is_finite() {
                return Err(FitError::NonFinite {
                    step: h.step,
                    epoch,
                    loss,
                });
            }
            h.losses.push((h.step, loss));
            h.step += 1;
            h.rows += bs as u64;
            sum += loss as f64;
        }
        h.epoch = epoch + 1;
        let mean = (sum / steps_per_epoch as f64) as f32;
        h.epoch_losses.push((h.epoch, mean));
        let last = h.epoch == schedule.epochs;
        let due = last || (schedule.eval_every > 0 && h.epoch % schedule.eval_every == 0);
        if due {
            let metric = eval().map_err(|source| FitError::Eval {
                epoch: h.epoch,
                source,
            })?;
            h.evals.push(EvalPoint {
                epoch: h.epoch,
                step: h.step,
                metric,
            });
            if schedule.verbose {
                tracing::info!(
                    target: "autodiff::train",
                    name = %schedule.name,
                    epoch = h.epoch,
                    epochs = schedule.epochs,
                    step = h.step,
                    loss = mean,
                    metric_name = %schedule.metric_name,
                    metric,
                    rows_per_sec = h.rows_per_sec(),
                    elapsed_s = wall.elapsed().as_secs_f64(),
                    "evaluation"
                );
            }
            if let Some(target) = schedule.target {
                if metric >= target && !last {
                    h.stopped_early = true;
                    break;
                }
            }
        }
    }
    Ok(h)
}

// Test code: `unwrap` and `panic!` here are the assertions; a failure fails the test, and
// none of it is compiled into the library.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_distinct_rows_and_orders_are_reproducible() {
        let o = epoch_order(10, 3, 0);
        assert_eq!(o, epoch_order(10, 3, 0));
        assert_ne!(o, epoch_order(10, 3, 1));
        let mut seen = Vec::new();
        let s = Schedule {
            epochs: 1,
            batch_size: 3,
            verbose: false,
            ..Schedule::default()
        };
        let h = fit::<(), _, _>(
            &s,
            10,
            0,
            0,
            |idx| {
                seen.extend_from_slice(idx);
                Ok(1.0)
            },
            || Ok(0.5),
        )
        .unwrap();
        assert_eq!(seen.len(), 9);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 9);
        assert_eq!(h.step, 3);
        assert_eq!(
            h.evals,
            vec![EvalPoint {
                epoch: 1,
                step: 3,
                metric: 0.5
            }]
        );
    }

    #[test]
    fn early_stop_resume_and_errors() {
        let s = Schedule {
            epochs: 10,
            batch_size: 2,
            target: Some(0.9),
            verbose: false,
            ..Schedule::default()
        };
        let mut evals = 0;
        let h = fit::<(), _, _>(
            &s,
            4,
            0,
            0,
            |_| Ok(0.1),
            || {
                evals += 1;
                Ok(if evals >= 3 { 0.95 } else { 0.5 })
            },
        )
        .unwrap();
        assert!(h.stopped_early);
        assert_eq!((h.epoch, h.step), (3, 6));
        // Resuming at epoch 8, step 16 runs epochs 8 and 9 only.
        let s2 = Schedule {
            target: None,
            ..s.clone()
        };
        let h2 = fit::<(), _, _>(&s2, 4, 8, 16, |_| Ok(0.1), || Ok(0.0)).unwrap();
        assert_eq!((h2.epoch, h2.step, h2.losses[0].0), (10, 20, 16));
        let e = fit::<&str, _, _>(&s2, 4, 0, 0, |_| Err("boom"), || Ok(0.0)).unwrap_err();
        assert!(
            e.to_string().contains("step 0 (epoch 0) failed: boom"),
            "{e}"
        );
        let e = fit::<(), _, _>(&s2, 4, 0, 0, |_| Ok(f32::NAN), || Ok(0.0)).unwrap_err();
        assert!(matches!(e, FitError::NonFinite { .. }));
        assert!(matches!(
            fit::<(), _, _>(&s2, 1, 0, 0, |_| Ok(0.0), || Ok(0.0)),
            Err(FitError::BatchSize { .. })
        ));
    }
}
