//! The char_lm example's pieces on the real corpus: tokens, batches, a short training run,
//! and sampling through the key/value cache against recomputing the whole context.

use autodiff::nn::{seeded, ModuleExt};
use autodiff::train::optim::Adam;
use autodiff::train::{HostData, TrainStep, WeightSource};
use examples::char_lm::{self, argmax, CharLm, Config, Corpus, Sampler};
use hlo_builder::{ElementType::S32, TensorType};
use pjrt::{Client, Literal};

fn small(vocab: i64) -> Config {
    Config {
        dim: 32,
        heads: 2,
        layers: 2,
        context: 16,
        batch: 8,
        lr: 1e-2,
        ..Config::new(vocab)
    }
}

#[test]
fn corpus_tokens_and_batches() {
    let corpus = Corpus::load(char_lm::default_path()).unwrap();
    assert_eq!(corpus.vocab.len(), 84);
    assert_eq!(corpus.train.len() + corpus.valid.len(), 5_057_198);
    assert_eq!(corpus.train.len(), 5_057_198 * 9 / 10);
    let text = "ROMEO.\nBut soft!";
    let ids: Vec<i32> = text.bytes().map(|b| corpus.token(b).unwrap()).collect();
    assert_eq!(corpus.decode(&ids), text);
    assert_eq!(corpus.token(0xff), None);
    // Batches: the same for the same (seed, step), targets one position later.
    let (x, y) = char_lm::batch(&corpus.train, 3, 17, 4, 8);
    assert_eq!((x.len(), y.len()), (32, 32));
    assert_eq!(
        char_lm::batch(&corpus.train, 3, 17, 4, 8),
        (x.clone(), y.clone())
    );
    assert_ne!(char_lm::batch(&corpus.train, 3, 18, 4, 8).0, x);
    for r in 0..4 {
        assert_eq!(&x[r * 8 + 1..r * 8 + 8], &y[r * 8..r * 8 + 7]);
    }
    // SplitMix64's published first output for seed 0 (the JAX script writes it out too).
    assert_eq!(char_lm::splitmix64(0), 0xE220_A839_7B1D_CDAF);
    assert!(Corpus::from_bytes(b"too short").is_err());
}

#[test]
fn a_short_run_learns_and_the_cache_samples_what_the_full_context_gives() {
    let corpus = Corpus::load(char_lm::default_path()).unwrap();
    let c = small(corpus.vocab.len() as i64);
    let client = Client::default_cpu().unwrap();
    let model = CharLm::new(&c).init(&mut seeded(1)).unwrap();
    let tokens = TensorType::new(S32, [c.batch, c.context]);
    let mut step = TrainStep::new(&client, model)
        .optimizer(Adam::new(c.lr))
        .inputs([tokens.clone(), tokens])
        .compile(|m, b| m.forward(&b[0])?.cross_entropy(&b[1]))
        .unwrap();
    let mut losses = Vec::new();
    for s in 0..60 {
        let (x, y) = char_lm::batch(&corpus.train, 0, s, c.batch as usize, c.context as usize);
        let out = step
            .step(&[HostData::from(&x), HostData::from(&y)])
            .unwrap();
        losses.push(out.loss().unwrap());
    }
    // ln(84) = 4.43 at the start; character frequencies alone give about 3.3.
    assert!((losses[0] - 84f32.ln()).abs() < 0.3, "{}", losses[0]);
    let tail = losses[50..].iter().sum::<f32>() / 10.0;
    assert!(tail < 3.1, "mean loss of steps 50..60: {tail}");

    // Greedy decoding through the cache against the full forward over the text so far
    // (padded to the context; the causal mask keeps the padding out of earlier positions).
    let full = step
        .function("full", &[TensorType::new(S32, [1, c.context])], |m, x| {
            Ok(vec![m.forward(&x[0])?])
        })
        .unwrap();
    let prompt: Vec<i32> = "KING.".bytes().map(|b| corpus.token(b).unwrap()).collect();
    let n = c.context as usize - prompt.len();
    let sampler = Sampler::new(&step, &c).unwrap();
    let mut cached_logits = Vec::new();
    let cached = sampler
        .generate(&step, &prompt, n, |l| {
            cached_logits.push(l.to_vec());
            argmax(l)
        })
        .unwrap();
    let mut text = prompt.clone();
    let v = c.vocab as usize;
    for (i, &next) in cached.iter().enumerate() {
        let mut padded = text.clone();
        padded.resize(c.context as usize, 0);
        let x = Literal::from_slice(&padded, &[1, c.context]).unwrap();
        let out = full.call(&step, &[HostData::from(&x)]).unwrap();
        let logits = out[0].to_vec::<f32>().unwrap();
        let last = &logits[(text.len() - 1) * v..text.len() * v];
        for (a, b) in last.iter().zip(&cached_logits[i]) {
            assert!((a - b).abs() < 1e-4, "position {}: {a} vs {b}", text.len());
        }
        assert_eq!(argmax(last), next, "token {i}");
        text.push(next);
    }
    // Past the context the sampler refills its caches from the last half-context.
    let long = sampler
        .generate(&step, &prompt, 3 * c.context as usize, argmax)
        .unwrap();
    assert_eq!(&long[..n], &cached[..]);
    assert_eq!(long.len(), 3 * c.context as usize);
    // The step's model is what the sampler read.
    assert_eq!(
        step.model().unwrap().num_params(),
        CharLm::new(&c).num_params()
    );
}
