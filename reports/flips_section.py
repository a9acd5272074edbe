"""The report's flips section: for each consecutive pair of SPIN stages (SFT -> iteration 0, iteration t-1 -> t),
the items each task gained and lost as a figure, a few flipped items as text (as the paper's generation
examples show answers), and the MT-Bench questions whose rating moved most.

The pairs are tested through reports.significance.run_tests, the report's one planner, in one family: the
McNemar p beside each count is Holm-adjusted across every task of every pair in the section. The flips
themselves are read from the tested pairs (reports.flips), so the counts are McNemar's discordant pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from reports.compare import row_pairs
from reports.flips import TaskFlips, task_flips
from reports.mt_bench_moves import mt_bench_moves, newest_mt_bench
from reports.plots import Plot, left_out, plot_text, plot_texts, run_checkpoints, styled
from reports.sections import (
    FlipCount,
    FlipExample,
    FlipPair,
    FlipsSection,
    MtBenchQuestion,
    MtBenchTurn,
    RatedAnswer,
)
from reports.significance import PlannedComparison, run_tests
from spin_bench.core.errors import UserError
from spin_bench.core.names import Kind

if TYPE_CHECKING:
    import pandas as pd

EXAMPLES_PER_DIRECTION = 2  # flipped items shown per pair and direction
MOVED_QUESTIONS = 2
PROMPT_CHARS = 600  # the end of a prompt (its question, after the few-shot examples)
ANSWER_CHARS = 400
RIGHT_TO_WRONG, WRONG_TO_RIGHT = "right → wrong", "wrong → right"


def consecutive_stages(scores: pd.DataFrame, run: str) -> list[tuple[str, str]]:
    """(previous stage, iteration) label texts of the run, in iteration order, where both are in the store."""
    found = run_checkpoints(scores, run)
    by_name = {name: text for text, name in found.items()}
    iterations = sorted((name for name in found.values() if name.kind is Kind.ITERATION), key=lambda n: n.iteration)
    return [(by_name[name.previous_stage()], by_name[name]) for name in iterations if name.previous_stage() in by_name]


def flips_section(scores: pd.DataFrame, evaluations: pd.DataFrame, run: str, *, n_boot: int = 10_000) -> FlipsSection:
    """Flips between every consecutive pair of the run's SPIN stages."""
    stages = consecutive_stages(scores, run)
    if not stages:
        return FlipsSection((), "left out: the store has no SFT model and iteration (or two consecutive "
                                "iterations) of this run")
    rows = {(a, b): row_pairs(scores, f"{run}/{a}", f"{run}/{b}") for a, b in stages}
    planned = [PlannedComparison((a, b, a_row["task"]), a_row, b_row)
               for (a, b), pairs in rows.items() for a_row, b_row in pairs.pairs]
    outcome = run_tests(planned, n_boot=n_boot)
    tested = {key: comparison for key, comparison in outcome.tested}
    pairs = []
    for a, b in stages:
        by_task = {a_row["task"]: (a_row, b_row) for a_row, b_row in rows[(a, b)].pairs}
        flips = [task_flips(comparison, *by_task[task], EXAMPLES_PER_DIRECTION)
                 for (pa, pb, task), comparison in tested.items() if (pa, pb) == (a, b)]
        untested = [f"{task}: not tested, {why.why}" for (pa, pb, task), why in outcome.untested if (pa, pb) == (a, b)]
        pairs.append(_pair(a, b, [f for f in flips if f.listed], untested,
                           _moved(evaluations, f"{run}/{a}", f"{run}/{b}", a, b)))
    note = ("Per task, the documents the earlier stage got right and the later one wrong (lost) and the other way "
            "round (gained), on the 0/1 metrics; McNemar's exact test uses exactly these discordant pairs, its p "
            f"Holm-adjusted across all {len(outcome.tested)} tests of this section. A few flipped items follow "
            "each figure (prompts cut to their end, where the question is).")
    return FlipsSection(tuple(pairs), note)


def _pair(a: str, b: str, flips: Sequence[TaskFlips], untested: Sequence[str],
          moved: tuple[Sequence[MtBenchQuestion], str | None]) -> FlipPair:
    counts = tuple(FlipCount(f.task, len(f.right_to_wrong), len(f.wrong_to_right), _p(f.comparison.p_adjusted))
                   for f in flips)
    chosen = []
    for direction, attr in ((RIGHT_TO_WRONG, "right_to_wrong_shown"), (WRONG_TO_RIGHT, "wrong_to_right_shown")):
        # Round-robin over the tasks (suite order): the first item of each task before any second one.
        ranked = sorted(((rank, order, f, item) for order, f in enumerate(flips)
                         for rank, item in enumerate(getattr(f, attr))), key=lambda entry: entry[:2])
        chosen += [FlipExample(f.task, direction, item.doc, _tail(item.prompt, PROMPT_CHARS), _head(item.gold),
                               _head(item.a_answer), _head(item.b_answer))
                   for _, _, f, item in ranked[:EXAMPLES_PER_DIRECTION]]
    questions, mt_note = moved
    notes = tuple(untested) + ((mt_note,) if mt_note else ())
    return FlipPair(a, b, _figure(a, b, counts), counts, tuple(chosen), tuple(questions), notes)


def _figure(a: str, b: str, counts: Sequence[FlipCount]) -> Plot:
    key, title = f"flips-{a}-{b}", f"Flips {a} → {b}: items gained and lost per task"
    if not counts:
        return left_out(key, title, "no task with 0/1 per-document scores was compared")
    tasks = plot_texts(c.task for c in counts)
    fig = go.Figure([
        go.Bar(x=tasks, y=[c.wrong_to_right for c in counts], name=plot_text(f"{WRONG_TO_RIGHT} (gained by {b})"),
               marker_color="#2a9d8f"),
        go.Bar(x=tasks, y=[-c.right_to_wrong for c in counts], name=plot_text(f"{RIGHT_TO_WRONG} (lost by {b})"),
               marker_color="#e76f51"),
    ])
    styled(fig, title, barmode="relative", yaxis_title=plot_text("items (lost below zero)"))
    return Plot(key, title, fig, caption=f"Bars: per task, the items {b} got right that {a} got wrong (up) and "
                                         f"the other way round (down).")


def _moved(evaluations: pd.DataFrame, a_label: str, b_label: str, a: str,
           b: str) -> tuple[Sequence[MtBenchQuestion], str | None]:
    a_eval, b_eval = newest_mt_bench(evaluations, a_label), newest_mt_bench(evaluations, b_label)
    if a_eval is None or b_eval is None:
        return (), None
    try:
        moves = mt_bench_moves(a_eval["results_path"], b_eval["results_path"], MOVED_QUESTIONS)
    except UserError as err:  # a missing results file: say so, the rest of the section stands
        return (), f"MT-Bench left out: {err}"
    questions = [MtBenchQuestion(q.question_id, f"{q.category}; rating {q.a_rating:.2f} → {q.b_rating:.2f}",
                                 tuple(MtBenchTurn(t.turn, t.question, (
                                     RatedAnswer(a, _head(t.a_answer), _score(t.a_score)),
                                     RatedAnswer(b, _head(t.b_answer), _score(t.b_score)))) for t in q.turns))
                 for q in moves.questions]
    return questions, (f"MT-Bench: the {len(questions)} of {moves.compared} questions whose rating moved most "
                       f"(judge: {moves.b_judge}).")


def _p(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if value >= 1e-3 else f"{value:.1e}"


def _score(value: float | None) -> str:
    return "-1 (failed)" if value is None else f"{value:.2f}"


def _head(text: str, limit: int = ANSWER_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tail(text: str, limit: int) -> str:
    return text if len(text) <= limit else "…" + text[len(text) - limit + 1:]
