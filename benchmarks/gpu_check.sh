#!/usr/bin/env bash
# The GPU check (benchmarks/gpu_check.py) on a single-GPU machine with no network.
# On a machine with network first run benchmarks/gpu_check_wheels.sh: it fills .whl/ with the wheels the GPU
# machine lacks (it has torch, transformers and accelerate). This script installs them into /tmp/site, then
# runs the check from the repository root, where `python -m spin_bench` imports the checkout itself.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
# Fail early and cheaply where there is no GPU: before installing or building anything.
"$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 2)' 2>/dev/null || {
  echo "gpu_check: error: no CUDA GPU visible (torch.cuda.is_available() is False, or no torch); this check needs one" >&2
  exit 2
}
if compgen -G ".whl/*.whl" >/dev/null; then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1 SPIN_BENCH_CACHE="${SPIN_BENCH_CACHE:-/tmp/spin-bench-cache}"
exec "$python" benchmarks/gpu_check.py "$@"
