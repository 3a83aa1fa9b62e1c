#!/usr/bin/env python3
"""Merges the LLVM/MLIR 22 locations that melior's build needs into the user's Cargo config.

melior's mlir-sys and tblgen build scripts find LLVM 22 through MLIR_SYS_220_PREFIX,
TABLEGEN_220_PREFIX and LIBCLANG_PATH. This workspace sets them in its own
.cargo/config.toml, which Cargo reads only for builds inside the workspace; a crate elsewhere
that depends on hlo-builder needs them too, or mlir-sys finds Debian's default llvm-config (14)
and fails. Cargo's [env] table in ${CARGO_HOME:-~/.cargo}/config.toml applies to every build
of the user, and never overrides a variable already set in the environment.

The merge: keys the user already has under [env] are left as they are (whatever their value);
missing ones are added under an existing [env] header, or in a new [env] table at the end.
Nothing else in the file changes. A config whose env table is written another way (inline or
dotted keys) is not edited: the lines to add are printed instead. Idempotent; prints nothing
when there is nothing to do.
"""
import os
import sys

try:
    import tomllib  # Python 3.11+ (Debian 12 has 3.11)
except ImportError:  # pragma: no cover - older Pythons
    tomllib = None

WANTED = {
    "MLIR_SYS_220_PREFIX": "/usr/lib/llvm-22",
    "TABLEGEN_220_PREFIX": "/usr/lib/llvm-22",
    "LIBCLANG_PATH": "/usr/lib/llvm-22/lib",
}
COMMENT = "# LLVM/MLIR 22 for melior (mlir-sys, tblgen), added by pjrt-rs's scripts/setup.sh"


def say(msg):
    print(f"[setup] {msg}", file=sys.stderr)


def config_path():
    home = os.environ.get("CARGO_HOME") or os.path.join(os.path.expanduser("~"), ".cargo")
    toml = os.path.join(home, "config.toml")
    legacy = os.path.join(home, "config")
    # Cargo reads `config` when there is no `config.toml`; edit the file it reads.
    if not os.path.exists(toml) and os.path.exists(legacy):
        return legacy
    return toml


def lines_for(keys):
    return [f'{k} = "{WANTED[k]}"' for k in keys]


def merged(text, data):
    """The new file text, or None when the env table cannot be edited safely."""
    env = data.get("env")
    if env is not None and not isinstance(env, dict):
        return None
    missing = [k for k in WANTED if env is None or k not in env]
    if not missing:
        return text
    lines = text.splitlines(keepends=True)
    header = None
    for i, line in enumerate(lines):
        stripped = line.split("#", 1)[0].strip()
        if stripped == "[env]":
            header = i
            break
    if env is None:
        out = text
        if out and not out.endswith("\n"):
            out += "\n"
        if out:
            out += "\n"
        return out + "\n".join(["[env]", COMMENT] + lines_for(missing)) + "\n"
    if header is None:
        return None  # env given as an inline table or dotted keys
    new = [COMMENT + "\n"] + [l + "\n" for l in lines_for(missing)]
    if not lines[header].endswith("\n"):
        lines[header] += "\n"
    return "".join(lines[: header + 1] + new + lines[header + 1 :])


def main():
    path = config_path()
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    manual = "add these lines under [env] in {}:\n  {}".format(
        path, "\n  ".join(lines_for(list(WANTED)))
    )
    if tomllib is None:
        if all(k in text for k in WANTED):
            return 0
        say(f"no tomllib in this Python; {manual}")
        return 0
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        say(f"{path} is not valid TOML ({e}); not editing it. To build crates that use hlo-builder outside this workspace, {manual}")
        return 0
    new = merged(text, data)
    if new is None:
        say(f"{path} defines env in a form this script does not edit; {manual}")
        return 0
    if new == text:
        return 0
    # Check the result before replacing the file: valid TOML, every key present, and every
    # value the user had unchanged.
    after = tomllib.loads(new)
    before_env = data.get("env", {})
    assert all(k in after["env"] for k in WANTED)
    assert all(after["env"][k] == v for k, v in before_env.items())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(tmp, path)
    added = [k for k in WANTED if k not in before_env]
    say(f"added {', '.join(added)} to [env] in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
