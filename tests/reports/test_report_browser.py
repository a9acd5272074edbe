"""The report in a real headless Chromium: figures render, injected model text never runs, no network request.

Needs a Chromium binary (Debian: ``apt-get install -y chromium``); skipped with that reason otherwise.
Every request is made to fail (no DNS, a dead proxy) and logged to a net-log, which must hold no http(s) URL.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reports.report import build_report
from spin_bench.store import ResultsStore
from tests.reports.test_report import RUN, make_run

BROWSER = next((found for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
                if (found := shutil.which(name))), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no chromium binary on PATH (apt-get install -y chromium)")
RENDERED_FIGURES = ("figure2", "figure3", "convergence", "cost", "history")
SCREENSHOT_COPY = Path("/tmp/report_screenshot.png")


def _chromium(tmp: Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    command = [BROWSER, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-default-apps", "--hide-scrollbars", f"--user-data-dir={tmp / 'profile'}",
               '--host-resolver-rules=MAP * ~NOTFOUND', "--proxy-server=127.0.0.1:9",
               "--virtual-time-budget=10000", "--window-size=1400,3000", *extra, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    db, run_dir = make_run(tmp)
    out = tmp / "report.html"
    with ResultsStore(db) as store:
        build_report(store, run_dir, RUN, out, n_boot=500)
    return out


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

    # The page asked for no network URL (every request would have failed, and it would be in the net-log).
    assert page_requests(netlog) == []


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
    message = export_static([cost(run_dir)], tmp_path / "static", formats=("png",))
    assert message.startswith("Static figures (png) written"), message
    assert (tmp_path / "static" / "cost.png").read_bytes()[:4] == b"\x89PNG"
