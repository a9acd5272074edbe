#!/usr/bin/env bash
# Wheels for benchmarks/gpu_check.sh, fetched here (PyPI reachable) for the GPU machine (no network,
# Python 3.12, x86-64; torch, transformers 5.17 and accelerate preinstalled). spin-bench pins transformers
# 5.23 and TRL 1.16, so transformers travels too. The working tree that travels is capped at 64 MiB: this
# script prints the total and fails above it. Drop from the list what `pip show` on the GPU machine finds.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
mkdir -p .whl
wheels=(transformers==5.23.0 trl==1.16.0 lm-eval==0.4.13 deepspeed==0.19.8 datasets evaluate sqlalchemy
        jinja2 pyyaml tqdm plotly openai hjson ninja msgpack py-cpuinfo einops sqlitedict pytablewriter
        jsonlines word2number more-itertools sacrebleu rouge-score dill xxhash multiprocess fsspec httpx)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --platform any -d .whl "${wheels[@]}"
total=$(du -sm .whl | cut -f1)
echo "wheels: ${total} MiB in .whl"
[ "$total" -le 60 ] || { echo "gpu_check_wheels: error: ${total} MiB is over the 64 MiB the working tree may carry" >&2; exit 1; }
