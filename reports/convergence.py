"""The convergence monitor's section: the held-out monitor's numbers as a table under its figure, and notes
that say what each column is, what SPIN's fixed point predicts and what this run's numbers show.

Why notes at all: SPIN can widen the margin between the human answers and its own while the likelihood of
the human answers falls (the embedded default does), which reads as a move away from the data that
Theorem 5.2 promises to reach. Each sentence about the run is computed from its run.json, never fixed text,
so the page says "rose" when a run's likelihood rose. All text is plain; the template escapes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from reports.figures import iteration_rows
from reports.sections import ComparisonRow, ComparisonTable, FigureSection
from spin_bench.core.names import Baseline, CheckpointName
from spin_bench.core.run_artifacts import RunArtifacts
from spin_bench.core.run_layout import HeldoutRow

KEY = "convergence"
SFT_EPOCH = CheckpointName.of_baseline(Baseline.SFT_EPOCH)
# Below half the printed precision (two decimals) a change is not called a rise or a fall.
UNCHANGED = 0.005
COLUMNS = ("measured against", "β", "margin", "accuracy", "log p per token, human answers", "change",
           "log p per token, opponent's answers", "change")
REFERENCES = (
    "Pal et al. 2024, Smaug: Fixing Failure Modes of Preference Optimisation with DPO-Positive, arXiv:2402.13228",
    ("Razin et al. 2024, Unintentional Unalignment: Likelihood Displacement in Direct Preference Optimization, "
     "arXiv:2410.08847"),
    "Rafailov et al. 2024, From r to Q*: Your Language Model is Secretly a Q-Function, arXiv:2404.12358",
)
WHAT_IT_SHOWS = (
    "What the columns are, on held-out prompts no stage trained on. Margin: β·[(log p − log p_ref)(human "
    "answer) − (log p − log p_ref)(opponent's answer)] averaged over prompts, log p summed over the tokens "
    "training scores (the answer and the chat template's end of turn); p_ref is the checkpoint the row is "
    "measured against (an iteration's opponent, the model it started from, whose answers are the opponent's "
    "answers; SFT for a baseline). Accuracy: the share of prompts with a positive margin. Log p per token: "
    "the log-likelihood of the answers under the row's checkpoint, summed over all prompts and divided by "
    "their token count; change: from the same answers' value under the reference (the margin is the "
    "difference of the two changes, summed over each answer's tokens instead of averaged). The human answers "
    "are the same in every row: their column is the held-out cross-entropy with its sign flipped, higher is "
    "closer to the data.")
WHAT_THEORY_SAYS = (
    "What SPIN predicts. By Theorem 5.2 the global optimum of SPIN's objective is p_θ = p_data: there the "
    "opponent answers like the data, the margin is 0 and the accuracy 0.5. The theorem places the optimum; "
    "it does not say that each iteration's gradient steps raise the likelihood of the human answers.")
DISPLACEMENT = (
    "Why the likelihood of the human answers can fall while the margin grows. SPIN's logistic loss is DPO's "
    "loss with the human answer as the chosen one; it sees only the difference of the two log-ratios, so it "
    "also falls when both likelihoods fall and the opponent's falls faster. DPO-family losses are known to "
    "lower the likelihood of the preferred answer while the margin grows, most when the two answers are "
    "alike (Pal et al. 2024, whose DPO-Positive adds a penalty against it), the probability going to other "
    "answers (likelihood displacement, Razin et al. 2024); Rafailov et al. 2024 show how the choice of "
    "reference makes the implicit rewards β·log(p/p_ref) decline during training. Two identities say what "
    "the changes mean: for answers sampled from p_ref (the opponent's, when generation samples) the mean "
    "log-ratio is −KL(p_ref‖p_θ) ≤ 0 whatever the update; for the human answers it is "
    "KL(p_data‖p_ref) − KL(p_data‖p_θ), negative exactly when the update took the model further from the "
    "data than its reference was. A fall of the human answers' likelihood is therefore a move away from "
    "p_data, measured on held-out prompts; a smaller learning rate moves the model less.")


def with_monitor(sections: Sequence[FigureSection], run: RunArtifacts | None) -> list[FigureSection]:
    """``sections`` with the convergence figure's section given the monitor's table and notes."""
    heldout = run.heldout() if run is not None else ()
    return [monitor_section(section, heldout) if section.id == KEY and section.plot.figure is not None
            and heldout else section for section in sections]


def monitor_section(section: FigureSection, heldout: Sequence[HeldoutRow]) -> FigureSection:
    return FigureSection(section.plot, monitor_table(heldout), (*section.notes, *monitor_notes(heldout)))


def monitor_table(heldout: Sequence[HeldoutRow]) -> ComparisonTable:
    """A row per monitored checkpoint, in the run's order: what it is measured against and the numbers."""
    rows = tuple(ComparisonRow(row.label, (
        row.reference or "–", _number(row.beta, "g"), _number(row.margin, "+.3f"), _number(row.accuracy, ".2f"),
        _number(row.real_logp_per_token, ".3f"), _number(_difference(row.real_logp_per_token,
                                                                      row.reference_real_logp_per_token), "+.3f"),
        _number(row.generated_logp_per_token, ".3f"),
        _number(_difference(row.generated_logp_per_token, row.reference_generated_logp_per_token), "+.3f")))
        for row in heldout)
    return ComparisonTable(COLUMNS, rows, heading="checkpoint", css_class="monitor")


def monitor_notes(heldout: Sequence[HeldoutRow]) -> tuple[str, ...]:
    """What the columns are, what the theory predicts, what this run shows, why, and the references."""
    return (WHAT_IT_SHOWS, WHAT_THEORY_SAYS, *run_reading(heldout), DISPLACEMENT,
            "References: " + "; ".join(REFERENCES) + ".")


def run_reading(heldout: Sequence[HeldoutRow]) -> list[str]:
    """Sentences computed from this run's rows: where the likelihood went, where the margin went, and what
    the two together say about each iteration."""
    rows = iteration_rows(heldout, with_sft=True)
    if len(rows) < 2 or CheckpointName.try_parse(rows[0].label) != CheckpointName.sft():
        return ["This run: the monitor has no SFT row and SPIN iteration to compare, so no trend to read."]
    first, last = rows[0], rows[-1]
    path = " → ".join(f"{row.real_logp_per_token:.2f} ({row.label})" for row in rows)
    moved = _moved(last.real_logp_per_token - first.real_logp_per_token)
    out = [(f"This run: from {first.label} to {last.label} the held-out log-likelihood per token of the human "
            f"answers {moved}: {path}.")]
    if margin := _margin_sentence(rows[1:]):
        out.append(margin)
    out.append(_together(rows))
    if epoch := _sft_epoch_sentence(heldout, first):
        out.append(epoch)
    return out


def _margin_sentence(iterations: Sequence[HeldoutRow]) -> str | None:
    measured = [row for row in iterations if row.margin is not None]
    if not measured:
        return None
    positive = sum(row.margin > 0 for row in measured)
    values = ", ".join(f"{row.label} {row.margin:+.3f} (accuracy {_number(row.accuracy, '.2f')})"
                       for row in measured)
    count = "Every iteration" if positive == len(measured) else f"{positive} of {len(measured)} iterations"
    # Every iteration starts at margin 0 (policy = reference): a positive margin is one its training grew.
    text = f"{count} ended with a positive held-out margin over its own opponent (each starts at 0): {values}."
    if len(measured) > 1:
        change = measured[-1].margin - measured[0].margin
        trend = "shrank" if change < 0 else "grew" if change > 0 else "stayed the same"
        text += (f" Across iterations the margin {trend} from {measured[0].label} to {measured[-1].label}; "
                 "at the fixed point it would be 0.")
    return text


def _together(rows: Sequence[HeldoutRow]) -> str:
    """Per iteration: did it gain margin over its opponent, and what happened to the human answers' likelihood
    (from the value its opponent gave them)? Lower likelihood and a positive margin means the opponent's
    answers fell further: the margin is the difference of the two changes."""
    groups: dict[str, list[str]] = {"fell": [], "kept": [], "rose": [], "no margin": []}
    for previous, row in pairwise(rows):
        start = row.reference_real_logp_per_token
        change = row.real_logp_per_token - (previous.real_logp_per_token if start is None else start)
        group = ("no margin" if row.margin is None or row.margin <= 0 else "kept" if abs(change) < UNCHANGED
                 else "rose" if change > 0 else "fell")
        groups[group].append(row.label)
    parts = []
    if groups["fell"]:
        parts.append(f"{_join(groups['fell'])}: the human answers' likelihood fell below what the opponent gave "
                     "them and the margin still grew, so the opponent's answers fell further (likelihood "
                     "displacement)")
    if groups["kept"]:
        parts.append(f"{_join(groups['kept'])}: the human answers' likelihood stayed about where the opponent "
                     "had it while the margin grew")
    if groups["rose"]:
        parts.append(f"{_join(groups['rose'])}: the human answers' likelihood rose with the margin, a move "
                     "towards the data")
    if groups["no margin"]:
        parts.append(f"{_join(groups['no margin'])}: no positive margin, the opponent's answers not told apart "
                     "from the human ones")
    text = "Per iteration, against its opponent: " + "; ".join(parts) + "."
    changes = [(row.label, row.real_logp_per_token - row.reference_real_logp_per_token,
                row.generated_logp_per_token - row.reference_generated_logp_per_token) for row in rows[1:]
               if None not in (row.reference_real_logp_per_token, row.generated_logp_per_token,
                               row.reference_generated_logp_per_token)]
    if changes:
        text += (" Change of the log-likelihood per token from the opponent to the iteration, human answers / "
                 "opponent's answers: " + ", ".join(f"{label} {real:+.3f} / {generated:+.3f}"
                                                   for label, real, generated in changes) + ".")
    return text


def _sft_epoch_sentence(heldout: Sequence[HeldoutRow], sft: HeldoutRow) -> str | None:
    epoch = next((row for row in heldout if CheckpointName.try_parse(row.label) == SFT_EPOCH), None)
    if epoch is None:
        return None
    return (f"For comparison, one more SFT epoch ({epoch.label}), whose loss is exactly this likelihood on the "
            f"SFT data, moved it from {sft.real_logp_per_token:.2f} to {epoch.real_logp_per_token:.2f} "
            f"({_moved(epoch.real_logp_per_token - sft.real_logp_per_token)}).")


def _moved(change: float) -> str:
    if abs(change) < UNCHANGED:
        return "stayed about the same"
    return f"{'rose' if change > 0 else 'fell'} by {abs(change):.2f}"


def _difference(value: float | None, start: float | None) -> float | None:
    return None if value is None or start is None else value - start


def _join(labels: Sequence[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _number(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)
