"""The store as the evaluation cache, for every suite alike (lm-eval's and MT-Bench's).

An evaluation is filed under a key built from everything that decides its scores. Asking again under the
same label returns the stored scores without any model work; the same content asked for under a new label
(a nightly run, a second run name) is filed under that label too, from the stored rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from spin_bench.core.hashing import stable_hash
from spin_bench.inference.models import ModelRef
from spin_bench.store.records import EvaluationRecord, ScoreRecord
from spin_bench.store.results_store import ResultsStore


@dataclass(frozen=True)
class SuiteOutcome:
    """One model's scores on one suite: from the store (``cached``) or just evaluated."""

    model: ModelRef
    suite: str
    eval_key: str
    cached: bool
    scores: list[ScoreRecord]
    seconds: float


def label_key(key: str, label: str) -> str:
    """The store key of an evaluation filed under a further label (the first label files it under ``key``)."""
    return stable_hash({"evaluation": key, "label": label})


def cached_evaluation(store: ResultsStore, key: str,
                      model: ModelRef) -> tuple[EvaluationRecord, list[ScoreRecord]] | None:
    """The stored evaluation for this content and label. The same content already stored under another
    label is filed under this label too (same scores and sample logs) without any model work, so a
    nightly label or a second run name still gets its rows."""
    hit = store.lookup(label_key(key, model.label))
    if hit is not None:
        return hit
    hit = store.lookup(key)
    if hit is None or hit[0].label == model.label:
        return hit
    alias = replace(hit[0], eval_key=label_key(key, model.label), label=model.label, model_path=model.path,
                    iteration=model.iteration, extra={**hit[0].extra, **model.extra, "same_as": key})
    store.add(alias, hit[1])
    return alias, hit[1]


def lookup_outcome(store: ResultsStore, key: str, model: ModelRef, suite: str, force: bool) -> SuiteOutcome | None:
    """The cached outcome of ``model`` on ``suite``, or None when it must be evaluated (or ``force``)."""
    hit = None if force else cached_evaluation(store, key, model)
    return None if hit is None else SuiteOutcome(model, suite, hit[0].eval_key, True, hit[1], 0.0)


def store_key_for(store: ResultsStore, key: str, label: str, force: bool) -> str:
    """Where a fresh evaluation is filed: under ``key`` unless another label already holds it there
    (then under this label's key), replacing this label's earlier entry when forced."""
    existing = store.lookup(key)
    if existing is None or existing[0].label == label:
        if force:
            store.delete(key)
        return key
    if force:
        store.delete(label_key(key, label))
    return label_key(key, label)
