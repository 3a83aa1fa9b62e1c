"""JAX reference timings for the comparisons in the README (CPU, this machine).

Prints one JSON object per measurement: {"name": ..., "median_s": ...}. Run through
benches/compare/compare.sh, which also runs the matching criterion benchmarks and prints ratios.
`mlp_interleaved=PATH` times the MLP steps alternately with ours (PATH is the step_server
binary) and adds our median ("ours_s") and the median per-round ratio to each line.
"""
import json
import os
import sys
import time

import numpy as np
import jax
import jax.numpy as jnp


def median_time(fn, warmup=20, reps=200, min_total=1.0):
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < reps or time.perf_counter() - start < min_total:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) > 100000:
            break
    return float(np.median(times))


def report(name, seconds, **extra):
    print(json.dumps({"name": name, "median_s": seconds, **extra}), flush=True)


def dispatch():
    f = jax.jit(lambda a: a + 1.0)
    x = jax.device_put(np.arange(4, dtype=np.float32))
    f(x).block_until_ready()
    report("execute_tiny", median_time(lambda: f(x).block_until_ready(), reps=20000))


def transfers():
    n = 64 * 1024 * 1024 // 4
    host = np.random.default_rng(0).random(n, dtype=np.float32)
    dev = jax.device_put(host)
    dev.block_until_ready()
    out = np.empty_like(host)

    def d2h():
        np.copyto(out, np.asarray(dev))

    def h2d():
        jax.device_put(host).block_until_ready()

    report("d2h_64mib", median_time(d2h, warmup=3, reps=20))
    report("h2d_64mib", median_time(h2d, warmup=3, reps=20))


# The MLPs of the comparison, as benches::MLPS lists them: (layer sizes, batch, name).
MLPS = [
    ([64, 128, 128, 10], 64, "train_step_mlp_64_128_128_10_b64"),
    ([784, 256, 256, 10], 128, "train_step_mlp_784_256_256_10_b128"),
]


def mlp_step(sizes, batch, name, server=None):
    rng = np.random.default_rng(0)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params.append((jnp.asarray(rng.normal(0, (2 / a) ** 0.5, (a, b)), jnp.float32),
                       jnp.zeros((b,), jnp.float32)))
    x = jnp.asarray(rng.random((batch, sizes[0])), jnp.float32)
    y = jax.nn.one_hot(jnp.asarray(rng.integers(0, sizes[-1], batch)), sizes[-1])

    def loss(params, x, y):
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i + 1 < len(params):
                h = jax.nn.relu(h)
        return -jnp.mean(jnp.sum(jax.nn.log_softmax(h) * y, axis=-1))

    @jax.jit
    def step(params, x, y):
        l, g = jax.value_and_grad(loss)(params, x, y)
        return jax.tree.map(lambda p, g: p - 0.01 * g, params, g), l

    state = {"p": params}

    def run():
        state["p"], l = step(state["p"], x, y)
        l.block_until_ready()

    if server is None:
        report(name, median_time(run, reps=300))
    else:
        interleaved(name, run, server)


def interleaved(name, run, server, rounds=200, warmup_rounds=10, args=None, block=None):
    """Alternates blocks of JAX's step with blocks of ours, served by the step_server binary
    (which waits while JAX runs and vice versa), so that both see the same machine load.
    Reports the median time per step of each and the median of the per-round ratios.
    The server runs as `server *args` (default: `server name`), `block` steps a block."""
    import subprocess

    if block is None:
        block = 20 if "b64" in name else 4
    argv = [server] + (list(args) if args is not None else [name])
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit(f"{' '.join(argv)} did not start")
    ours, theirs = [], []
    for r in range(rounds + warmup_rounds):
        proc.stdin.write(f"{block}\n")
        proc.stdin.flush()
        o = float(proc.stdout.readline())
        t0 = time.perf_counter()
        for _ in range(block):
            run()
        j = (time.perf_counter() - t0) / block
        if r >= warmup_rounds:
            ours.append(o)
            theirs.append(j)
    proc.stdin.close()
    proc.wait()
    ratios = [o / j for o, j in zip(ours, theirs)]
    # Both processes size their thread pools from PJRT_NPROC (the server inherits it).
    nproc = os.environ.get("PJRT_NPROC")
    prefix = f"interleaved_nproc{nproc}_" if nproc else "interleaved_"
    report(prefix + name, float(np.median(theirs)), ours_s=float(np.median(ours)),
           median_ratio=float(np.median(ratios)), rounds=rounds, steps_per_block=block)


def chain_fn(n_ops, other):
    """The chain hlo-builder's record_lower bench records: sin, *other, +x, tanh, ..."""

    def f(x):
        y = x
        for i in range(n_ops):
            k = i % 4
            if k == 0:
                y = jnp.sin(y)
            elif k == 1:
                y = y * (x if other is None else other)
            elif k == 2:
                y = y + x
            else:
                y = jnp.tanh(y)
        return y

    return f


def chain(n_ops=3000):
    f = chain_fn(n_ops, None)
    x = jnp.ones((128,), jnp.float32)
    t0 = time.perf_counter()
    text = jax.jit(f).lower(x).as_text()
    report("trace_lower_chain3000", time.perf_counter() - t0, chars=len(text))


def grad_chain():
    """grad of sum(chain(x)) on f32[64] with the constant 0.5 (autodiff's grad_chain bench):
    tracing the gradient of the 3000-op chain, and running the compiled gradient of the
    300-op chain (XLA takes over ten minutes to compile the 3000-op gradient)."""
    half = jnp.full((64,), 0.5, jnp.float32)
    x = jnp.asarray(np.linspace(-1, 1, 64), jnp.float32)
    f = chain_fn(3000, half)
    t0 = time.perf_counter()
    jax.make_jaxpr(jax.grad(lambda x: jnp.sum(f(x))))(x)
    report("grad_chain3000_trace", time.perf_counter() - t0)
    f = chain_fn(300, half)
    g = jax.jit(jax.grad(lambda x: jnp.sum(f(x))))
    g(x).block_until_ready()
    report("grad_chain300_run", median_time(lambda: g(x).block_until_ready(), warmup=5, reps=200))


def matmul():
    n = 2048
    a = jnp.asarray(np.random.default_rng(0).random((n, n), dtype=np.float32))
    f = jax.jit(lambda a, b: a @ b)
    f(a, a).block_until_ready()
    t = median_time(lambda: f(a, a).block_until_ready(), warmup=2, reps=10)
    report("matmul_2048", t, gflops=2 * n**3 / t / 1e9)


if __name__ == "__main__":
    which = sys.argv[1:] or ["dispatch", "transfers", "mlp", "chain", "grad"]
    if "dispatch" in which:
        dispatch()
    if "transfers" in which:
        transfers()
    if "mlp" in which:
        for sizes, batch, name in MLPS:
            mlp_step(sizes, batch, name)
    for arg in which:
        # mlp_interleaved=PATH: the same steps alternated with ours, served by PATH (step_server).
        if arg.startswith("mlp_interleaved="):
            for sizes, batch, name in MLPS:
                mlp_step(sizes, batch, name, arg.split("=", 1)[1])
    if "chain" in which:
        chain()
    if "grad" in which:
        grad_chain()
    if "matmul" in which:
        matmul()
