"""Reads criterion's results and JAX's (jax_reference.py output, JSON lines) and prints the
README's comparison table: ours, JAX, and the ratio ours / JAX (below 1 means we are faster)."""
import glob
import json
import os
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))


def criterion():
    out = {}
    for bench in glob.glob(os.path.join(target, "criterion", "**", "new", "benchmark.json"), recursive=True):
        with open(bench) as f:
            full_id = json.load(f)["full_id"]
        with open(os.path.join(os.path.dirname(bench), "estimates.json")) as f:
            out[full_id] = json.load(f)["median"]["point_estimate"] * 1e-9
    return out


def jax(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                out[r["name"]] = r
    return out


def fmt(s):
    if s is None:
        return "–"
    if s < 1e-3:
        return f"{s * 1e6:.2f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


ROWS = [
    # (what, our criterion id, JAX name, baseline id for a second ratio)
    ("execute a tiny program (a+1 on 4 floats), reused input", "execute_tiny/pjrt", "execute_tiny", "execute_tiny/c_api_direct"),
    ("64 MiB device-to-host into a caller's buffer", "d2h_64mib/pjrt_copy_to_host", "d2h_64mib", "d2h_64mib/memcpy"),
    ("64 MiB host-to-device, copying", "h2d_64mib/pjrt_copy", "h2d_64mib", "h2d_64mib/memcpy_fresh"),
    ("64 MiB host-to-device, zero-copy (aligned)", "h2d_64mib/pjrt_zero_copy_aligned", "h2d_64mib", "h2d_64mib/memcpy_fresh"),
    ("train step MLP 64-128-128-10, batch 64 (SGD)", "train_step_mlp_64_128_128_10_b64", "train_step_mlp_64_128_128_10_b64", None),
    ("train step MLP 784-256-256-10, batch 128 (SGD)", "train_step_mlp_784_256_256_10_b128", "train_step_mlp_784_256_256_10_b128", None),
    ("record + lower a 3000-op elementwise chain", "record + lower 3000-op chain", "trace_lower_chain3000", None),
    ("record + lower a 10000-op graph", "record + lower 10000-op graph", None, None),
    ("build the gradient graph of a 3000-op chain", "grad of a 3000-op chain (build only)", "grad_chain3000_trace", None),
    ("run the compiled gradient of a 300-op chain", "grad of a 300-op chain (compiled, run)", "grad_chain300_run", None),
]


def main():
    ours = criterion()
    ref = jax(sys.argv[1]) if len(sys.argv) > 1 and os.path.exists(sys.argv[1]) else {}
    print("| what | ours | JAX | ours / JAX | baseline | ours / baseline |")
    print("|---|---|---|---|---|---|")
    for what, oid, jid, bid in ROWS:
        o = ours.get(oid)
        j = ref[jid]["median_s"] if jid in ref else None
        b = ours.get(bid) if bid else None
        ratio = f"{o / j:.2f}" if o and j else "–"
        bratio = f"{o / b:.2f}" if o and b else "–"
        base = f"{fmt(b)} ({bid.split('/')[-1]})" if b else "–"
        print(f"| {what} | {fmt(o)} | {fmt(j)} | {ratio} | {base} | {bratio} |")
    # The same steps alternated with JAX's in blocks (jax_reference.py mlp_interleaved=...):
    # the ratio to trust on a machine whose speed drifts.
    # The interleaved run again with PJRT_NPROC=1 (one intra-op thread in both processes).
    for prefix, how in (("interleaved_", ""), ("interleaved_nproc1_", ", both on one thread (PJRT_NPROC=1)")):
        for what, oid, jid, bid in ROWS:
            r = ref.get(prefix + (jid or ""))
            if r:
                print(f"| {what}, interleaved with JAX ({r['rounds']} rounds of {r['steps_per_block']} steps){how} "
                      f"| {fmt(r['ours_s'])} | {fmt(r['median_s'])} | {r['median_ratio']:.2f} | – | – |")


if __name__ == "__main__":
    main()
