"""Benchmarks with the SPIN paper's settings, run by lm-eval: suites, task configs, runner, cache."""
