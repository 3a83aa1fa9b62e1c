"""The char_lm model of examples/src/char_lm.rs in JAX: same model, data, batches and
hyperparameters, for comparing loss curves and step times.

  python examples/char_lm.py --init INIT.safetensors --steps 300 --losses jax.csv
      trains from the initial weights `char_lm --save-init` wrote, on the batches char_lm
      draws (the same SplitMix64 sampler), and writes every step's loss.
  python examples/char_lm.py --init INIT.safetensors --interleave PATH/char_lm
      times blocks of JAX's step alternately with blocks of ours (`char_lm --serve`), so
      both see the same machine load; prints the median time per step of each.

Needs jax and numpy (benches/compare/compare.sh installs JAX 0.10.2 into .venv/).
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import time

import numpy as np
import jax
import jax.numpy as jnp

DIM, HEADS, LAYERS, CONTEXT, BATCH, LR = 128, 4, 2, 64, 32, 3e-3
B1, B2, EPS = 0.9, 0.999, 1e-8
M64 = (1 << 64) - 1


def load_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", (name, t["dtype"])
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a : 8 + n + b], dtype="<f4").reshape(t["shape"])
    return out


def corpus(path):
    text = open(path, "rb").read()
    vocab = sorted(set(text))
    index = np.zeros(256, dtype=np.int32)
    index[vocab] = np.arange(len(vocab), dtype=np.int32)
    ids = index[np.frombuffer(text, dtype=np.uint8)]
    return ids[: len(ids) * 9 // 10], len(vocab)


def splitmix64(x):
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def batch(ids, seed, step):
    span = len(ids) - CONTEXT - 1
    starts = [splitmix64(((seed << 32) + step * BATCH + j) & M64) % span for j in range(BATCH)]
    x = np.stack([ids[s : s + CONTEXT] for s in starts])
    y = np.stack([ids[s + 1 : s + CONTEXT + 1] for s in starts])
    return x, y


# ---- counted: char_lm model (JAX; parameters come from the checkpoint)
def layer_norm(p, x):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) * jax.lax.rsqrt(v + 1e-5) * p["scale"] + p["shift"]


def linear(p, x):
    return x @ p["weight"] + p["bias"]


def rope(x):
    t, d = x.shape[-2], x.shape[-1]
    freqs = 10000.0 ** (-2.0 * jnp.arange(d // 2) / d)
    ang = jnp.arange(t)[:, None] * freqs[None, :]
    a, b = x[..., : d // 2], x[..., d // 2 :]
    return jnp.concatenate([a * jnp.cos(ang) - b * jnp.sin(ang), a * jnp.sin(ang) + b * jnp.cos(ang)], -1)


def attention(p, x):
    b, t, d = x.shape
    qkv = linear(p["qkv"], x).reshape(b, t, 3, HEADS, d // HEADS).transpose(2, 0, 3, 1, 4)
    q, k, v = rope(qkv[0]), rope(qkv[1]), qkv[2]
    s = q @ k.swapaxes(-1, -2) / np.sqrt(d // HEADS)
    s = jnp.where(jnp.tril(jnp.ones((t, t), bool)), s, jnp.finfo(s.dtype).min)
    y = (jax.nn.softmax(s, -1) @ v).transpose(0, 2, 1, 3).reshape(b, t, d)
    return linear(p["out"], y)


def forward(p, ids):
    h = p["embed"]["table"][ids]
    for blk in p["blocks"]:
        h = h + attention(blk["attn"], layer_norm(blk["ln1"], h))
        m = jax.nn.gelu(linear(blk["mlp"]["layers"][0], layer_norm(blk["ln2"], h)), approximate=False)
        h = h + linear(blk["mlp"]["layers"][1], m)
    return linear(p["head"], layer_norm(p["norm"], h))
# ---- end


def tree(flat):
    """{"blocks.0.attn.qkv.weight": a, ...} -> nested dicts, lists for numbered levels."""
    root = {}
    for name, a in flat.items():
        node, parts = root, name.split(".")
        for k in parts[:-1]:
            node = node.setdefault(k, {})
        node[parts[-1]] = jnp.asarray(a)

    def lists(n):
        if isinstance(n, dict):
            if n and all(k.isdigit() for k in n):
                return [lists(n[str(i)]) for i in range(len(n))]
            return {k: lists(v) for k, v in n.items()}
        return n

    return lists(root)


def loss_fn(p, x, y):
    logp = jax.nn.log_softmax(forward(p, x), -1)
    return -jnp.take_along_axis(logp, y[..., None], -1).mean()


def make_step():
    def step(p, m, v, t, x, y):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        t = t + 1
        m = jax.tree.map(lambda m, g: B1 * m + (1 - B1) * g, m, g)
        v = jax.tree.map(lambda v, g: B2 * v + (1 - B2) * g * g, v, g)
        tf = t.astype(jnp.float32)
        c1, c2 = 1 - B1**tf, 1 - B2**tf
        p = jax.tree.map(lambda p, m, v: p - LR * (m / c1) / (jnp.sqrt(v / c2) + EPS), p, m, v)
        return p, m, v, t, loss

    return jax.jit(step, donate_argnums=(0, 1, 2, 3))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", required=True)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", ".data", "shakespeare.txt"))
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--losses")
    ap.add_argument("--interleave")
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()

    ids, vocab = corpus(args.data)
    p = tree(load_safetensors(args.init))
    assert p["embed"]["table"].shape == (vocab, DIM)
    zeros = lambda: jax.tree.map(jnp.zeros_like, p)
    m, v, t = zeros(), zeros(), jnp.zeros((), jnp.int32)
    step = make_step()

    if args.interleave:
        x, y = (jax.device_put(a) for a in batch(ids, 0, 0))
        proc = subprocess.Popen([args.interleave, "--serve", "--seed", str(args.seed)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = proc.stdout.readline().strip()
        while line != "ready":
            if not line:
                sys.exit(f"{args.interleave} --serve did not start")
            line = proc.stdout.readline().strip()
        ours, theirs, block, warm = [], [], 5, 2
        for r in range(args.rounds + warm):
            proc.stdin.write(f"{block}\n")
            proc.stdin.flush()
            o = float(proc.stdout.readline())
            t0 = time.perf_counter()
            for _ in range(block):
                p, m, v, t, loss = step(p, m, v, t, x, y)
                float(loss)
            j = (time.perf_counter() - t0) / block
            if r >= warm:
                ours.append(o)
                theirs.append(j)
        proc.stdin.close()
        proc.wait()
        ratios = [o / j for o, j in zip(ours, theirs)]
        print(json.dumps({"name": "char_lm_step", "jax_s": float(np.median(theirs)),
                          "ours_s": float(np.median(ours)), "median_ratio": float(np.median(ratios)),
                          "rounds": args.rounds, "steps_per_block": block}))
        return

    losses = []
    t0 = time.perf_counter()
    for s in range(args.steps):
        x, y = batch(ids, args.seed, s)
        p, m, v, t, loss = step(p, m, v, t, x, y)
        losses.append(float(loss))
    dt = time.perf_counter() - t0
    print(f"jax char_lm: {args.steps} steps in {dt:.1f} s; last loss {losses[-1]:.4f}")
    if args.losses:
        with open(args.losses, "w") as f:
            f.write("step,loss\n")
            for s, l in enumerate(losses):
                f.write(f"{s},{l}\n")


if __name__ == "__main__":
    main()
