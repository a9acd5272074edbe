"""`spin-bench report` and `spin-bench history`: one self-contained HTML report of a run, and score history.

:func:`build_report` gathers the paper's Tables 3-6 (with ± stderr and paired-test significance marks,
Holm-corrected across each table), every figure of :mod:`reports.figures`, generation examples like the
paper's Tables 7 and 8 and a provenance section, and writes one HTML file atomically. The page works
offline: plotly.js is inlined once and nothing refers to a network address.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spin_bench.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

    from reports.figures import Plot
    from reports.tables import TableResult
    from spin_bench.store import ResultsStore

ALPHA = 0.05
PREVIOUS_MARK = "†"
SFT_MARK = "‡"
EXAMPLES = 3
_AGAINST = {PREVIOUS_MARK: "vs the previous stage", SFT_MARK: "vs SFT"}
_ITER = re.compile(r"iter(\d+)")


# ------------------------------------------------------------------ run name and directory


def resolve_run(store: ResultsStore, run_dir: Path | None, labels_or_run: str) -> str:
    """The label prefix of the run: ``labels_or_run`` itself, or for a run directory the name its labels use."""
    known = sorted({str(label).split("/", 1)[0] for label in store.evaluations()["label"].unique()})
    candidates = [labels_or_run.rstrip("/")]
    if run_dir is not None:
        from reports.figures import read_run_json

        info = read_run_json(run_dir) or {}
        candidates = [str(info["recipe"])] if info.get("recipe") else []
        candidates += [run_dir.name, labels_or_run.rstrip("/")]
    for candidate in candidates:
        if candidate in known:
            return candidate
    raise UserError(f"no evaluations for run {candidates[0]!r} in results store {store.url} "
                    f"(runs with evaluations: {', '.join(known) or 'none'})")


def _project_root(run_dir: Path | None, info: Mapping[str, Any] | None) -> Path | None:
    """The directory the run was started from (run.json's run_dir is relative to it), to find relative logs."""
    if run_dir is None or not info or not info.get("run_dir"):
        return None
    parts = Path(str(info["run_dir"])).parts
    resolved = run_dir.resolve()
    if len(parts) <= len(resolved.parts) and resolved.parts[-len(parts):] == parts:
        return Path(*resolved.parts[:-len(parts)])
    return None


def _with_samples(row: Mapping[str, Any], root: Path | None) -> Mapping[str, Any]:
    path = row.get("samples_path")
    if not isinstance(path, str) or not path:  # a frame holds a missing path as None or NaN
        return {**row, "samples_path": None}
    if root is not None and not Path(path).is_absolute() and not Path(path).exists():
        return {**row, "samples_path": str(root / path)}
    return row


# ------------------------------------------------------------------ tables with significance


def _previous(checkpoint: str, checkpoints: set[str]) -> str | None:
    if m := _ITER.fullmatch(checkpoint):
        k = int(m.group(1))
        return "sft" if k == 0 else f"iter{k - 1}"
    if checkpoint == "spin_dpo":
        iterations = sorted((int(m.group(1)) for c in checkpoints if (m := _ITER.fullmatch(c))))
        return f"iter{iterations[-1]}" if iterations else None
    return None


def significance(scores: pd.DataFrame, run: str, plain: TableResult, columns: Sequence[Any], *,
                 root: Path | None = None, alpha: float = ALPHA, n_boot: int = 10_000
                 ) -> tuple[dict[tuple[str, str], str], str | None, list[str]]:
    """Marks for the cells of a built table: † against the previous stage, ‡ against SFT.

    Every (cell, comparison) with per-sample logs on both sides is tested (McNemar or paired bootstrap,
    reports.stats), and Holm's correction runs over all of the table's tests together. Returns the marks,
    the footnote naming the test (None when nothing was tested) and notes on what could not be tested.
    """
    from reports.compare import adjust, compare_rows, newest_rows

    by_heading = {c.heading: c for c in columns}
    checkpoints = {label.split("/", 1)[1] for label in plain.labels.values()}
    frame = scores[scores["label"].isin([f"{run}/{c}" for c in checkpoints | {"sft"}])]
    rows_of = {label: newest_rows(frame, label) for label in frame["label"].unique()}
    planned: list[tuple[tuple[str, str], str, Any]] = []
    untested: dict[str, set[str]] = {}
    for name, label in plain.labels.items():
        checkpoint = label.split("/", 1)[1]
        against = []
        if (prev := _previous(checkpoint, checkpoints)) is not None:
            against.append((prev, PREVIOUS_MARK))
        if checkpoint != "sft" and prev != "sft":
            against.append(("sft", SFT_MARK))
        for heading in plain.numeric.columns:
            column = by_heading.get(heading)
            if column is None or plain.numeric.isna().loc[name, heading]:
                continue
            key = (column.task, column.metric, column.filter)
            for base, mark in against:
                a_row, b_row = rows_of.get(f"{run}/{base}", {}).get(key), rows_of.get(label, {}).get(key)
                if a_row is None or b_row is None:
                    continue
                try:
                    result = compare_rows(_with_samples(a_row, root), _with_samples(b_row, root), alpha=alpha,
                                          n_boot=n_boot)
                except UserError as err:
                    why = "no per-sample logs" if "sample" in str(err) else str(err)
                    untested.setdefault(why, set()).add(f"{name} {heading} ({_AGAINST[mark]})")
                    continue
                if result.result is None:
                    fields = ", ".join(re.findall(r"(\w+) differs", result.reason or "")) or result.reason
                    why = f"the evaluation setup differs from the compared stage's ({fields})"
                    untested.setdefault(why, set()).add(f"{name} {heading} ({_AGAINST[mark]})")
                    continue
                planned.append(((name, heading), mark, result))
    notes = [f"Not tested for significance, {why}: {', '.join(sorted(cells))}." for why, cells in untested.items()]
    if not planned:
        if untested:
            notes.insert(0, "No significance marks: no cell of this table could be tested (see below).")
        return {}, None, notes
    adjusted = adjust([result for _, _, result in planned], alpha)
    marks: dict[tuple[str, str], str] = {}
    for (cell, mark, _), result in zip(planned, adjusted, strict=True):
        if result.significant:
            marks[cell] = marks.get(cell, "") + mark
    tests = sorted({r.result.test for r in adjusted})
    note = (f"{PREVIOUS_MARK} differs from the previous stage (iteration 0 from SFT, iteration k from k−1, "
            f"SPIN + DPO from the last iteration), {SFT_MARK} from SFT, at p < {alpha:g} after Holm's correction "
            f"across the {len(planned)} paired per-document tests of this table ({', '.join(tests)}; "
            f"McNemar for 0/1 scores, paired bootstrap with {n_boot} resamples otherwise).")
    if not marks:
        notes.insert(0, f"No cell differs significantly: {len(planned)} paired tests ({', '.join(tests)}), "
                        f"Holm-corrected across the table, none below p = {alpha:g}.")
    return marks, note, notes


def build_tables(scores: pd.DataFrame, run: str, root: Path | None = None, *,
                 n_boot: int = 10_000) -> list[dict[str, Any]]:
    """Tables 4, 3, 5 and 6 as report entries: {id, title, html or reason, notes}."""
    from reports.tables import LEADERBOARD_COLUMNS, TABLE6_COLUMNS, table3, table4, table5, table6, to_html

    specs: list[tuple[str, str, Callable[..., TableResult], Sequence[Any]]] = [
        ("table4", "Table 4: SPIN iterations", table4, LEADERBOARD_COLUMNS),
        ("table3", "Table 3: SPIN + DPO and the baselines", table3, LEADERBOARD_COLUMNS),
        ("table5", "Table 5: SFT for one more epoch", table5, LEADERBOARD_COLUMNS),
        ("table6", "Table 6: MT-Bench, Big-Bench-Hard and OpenBookQA", table6, TABLE6_COLUMNS),
    ]
    out = []
    for key, title, builder, columns in specs:
        try:
            plain = builder(scores, run)
        except UserError as err:
            out.append({"id": key, "title": title, "html": None, "reason": f"left out: {err}", "notes": []})
            continue
        if plain.numeric.empty or plain.numeric.shape[0] == 0:
            out.append({"id": key, "title": title, "html": None, "notes": [],
                        "reason": "left out: none of its rows has a score in the store for this run"})
            continue
        if key == "table5" and len(plain.numeric.index) < 2:
            out.append({"id": key, "title": title, "html": None, "notes": [],
                        "reason": f"left out: no {run}/sft_epoch scores (the one-more-epoch SFT baseline)"})
            continue
        marks, note, notes = significance(scores, run, plain, columns, root=root, n_boot=n_boot)
        result = builder(scores, run, stderr=True, marks=marks or None, marks_note=note if marks else None)
        out.append({"id": key, "title": title, "html": to_html(result), "reason": None, "notes": notes})
        if key == "table4":
            out.append(_paper_side_by_side(plain))
    return out


def _paper_side_by_side(ours: TableResult) -> dict[str, Any]:
    """Table 4 of this run beside the paper's (reports/reference), with the difference per cell."""
    from reports.paper import paper_as_scores
    from reports.tables import side_by_side, table4, to_html

    theirs = table4(paper_as_scores(), "paper")
    note = ("The paper's rows are zephyr-7b on the real benchmarks with lm-eval v0.4.0; a difference means "
            "something only for a run at the paper's settings (see this run's deviations above).")
    return {"id": "table4_paper", "title": "Table 4: this run beside the paper", "reason": None,
            "html": to_html(side_by_side(ours, theirs)), "notes": [note]}


# ------------------------------------------------------------------ generation examples


def generation_examples(run_dir: Path | None, count: int = EXAMPLES) -> dict[str, Any]:
    """A few SPIN prompts with the ground truth and each iteration's opponent answer (paper Tables 7 and 8)."""
    if run_dir is None:
        return {"rows": [], "note": "left out: no run directory was given, so no generated answers to show"}
    import pandas as pd

    frames: dict[int, pd.DataFrame] = {}
    for path in run_dir.glob("pairs/iter*/pairs.parquet"):
        if m := _ITER.fullmatch(path.parent.name):
            frames[int(m.group(1))] = pd.read_parquet(path, columns=["prompt_id", "prompt", "real", "generated"])
    if not frames:
        return {"rows": [], "note": f"left out: no pairs/iter<t>/pairs.parquet in {run_dir}"}
    order = sorted(frames)
    first = frames[order[0]].drop_duplicates("prompt_id")
    shared = set(first["prompt_id"])
    for t in order[1:]:
        shared &= set(frames[t]["prompt_id"])
    chosen = [pid for pid in first["prompt_id"] if pid in shared][:count]
    if not chosen:  # iterations drew different prompts: show the first iteration's
        chosen = list(first["prompt_id"][:count])
    rows = []
    for pid in chosen:
        base = first[first["prompt_id"] == pid].iloc[0]
        answers = []
        for t in order:
            hit = frames[t][frames[t]["prompt_id"] == pid]
            if hit.empty:
                continue
            who = "SFT model" if t == 0 else f"iteration {t - 1} model"
            answers.append({"who": f"Iteration {t} opponent ({who})", "text": str(hit.iloc[0]["generated"])})
        rows.append({"prompt_id": str(pid), "prompt": str(base["prompt"]), "real": str(base["real"]),
                     "answers": answers})
    last = order[-1]
    note = (f"SPIN prompts from pairs/iter<t>/pairs.parquet. Iteration t's generated answer is the answer of the "
            f"model iteration t started from (its opponent): SFT for iteration 0, iteration t−1's model after "
            f"that. The model trained by iteration {last} answered no SPIN prompt, so it has no row here.")
    return {"rows": rows, "note": note}


# ------------------------------------------------------------------ provenance


def _fmt(value: Any) -> str:
    import pandas as pd

    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return "–"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def provenance(store: ResultsStore, scores: pd.DataFrame, labels: Sequence[str]) -> list[dict[str, Any]]:
    """Evaluation settings, per-task settings and deviations of every evaluation of ``labels``."""
    from reports.figures import stage_key

    evaluations = store.evaluations()
    evaluations = evaluations[evaluations["label"].isin(list(labels))]
    eval_columns = ["label", "suite", "evaluation id", "created", "model hash", "lm-eval", "backend", "dtype",
                    "batch size", "limit", "add_bos", "chat template", "max_gen_toks", "seconds", "judge", "mode"]
    eval_rows = []
    for row in sorted(evaluations.to_dict("records"), key=lambda r: (stage_key(r["label"]), r["evaluation_id"])):
        extra = row.get("extra") or {}
        judge = row.get("judge") or None
        eval_rows.append([_fmt(row["label"]), _fmt(row["suite"]), _fmt(row["evaluation_id"]),
                          _fmt(row["created_at"].strftime("%Y-%m-%d %H:%M:%S") if row.get("created_at") is not None
                               and not _isna(row["created_at"]) else None),
                          _fmt(row["model_hash"]), _fmt(row["lm_eval_version"]), _fmt(row["backend"]),
                          _fmt(row["dtype"]), _fmt(row["batch_size"]), _fmt(row["limit"]),
                          _fmt(bool(row["add_bos"])), _fmt(row.get("chat_template_hash")),
                          _fmt(extra.get("max_gen_toks")),
                          _fmt(round(extra["seconds"], 1) if isinstance(extra.get("seconds"), (int, float)) else None),
                          _fmt(judge), _fmt(judge.get("mode") if isinstance(judge, dict) else None)])
    mine = scores[scores["label"].isin(list(labels))]
    task_rows = []
    deviations: dict[str, set[str]] = {}
    for task, group in mine.groupby("task", sort=True):
        shots = sorted({int(v) for v in group["n_shot"]})
        sizes = sorted({int(v) for v in group["n"]})
        sources = sorted({str(v) for v in group["data_source"]})
        configs = sorted({str(v) for v in group["task_config_hash"]})
        task_rows.append([task, ", ".join(sorted(set(group["metric"].astype(str)))),
                          ", ".join(map(str, shots)), ", ".join(map(str, sizes)), "; ".join(sources),
                          ", ".join(configs)])
        for items in group["deviations"]:
            for text in items if isinstance(items, (list, tuple)) else []:
                deviations.setdefault(str(text), set()).add(str(task))
    dev_rows = [[text, ", ".join(sorted(tasks))] for text, tasks in deviations.items()]
    return [
        {"title": "Evaluations", "columns": eval_columns, "rows": eval_rows,
         "empty": "No evaluation stored for these labels."},
        {"title": "Tasks (shots, documents scored, data source, task config)",
         "columns": ["task", "metrics", "shots", "documents", "data source", "task config hash"],
         "rows": task_rows, "empty": "No score stored for these labels."},
        {"title": "Deviations from the paper's setting", "columns": ["deviation", "tasks"], "rows": dev_rows,
         "empty": "None recorded: every score follows the paper's setting."},
    ]


def _isna(value: Any) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------ static figures


def find_browser() -> str | None:
    """The Chrome/Chromium kaleido would use: BROWSER_PATH, then the usual names on PATH."""
    if (path := os.environ.get("BROWSER_PATH")) and Path(path).exists():
        return path
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        if found := shutil.which(name):
            return found
    return None


def export_static(plots: Sequence[Plot], directory: Path, formats: Sequence[str] = ("png", "pdf")) -> str:
    """Write each figure as PNG/PDF with kaleido; a one-line message says what happened (never raises)."""
    figures = [p for p in plots if p.figure is not None]
    if not figures:
        return "Static figures: none to export."
    try:
        import kaleido  # noqa: F401
        import plotly.io as pio
    except ImportError:
        return "Static figures skipped: kaleido is not installed (pip install 'spin-bench[static]')."
    if find_browser() is None:
        return ("Static figures skipped: no Chrome or Chromium found (apt-get install -y chromium, or set "
                "BROWSER_PATH); the HTML figures are complete without them.")
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{p.key}.{fmt}" for fmt in formats for p in figures]
    try:
        pio.write_images([p.figure for fmt in formats for p in figures], paths)
    except Exception as err:  # kaleido's errors are plain RuntimeErrors and friends; a report must not die on them
        return f"Static figures skipped: kaleido failed ({type(err).__name__}: {str(err).splitlines()[0][:200]})."
    return f"Static figures ({', '.join(formats)}) written to {directory}."


# ------------------------------------------------------------------ the report


def build_report(store: ResultsStore, run_dir: Path | None, labels_or_run: str, out: Path, *,
                 static: bool = False, n_boot: int = 10_000) -> Path:
    """Write the run's report to ``out`` (one self-contained HTML file, atomically) and return ``out``.

    ``labels_or_run`` is the label prefix (``embedded`` for labels ``embedded/sft`` …); with ``run_dir``
    the prefix may also be found from run.json. ``static=True`` also writes PNG/PDF figures beside ``out``
    when kaleido and a Chromium are available (otherwise the page says why not).
    """
    import plotly.offline

    from reports.ablation_tests import with_tests
    from reports.figures import all_figures, read_run_json, stage_key
    from reports.html import render_page
    from reports.mt_bench_examples import mt_bench_examples
    from spin_bench.atomic import write_text_atomic

    run = resolve_run(store, run_dir, labels_or_run)
    scores = store.scores()
    labels = sorted((label for label in store.evaluations()["label"].unique()
                     if str(label).startswith(f"{run}/")), key=stage_key)
    info = read_run_json(run_dir)
    tables = build_tables(scores, run, _project_root(run_dir, info), n_boot=n_boot)
    plots = with_tests(all_figures(scores, run, run_dir), scores, run, _project_root(run_dir, info), n_boot)
    static_message = export_static(plots, out.parent / f"{out.stem}_figures") if static else None
    page = render_page(
        title=f"spin-bench report: {run}", plotly_js=plotly.offline.get_plotlyjs(), store_url=store.url,
        run_dir=str(run_dir) if run_dir is not None else None,
        built_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), labels=labels, tables=tables, figures=plots,
        examples=generation_examples(run_dir), provenance=provenance(store, scores, labels),
        static_message=static_message,
        mt_bench_examples=mt_bench_examples(store.evaluations(), labels, _project_root(run_dir, info)))
    write_text_atomic(out, page)
    return out
