"""The report's win-rate table: each checkpoint's pairwise MT-Bench win rate against its baseline, plain and
length-controlled, with their bootstrap intervals, and the judge and mode that gave the verdicts.

Read from the store alone (suite ``mt_bench_pairwise``, written by spin_bench.mtbench.pairwise); the newest
evaluation of each (checkpoint, baseline) is shown. Win rates compare only under the same judge and mode,
so both are columns of every row.
"""

from __future__ import annotations

import pandas as pd

from reports.sections import TableSection
from reports.table_export import to_html
from reports.table_model import MISSING, TableResult
from spin_bench.core.names import label_sort_key

SUITE = TASK = "mt_bench_pairwise"
ID, TITLE = "win_rates", "Pairwise MT-Bench win rates against the baseline (FastChat pairwise, both orders)"
COLUMNS = ("Judge (mode)", "Games", "Win / tie / loss", "Win rate %", "LC win rate %", "Mean length (chars)")
DEFINITION = ("Win rate: (wins + ties/2) / games over every (question, turn), a win only when the judge prefers the "
              "checkpoint in both orders (FastChat's pairwise rule, ties and disagreements are ties); LC: AlpacaEval "
              "2's length-controlled win rate (a logistic model with a length term, at equal lengths); "
              "brackets: the confidence interval.")


def win_rate_section(scores: pd.DataFrame, run: str) -> TableSection:
    """The table, or the reason it is left out (no pairwise evaluation of this run in the store)."""
    mine = scores[(scores["suite"] == SUITE) & (scores["task"] == TASK)
                  & scores["label"].astype(str).str.startswith(f"{run}/")]
    if mine.empty:
        return TableSection(ID, TITLE, None, "left out: no pairwise MT-Bench evaluation of this run in the store "
                            "(bench.mt_bench.pairwise, or spin-bench eval --pairwise-baseline)")
    newest = _newest_evaluations(mine)
    rows, notes = {}, [DEFINITION]
    label_of = dict(zip(newest["evaluation_id"], newest["label"], strict=True))
    for evaluation_id in sorted(label_of, key=lambda e: label_sort_key(label_of[e])):
        block = newest[newest["evaluation_id"] == evaluation_id]
        first = block.iloc[0]
        values = dict(zip(block["metric"], block["value"], strict=True))
        name = f"{_short(first['label'])} vs {_short((first['extra'] or {}).get('baseline', '?'))}"
        rows[name] = _cells(values, first["judge"] or {})
        extra_notes = [_bootstrap_note((first["extra"] or {}).get("bootstrap") or {}), *first["deviations"]]
        notes.extend(note for note in extra_notes if note not in notes)
    cells = pd.DataFrame.from_dict(rows, orient="index", columns=list(COLUMNS))
    result = TableResult(title=TITLE, numeric=cells, display=cells, notes=notes, cells=cells)
    return TableSection(ID, TITLE, to_html(result))


def _bootstrap_note(bootstrap: dict) -> str:
    if not bootstrap:
        return "Intervals: bootstrap settings not recorded."
    return (f"Intervals: {100 * bootstrap['confidence']:g}% percentile bootstrap over questions, "
            f"{bootstrap['resamples']} resamples, seed {bootstrap['seed']}.")


def _newest_evaluations(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of the newest evaluation of each (label, baseline)."""
    rows = rows.assign(baseline=[(extra or {}).get("baseline") for extra in rows["extra"]])
    newest = rows.sort_values(["created_at", "evaluation_id"], kind="stable").groupby(
        ["label", "baseline"], sort=False)["evaluation_id"].last()
    return rows[rows["evaluation_id"].isin(set(newest))]


def _short(label: str) -> str:
    return str(label).split("/", 1)[-1]


def _cells(values: dict[str, float], judge: dict) -> list[str]:
    def percent(metric: str) -> str:
        value, low, high = (values.get(f"{metric}{part}", float("nan")) for part in ("", "_ci_low", "_ci_high"))
        if pd.isna(value):
            return MISSING
        return f"{100 * value:.1f}" + ("" if pd.isna(low) or pd.isna(high) else f" [{100 * low:.1f}, {100 * high:.1f}]")

    counts = " / ".join(_count(values.get(k)) for k in ("wins", "ties", "losses"))
    failed = values.get("failed", 0.0)
    games = _count(values.get("wins", 0.0) + values.get("ties", 0.0) + values.get("losses", 0.0))
    lengths = f"{values.get('model_length', float('nan')):.0f} vs {values.get('baseline_length', float('nan')):.0f}"
    return [f"{judge.get('model', '?')} ({judge.get('mode', '?')})",
            games + (f" ({failed:.0f} without a verdict)" if failed else ""), counts,
            percent("win_rate"), percent("lc_win_rate"), lengths]


def _count(value: float | None) -> str:
    """Whole counts as integers; expected-mode counts (sums of probabilities) with one decimal."""
    if value is None or pd.isna(value):
        return MISSING
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:.1f}"
