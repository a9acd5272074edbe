"""`kill -9` in the middle of MT-Bench: judged turns are not asked again, and a local judge server does not
outlive the process that started it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from spin_bench.cli import main
from tests.mtbench.judge_servers import ScriptedJudge, completion
from tests.training.cli_runs import REPO

pytestmark = pytest.mark.slow


def _command(model: Path, tmp_path: Path, url: str) -> list[str]:
    return ["eval", "--model", str(model), "--label", "tiny/sft", "--suite", "mt_bench", "--data", "embedded",
            "--judge-url", url, "--judge-model", "killed-judge", "--judge-concurrency", "1",
            "--mt-bench-per-category", "1", "--mt-bench-max-new-tokens", "16", "--batch-size", "4",
            "--store", str(tmp_path / "store.db"), "--out", str(tmp_path / "results")]


def _wait(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_killed_judging_resumes_from_the_cache(tiny_sft_model, tmp_path):
    cache_file = Path(os.environ["SPIN_BENCH_CACHE"]) / "mt-bench-judgments.sqlite"

    def cached() -> int:
        if not cache_file.exists():
            return 0
        with sqlite3.connect(cache_file) as db:
            return db.execute("SELECT count(*) FROM responses").fetchone()[0]

    before = cached()
    with ScriptedJudge(lambda body: completion("[[5]]"), delay_s=0.2) as slow:
        process = subprocess.Popen([sys.executable, "-m", "spin_bench", *_command(tiny_sft_model, tmp_path, slow.url)],
                                   cwd=REPO, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(lambda: len(slow.requests) >= 5 or process.poll() is not None, 300, "five judge requests")
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
    done = cached() - before
    assert 3 <= done < 10, done  # killed part-way, with some judgments already cached
    with ScriptedJudge(lambda body: completion("[[5]]")) as healthy:
        assert main(_command(tiny_sft_model, tmp_path, healthy.url)) == 0
    assert len(healthy.requests) == 10 - done  # only the turns that were not judged before the kill


def test_local_judge_server_exits_when_its_parent_is_killed(tiny_sft_model, tmp_path):
    port_file = tmp_path / "url.txt"
    parent = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from spin_bench.mtbench.local_judge import local_judge_server
        with local_judge_server(Path({str(tiny_sft_model)!r}), "tiny") as url:
            Path({str(port_file)!r}).write_text(url)
            time.sleep(600)
    """)
    process = subprocess.Popen([sys.executable, "-c", parent], cwd=REPO, env=dict(os.environ))
    try:
        _wait(lambda: port_file.exists() and port_file.read_text(), 180, "the local judge to start")
        health = port_file.read_text().removesuffix("/v1") + "/health"
        with urllib.request.urlopen(health, timeout=10) as response:
            assert response.status == 200
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()

    def gone() -> bool:
        try:
            urllib.request.urlopen(health, timeout=1)
        except (urllib.error.URLError, ConnectionError):
            return True
        return False

    _wait(gone, 15, "the orphaned judge server to exit")
