"""The report in a real headless Chromium: figures render, injected markup never becomes an element, a link,
a style or a request, and the page makes no network request.

Markup is injected into every kind of text that reaches the report (tests.reports.hostile): labels, MT-Bench
categories, task and metric names, deviations, judge names and model text. It must stay text everywhere,
in the HTML and in plotly's SVG alike (plotly draws its own <b>, <span style>, <a href> subset live).

Needs a Chromium binary (Debian: ``apt-get install -y chromium``); skipped with that reason otherwise.
Every request is made to fail (no DNS, a dead proxy) and logged to a net-log, which must hold no http(s) URL.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import plotly.graph_objects as go
import pytest

from reports.report import build_report
from spin_bench.core.run_artifacts import RunArtifacts
from spin_bench.store import ResultsStore
from tests.reports.hostile import BOLD, HOST, IMG, LINK, SCRIPT, SPAN, make_hostile_run
from tests.reports.test_report import RUN

BROWSER = next((found for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
                if (found := shutil.which(name))), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no chromium binary on PATH (apt-get install -y chromium)")
RENDERED_FIGURES = ("figure2", "figure3", "figure6", "convergence", "cost", "history", "flips-sft-iter0",
                    "flips-iter0-iter1")
SCREENSHOT_COPY = Path("/tmp/report_screenshot.png")
MARKERS = ("PWN-span", "PWN-link", "PWN-bold", "PWN-img", "PWN-script")
# Attributes through which markup would link, load or style: none may name the injected host.
LIVE_ATTRIBUTES = {"href", "xlink:href", "src", "srcset", "style", "action", "formaction", "poster", "background",
                   "data"}


def _chromium(tmp: Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    command = [BROWSER, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-default-apps", "--hide-scrollbars", f"--user-data-dir={tmp / 'profile'}",
               '--host-resolver-rules=MAP * ~NOTFOUND', "--proxy-server=127.0.0.1:9",
               "--virtual-time-budget=10000", "--window-size=1400,3000", *extra, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


class InjectionCheck(HTMLParser):
    """Reads a rendered DOM: what injected markup became live, and where the markers were drawn as text."""

    def __init__(self) -> None:
        super().__init__()
        self.live: list[str] = []  # one line per injected element, link or style found
        self.text_markers: set[str] = set()  # markers shown as text in the HTML
        self.svg_markers: set[str] = set()  # markers plotly drew as text in its SVG
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in LIVE_ATTRIBUTES and value and (HOST in value or "url(" in value.replace(" ", "")):
                self.live.append(f"<{tag} {name}={value!r}>")
        if tag not in {"br", "img", "meta", "input", "link", "path", "rect", "line", "circle", "g"}:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag):]

    def handle_data(self, data: str) -> None:
        if {"script", "style"} & set(self._open):
            return  # plotly's JSON and the page's CSS: text for the engine, never drawn
        for match in re.finditer(r"PWN-\w+", data):
            if data[:match.start()].endswith(">"):  # the literal text of its own tag: shown as text
                (self.svg_markers if "svg" in self._open else self.text_markers).add(match.group())
            else:  # the marker opens an element's text: its tag was parsed
                self.live.append(f"{match.group()} inside <{self._open[-1] if self._open else '?'}>")


def check_dom(dom: str) -> InjectionCheck:
    checker = InjectionCheck()
    checker.feed(dom)
    return checker


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    db, run_dir = make_hostile_run(tmp)
    for checkpoint in ("sft", "iter0", "iter1"):
        _hostile_answers(tmp / "samples" / checkpoint, checkpoint)
    out = tmp / "report.html"
    with ResultsStore(db) as store:
        build_report(store, run_dir, RUN, out, n_boot=500)
    return out


def _hostile_answers(directory: Path, checkpoint: str) -> None:
    """Give every ARC sample line a prompt and a generated answer carrying markup, as lm-eval logs a
    generative task, so that the flipped items the report shows hold hostile model text."""
    (path,) = directory.glob("samples_spin_arc_challenge_*.jsonl")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for line in lines:
        line["arguments"] = {"gen_args_0": {"arg_0": f"Question {line['doc_id']}: {IMG}", "arg_1": {"until": ["\n"]}}}
        line["resps"] = [[f"answer of {checkpoint}: {SCRIPT}"]]
        line["target"] = f"gold {LINK}"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def test_report_renders_offline_without_running_injected_script(page: Path, tmp_path: Path):
    netlog = tmp_path / "netlog.json"
    result = _chromium(tmp_path, page.as_uri(), "--dump-dom", f"--log-net-log={netlog}",
                       "--net-log-capture-mode=Everything")
    dom = result.stdout
    assert result.returncode == 0 and "<body" in dom, result.stderr[-2000:]

    # plotly.js ran: each figure div got its plot container and SVG.
    for key in RENDERED_FIGURES:
        start = dom.index(f'id="plot-{key}"')
        following = dom[start: dom.find('id="plot-', start + 1) if dom.find('id="plot-', start + 1) > 0 else None]
        assert "plot-container" in following and "main-svg" in following, key
    assert dom.count('class="main-svg"') >= len(RENDERED_FIGURES)

    # The generated answer's <script> and <img onerror> stayed text.
    assert "data-pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]  # body attribute never set
    assert 'data-pwned="' not in dom
    assert "&lt;script&gt;document.body.setAttribute(" in dom
    assert "<img src=\"x\"" not in dom and "<img src=x" not in dom

    # The flips section is there, with its figure drawn and flipped items whose model text stayed text.
    flips = dom[dom.index('<h2 id="flips">'): dom.index('<h2 id="provenance">')]
    assert 'id="flips-sft-iter0"' in flips and 'id="flips-iter0-iter1"' in flips
    assert flips.count('class="examples flip-example"') >= 2
    assert "answer of iter0: &lt;script&gt;document.body.setAttribute('data-pwned','script')" in flips
    assert "<script>document.body" not in flips

    # The page asked for no network URL (every request would have failed, and it would be in the net-log).
    assert page_requests(netlog) == []


def test_injected_markup_stays_text_in_html_and_in_plotly_svg(page: Path, tmp_path: Path):
    result = _chromium(tmp_path, page.as_uri(), "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    checker = check_dom(result.stdout)
    assert checker.live == []
    # Every injection reached the page and is shown as text: labels, categories, tasks and metrics,
    # deviations and judges in the HTML; the label (history axis, radar legend) and the categories (radar
    # axis) in plotly's SVG.
    assert checker.text_markers == set(MARKERS)
    assert {"PWN-span", "PWN-link", "PWN-bold"} <= checker.svg_markers


def test_injection_check_catches_live_markup(tmp_path: Path):
    """The checker above is not vacuous: raw markup in the HTML and unescaped text handed to plotly are found."""
    fig = go.Figure([go.Scatterpolar(r=[1, 2, 3], theta=[LINK, BOLD, "x"], name=SPAN),
                     go.Scatterpolar(r=[2, 1, 3], theta=[LINK, BOLD, "x"], name="other")])  # two: a legend
    leaky = tmp_path / "leaky.html"
    leaky.write_text(fig.to_html(full_html=True, include_plotlyjs=True).replace("<body>", f"<body>{SPAN}{IMG}"),
                     encoding="utf-8")
    result = _chromium(tmp_path, leaky.as_uri(), "--dump-dom")
    live = "\n".join(check_dom(result.stdout).live)
    assert "<span style=" in live and "<img src=" in live  # the HTML injection
    assert "<a xlink:href=" in live or "<a href=" in live  # plotly's live link in the radar's axis
    assert re.search(r"PWN-bold inside <tspan>", live)  # plotly's bold
    assert re.search(r"<tspan style=.*url\(", live)  # plotly's styled span with a URL


def page_requests(netlog: Path) -> list[str]:
    """Network URLs the page requested, from Chromium's net-log.

    Chromium itself also phones home (time sync, accounts); those requests carry the initiator "not an
    origin". A request made by the page (a script, an image, a stylesheet, a font) has the page's origin
    ("null" for a file:// page) as its initiator.
    """
    text = netlog.read_text(encoding="utf-8", errors="replace")
    assert text.strip(), "chromium wrote no net-log"
    try:
        log = json.loads(text)
    except ValueError:  # a log cut short at exit: close the event list
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [event["params"]["url"] for event in log["events"]
            if event.get("type") == start_job and re.match(r"(?:https?|wss?|ftp)://", event["params"].get("url", ""))
            and event["params"].get("initiator") != "not an origin"]


def test_net_log_check_catches_a_page_that_does_fetch(tmp_path: Path):
    """The detector above is not vacuous: a page with an image and a fetch shows both."""
    leaky = tmp_path / "leaky.html"
    leaky.write_text('<html><body><img src="https://example.com/x.png">'
                     '<script>fetch("http://evil.test/y")</script></body></html>', encoding="utf-8")
    netlog = tmp_path / "netlog.json"
    _chromium(tmp_path, leaky.as_uri(), "--dump-dom", f"--log-net-log={netlog}", "--net-log-capture-mode=Everything")
    assert sorted(page_requests(netlog)) == ["http://evil.test/y", "https://example.com/x.png"]


def test_screenshot(page: Path, tmp_path: Path):
    shot = tmp_path / "report.png"
    result = _chromium(tmp_path, page.as_uri(), f"--screenshot={shot}")
    assert shot.is_file() and shot.stat().st_size > 50_000, result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    try:
        shutil.copyfile(shot, SCREENSHOT_COPY)
    except OSError:
        pass  # only a convenience copy for a person to look at


def test_static_png_export_with_kaleido(tmp_path: Path):
    pytest.importorskip("kaleido", reason="kaleido is not installed (pip install 'spin-bench[static]')")
    from reports.figures import cost
    from reports.report import export_static

    run_dir = tmp_path / "run"
    (run_dir / "iter0").mkdir(parents=True)
    (run_dir / "iter0" / "timings.json").write_text('{"generation_seconds": 1.0, "training_seconds": 2.0}')
    message = export_static([cost(RunArtifacts.at(run_dir))], tmp_path / "static", formats=("png",))
    assert message.startswith("Static figures (png) written"), message
    assert (tmp_path / "static" / "cost.png").read_bytes()[:4] == b"\x89PNG"
