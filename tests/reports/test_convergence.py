"""The convergence monitor's section: the monitor's table and notes on the page, every sentence about the run
following its numbers (a likelihood that falls reads "fell", one that rises reads "rose")."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from reports.convergence import REFERENCES, monitor_notes, run_reading
from reports.report import build_report
from spin_bench.core.run_layout import HeldoutRow, RunSummary
from spin_bench.store import ResultsStore
from tests.reports.test_report import RUN, make_run

ARXIV = ("arXiv:2402.13228", "arXiv:2410.08847", "arXiv:2404.12358")


def _rows(real: tuple[float, ...], margins: tuple[float, ...], sft_epoch: float | None = None,
          under_reference: bool = True) -> list[HeldoutRow]:
    """An SFT row and one row per iteration (each measured against the one before), plus an SFT epoch;
    ``under_reference=False``: a run.json from before the monitor kept the reference's means."""
    rows = [HeldoutRow(label="sft", heldout_prompts=8, real_logp_per_token=real[0])]
    for t, (value, margin) in enumerate(zip(real[1:], margins, strict=True)):
        rows.append(HeldoutRow(label=f"iter{t}", heldout_prompts=8, real_logp_per_token=value,
                               reference="sft" if t == 0 else f"iter{t - 1}", beta=0.1, margin=margin,
                               accuracy=0.9 if margin > 0 else 0.3, logratio_margin=10 * margin,
                               generated_logp_per_token=value - 0.5,
                               reference_real_logp_per_token=real[t] if under_reference else None,
                               reference_generated_logp_per_token=value - 0.5 + margin if under_reference else None))
    if sft_epoch is not None:
        rows.append(HeldoutRow(label="sft_epoch", heldout_prompts=8, real_logp_per_token=sft_epoch, reference="sft",
                               beta=0.1, margin=-0.1, accuracy=0.4, logratio_margin=-1.0))
    return rows


def _section(page: str) -> str:
    start = page.index('<section class="figure" id="convergence">')
    return html.unescape(page[start: page.index("</section>", start)])


def _report(tmp: Path, rows: list[HeldoutRow]) -> str:
    db, run_dir = make_run(tmp)
    summary = RunSummary.read(run_dir / "run.json")
    (run_dir / "run.json").write_text(json.dumps(RunSummary(recipe=summary.recipe, checkpoints=summary.checkpoints,
                                                            heldout=tuple(rows)).to_json()))
    with ResultsStore(db) as store:
        out = build_report(store, run_dir, RUN, tmp / "report.html", n_boot=200)
    return out.read_text(encoding="utf-8")


HOSTILE = HeldoutRow(label="<b>PWN</b>", heldout_prompts=8, real_logp_per_token=-1.0)


@pytest.fixture(scope="module")
def falling_page(tmp_path_factory) -> str:
    """The embedded default's pattern (issue 11): the likelihood falls every iteration, the margin is positive."""
    rows = [*_rows((-1.21, -1.39, -1.67, -1.67), (0.9, 0.5, 0.2), sft_epoch=-1.07), HOSTILE]
    return _report(tmp_path_factory.mktemp("falling"), rows)


@pytest.fixture(scope="module")
def falling(falling_page) -> str:
    return _section(falling_page)


def test_the_section_shows_the_monitors_table_and_what_it_means(falling, falling_page):
    table = falling[falling.index('<table class="monitor">'): falling.index("</table>")]
    assert "<th class=\"text\">checkpoint</th>" in table and "log p per token, human answers" in table
    assert re.search(r"<td class=\"text\">iter1</td><td>iter0</td><td>0\.1</td><td>\+0\.500</td><td>0\.90</td>"
                     r"<td>-1\.670</td><td>-0\.280</td><td>-2\.170</td><td>-0\.500</td>", table)
    assert "<td class=\"text\">sft</td><td>–</td>" in table  # SFT has no reference and no margin
    for text in ("Theorem 5.2", "p_θ = p_data", "margin is 0 and the accuracy 0.5", "likelihood displacement",
                 "DPO-Positive", *ARXIV):
        assert text in falling, text
    assert all(reference in falling for reference in REFERENCES)
    # A row label is run.json text: escaped in the table, and never read into the notes (not a checkpoint).
    assert "<b>PWN</b>" not in falling_page and '<td class="text">&lt;b&gt;PWN&lt;/b&gt;</td>' in falling_page


def test_a_falling_likelihood_reads_fell_and_names_the_displacement(falling):
    assert ("from sft to iter2 the held-out log-likelihood per token of the human answers fell by 0.46: "
            "-1.21 (sft) → -1.39 (iter0) → -1.67 (iter1) → -1.67 (iter2).") in falling
    assert "rose by" not in falling.split("For comparison")[0]
    assert "iter0 and iter1: the human answers' likelihood fell below what the opponent gave them" in falling
    assert "iter2: the human answers' likelihood stayed about where the opponent had it" in falling
    assert "Across iterations the margin shrank from iter0 to iter2" in falling
    assert ("from the opponent to the iteration, human answers / opponent's answers: iter0 -0.180 / -0.900, "
            "iter1 -0.280 / -0.500, iter2 +0.000 / -0.200.") in falling
    assert "one more SFT epoch (sft_epoch)" in falling and "from -1.21 to -1.07 (rose by 0.14)" in falling


def test_a_rising_likelihood_reads_rose(tmp_path):
    section = _section(_report(tmp_path, _rows((-1.40, -1.30, -1.20), (0.2, 0.4))))
    assert ("from sft to iter1 the held-out log-likelihood per token of the human answers rose by 0.20: "
            "-1.40 (sft) → -1.30 (iter0) → -1.20 (iter1).") in section
    assert "fell by" not in section and "fell below what the opponent gave them" not in section
    assert "iter0 and iter1: the human answers' likelihood rose with the margin, a move towards the data" in section
    assert "Across iterations the margin grew from iter0 to iter1" in section
    assert "SFT epoch" not in section.split("What SPIN predicts")[1].split("Why the likelihood")[0]


def test_reading_follows_each_iteration():
    # Without the reference's means (an older run.json) each iteration's change is read from the row before.
    mixed = run_reading(_rows((-1.2, -1.3, -1.25, -1.25), (0.3, -0.1, 0.2), under_reference=False))
    assert mixed[0].startswith("This run: from sft to iter2 the held-out log-likelihood per token of the human "
                               "answers fell by 0.05")
    assert mixed[1].startswith("2 of 3 iterations ended with a positive held-out margin")
    assert mixed[2] == ("Per iteration, against its opponent: iter0: the human answers' likelihood fell below what "
                        "the opponent gave them and the margin still grew, so the opponent's answers fell further "
                        "(likelihood displacement); iter2: the human answers' likelihood stayed about where the "
                        "opponent had it while the margin grew; iter1: no positive margin, the opponent's answers "
                        "not told apart from the human ones.")
    nothing = "This run: the monitor has no SFT row and SPIN iteration to compare, so no trend to read."
    assert run_reading(_rows((-1.2,), ())) == [nothing]
    assert not any("PWN" in note for note in monitor_notes([*_rows((-1.2, -1.3), (0.1,)), HOSTILE]))
