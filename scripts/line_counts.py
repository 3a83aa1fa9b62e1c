#!/usr/bin/env python3
"""Counts the lines of the marked regions of the examples (for the README's table).

A region starts at a comment `---- counted: NAME` and ends at `---- end`. Its lines are the
non-blank lines that are not only a comment (`//`, `///`, `#`). Rust files must be rustfmt'd
as they stand (checked with `rustfmt --check`), so the count is of formatted code.

  python3 scripts/line_counts.py           prints the table
  python3 scripts/line_counts.py --check   also fails when a region is over its limit or the
                                           README's table (between <!-- line-counts --> and
                                           <!-- /line-counts -->) differs from the printed one
"""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
FILES = [
    "examples/linear_regression.rs",
    "examples/src/models.rs",
    "examples/src/char_lm.rs",
    "examples/char_lm.py",
]
# The limits, by region name.
LIMITS = {
    "linear regression": 10,
    "digits MLP model": 15,
    "char_lm model (parameters and forward)": 40,
}
START = re.compile(r"^\s*(//|#) ---- counted: (.+?)\s*$")
END = re.compile(r"^\s*(//|#) ---- end\s*$")


def regions(path):
    lines = (ROOT / path).read_text().splitlines()
    out, name, count = [], None, 0
    for i, line in enumerate(lines, 1):
        m = START.match(line)
        if m:
            if name is not None:
                sys.exit(f"{path}:{i}: a region starts inside region {name!r}")
            name, count = m.group(2), 0
            continue
        if END.match(line):
            if name is None:
                sys.exit(f"{path}:{i}: `---- end` outside a region")
            out.append((name, count))
            name = None
            continue
        s = line.strip()
        if name is not None and s and not s.startswith(("//", "#")):
            count += 1
    if name is not None:
        sys.exit(f"{path}: region {name!r} is not closed")
    return out


def table():
    rows = ["| Code | Lines | Limit | File |", "|---|---:|---:|---|"]
    over = []
    for f in FILES:
        if f.endswith(".rs"):
            r = subprocess.run(["rustfmt", "--check", "--edition", "2021", str(ROOT / f)],
                               capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"{f} is not rustfmt'd (run `cargo fmt --all`):\n{r.stdout[:2000]}")
        for name, n in regions(f):
            limit = LIMITS.get(name)
            if limit is not None and n > limit:
                over.append(f"{name}: {n} lines, limit {limit}")
            rows.append(f"| {name} | {n} | {limit if limit is not None else ''} | `{f}` |")
    return "\n".join(rows), over


def main():
    text, over = table()
    print(text)
    if "--check" not in sys.argv:
        return
    problems = list(over)
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- line-counts -->\n(.*?)\n<!-- /line-counts -->", readme, re.S)
    if not m:
        problems.append("README.md has no <!-- line-counts --> table")
    elif m.group(1).strip() != text.strip():
        problems.append("README.md's line-count table is out of date (paste the table above)")
    for p in problems:
        print(f"line_counts: {p}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
