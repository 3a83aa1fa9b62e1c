//! Gradients of composite functions against JAX (fixtures made by
//! `autodiff/fixtures/make_fixtures.py`: JAX in f64 from f32 inputs). Ours run in f32 on the
//! CPU plugin and must match to 1e-5 relative (max abs error / max abs value, per tensor).

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::common::*;

struct HostTensor {
    dims: Vec<i64>,
    f: Vec<f32>,
    i: Vec<i32>,
    int: bool,
}

fn parse(v: &Json) -> HostTensor {
    let dims: Vec<i64> = v["dims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_i64().unwrap())
        .collect();
    let int = v["dtype"] == "s32";
    let data = v["data"].as_array().unwrap();
    HostTensor {
        dims,
        f: if int {
            vec![]
        } else {
            data.iter().map(|x| x.as_f64().unwrap() as f32).collect()
        },
        i: if int {
            data.iter().map(|x| x.as_i64().unwrap() as i32).collect()
        } else {
            vec![]
        },
        int,
    }
}

fn fixtures() -> Json {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/gradients.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixtures/gradients.json")).unwrap()
}

type Model = fn(&mut Builder, &HashMap<String, Value>) -> hlo_builder::Result<Value>;

fn cross_entropy(
    b: &mut Builder,
    logits: Value,
    labels: Value,
    n: i64,
) -> hlo_builder::Result<Value> {
    let oh = b.one_hot(labels, n, F32)?;
    let lse = b.logsumexp(logits, [1])?;
    let picked = b.mul(logits, oh)?;
    let picked = b.reduce_sum(picked, [1])?;
    let l = b.sub(lse, picked)?;
    b.mean(l)
}

fn mlp(b: &mut Builder, t: &HashMap<String, Value>) -> hlo_builder::Result<Value> {
    let h = b.matmul(t["x"], t["w1"])?;
    let h = b.add(h, t["b1"])?;
    let h = b.relu(h)?;
    let h = b.matmul(h, t["w2"])?;
    let h = b.add(h, t["b2"])?;
    let h = b.tanh(h)?;
    let l = b.matmul(h, t["w3"])?;
    let l = b.add(l, t["b3"])?;
    cross_entropy(b, l, t["labels"], 4)
}

fn convnet(b: &mut Builder, t: &HashMap<String, Value>) -> hlo_builder::Result<Value> {
    let mut c1 = ConvConfig::new(ConvDims::nhwc(2));
    c1.padding = vec![(1, 1), (1, 1)];
    let y = b.convolution(t["x"], t["k1"], c1)?;
    let y = b.add(y, t["c1"])?;
    let y = b.relu(y)?;
    let y = b.max_pool(y, [1, 2, 2, 1], [1, 2, 2, 1])?;
    let mut c2 = ConvConfig::new(ConvDims::nhwc(2));
    c2.padding = vec![(1, 1), (1, 1)];
    c2.window_strides = vec![2, 2];
    let y = b.convolution(y, t["k2"], c2)?;
    let y = b.tanh(y)?;
    let y = b.avg_pool(y, [1, 2, 2, 1], [1, 2, 2, 1])?;
    let y = b.reshape(y, [2, 5])?;
    let l = b.matmul(y, t["w"])?;
    cross_entropy(b, l, t["labels"], 3)
}

fn layer_norm(b: &mut Builder, t: &HashMap<String, Value>) -> hlo_builder::Result<Value> {
    let x = t["x"];
    let m = b.mean_axes(x, [1])?;
    let m = b.reshape(m, [4, 1])?;
    let d = b.sub(x, m)?;
    let v = b.mul(d, d)?;
    let v = b.mean_axes(v, [1])?;
    let v = b.reshape(v, [4, 1])?;
    let eps = b.scalar(F32, 1e-5)?;
    let v = b.add(v, eps)?;
    let s = b.sqrt(v)?;
    let y = b.div(d, s)?;
    let y = b.mul(y, t["gamma"])?;
    let y = b.add(y, t["beta"])?;
    let y = b.mul(y, t["r"])?;
    b.reduce_sum(y, [0, 1])
}

fn attention(b: &mut Builder, t: &HashMap<String, Value>) -> hlo_builder::Result<Value> {
    let kt = b.transpose(t["k"], [1, 0])?;
    let s = b.matmul(t["q"], kt)?;
    let two = b.scalar(F32, 2.0)?;
    let s = b.div(s, two)?;
    let a = b.softmax(s, 1)?;
    let o = b.matmul(a, t["v"])?;
    let o = b.mul(o, t["r"])?;
    b.reduce_sum(o, [0, 1])
}

fn logsumexp(b: &mut Builder, t: &HashMap<String, Value>) -> hlo_builder::Result<Value> {
    let l = b.logsumexp(t["x"], [1])?;
    let l = b.mul(l, t["r"])?;
    b.reduce_sum(l, [0])
}

fn rel_err(got: &[f32], want: &[f32]) -> f64 {
    let scale = want
        .iter()
        .fold(0f64, |m, w| m.max(w.abs() as f64))
        .max(1e-30);
    let err = got
        .iter()
        .zip(want)
        .fold(0f64, |m, (g, w)| m.max((*g as f64 - *w as f64).abs()));
    err / scale
}

fn check(name: &str, model: Model) {
    let all = fixtures();
    let case = &all["cases"][name];
    let order: Vec<String> = case["param_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut b = Builder::new(name);
    let mut t = HashMap::new();
    let mut args = Vec::new();
    let mut params = Vec::new();
    for k in &order {
        let h = parse(&case["params"][k]);
        let p = b.parameter(k.clone(), F32, &h.dims).unwrap();
        t.insert(k.clone(), p);
        params.push(p);
        args.push(lit(&h.f, &h.dims));
    }
    for (k, v) in case["data"].as_object().unwrap() {
        let h = parse(v);
        let p = b
            .parameter(k.clone(), if h.int { S32 } else { F32 }, &h.dims)
            .unwrap();
        t.insert(k.clone(), p);
        args.push(if h.int {
            lit(&h.i, &h.dims)
        } else {
            lit(&h.f, &h.dims)
        });
    }
    let loss = model(&mut b, &t).unwrap();
    let (loss, grads) = autodiff::value_and_grad(&mut b, loss, &params).unwrap();
    let mut outs = vec![loss];
    outs.extend(&grads);
    let refs: Vec<&Literal> = args.iter().collect();
    let r = run(&b, &outs, &refs);
    let want_loss = case["loss"].as_f64().unwrap() as f32;
    let got_loss = f32s(&r[0])[0];
    assert!(
        rel_err(&[got_loss], &[want_loss]) <= 1e-5,
        "{name}: loss {got_loss}, JAX {want_loss}"
    );
    for (i, k) in order.iter().enumerate() {
        let want = parse(&case["grads"][k]);
        let got = f32s(&r[1 + i]);
        let e = rel_err(&got, &want.f);
        assert!(
            e <= 1e-5,
            "{name}: d loss / d {k}: relative error {e:e}\n got  {got:?}\n want {:?}",
            want.f
        );
    }
}

#[test]
fn mlp_cross_entropy_matches_jax() {
    check("mlp", mlp);
}

#[test]
fn small_conv_net_matches_jax() {
    check("convnet", convnet);
}

#[test]
fn layer_norm_matches_jax() {
    check("layer_norm", layer_norm);
}

#[test]
fn softmax_attention_matches_jax() {
    check("attention", attention);
}

#[test]
fn logsumexp_matches_jax() {
    check("logsumexp", logsumexp);
}
