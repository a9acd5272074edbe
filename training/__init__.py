"""SPIN training: iterations (generate -> pairs -> train) and the baselines (SFT epoch, DPO, SPIN+DPO).

Heavy libraries (torch, transformers, trl, vllm, deepspeed) are imported inside the functions that need
them, so `spin-bench --help` and config validation stay fast and CPU-only installs never touch GPU engines.
"""
