"""The HTML report: every table and figure present or explained, escaped model text, offline-only page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.offline
import pytest

from reports import figures
from reports.history import format_history, history_frame, history_labels
from reports.plots import Plot
from reports.report import build_report, export_static
from spin_bench.bench.suites import SUITES
from spin_bench.cli import main
from spin_bench.core.names import CheckpointName, Kind
from spin_bench.core.run_layout import CheckpointEntry, HeldoutRow, RunSummary
from spin_bench.store import ResultsStore
from spin_bench.store.records import EvaluationRecord, ScoreRecord

RUN = "toy"
PAYLOAD = ("<script>document.body.setAttribute('data-pwned','1'); window.__pwned = 1</script>"
           "<img src=x onerror=\"document.body.setAttribute('data-pwned','2'); window.__pwned=2\">")
ESCAPED_PAYLOAD = "&lt;script&gt;document.body.setAttribute("
DEVIATION = "toy data <b>not</b> the benchmark's"
SPECS = {spec.name: spec for specs in SUITES.values() for spec in specs}
LEADERBOARD_TASKS = ("arc_challenge", "truthfulqa_mc2", "winogrande", "gsm8k_v040", "hellaswag", "mmlu")
# Per-checkpoint accuracy on 200 ARC documents: iter1 jumps far enough for McNemar to survive Holm.
ARC_ACCURACY = {"sft": 0.30, "iter0": 0.31, "iter1": 0.90, "dpo": 0.30, "sft_epoch": 0.30}
N_DOCS = 200
TABLE_IDS = ("table4", "table3", "table5", "table6")
FIGURE_KEYS = ("figure2", "figure3", "figure4", "figure5", "figure6", "convergence", "cost", "history")


def write_arc_samples(directory: Path, accuracy: float, seed: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    correct = np.zeros(N_DOCS)
    correct[np.random.default_rng(seed).permutation(N_DOCS)[: round(accuracy * N_DOCS)]] = 1.0
    with (directory / "samples_spin_arc_challenge_2026-01-01T00-00-00.jsonl").open("w", encoding="utf-8") as out:
        for doc_id, value in enumerate(correct):
            out.write(json.dumps({"doc_id": doc_id, "doc_hash": f"h{doc_id}", "filter": "none",
                                  "acc_norm": value, "acc": value}) + "\n")


def add_scores(store: ResultsStore, tmp: Path, checkpoint: str, suite: str, tasks: dict[str, float],
               judge: dict | None = None, samples: Path | str | None = None, *, deviation: str = DEVIATION,
               results_path: Path | None = None, key: str = "", metric: str | None = None) -> None:
    """One evaluation of ``<RUN>/<checkpoint>`` on ``suite`` with these task values (metrics from the suites,
    else ``metric`` or "score")."""
    label = f"{RUN}/{checkpoint}"
    name = CheckpointName.try_parse(checkpoint)
    evaluation = EvaluationRecord(
        eval_key=f"{label}:{suite}{key}", model_path=str(tmp / "run" / checkpoint), model_hash=f"hash-{checkpoint}",
        label=label, iteration=name.iteration if name is not None and name.kind is Kind.ITERATION else None,
        suite=suite, backend="hf", dtype="float32", batch_size=8, limit=None, add_bos=False,
        lm_eval_version="0.4.13", judge=judge, results_path=str(results_path or tmp / "results.json"),
        samples_path=None if samples is None else str(samples),
        extra={"run": str(tmp / "run"), "checkpoint": checkpoint, "max_gen_toks": 64, "seconds": 1.5})
    records = []
    for task, value in tasks.items():
        spec = SPECS.get(task)
        metric_, filter_, shots = (spec.metric, spec.filter, spec.shots) if spec else (metric or "score", "none", 0)
        records.append(ScoreRecord(task=task, metric=metric_, filter=filter_, value=value,
                                   stderr=None if task == "mt_bench" else 0.03, n=N_DOCS, n_shot=shots,
                                   task_config_hash=f"cfg-{task}", data_source="embedded:toy",
                                   deviations=(deviation,) if task == "gsm8k_v040" else ()))
    assert store.add(evaluation, records)


def write_run_dir(run_dir: Path, checkpoints: tuple[str, ...]) -> None:
    """A finished run directory: run.json (format 2), two iterations' timings and pairs."""
    run_dir.mkdir()
    heldout = [HeldoutRow(label="sft", heldout_prompts=8, real_logp_per_token=-1.2)]  # SFT: no margin (null)
    for t, (margin, accuracy) in enumerate(((1.0, 0.95), (0.2, 0.6))):
        name = CheckpointName.of_iteration(t)
        heldout.append(HeldoutRow(label=name.format(), reference=name.previous_stage().format(), beta=0.1,
                                  margin=margin, accuracy=accuracy, real_logp_per_token=-1.3,
                                  logratio_margin=margin * 10, heldout_prompts=8))
        (run_dir / f"iter{t}").mkdir()
        (run_dir / f"iter{t}" / "timings.json").write_text(
            json.dumps({"generation_seconds": 2.0 + t, "training_seconds": 10.0 + t}))
        pairs = pd.DataFrame({"prompt_id": ["p1", "p2", "p3", "p4"],
                              "prompt": ["What is 2+2?", "Name a colour.", "Say <hi>.", "Count to 3."],
                              "real": ["4", "Blue", "<hi>", "1 2 3"],
                              "generated": [PAYLOAD if t == 0 else "5", f"Red {t}", f"hi {t}", f"1 {t}"]})
        (run_dir / "pairs" / f"iter{t}").mkdir(parents=True)
        pairs.to_parquet(run_dir / "pairs" / f"iter{t}" / "pairs.parquet")
    summary = RunSummary(recipe=RUN, checkpoints={c: CheckpointEntry(path=c) for c in checkpoints},
                         heldout=tuple(heldout))
    (run_dir / "run.json").write_text(json.dumps(summary.to_json()))


def make_run(tmp: Path, *, deviation: str = DEVIATION) -> tuple[Path, Path]:
    """A results store and a finished run directory for run "toy"; returns (store path, run dir)."""
    db = tmp / "results" / "store.db"
    db.parent.mkdir(parents=True)
    checkpoints = ("sft", "iter0", "iter1", "dpo", "sft_epoch")
    with ResultsStore(db) as store:
        for index, checkpoint in enumerate(checkpoints):
            samples = tmp / "samples" / checkpoint
            write_arc_samples(samples, ARC_ACCURACY[checkpoint], seed=index)
            leaderboard = {task: 0.2 + 0.05 * index + 0.01 * k for k, task in enumerate(LEADERBOARD_TASKS)}
            leaderboard["arc_challenge"] = ARC_ACCURACY[checkpoint]
            add_scores(store, tmp, checkpoint, "leaderboard", leaderboard, samples=samples, deviation=deviation)
            add_scores(store, tmp, checkpoint, "openbookqa", {"openbookqa": 0.25 + 0.01 * index})
        add_scores(store, tmp, "sft", "mt_bench", {"mt_bench": 5.5}, judge={"model": "toy-judge", "mode": "single"})
    write_run_dir(tmp / "run", checkpoints)
    return db, tmp / "run"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, Path, str]:
    tmp = tmp_path_factory.mktemp("report")
    db, run_dir = make_run(tmp)
    out = tmp / "out" / "report.html"
    with ResultsStore(db) as store:
        assert build_report(store, run_dir, RUN, out, n_boot=2000) == out
    return db, run_dir, out, out.read_text(encoding="utf-8")


def _body(page: str) -> str:
    """The page without the inlined plotly.js source (whose text may mention URLs)."""
    start = page.index('<script type="text/javascript">')
    end = page.index("</script>", start)
    return page[:start] + page[end:]


def test_plotly_js_is_inlined_once_in_head(built):
    page = built[3]
    head = page[: page.index("</head>")]
    banner = plotly.offline.get_plotlyjs()[:200]
    assert page.count(banner) == 1 and banner in head
    assert "cdn.plot.ly" not in _body(page)


def test_no_network_reference_outside_plotly_source(built):
    body = _body(built[3])
    assert not re.search(r"<script[^>]*\bsrc\s*=", body, re.I)
    assert not re.search(r"<link\b", body, re.I)
    assert not re.search(r"\b(?:src|href|action|poster)\s*=\s*[\"']?\s*(?:https?:)?//", body, re.I)
    assert not re.search(r"url\(\s*[\"']?\s*(?:https?:)?//", body, re.I)
    assert "@import" not in body and "https://" not in body and "http://" not in body


def test_every_table_and_figure_is_present_or_left_out_with_a_reason(built):
    page = built[3]
    for table in TABLE_IDS:
        section = page[page.index(f'<section class="table" id="{table}">'):]
        section = section[: section.index("</section>")]
        assert "<table" in section or f'data-left-out="{table}"' in section, table
    for key in FIGURE_KEYS:
        assert f'id="plot-{key}"' in page or f'data-left-out="{key}"' in page, key
    for key in ("figure2", "figure3", "convergence", "cost", "history"):
        assert f'id="plot-{key}"' in page, key
    assert "Figure 4: training epochs within iteration 0: left out: the run has no per-epoch checkpoints" in page
    assert "Figure 5: SPIN training size: left out: the run has no training-size points" in page
    assert 'data-left-out="figure6"' in page and "no MT-Bench category scores" in page
    assert "MT-Bench" in page[page.index('id="table6"'):]  # Table 6 has the MT-Bench column


def test_model_text_is_escaped(built):
    page = built[3]
    assert PAYLOAD not in page
    assert "<script>document.body" not in page and "<img src=x" not in page
    assert ESCAPED_PAYLOAD in page
    assert "Say &lt;hi&gt;." in page
    assert "&lt;b&gt;not&lt;/b&gt;" in page and "<b>not</b>" not in page


def test_tables_show_stderr_and_holm_corrected_significance(built):
    page = built[3]
    table4 = page[page.index('id="table4"'): page.index('id="table3"')]
    assert "±" in table4
    # iter1's ARC jump is marked against the previous iteration (†) and against SFT (‡); iter0's is not.
    iter1 = table4[table4.index("SPIN iteration 1"):]
    assert re.search(r"90\.00 ± 3\.00<sup>†‡</sup>", iter1[: iter1.index("</tr>")])
    iter0 = table4[table4.index("SPIN iteration 0"):]
    assert "<sup>" not in iter0[: iter0.index("</tr>")]
    assert "McNemar (exact)" in table4 and "Holm" in table4
    untested = re.search(r"Not tested for significance, no per-sample logs: (.*?)\.</p>", table4).group(1)
    assert "SPIN iteration 1 TruthfulQA" in untested and " ARC" not in untested  # only ARC has logs
    table6 = page[page.index('id="table6"'):page.index('<h2 id="figures">')]
    assert "no per-sample logs" in table6  # OpenBookQA was stored without them


def test_tables_give_each_columns_minimum_detectable_difference(built):
    """The footnote's range per column is the 80%-power MDE of the table's own paired tests, computed here
    from the per-document scores: (z_0.975 + z_0.8) * sqrt(discordance / n), in percentage points."""
    from statistics import NormalDist

    db, _, _, page = built
    table4 = page[page.index('id="table4"'): page.index('id="table3"')]
    note = re.search(r"80% power at p &lt; 0.05 \(before Holm\), in the table&#39;s units, per column over its "
                     r"tests: (.*?)\. It grows", table4)
    assert note, table4

    def arc(checkpoint: str) -> np.ndarray:
        path = db.parent.parent / "samples" / checkpoint / "samples_spin_arc_challenge_2026-01-01T00-00-00.jsonl"
        return np.array([json.loads(line)["acc_norm"] for line in path.read_text().splitlines()])

    z = NormalDist().inv_cdf(0.975) + NormalDist().inv_cdf(0.8)
    # Table 4's tests: iteration 0 against SFT, iteration 1 against iteration 0 and against SFT.
    mdes = [100 * z * np.sqrt(np.mean((arc(b) - arc(a)) ** 2) / N_DOCS)
            for b, a in (("iter0", "sft"), ("iter1", "iter0"), ("iter1", "sft"))]
    # Only ARC has per-sample logs, so only ARC has a detectable difference to quote.
    assert note.group(1) == f"ARC {min(mdes):.1f} to {max(mdes):.1f}"


def test_provenance_and_examples(built):
    page = built[3]
    provenance = page[page.index('<h2 id="provenance">'):]
    for text in ("0.4.13", "float32", "hash-iter1", "toy-judge", "single", "embedded:toy", "cfg-arc_challenge",
                 "Deviations from the paper", "&lt;b&gt;not&lt;/b&gt;"):
        assert text in provenance, text
    examples = page[page.index('<h2 id="examples">'): page.index('<h2 id="provenance">')]
    assert "Iteration 0 opponent (SFT model)" in examples and "Iteration 1 opponent (iteration 0 model)" in examples
    assert "the model iteration t started from" in examples


def test_report_is_written_atomically(built):
    out = built[2]
    assert not list(out.parent.glob(".*.partial"))


def test_figures_left_out_and_present():
    scores = pd.DataFrame({"label": [f"{RUN}/sft", f"{RUN}/iter0", f"{RUN}/iter0"],
                           "task": ["mt_bench_writing", "mt_bench_writing", "mt_bench_coding"],
                           "metric": ["score"] * 3, "filter": ["none"] * 3, "value": [5.0, 6.0, 4.0],
                           "created_at": pd.to_datetime(["2026-01-01"] * 3, utc=True), "evaluation_id": [1, 2, 2]})
    radar = figures.figure6_mt_bench(scores, RUN)
    assert radar.figure is not None and len(radar.figure.data) == 2
    assert figures.figure6_mt_bench(scores, "other").figure is None
    epochs = scores.assign(label=[f"{RUN}/iter0-epoch1", f"{RUN}/iter0-epoch2", f"{RUN}/iter0-epoch2"])
    # Per-epoch labels with no leaderboard score: left out with that reason, not an empty chart.
    assert figures.figure4_epochs(epochs, RUN).reason == "left out: no per-epoch checkpoint has a leaderboard score"
    assert figures.figure5_sizes(epochs, RUN).reason.startswith("left out: the run has no training-size points")
    assert figures.convergence(None).reason and figures.cost(None).reason


def test_cli_report_and_history(built, tmp_path, capsys):
    db, run_dir, _, _ = built
    out = tmp_path / "cli.html"
    assert main(["report", str(run_dir), "--store", str(db), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out) and out.stat().st_size > 1_000_000
    assert main(["report", RUN, "--store", str(db), "--out", str(tmp_path / "by_label.html")]) == 0
    assert "left out: no run directory was given" in (tmp_path / "by_label.html").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["history", "--label", f"{RUN}/*", "--store", str(db), "--format", "markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| label | ARC |") and [line.split(" | ")[0] for line in lines[2:]] == \
        [f"| {RUN}/{c}" for c in ("sft", "iter0", "iter1", "dpo", "sft\\_epoch")]
    assert main(["history", "--label", f"{RUN}/iter*", "--store", str(db)]) == 0
    text = capsys.readouterr().out.splitlines()
    assert len(text) == 3 and text[1].startswith(f"{RUN}/iter0") and "90.00" in text[2]
    assert main(["history", "--label", "nothing*", "--store", str(db)]) == 2
    assert main(["report", "nope", "--store", str(db), "--out", str(tmp_path / "x.html")]) == 2
    assert "no evaluations for run 'nope'" in capsys.readouterr().err


def test_history_helpers(built):
    with ResultsStore(built[0]) as store:
        labels = history_labels(store, f"{RUN}/*")
        frame = history_frame(store.scores(labels=labels), labels)
    assert frame.loc[f"{RUN}/sft", "MT-Bench"] == 5.5 and np.isnan(frame.loc[f"{RUN}/iter0", "MT-Bench"])
    assert "–" in format_history(frame, "text")


def test_static_export_says_why_not_instead_of_crashing(tmp_path, monkeypatch):
    monkeypatch.setattr("reports.report.find_browser", lambda: None)
    plot = figures.cost(None)
    assert export_static([plot], tmp_path) == "Static figures: none to export."
    fig_plot = Plot("x", "x", figures.go.Figure())
    message = export_static([fig_plot], tmp_path / "static")
    assert message.startswith("Static figures skipped:") and "\n" not in message


def test_table4_beside_the_paper(built):
    body = _body(built[3])
    section = body[body.index('id="table4_paper"'):]
    assert "beside the paper" in section
    # The paper's SFT row (zephyr-7b-sft-full) and this run's row, with their difference.
    assert "60.41" in section and "this run" in section and "Δ" in section


# ------------------------------------------------------------------ paths, legacy run.json, typed failures


def _small_run(tmp: Path, samples_dir: str) -> Path:
    """sft, iter0, iter1 on the leaderboard, ARC samples under ``tmp/samples``; samples_path recorded as
    ``samples_dir/<checkpoint>`` (relative: a row stored before paths were recorded absolute)."""
    db = tmp / "store.db"
    with ResultsStore(db) as store:
        for index, checkpoint in enumerate(("sft", "iter0", "iter1")):
            write_arc_samples(tmp / "samples" / checkpoint, ARC_ACCURACY[checkpoint], seed=index)
            scores = {task: 0.2 + 0.01 * k for k, task in enumerate(LEADERBOARD_TASKS)}
            scores["arc_challenge"] = ARC_ACCURACY[checkpoint]
            add_scores(store, tmp, checkpoint, "leaderboard", scores, samples=f"{samples_dir}/{checkpoint}")
    return db


def _table4(page: str) -> str:
    return page[page.index('id="table4"'): page.index('id="table4_paper"')]


def test_relative_samples_paths_are_read_from_the_working_directory(tmp_path, monkeypatch):
    db = _small_run(tmp_path, "samples")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    # A format-1 run.json whose run_dir names some other launch directory: it must not matter.
    (run_dir / "run.json").write_text(json.dumps({"recipe": RUN, "run_dir": "elsewhere/toy",
                                                  "checkpoints": {"sft": "/models/sft", "iter0": "iter0"}}))
    monkeypatch.chdir(tmp_path)
    with ResultsStore(db) as store:
        build_report(store, Path("run"), RUN, Path("here.html"), n_boot=200)
    marked = _table4((tmp_path / "here.html").read_text(encoding="utf-8"))
    assert re.search(r"90\.00 ± 3\.00<sup>†‡</sup>", marked)  # the logs were found from the working directory
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with ResultsStore(db) as store:
        build_report(store, run_dir, RUN, elsewhere / "there.html", n_boot=200)
    unmarked = _table4((elsewhere / "there.html").read_text(encoding="utf-8"))
    assert "<sup>" not in unmarked and "Not tested for significance, no per-sample logs: " in unmarked


def test_a_corrupt_samples_file_is_reported_as_corrupt_not_missing(tmp_path):
    db = _small_run(tmp_path, str(tmp_path / "samples"))
    broken = next((tmp_path / "samples" / "iter1").glob("samples_*.jsonl"))
    broken.write_text('{"doc_id": 0, "filter": "none", "acc_norm": 1.0}\nnot json\n', encoding="utf-8")
    with ResultsStore(db) as store:
        build_report(store, None, RUN, tmp_path / "report.html", n_boot=200)
    table4 = _table4((tmp_path / "report.html").read_text(encoding="utf-8"))
    corrupt = re.search(r"Not tested for significance, unreadable per-sample logs \((.*?)\): (.*?)\.</p>", table4)
    assert corrupt and "line 2 is not JSON" in corrupt.group(1)
    assert corrupt.group(2) == "SPIN iteration 1 ARC (vs SFT), SPIN iteration 1 ARC (vs the previous stage)"
    missing = re.search(r"Not tested for significance, no per-sample logs: (.*?)\.</p>", table4).group(1)
    assert " ARC" not in missing and "SPIN iteration 1 TruthfulQA" in missing


def test_each_table_is_built_once(built, tmp_path, monkeypatch):
    import reports.report
    from reports.tables import TABLES

    built_specs = []
    original = reports.report.build_grid

    def counting(spec, scores, run):
        built_specs.append(spec.id)
        return original(spec, scores, run)

    monkeypatch.setattr(reports.report, "build_grid", counting)
    with ResultsStore(built[0]) as store:
        reports.report.build_tables(store.scores(), RUN, n_boot=100)
    assert built_specs == [spec.id for spec in TABLES]
