"""The comparison harness: every workload of ours against its JAX twin, interleaved on the same
machine, each round waiting for idle cores first. Prints one JSON line per workload and, at
the end, the README's table (markdown).

Usage (through benches/compare/harness.sh, which builds the server and installs JAX):
  .venv/bin/python benches/compare/harness.py SERVER TRAIN_DIGITS [--rounds N] [--only a,b]

- Ours: `workload_server <workload> [--tuned]` (benches/src/workloads.rs) runs blocks of N
  steps on request and reports its time per step; train steps are built tuned (program variant,
  thread budget and steps per call chosen by timing; the choice is remembered in the compile
  cache, so it is made on the first run).
- JAX: the same layers, loss, optimizer, batch and donation, `jit`-compiled, asynchronous
  dispatch within a block (one wait at the block's end, as ours).
- Each round runs one block of each (alternating which goes first) after waiting (up to 20 s)
  until both cores have been idle for 0.3 s; the ratio is the median of the per-round ratios
  ours/JAX, with the 10th-90th percentile spread.
- Floors: XLA's FLOP count of JAX's compiled step (cost analysis) divided by the best f32
  matmul rate measured in this run (ours, JAX, NumPy at 2048 and 4096).
"""
import gzip
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import jax
import jax.numpy as jnp
from jax import lax

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "examples"))
sys.path.insert(0, HERE)


# ---------------------------------------------------------------- quiet gating

def cpu_times():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return idle, sum(v)


def wait_quiet(threshold=0.9, window=0.3, limit=20.0):
    """Waits until the machine was idle for `threshold` of `window` seconds; returns whether
    it was (False when `limit` seconds passed first)."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        i0, t0 = cpu_times()
        time.sleep(window)
        i1, t1 = cpu_times()
        if t1 > t0 and (i1 - i0) / (t1 - t0) >= threshold:
            return True
    return False


# ---------------------------------------------------------------- JAX twins

def adam(lr, b1=0.9, b2=0.999, eps=1e-8):
    def update(p, m, v, t, g):
        t = t + 1
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
        tf = t.astype(jnp.float32)
        c1, c2 = 1 - b1**tf, 1 - b2**tf
        p = jax.tree.map(lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), p, m, v)
        return p, m, v, t
    return update


def mlp_params(rng, sizes):
    return [(jnp.asarray(rng.normal(0, (2 / a) ** 0.5, (a, b)), jnp.float32),
             jnp.zeros((b,), jnp.float32)) for a, b in zip(sizes[:-1], sizes[1:])]


def mlp_logits(params, x):
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i + 1 < len(params):
            h = jax.nn.relu(h)
    return h


def cnn_params(rng):
    def he(shape, fan_in):
        return jnp.asarray(rng.normal(0, (2 / fan_in) ** 0.5, shape), jnp.float32)
    return {"c1": (he((3, 3, 1, 16), 9), jnp.zeros(16, jnp.float32)),
            "c2": (he((3, 3, 16, 32), 144), jnp.zeros(32, jnp.float32)),
            "f1": (he((512, 64), 512), jnp.zeros(64, jnp.float32)),
            "f2": (he((64, 10), 64), jnp.zeros(10, jnp.float32))}


def cnn_logits(p, x):
    h = x.reshape(-1, 8, 8, 1)
    for k in ("c1", "c2"):
        w, b = p[k]
        h = lax.conv_general_dilated(h, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        h = jax.nn.relu(h + b)
    h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    h = h.reshape(h.shape[0], -1)
    h = jax.nn.relu(h @ p["f1"][0] + p["f1"][1])
    return h @ p["f2"][0] + p["f2"][1]


def label_xent(logits, y):
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))


def onehot_xent(logits, y):
    return -jnp.mean(jnp.sum(jax.nn.log_softmax(logits) * y, axis=-1))


def sgd_step_fn(logits_fn, loss_fn):
    def make():
        def step(p, x, y):
            l, g = jax.value_and_grad(lambda p: loss_fn(logits_fn(p, x), y))(p)
            return jax.tree.map(lambda p, g: p - 0.01 * g, p, g), l
        return jax.jit(step, donate_argnums=0)
    return make


def adam_step_fn(logits_fn, loss_fn, lr):
    update = adam(lr)

    def make():
        def step(state, x, y):
            p, m, v, t = state
            l, g = jax.value_and_grad(lambda p: loss_fn(logits_fn(p, x), y))(p)
            return update(p, m, v, t, g), l
        return jax.jit(step, donate_argnums=0)
    return make


def adam_state(p):
    z = lambda: jax.tree.map(jnp.zeros_like, p)
    return (p, z(), z(), jnp.zeros((), jnp.int32))


class Twin:
    """JAX's side of a train workload: `make()` a fresh jitted step, `state` and `batch`."""

    def __init__(self, make, state, batch):
        self.make, self.state, self.batch = make, state, batch
        self.step = make()
        self.state, l = self.step(self.state, *self.batch)
        l.block_until_ready()

    def run(self, n):
        l = None
        for _ in range(n):
            self.state, l = self.step(self.state, *self.batch)
        l.block_until_ready()

    def flops(self):
        spec = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), self.state)
        ca = self.make().lower(spec, *self.batch).compile().cost_analysis()
        if isinstance(ca, list):
            ca = ca[0]
        return float(ca.get("flops", float("nan")))

    def compile_once(self):
        spec = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), self.state)
        self.make().lower(spec, *self.batch).compile()


def twin(name, init_path):
    rng = np.random.default_rng(0)
    base = name.removeprefix("compile_")
    if base in ("mlp_small_sgd", "mlp_large_sgd"):
        sizes, batch = ([64, 128, 128, 10], 64) if base == "mlp_small_sgd" else ([784, 256, 256, 10], 128)
        x = jnp.asarray(rng.random((batch, sizes[0])), jnp.float32)
        y = jax.nn.one_hot(jnp.asarray(rng.integers(0, sizes[-1], batch)), sizes[-1])
        return Twin(sgd_step_fn(mlp_logits, onehot_xent), mlp_params(rng, sizes), (x, y))
    if base in ("digits_mlp_adam", "digits_cnn_adam"):
        x = jnp.asarray(rng.random((64, 64)), jnp.float32)
        y = jnp.asarray(rng.integers(0, 10, 64), jnp.int32)
        if base == "digits_mlp_adam":
            return Twin(adam_step_fn(mlp_logits, label_xent, 1e-3),
                        adam_state(mlp_params(rng, [64, 128, 128, 10])), (x, y))
        return Twin(adam_step_fn(cnn_logits, label_xent, 1e-3), adam_state(cnn_params(rng)), (x, y))
    if base == "char_lm_adam":
        import char_lm as cl
        ids, vocab = cl.corpus(os.path.join(ROOT, ".data", "shakespeare.txt"))
        p = cl.tree(cl.load_safetensors(init_path))
        x, y = (jnp.asarray(a) for a in cl.batch(ids, 0, 0))

        update = adam(cl.LR, cl.B1, cl.B2, cl.EPS)

        def make():
            def step(state, x, y):
                loss, g = jax.value_and_grad(cl.loss_fn)(state[0], x, y)
                return update(*state, g), loss
            return jax.jit(step, donate_argnums=0)
        return Twin(make, adam_state(p), (x, y))
    if base == "tiny":
        f = jax.jit(lambda a: a + 1.0)
        xa = jax.device_put(np.arange(4, dtype=np.float32))
        f(xa).block_until_ready()

        class Tiny:
            def run(self, n):
                for _ in range(n):
                    f(xa).block_until_ready()
        return Tiny()
    if base == "matmul2048":
        a = jnp.asarray(rng.random((2048, 2048)), jnp.float32)
        f = jax.jit(lambda a: a @ a)
        f(a).block_until_ready()

        class Matmul:
            def run(self, n):
                for _ in range(n):
                    f(a).block_until_ready()
        return Matmul()
    raise SystemExit(f"no JAX twin for {name}")


# ---------------------------------------------------------------- the interleaved rounds

def start_server(server, name, tuned, init_path):
    argv = [server, name] + (["--tuned"] if tuned else []) + (["--save-init", init_path] if init_path else [])
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("ready"):
        raise SystemExit(f"{' '.join(argv)} did not start: {line!r}")
    _, k, *desc = line.split(" ")
    return proc, int(k), " ".join(desc)


def ask(proc, n):
    proc.stdin.write(f"{n}\n")
    proc.stdin.flush()
    return float(proc.stdout.readline())


def pct(v, q):
    return float(np.percentile(v, q))


def compare(server, name, rounds, block_s=0.1, tuned=True, compile_rounds=5):
    init_path = None
    if "char_lm" in name:
        init_path = os.path.join(tempfile.mkdtemp(), "init.safetensors")
    compile_only = name.startswith("compile_")
    proc, k, desc = start_server(server, name, tuned and not compile_only, init_path)
    j = twin(name, init_path)
    if compile_only:
        n, rounds = 1, compile_rounds
        run_j = lambda n: j.compile_once()
    else:
        run_j = j.run
        # Block size: about block_s of work, a multiple of our steps per call.
        t1 = min(ask(proc, k) for _ in range(2))
        n = max(k, int(round(block_s / max(t1, 1e-7) / k)) * k)
    ours, theirs, quiet = [], [], 0
    for r in range(rounds + 2):
        quiet += wait_quiet()
        if r % 2 == 0:
            o = ask(proc, n)
            t0 = time.perf_counter()
            run_j(n)
            t = (time.perf_counter() - t0) / n
        else:
            t0 = time.perf_counter()
            run_j(n)
            t = (time.perf_counter() - t0) / n
            o = ask(proc, n)
        if r >= 2:
            ours.append(o)
            theirs.append(t)
    proc.stdin.close()
    proc.wait()
    ratios = [o / t for o, t in zip(ours, theirs)]
    out = {"name": name, "ours_s": float(np.median(ours)), "jax_s": float(np.median(theirs)),
           "ratio": float(np.median(ratios)), "ratio_p10": pct(ratios, 10), "ratio_p90": pct(ratios, 90),
           "rounds": rounds, "block": n, "quiet_rounds": quiet, "how": desc}
    if not compile_only and hasattr(j, "flops"):
        try:
            out["flops"] = j.flops()
        except Exception as e:  # cost analysis is optional
            out["flops_error"] = str(e)
    print(json.dumps(out), flush=True)
    return out


def numpy_peak():
    best = 0.0
    for n in (2048, 4096):
        a = np.random.default_rng(0).random((n, n), dtype=np.float32)
        a @ a
        t = min(timeit(lambda: a @ a) for _ in range(3))
        best = max(best, 2 * n**3 / t / 1e9)
    return best


def timeit(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def e2e(train_digits, rounds, epochs):
    import digits_e2e as de
    x, y = de.load()
    with tempfile.TemporaryDirectory() as out:
        de.ours(train_digits, 1, out)
        ours, theirs, quiet = [], [], 0
        for r in range(rounds):
            quiet += wait_quiet()
            if r % 2 == 0:
                ours.append(de.ours(train_digits, epochs, out))
                theirs.append(de.jax_training(x, y, epochs))
            else:
                theirs.append(de.jax_training(x, y, epochs))
                ours.append(de.ours(train_digits, epochs, out))
    ratios = [o / t for o, t in zip(ours, theirs)]
    out = {"name": "digits_e2e", "ours_s": float(np.median(ours)), "jax_s": float(np.median(theirs)),
           "ratio": float(np.median(ratios)), "ratio_p10": pct(ratios, 10), "ratio_p90": pct(ratios, 90),
           "rounds": rounds, "block": epochs, "quiet_rounds": quiet,
           "how": f"train_digits --only mlp, {epochs} epochs (training loop time)"}
    print(json.dumps(out), flush=True)
    return out


TARGETS = {  # the targets for ours / JAX
    "tiny": ("<=", 0.35), "matmul2048": ("<=", 1.0),
    "mlp_small_sgd": ("<=", 0.8), "mlp_large_sgd": ("<=", 0.8), "digits_mlp_adam": ("<=", 0.8),
    "digits_cnn_adam": ("<=", 0.8), "char_lm_adam": ("<=", 0.8), "digits_e2e": ("<=", 1.0),
}
LABELS = {
    "tiny": "execute a+1 on 4 floats (dispatch + wait)",
    "matmul2048": "f32 matmul 2048 (time per product)",
    "mlp_small_sgd": "train step MLP 64-128-128-10, batch 64, SGD",
    "mlp_large_sgd": "train step MLP 784-256-256-10, batch 128, SGD",
    "digits_mlp_adam": "train step digits MLP, batch 64, Adam",
    "digits_cnn_adam": "train step digits CNN, batch 64, Adam",
    "char_lm_adam": "train step char transformer (2x128, ctx 64, batch 32), Adam",
    "digits_e2e": "digits MLP trained end to end, 60 epochs",
}


def fmt_t(s):
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def table(results, peak):
    print()
    print(f"Peak f32 matmul rate measured in this run: {peak:.0f} GFLOP/s.")
    print()
    print("| workload | how ours runs | ours | JAX | ours / JAX (p10-p90) | target | floor (FLOPs / peak) | ours / floor |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        name = r["name"]
        base = name.removeprefix("compile_")
        label = LABELS.get(name) or f"compile the {LABELS[base].removeprefix('train step ')} step"
        target = TARGETS.get(name, ("<=", 0.5))
        met = "met" if r["ratio"] <= target[1] else "not met"
        if name == "matmul2048":
            label += f": {2 * 2048**3 / r['ours_s'] / 1e9:.0f} vs {2 * 2048**3 / r['jax_s'] / 1e9:.0f} GFLOP/s"
            floor = 2 * 2048**3 / (peak * 1e9)
        else:
            floor = r.get("flops", float("nan")) / (peak * 1e9) if "flops" in r else float("nan")
        fl = "–" if math.isnan(floor) else fmt_t(floor)
        of = "–" if math.isnan(floor) else f"{r['ours_s'] / floor:.1f}"
        print(f"| {label} | {r['how']} | {fmt_t(r['ours_s'])} | {fmt_t(r['jax_s'])} | "
              f"{r['ratio']:.2f} ({r['ratio_p10']:.2f}-{r['ratio_p90']:.2f}) | "
              f"{target[0]} {target[1]} ({met}) | {fl} | {of} |")


def main():
    server, train_digits = sys.argv[1], sys.argv[2]
    rounds, only, epochs = 30, None, 60
    args = sys.argv[3:]
    while args:
        a = args.pop(0)
        if a == "--rounds":
            rounds = int(args.pop(0))
        elif a == "--only":
            only = set(args.pop(0).split(","))
        elif a == "--epochs":
            epochs = int(args.pop(0))
        else:
            raise SystemExit(f"unknown argument {a}")
    names = ["tiny", "matmul2048", "mlp_small_sgd", "mlp_large_sgd", "digits_mlp_adam",
             "digits_cnn_adam", "char_lm_adam",
             "compile_mlp_small_sgd", "compile_mlp_large_sgd", "compile_digits_mlp_adam",
             "compile_digits_cnn_adam", "compile_char_lm_adam", "digits_e2e"]
    results = []
    for name in names:
        if only and name not in only:
            continue
        if name == "digits_e2e":
            results.append(e2e(train_digits, max(3, rounds // 6), epochs))
        else:
            results.append(compare(server, name, rounds if name != "matmul2048" else max(5, rounds // 3)))
    peak = numpy_peak()
    for r in results:
        if r["name"] == "matmul2048":
            peak = max(peak, 2 * 2048**3 / r["ours_s"] / 1e9, 2 * 2048**3 / r["jax_s"] / 1e9)
    table(results, peak)


if __name__ == "__main__":
    main()
