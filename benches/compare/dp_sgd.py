"""DP-SGD step time: JAX's vmap(grad) step beside ours (examples/dp_sgd.rs --serve), interleaved.

The same model (MLP 64-128-128-10, ReLU, softmax cross-entropy), batch (64), clipping (each
example's gradient to global L2 norm 1.0), Gaussian noise (multiplier 1.0) and SGD with
momentum 0.9 and a cosine learning rate (0.05 -> 0.002 over 1000 steps, the step counter
carried as state, as the server's optimizer does), on a fixed random batch. Blocks of our steps (served by the example binary, which
waits while JAX runs) alternate with blocks of JAX's, so both see the same machine load.
Prints one JSON line (jax_reference.py's format): JAX's median per step (median_s), ours
(ours_s) and the median of the per-round ratios ours / JAX (median_ratio).

Usage: .venv/bin/python benches/compare/dp_sgd.py [PATH to the dp_sgd example binary]
       (built with: cargo build --release -p examples --example dp_sgd)
Without a path it times JAX's step alone.
"""
import json
import os
import sys
import time

import numpy as np
import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jax_reference import interleaved  # noqa: E402

SIZES = [64, 128, 128, 10]
BATCH, CLIP, NOISE, MOMENTUM = 64, 1.0, 1.0, 0.9
LR, LR_FLOOR, DECAY_STEPS = 0.05, 0.002, 1000


def init(rng):
    params = []
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        params.append((jnp.asarray(rng.normal(0, (2 / a) ** 0.5, (a, b)), jnp.float32),
                       jnp.zeros((b,), jnp.float32)))
    return params


def example_loss(params, x, y):
    h = x[None, :]
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i + 1 < len(params):
            h = jax.nn.relu(h)
    return -jnp.sum(jax.nn.log_softmax(h) * y[None, :])


@jax.jit
def dp_step(params, velocity, key, step, x, y):
    grads = jax.vmap(jax.grad(example_loss), in_axes=(None, 0, 0))(params, x, y)
    leaves, tree = jax.tree.flatten(grads)
    norms = jnp.sqrt(sum(jnp.sum(g.reshape(g.shape[0], -1) ** 2, axis=1) for g in leaves))
    scale = CLIP / jnp.maximum(norms, CLIP)
    key, *keys = jax.random.split(key, len(leaves) + 1)
    noisy = [(jnp.tensordot(scale, g, axes=1) + NOISE * CLIP * jax.random.normal(k, g.shape[1:]))
             / BATCH for g, k in zip(leaves, keys)]
    noisy = jax.tree.unflatten(tree, noisy)
    velocity = jax.tree.map(lambda v, g: MOMENTUM * v + g, velocity, noisy)
    t = jnp.minimum(step.astype(jnp.float32) / DECAY_STEPS, 1.0)
    lr = LR_FLOOR + 0.5 * (LR - LR_FLOOR) * (1.0 + jnp.cos(jnp.pi * t))
    params = jax.tree.map(lambda p, v: p - lr * v, params, velocity)
    return params, velocity, key, step + 1


def main():
    rng = np.random.default_rng(0)
    params = init(rng)
    velocity = jax.tree.map(jnp.zeros_like, params)
    key = jax.random.key(0)
    x = jnp.asarray(rng.random((BATCH, SIZES[0])), jnp.float32)
    y = jax.nn.one_hot(jnp.asarray(rng.integers(0, SIZES[-1], BATCH)), SIZES[-1])
    state = {"s": (params, velocity, key, jnp.zeros((), jnp.int32))}

    def run():
        state["s"] = dp_step(*state["s"], x, y)
        jax.block_until_ready(state["s"])

    for _ in range(20):
        run()
    server = sys.argv[1] if len(sys.argv) > 1 else None
    if server is None:
        times = []
        for _ in range(300):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        print(json.dumps({"name": "dp_sgd_step_jax", "median_s": float(np.median(times))}))
        return
    # Blocks of 20 steps, alternated with ours (jax_reference.interleaved reports both medians
    # and the median per-round ratio).
    interleaved("dp_sgd_step_mlp_64_128_128_10_b64", run, server, rounds=100, args=["--serve"],
                block=20)


if __name__ == "__main__":
    main()
