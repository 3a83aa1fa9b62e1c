"""The digits MLP (64-128-128-10, Adam 1e-3, batch 64, 22 shuffled batches per epoch) trained
end to end, ours (the train_digits example, which times its training loop) against JAX with
asynchronous dispatch (losses read at each epoch's end, as ours), run in interleaved rounds on
the same machine. Prints the median training time of each and the median of per-round ratios.

Usage: .venv/bin/python benches/compare/digits_e2e.py PATH/TO/train_digits [ROUNDS] [EPOCHS]
"""
import gzip
import os
import re
import subprocess
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np

BATCH = 64


def load():
    here = os.path.dirname(os.path.abspath(__file__))
    rows = np.loadtxt(gzip.open(os.path.join(here, "../../.data/digits.csv.gz"), "rt"),
                      delimiter=",", dtype=np.float32)
    x, y = rows[:, :64] / 16.0, rows[:, 64].astype(np.int32)
    perm = np.random.default_rng(0).permutation(len(x))
    n = int(len(x) * 0.8)
    return x[perm[:n]], y[perm[:n]]


def jax_training(x, y, epochs):
    rng = np.random.default_rng(1)
    sizes = [64, 128, 128, 10]
    params = [(jnp.asarray(rng.normal(0, (2 / a) ** 0.5, (a, b)), jnp.float32),
               jnp.zeros((b,), jnp.float32)) for a, b in zip(sizes[:-1], sizes[1:])]
    zeros = jax.tree.map(jnp.zeros_like, params)
    state = (params, zeros, jax.tree.map(jnp.zeros_like, params), jnp.zeros((), jnp.float32))

    def loss(params, x, y):
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i + 1 < len(params):
                h = jax.nn.relu(h)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(h), y[:, None], axis=1))

    @jax.jit
    def step(state, x, y):
        p, m, v, t = state
        l, g = jax.value_and_grad(loss)(p, x, y)
        t = t + 1
        m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
        v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
        c1, c2 = 1 - 0.9 ** t, 1 - 0.999 ** t
        p = jax.tree.map(lambda p, m, v: p - 1e-3 * (m / c1) / (jnp.sqrt(v / c2) + 1e-8), p, m, v)
        return (p, m, v, t), l

    step = jax.jit(step, donate_argnums=0)
    # Compile (not timed; ours reports its training loop's time without the compile).
    state, _ = step(state, jnp.asarray(x[:BATCH]), jnp.asarray(y[:BATCH]))
    per_epoch = len(x) // BATCH
    t0 = time.perf_counter()
    for epoch in range(epochs):
        perm = np.random.default_rng(epoch).permutation(len(x))
        losses = []
        for i in range(per_epoch):
            idx = perm[i * BATCH:(i + 1) * BATCH]
            state, l = step(state, x[idx], y[idx])
            losses.append(l)
        float(np.mean([float(l) for l in losses]))
    return time.perf_counter() - t0


def ours(binary, epochs, out):
    r = subprocess.run([binary, "--only", "mlp", "--epochs-mlp", str(epochs), "--out", out],
                       capture_output=True, text=True, check=True)
    m = re.search(r"mlp: test accuracy [0-9.]+% \((\d+) steps, ([0-9.]+)s of training\)", r.stdout)
    if not m:
        raise SystemExit("train_digits printed no training time:\n" + r.stdout)
    return float(m.group(2))


def main():
    binary = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    x, y = load()
    theirs, our = [], []
    with tempfile.TemporaryDirectory() as out:
        ours(binary, 1, out)  # warm the compile cache
        for _ in range(rounds):
            our.append(ours(binary, epochs, out))
            theirs.append(jax_training(x, y, epochs))
    ratios = [o / j for o, j in zip(our, theirs)]
    print(f"digits_mlp_end_to_end epochs={epochs} rounds={rounds} "
          f"ours_s={np.median(our):.3f} jax_s={np.median(theirs):.3f} "
          f"median_ratio={np.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})")


if __name__ == "__main__":
    main()
