"""`spin-bench history`: each paper task's score over a sequence of checkpoints, as a text table (and the
frame the report's history figure draws)."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reports.metrics import TASK_HEADINGS, newest_rows, paper_metrics
from reports.table_export import markdown_escape
from reports.table_model import MISSING
from spin_bench.core.names import label_sort_key

if TYPE_CHECKING:
    import pandas as pd

    from spin_bench.store import ResultsStore

__all__ = ["format_history", "history_frame", "history_labels"]


def history_labels(store: ResultsStore, pattern: str) -> list[str]:
    """The store's labels matching an fnmatch pattern, each run's checkpoints in training order."""
    known = store.evaluations()["label"].drop_duplicates().astype(str).tolist()
    return sorted((label for label in known if fnmatch.fnmatchcase(label, pattern)), key=label_sort_key)


def history_frame(scores: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """labels x tasks: the paper metric of each task (newest evaluation), in printed units; NaN where missing."""
    import pandas as pd

    metrics = paper_metrics()
    heading = {task: TASK_HEADINGS.get(task, task) for task, _, _ in metrics}
    frame = pd.DataFrame(index=pd.Index(list(labels), name="label"), columns=[heading[t] for t, _, _ in metrics],
                         dtype=float)
    subset = scores[scores["label"].isin(list(labels))]
    for label in labels:
        rows = newest_rows(subset, label)
        for task, metric, filter_ in metrics:
            if (row := rows.get((task, metric, filter_))) is not None and pd.notna(row["value"]):
                frame.loc[label, heading[task]] = row["value"] * 100.0
        mt = rows.get(("mt_bench", "score", "none"))
        if mt is not None:
            frame.loc[label, "MT-Bench"] = mt["value"]
    return frame.dropna(axis=1, how="all")


def format_history(frame: pd.DataFrame, fmt: str) -> str:
    """labels x tasks as aligned text or a Markdown table (labels escaped)."""
    import pandas as pd

    cells = frame.map(lambda v: MISSING if pd.isna(v) else f"{v:.2f}")
    header = ["label", *map(str, frame.columns)]
    rows = [[str(label), *row] for label, row in zip(frame.index, cells.itertuples(index=False))]
    if fmt == "markdown":
        lines = ["| " + " | ".join(markdown_escape(h) for h in header) + " |",
                 "|:---|" + "---:|" * len(frame.columns)]
        lines += ["| " + " | ".join([markdown_escape(row[0]), *row[1:]]) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     .rstrip() for r in [header, *rows])
