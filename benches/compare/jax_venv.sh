# Sourced by the comparison scripts: the set-up, then JAX 0.10.2 (CPU) installed into .venv/
# from PyPI on first use.
bash scripts/setup.sh
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import jax" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q "jax[cpu]==0.10.2" numpy
fi
