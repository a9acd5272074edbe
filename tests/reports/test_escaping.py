"""Every string the report hands to plotly is escaped (checked on the figures' JSON, without a browser; the
browser test checks what Chromium draws)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reports.figures import all_figures
from reports.plots import HOVER_BY_NAME, plot_text
from spin_bench.core.run_artifacts import RunArtifacts
from spin_bench.store import ResultsStore
from tests.reports.hostile import BOLD, LINK, SPAN, make_hostile_run
from tests.reports.test_report import RUN


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every string in a figure's JSON."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")


@pytest.fixture(scope="module")
def plots(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("escaping")
    db, run_dir = make_hostile_run(tmp)
    with ResultsStore(db) as store:
        return all_figures(store.scores(), RUN, RunArtifacts.at(run_dir))


def test_no_markup_reaches_plotly(plots):
    drawn = [plot for plot in plots if plot.figure is not None]
    assert {plot.key for plot in drawn} >= {"figure2", "figure3", "figure6", "convergence", "cost", "history"}
    texts = [(f"{plot.key}{path}", text) for plot in drawn for path, text in strings(plot.figure.to_plotly_json())]
    # The only markup is this package's own hover template, which splices in no text.
    offending = [(path, text) for path, text in texts if ("<" in text or ">" in text) and text != HOVER_BY_NAME]
    assert offending == []
    for injected in (SPAN, LINK, BOLD):  # the label (history, radar legend) and the categories (radar axis)
        assert any(plot_text(injected) in text for _, text in texts), injected


def test_plot_text_escapes_what_plotly_would_parse():
    assert plot_text('<a href="https://x/">1 & 2</a>') == '&lt;a href="https://x/"&gt;1 &amp; 2&lt;/a&gt;'
    assert plot_text(Path("a<b")) == "a&lt;b"
    assert plot_text("plain − text") == "plain − text"
