"""What every report figure shares: the :class:`Plot` result, the page's plot layout, and the one way text
reaches plotly.

Plotly draws its own pseudo-HTML subset in every text it renders (trace names, category values, axis and
subplot titles, annotations, hover labels): ``<b>``, ``<br>``, ``<span style=…>`` and ``<a href=…>`` become
live SVG, so a store label such as ``run/<a href="https://host/">x</a>`` would be a working link and a
``style`` with ``url(…)`` a network request. Every string this package hands to plotly goes through
:func:`plot_text`: plotly splits tags before it decodes entities, so an escaped ``&lt;b&gt;`` is drawn as
the text ``<b>`` and never parsed as a tag.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from spin_bench.core.names import CheckpointName

_LAYOUT = dict(template="plotly_white", height=420, margin=dict(l=60, r=30, t=60, b=50),
               font=dict(family="sans-serif"))  # a generic family: no web font is ever fetched
# The trace's own (escaped) name and the point: no data text is spliced into the template itself, where a
# "%{…}" in a label would be read as a placeholder.
HOVER_BY_NAME = "%{fullData.name}<br>%{x}: %{y:.2f}<extra></extra>"


@dataclass(frozen=True)
class Plot:
    """One report figure: ``figure`` is None exactly when ``reason`` says why it is left out."""

    key: str  # stable id, also the file stem of a static export
    title: str
    figure: go.Figure | None
    reason: str | None = None
    caption: str = ""

    def __post_init__(self) -> None:
        if (self.figure is None) == (self.reason is None):
            raise ValueError("a Plot has either a figure or a reason, not both or neither")


def left_out(key: str, title: str, reason: str) -> Plot:
    return Plot(key, title, None, reason)


def plot_text(value: Any) -> str:
    """``value`` as text plotly draws literally (``<``, ``>`` and ``&`` as entities plotly decodes)."""
    return html.escape(str(value), quote=False)


def plot_texts(values: Iterable[Any]) -> list[str]:
    return [plot_text(value) for value in values]


def styled(fig: go.Figure, title: str, **layout: Any) -> go.Figure:
    """The page's layout with an escaped title; ``layout`` adds or overrides plotly layout settings."""
    fig.update_layout(title=plot_text(title), **{**_LAYOUT, **layout})
    return fig


def run_checkpoints(scores: pd.DataFrame, run: str) -> dict[str, CheckpointName]:
    """The run's checkpoints in the store: label text after ``<run>/`` -> its name (labels outside the
    grammar are not checkpoints and are left out). The text is kept: it is what the store's labels spell."""
    prefix = f"{run}/"
    found = {}
    for label in scores["label"].astype(str).unique():
        if label.startswith(prefix) and (name := CheckpointName.try_parse(label[len(prefix):])) is not None:
            found[label[len(prefix):]] = name
    return found
