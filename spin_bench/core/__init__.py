"""The kernel every other part of spin-bench stands on: errors, hashing, atomic files, strict typed configs,
the cache and store locations, the run directory's layout, checkpoint names and the shared enums.

Nothing here imports another part of the project (an import-linter contract checks it), and nothing here
imports torch, so config validation and `spin-bench --help` stay fast.
"""
