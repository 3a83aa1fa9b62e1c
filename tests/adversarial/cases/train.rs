//! The train step and checkpoints of the training API: hostile checkpoint files (cut, lying
//! headers, crafted tensors of the wrong name, type or shape, NaN values), batches of the
//! wrong shape, type or count, buffers of another client or plugin, deleted and error
//! buffers, and the k-step entry point misused. Every refusal must also leave the step's
//! state as it was: a case that gets its error checks the parameters and the step count
//! first, and reports a wrong result if they moved.

use autodiff::nn::{self, Linear, ModuleExt};
use autodiff::train::optim::Adam;
use autodiff::train::{self, Flow, HostData, TrainStep};
use hlo_builder::{ElementType, TensorType};
use pjrt::{Buffer, Client, ErrorCode};

use crate::case::{case, correct, wrong, Area, Case, Ctx, Expect, Failure, Outcome};

/// The model every case trains: 4 features to 3 classes.
fn model() -> Result<Linear, Failure> {
    Ok(Linear::new(4, 3).init(&mut nn::seeded(11))?)
}

fn step_on(client: &Client) -> Result<TrainStep<Linear>, Failure> {
    Ok(TrainStep::new(client, model()?)
        .name("hostile")
        .optimizer(Adam::new(0.01))
        .inputs([
            TensorType::new(ElementType::F32, [8, 4]),
            TensorType::new(ElementType::S32, [8]),
        ])
        .compile(|m, b| m.forward(&b[0])?.cross_entropy(&b[1]))?)
}

fn batch() -> (Vec<f32>, Vec<i32>) {
    let x = (0..32).map(|i| ((i * 7 % 11) as f32 - 5.0) / 5.0).collect();
    let y = (0..8).map(|i| i % 3).collect();
    (x, y)
}

/// A step trained for two steps (so its state is not the initial one).
fn trained(ctx: &Ctx) -> Result<TrainStep<Linear>, Failure> {
    let mut s = step_on(ctx.client()?)?;
    let (x, y) = batch();
    for _ in 0..2 {
        s.step(&[HostData::from(&x), HostData::from(&y)])?;
    }
    Ok(s)
}

/// The step's parameters (host copies) and step count.
fn snapshot(s: &TrainStep<Linear>) -> Result<(Vec<f32>, Vec<f32>, u64), Failure> {
    let m = s.model()?;
    Ok((
        m.weight.host().ok_or("no weight values")?.to_vec::<f32>()?,
        m.bias
            .as_ref()
            .and_then(|b| b.host())
            .ok_or("no bias values")?
            .to_vec::<f32>()?,
        s.steps(),
    ))
}

/// Runs `attack` on a trained step; an error passes only if the state is unchanged and the
/// step still trains afterwards.
fn keeps_state(
    ctx: &Ctx,
    attack: impl FnOnce(&Ctx, &mut TrainStep<Linear>) -> Result<(), Failure>,
) -> Result<Outcome, Failure> {
    let mut s = trained(ctx)?;
    let before = snapshot(&s)?;
    match attack(ctx, &mut s) {
        Ok(()) => wrong("accepted"),
        Err(e) => {
            if snapshot(&s)? != before {
                return wrong(format!("refused ({e}) but the step's state changed"));
            }
            let (x, y) = batch();
            let l = s.step(&[HostData::from(&x), HostData::from(&y)])?.loss()?;
            if !l.is_finite() || s.steps() != before.2 + 1 {
                return wrong(format!("refused ({e}) but the next step gave loss {l}"));
            }
            Err(e)
        }
    }
}

/// A checkpoint of a trained step, as bytes.
fn checkpoint_bytes(ctx: &Ctx) -> Result<Vec<u8>, Failure> {
    let p = ctx.scratch("good.safetensors");
    trained(ctx)?.save(&p)?;
    Ok(std::fs::read(&p)?)
}

/// Writes `bytes` as `ckpt.safetensors` and loads it into a trained step.
fn load_bytes(ctx: &Ctx, bytes: &[u8]) -> Result<Outcome, Failure> {
    let p = ctx.scratch("ckpt.safetensors");
    std::fs::write(&p, bytes)?;
    keeps_state(ctx, |_, s| Ok(s.load(&p)?))
}

/// A safetensors file by hand: an 8-byte little-endian header length, the JSON header, and
/// `data` bytes.
fn craft(header: &str, data: &[u8]) -> Vec<u8> {
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(data);
    v
}

/// The header of a checkpoint with `w` (shape, dtype) and `b`, plus `extra` entries, and
/// the step count metadata; tensors laid out one after another.
fn header(w: (&str, &[u64]), b: (&str, &[u64]), extra: &str, steps: &str) -> (String, usize) {
    let bytes = |dtype: &str, shape: &[u64]| -> u64 {
        let e = match dtype {
            "F64" | "I64" | "U64" => 8,
            "F16" | "BF16" => 2,
            _ => 4,
        };
        shape.iter().fold(e, |n, &d| n.saturating_mul(d))
    };
    let (wn, bn) = (bytes(w.0, w.1), bytes(b.0, b.1));
    let h = format!(
        r#"{{"__metadata__":{{"steps":"{steps}"}},"weight":{{"dtype":"{}","shape":{:?},"data_offsets":[0,{wn}]}},"bias":{{"dtype":"{}","shape":{:?},"data_offsets":[{wn},{}]}}{extra}}}"#,
        w.0,
        w.1,
        b.0,
        b.1,
        wn.saturating_add(bn)
    );
    (h, wn.saturating_add(bn) as usize)
}

/// Loads a crafted checkpoint whose data is all `fill` bytes.
fn load_crafted(ctx: &Ctx, h: (String, usize), fill: u8) -> Result<Outcome, Failure> {
    load_bytes(ctx, &craft(&h.0, &vec![fill; h.1]))
}

pub fn cases() -> Vec<Case> {
    let a = Area::Train;
    let mut v = Vec::new();

    // ---- checkpoint files cut short, at many places
    for cut in [
        "0", "1", "7", "8", "9", "16", "header-1", "header", "header+1", "half", "last",
    ] {
        v.push(case(
            a,
            format!("checkpoint-cut-{cut}"),
            Expect::Error("ckpt.safetensors"),
            move |ctx| {
                let good = checkpoint_bytes(ctx)?;
                let hl = u64::from_le_bytes(good[..8].try_into()?) as usize + 8;
                let len = match cut {
                    "header-1" => hl - 1,
                    "header" => hl,
                    "header+1" => hl + 1,
                    "half" => good.len() / 2,
                    "last" => good.len() - 1,
                    n => n.parse()?,
                };
                load_bytes(ctx, &good[..len])
            },
        ));
    }

    // ---- header lengths that lie
    for (name, claim) in [
        ("u64-max", u64::MAX),
        ("2^40", 1u64 << 40),
        ("whole-file", u64::MAX / 2),
        ("zero", 0),
    ] {
        v.push(case(
            a,
            format!("checkpoint-header-length-{name}"),
            Expect::Error("ckpt.safetensors"),
            move |ctx| {
                let mut b = checkpoint_bytes(ctx)?;
                let claim = if name == "whole-file" {
                    b.len() as u64
                } else {
                    claim
                };
                b[..8].copy_from_slice(&claim.to_le_bytes());
                load_bytes(ctx, &b)
            },
        ));
    }
    v.push(case(
        a,
        "checkpoint-header-not-json",
        Expect::Error("ckpt.safetensors"),
        |ctx| load_bytes(ctx, &craft("{{{{ not json", &[0; 64])),
    ));
    v.push(case(
        a,
        "checkpoint-header-not-utf8",
        Expect::Error("ckpt.safetensors"),
        |ctx| {
            let mut b = craft("{\"a\":1}", &[]);
            b[9] = 0xff;
            load_bytes(ctx, &b)
        },
    ));
    v.push(case(
        a,
        "checkpoint-empty-file",
        Expect::Error("ckpt.safetensors"),
        |ctx| load_bytes(ctx, &[]),
    ));

    // ---- crafted tensors
    let good_w: &'static [u64] = &[4, 3];
    let good_b: &'static [u64] = &[3];
    v.push(case(
        a,
        "checkpoint-crafted-well-formed-loads",
        Expect::Correct,
        move |ctx| {
            // The crafting itself is right: a well-formed file with the step's names loads.
            let p = ctx.scratch("ckpt.safetensors");
            let (h, n) = header(("F32", good_w), ("F32", good_b), "", "5");
            std::fs::write(&p, craft(&h, &vec![0; n]))?;
            let mut s = trained(ctx)?;
            let before = s.optimizer_state()?;
            let r = s.load(&p);
            match r {
                // Optimizer entries are missing: refused by name, state kept.
                Err(e)
                    if e.to_string().contains("optim.")
                        && s.optimizer_state()?.step == before.step =>
                {
                    correct(format!("refused for the optimizer entries only: {e}"))
                }
                Err(e) => wrong(format!("refused for another reason: {e}")),
                Ok(()) => wrong("loaded without optimizer state"),
            }
        },
    ));
    v.push(case(
        a,
        "checkpoint-weight-transposed",
        Expect::Error("weight"),
        move |ctx| load_crafted(ctx, header(("F32", &[3, 4]), ("F32", good_b), "", "5"), 0),
    ));
    v.push(case(
        a,
        "checkpoint-weight-f64",
        Expect::Error("weight"),
        move |ctx| load_crafted(ctx, header(("F64", good_w), ("F32", good_b), "", "5"), 0),
    ));
    v.push(case(
        a,
        "checkpoint-weight-f16",
        Expect::Error("weight"),
        move |ctx| load_crafted(ctx, header(("F16", good_w), ("F32", good_b), "", "5"), 0),
    ));
    v.push(case(
        a,
        "checkpoint-bias-i32",
        Expect::Error("bias"),
        move |ctx| load_crafted(ctx, header(("F32", good_w), ("I32", good_b), "", "5"), 0),
    ));
    v.push(case(
        a,
        "checkpoint-unknown-dtype",
        Expect::Error("ckpt.safetensors"),
        move |ctx| load_crafted(ctx, header(("Q4", good_w), ("F32", good_b), "", "5"), 0),
    ));
    v.push(case(
        a,
        "checkpoint-huge-shape",
        Expect::Error("ckpt.safetensors"),
        move |ctx| {
            let (h, _) = header(("F32", &[1 << 40, 1 << 40]), ("F32", good_b), "", "5");
            load_bytes(ctx, &craft(&h, &[0; 64]))
        },
    ));
    v.push(case(
        a,
        "checkpoint-offsets-past-the-data",
        Expect::Error("ckpt.safetensors"),
        move |ctx| {
            let (h, n) = header(("F32", good_w), ("F32", good_b), "", "5");
            load_bytes(ctx, &craft(&h, &vec![0; n - 4]))
        },
    ));
    v.push(case(a, "checkpoint-offsets-overlap", Expect::Error("ckpt.safetensors"), move |ctx| {
        let h = r#"{"weight":{"dtype":"F32","shape":[4,3],"data_offsets":[0,48]},"bias":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#;
        load_bytes(ctx, &craft(h, &[0; 48]))
    }));
    v.push(case(a, "checkpoint-offsets-reversed", Expect::Error("ckpt.safetensors"), move |ctx| {
        let h = r#"{"weight":{"dtype":"F32","shape":[4,3],"data_offsets":[48,0]},"bias":{"dtype":"F32","shape":[3],"data_offsets":[48,60]}}"#;
        load_bytes(ctx, &craft(h, &[0; 60]))
    }));
    v.push(case(
        a,
        "checkpoint-missing-weight",
        Expect::Error("weight"),
        move |ctx| {
            let h = r#"{"bias":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#;
            load_bytes(ctx, &craft(h, &[0; 12]))
        },
    ));
    v.push(case(
        a,
        "checkpoint-of-another-model",
        Expect::Error("weight"),
        |ctx| {
            let p = ctx.scratch("ckpt.safetensors");
            let other = TrainStep::new(ctx.client()?, Linear::new(5, 3).init(&mut nn::seeded(1))?)
                .optimizer(Adam::new(0.01))
                .inputs([
                    TensorType::new(ElementType::F32, [8, 5]),
                    TensorType::new(ElementType::S32, [8]),
                ])
                .compile(|m, b| m.forward(&b[0])?.cross_entropy(&b[1]))?;
            other.save(&p)?;
            keeps_state(ctx, |_, s| Ok(s.load(&p)?))
        },
    ));
    v.push(case(
        a,
        "checkpoint-extra-tensor",
        Expect::Error("intruder"),
        |ctx| {
            let p = ctx.scratch("ckpt.safetensors");
            let s = trained(ctx)?;
            let mut c = s.checkpoint()?;
            c.insert("intruder", pjrt::Literal::vector(&[1f32]));
            c.save(&p)?;
            keeps_state(ctx, |_, s| Ok(s.load(&p)?))
        },
    ));
    v.push(case(
        a,
        "checkpoint-steps-not-a-number",
        Expect::Error("steps"),
        |ctx| {
            let p = ctx.scratch("ckpt.safetensors");
            let mut c = trained(ctx)?.checkpoint()?;
            c.set_meta("steps", "twelve");
            c.save(&p)?;
            keeps_state(ctx, |_, s| Ok(s.load(&p)?))
        },
    ));
    v.push(case(
        a,
        "checkpoint-nan-weights-stop-fit",
        Expect::Error("NaN"),
        |ctx| {
            // NaN is a value, so the file loads; training on it must stop with an error naming
            // the step, not run on silently.
            let p = ctx.scratch("ckpt.safetensors");
            let mut c = trained(ctx)?.checkpoint()?;
            let w = c
                .tensors
                .keys()
                .find(|k| k.ends_with("weight") && !k.starts_with("optim."));
            let w = w.cloned().ok_or("no weight entry")?;
            c.insert(w, pjrt::Literal::from_slice(&[f32::NAN; 12], &[4, 3])?);
            c.save(&p)?;
            let mut s = trained(ctx)?;
            s.load(&p)?;
            let (x, y) = batch();
            let r = train::fit(
                &mut s,
                0,
                1,
                |_| {
                    vec![vec![
                        pjrt::Literal::from_slice(&x, &[8, 4]).unwrap(),
                        pjrt::Literal::from_slice(&y, &[8]).unwrap(),
                    ]]
                },
                |_, _| Ok::<_, std::io::Error>(Flow::Continue),
            );
            match r {
                Ok(h) => wrong(format!("fit ran on NaN weights: {:?}", h.losses)),
                Err(e) => Err(e.into()),
            }
        },
    ));
    v.push(case(
        a,
        "checkpoint-path-is-a-directory",
        Expect::Error("ckpt-dir"),
        |ctx| {
            let p = ctx.scratch("ckpt-dir");
            std::fs::create_dir_all(&p)?;
            keeps_state(ctx, |_, s| Ok(s.load(&p)?))
        },
    ));
    v.push(case(
        a,
        "checkpoint-missing-file",
        Expect::Error("nowhere.safetensors"),
        |ctx| {
            let p = ctx.scratch("nowhere.safetensors");
            keeps_state(ctx, |_, s| Ok(s.load(&p)?))
        },
    ));
    v.push(case(
        a,
        "checkpoint-save-under-a-file",
        Expect::Error("blocker"),
        |ctx| {
            let blocker = ctx.scratch("blocker");
            std::fs::write(&blocker, b"a file")?;
            let s = trained(ctx)?;
            match s.save(blocker.join("ckpt.safetensors")) {
                Ok(()) => wrong("saved under a file"),
                Err(e) => {
                    if std::fs::read(&blocker)? != b"a file" {
                        return wrong("the file in the way was changed");
                    }
                    Err(e.into())
                }
            }
        },
    ));

    // ---- batches the step does not take
    v.push(case(
        a,
        "batch-wrong-shape",
        Expect::Error("input 0"),
        |ctx| {
            keeps_state(ctx, |_, s| {
                let (x, y) = batch();
                s.step(&[HostData::from(&x[..28]), HostData::from(&y)])?;
                Ok(())
            })
        },
    ));
    v.push(case(
        a,
        "batch-wrong-type",
        Expect::Error("input 1"),
        |ctx| {
            keeps_state(ctx, |_, s| {
                let (x, _) = batch();
                let y = vec![0f32; 8];
                s.step(&[HostData::from(&x), HostData::from(&y)])?;
                Ok(())
            })
        },
    ));
    v.push(case(
        a,
        "batch-one-input-missing",
        Expect::Error("2"),
        |ctx| {
            keeps_state(ctx, |_, s| {
                let (x, _) = batch();
                s.step(&[HostData::from(&x)])?;
                Ok(())
            })
        },
    ));
    v.push(case(
        a,
        "batch-one-input-too-many",
        Expect::Error("2"),
        |ctx| {
            keeps_state(ctx, |_, s| {
                let (x, y) = batch();
                s.step(&[HostData::from(&x), HostData::from(&y), HostData::from(&y)])?;
                Ok(())
            })
        },
    ));
    v.push(case(
        a,
        "batch-buffer-of-another-client",
        Expect::Error("client"),
        |ctx| {
            keeps_state(ctx, |ctx, s| {
                let other = ctx.client_of(crate::case::DEFAULT, 1)?;
                let (x, y) = batch();
                let xb = other.buffer_from_host(&x, &[8, 4])?;
                let yb = other.buffer_from_host(&y, &[8])?;
                s.step_buffers(&[&xb, &yb])?;
                Ok(())
            })
        },
    ));
    v.push(case(
        a,
        "batch-buffer-of-another-plugin",
        Expect::Error("client"),
        |ctx| {
            keeps_state(ctx, |ctx, s| {
                let other = ctx.client_of("0.106", 1)?;
                let (x, y) = batch();
                let xb = other.buffer_from_host(&x, &[8, 4])?;
                let yb = ctx.client()?.buffer_from_host(&y, &[8])?;
                s.step_buffers(&[&xb, &yb])?;
                Ok(())
            })
        },
    ));
    v.push(case(
        a,
        "batch-deleted-buffer",
        Expect::Error("delete"),
        |ctx| {
            keeps_state(ctx, |ctx, s| {
                let (x, y) = batch();
                let xb = ctx.client()?.buffer_from_host(&x, &[8, 4])?;
                let yb = ctx.client()?.buffer_from_host(&y, &[8])?;
                xb.delete()?;
                s.step_buffers(&[&xb, &yb])?;
                Ok(())
            })
        },
    ));
    v.push(case(
        a,
        "batch-error-buffer",
        Expect::Error("poisoned"),
        |ctx| {
            keeps_state(ctx, |ctx, s| {
                let c = ctx.client()?;
                let (_, y) = batch();
                let xb: Buffer = c.create_error_buffer(
                    ErrorCode::Internal,
                    "poisoned",
                    ElementType::F32,
                    &[8, 4],
                    None,
                )?;
                let yb = c.buffer_from_host(&y, &[8])?;
                s.step_buffers(&[&xb, &yb])?;
                Ok(())
            })
        },
    ));
    v.push(case(
        a,
        "step-many-on-a-one-step-program",
        Expect::Error("steps_per_call"),
        |ctx| {
            keeps_state(ctx, |_, s| {
                let (x, y) = batch();
                s.step_many(&[HostData::from(&x), HostData::from(&y)])?;
                Ok(())
            })
        },
    ));
    v.push(case(
        a,
        "failed-steps-then-training-continues",
        Expect::Correct,
        |ctx| {
            let mut s = trained(ctx)?;
            let (x, y) = batch();
            for _ in 0..3 {
                if s.step(&[HostData::from(&x[..4]), HostData::from(&y)])
                    .is_ok()
                {
                    return wrong("a batch of 4 values accepted for f32[8, 4]");
                }
            }
            let first = s.step(&[HostData::from(&x), HostData::from(&y)])?.loss()?;
            let mut last = first;
            for _ in 0..30 {
                last = s.step(&[HostData::from(&x), HostData::from(&y)])?.loss()?;
            }
            if s.steps() == 2 + 31 && last < first {
                correct(format!(
                    "loss {first} -> {last} after three refused batches"
                ))
            } else {
                wrong(format!("steps {}, loss {first} -> {last}", s.steps()))
            }
        },
    ));
    v
}
