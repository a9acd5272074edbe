"""spin-bench: train with SPIN, benchmark every iteration, report whether it worked."""

__version__ = "0.1.0"
