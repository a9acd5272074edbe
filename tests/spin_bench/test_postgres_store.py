"""The results store on a real PostgreSQL server: several processes writing at once, the evaluation cache,
`spin-bench compare` and `spin-bench report` reading from it, and an unreachable server as bad input.

The server is a throwaway cluster that this module starts with the PostgreSQL binaries (Debian's
`postgresql` package; `.ci/run` installs it): initdb + pg_ctl in a temporary directory, trust
authentication, TCP on a free loopback port. initdb refuses to run as root, so as root the cluster runs as
the `postgres` user (which Debian's package creates), else `nobody`. Each test gets a database of its own.
Rows are counted with psycopg directly, so a check does not trust the code under test.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from spin_bench.cli import main
from spin_bench.store import ResultsStore
from tests.spin_bench.test_store import (
    add_many,
    add_same,
    evaluation_record,
    fill_for_reports,
    run_workers,
    score_record,
    score_records,
)

psycopg = pytest.importorskip("psycopg", reason="the `postgres` extra (psycopg) is not installed")

REPO = Path(__file__).resolve().parents[2]
UNREACHABLE = "postgresql+psycopg://nobody:hunter2@127.0.0.1:1/x"


def postgres_bin() -> Path | None:
    """The directory of initdb/pg_ctl: from PATH, else Debian's /usr/lib/postgresql/<version>/bin (newest)."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(re.sub(r"\D", "", p.parts[-3]) or 0))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A PostgreSQL cluster in a temporary directory, up between start() and stop()."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="spin-bench-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.runner: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse root
            user = "postgres" if _user_exists("postgres") else "nobody"
            if shutil.which("runuser") is None:
                pytest.fail("running as root, and no runuser to start PostgreSQL as another user")
            self.runner = ["runuser", "-u", user, "--"]
            os.chown(self.root, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)

    def _run(self, *command: str) -> None:
        result = subprocess.run([*self.runner, *command], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace") if (self.root / "server.log").exists() else ""
            pytest.fail(f"{' '.join(command[:2])} failed: {result.stdout}{result.stderr}{log}")

    def start(self) -> None:
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync", "--no-instructions")
        # fsync off: a throwaway cluster; the unix socket lives in our own directory, not /var/run/postgresql.
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c max_connections=50"
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            subprocess.run([*self.runner, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                            "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl): install Debian's postgresql package, as .ci/run does")
    server = Cluster(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(cluster: Cluster) -> Iterator[str]:
    """A new, empty database on the cluster; its SQLAlchemy URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with cluster.connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield cluster.url(name)
    with cluster.connect() as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def count(cluster: Cluster, url: str, table: str) -> int:
    with cluster.connect(url.rsplit("/", 1)[1]) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def copy_store(source: ResultsStore, target: ResultsStore) -> int:
    """Every evaluation of ``source`` with its scores into ``target``, through the store API."""
    keys = source.evaluations()["eval_key"].tolist()
    for key in keys:
        assert target.add(*source.lookup(key))
    return len(keys)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spin_bench", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})


# ------------------------------------------------------------------ the store itself


def test_round_trip_and_frames_match_sqlite(cluster, pg_url, tmp_path):
    with ResultsStore(pg_url) as pg, ResultsStore(tmp_path / "same.db") as sqlite:
        for store in (pg, sqlite):
            fill_for_reports(store)
            store.add(evaluation_record("nan", label="nan"), [score_record(value=float("nan"), stderr=None)])
        assert pg.url == pg_url and "postgresql+psycopg://postgres@127.0.0.1" in pg.url
        assert pg.lookup("it1") == sqlite.lookup("it1")
        for frame in ("scores", "evaluations"):
            ours, theirs = getattr(pg, frame)(), getattr(sqlite, frame)()
            assert list(ours.columns) == list(theirs.columns)
            assert (ours.dtypes == theirs.dtypes).all()
            assert ours.drop(columns="created_at").equals(theirs.drop(columns="created_at")), frame
            assert str(ours["created_at"].dt.tz) == "UTC"
        assert pg.add(evaluation_record("it1", label="someone-else"), score_records(5)) is False
        assert pg.delete("sft") and not pg.delete("sft")
    assert count(cluster, pg_url, "evaluations") == 3 and count(cluster, pg_url, "scores") == 4


def test_concurrent_writers_lose_no_row(cluster, pg_url):
    # Four processes open the new database at the same moment (each creates the schema: the CREATE race) and
    # write 25 evaluations of 10 scores each.
    run_workers(add_many, lambda i, barrier: (pg_url, i, barrier))
    assert count(cluster, pg_url, "evaluations") == 100
    assert count(cluster, pg_url, "scores") == 1000
    with ResultsStore(pg_url) as store:
        assert store.scores(label="w3").groupby("eval_key").size().tolist() == [10] * 25


def test_concurrent_writers_of_one_key_store_it_once(cluster, pg_url):
    import multiprocessing

    outcomes = multiprocessing.get_context("spawn").Queue()
    run_workers(add_same, lambda i, barrier: (pg_url, barrier, outcomes))
    assert sorted(outcomes.get(timeout=10) for _ in range(4)) == [False, False, False, True]
    assert count(cluster, pg_url, "evaluations") == 1 and count(cluster, pg_url, "scores") == 10


@pytest.mark.slow
def test_the_evaluation_cache_on_postgresql(cluster, pg_url, tiny_sft_model, tmp_path):
    """`spin-bench eval` scores into PostgreSQL; the same evaluation again comes from it without model work,
    and a new label is filed from the stored rows."""
    args = ("eval", "--model", str(tiny_sft_model), "--suite", "openbookqa", "--data", "embedded", "--limit", "8",
            "--store", pg_url, "--out", str(tmp_path / "results"))
    first = run_cli(*args, "--label", "tiny/sft", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert count(cluster, pg_url, "evaluations") == 1
    again = run_cli(*args, "--label", "tiny/sft", cwd=tmp_path)
    assert again.returncode == 0 and "(cached)" in again.stdout, again.stdout + again.stderr
    nightly = run_cli(*args, "--label", "nightly/sft", cwd=tmp_path)
    assert nightly.returncode == 0 and "(cached)" in nightly.stdout, nightly.stdout + nightly.stderr
    with ResultsStore(pg_url) as store:
        frame = store.evaluations()
        assert frame["label"].tolist() == ["tiny/sft", "nightly/sft"]
        assert frame["extra"].iloc[1]["same_as"] == frame["eval_key"].iloc[0]
        scores = store.scores()[["label", "task", "metric", "filter", "value", "stderr"]]
        first, second = (scores[scores["label"] == label].drop(columns="label").reset_index(drop=True)
                         for label in ("tiny/sft", "nightly/sft"))
        assert len(first) > 0 and first.equals(second)  # the same numbers, filed under both labels


# ------------------------------------------------------------------ compare and report reading from it


@pytest.mark.slow  # two CLI processes
def test_compare_reads_postgresql_as_it_reads_sqlite(cluster, pg_url, tmp_path):
    from tests.reports.test_compare import (
        ARC,
        WINOGRANDE,
        add_evaluation,
        write_samples,
    )

    a_arc, b_arc = [1.0] * 80 + [0.0] * 20, [0.0] * 30 + [1.0] * 50 + [0.0] * 20
    with ResultsStore(pg_url) as pg, ResultsStore(tmp_path / "same.db") as sqlite:
        for label, arc in (("sft", a_arc), ("spin-iter1", b_arc)):
            samples = tmp_path / label
            write_samples(samples, "spin_arc_challenge", arc)
            write_samples(samples, "spin_winogrande", [1.0, 0.0] * 50, metric="acc")
            for store in (pg, sqlite):
                add_evaluation(store, label, samples, [ARC, WINOGRANDE], key=label)
    documents = []
    for url in (pg_url, str(tmp_path / "same.db")):
        result = run_cli("compare", "sft", "spin-iter1", "--store", url, "--format", "json", "--n-boot", "500",
                         cwd=tmp_path)
        assert result.returncode == 1, result.stderr  # the planted ARC regression fails the gate
        documents.append(json.loads(result.stdout))
    assert documents[0] == documents[1]
    arc = next(task for task in documents[0]["tasks"] if task["task"] == "arc_challenge")
    assert arc["regressed"] and arc["diff"] == pytest.approx(-0.3)


def test_report_reads_postgresql(cluster, pg_url, tmp_path):
    from tests.reports.test_report import make_run

    db, run_dir = make_run(tmp_path)
    with ResultsStore(db) as sqlite, ResultsStore(pg_url) as pg:
        assert copy_store(sqlite, pg) == 11
    pages = {}
    for name, url in (("pg", pg_url), ("sqlite", str(db))):
        out = tmp_path / f"{name}.html"
        assert main(["report", str(run_dir), "--store", url, "--out", str(out)]) == 0
        pages[name] = out.read_text(encoding="utf-8")
    assert "postgresql+psycopg://postgres@127.0.0.1" in pages["pg"]
    for table in ("table4", "table3", "table5", "table6"):
        assert _section(pages["pg"], table) == _section(pages["sqlite"], table), table
    table4 = _section(pages["pg"], "table4")
    assert "SPIN iteration 1" in table4 and "90.00" in table4  # toy/iter1's ARC, read back from PostgreSQL


def _section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start:page.index("</table>", start)]


# ------------------------------------------------------------------ a server that cannot be reached


@pytest.mark.parametrize("command", [
    ("eval", "--model", "{model}", "--suite", "openbookqa", "--data", "embedded", "--out", "results"),
    ("compare", "a", "b"),
    ("report", "toy", "--out", "report.html"),
])
def test_an_unreachable_server_is_one_line_and_exit_2(tmp_path, command):
    model = tmp_path / "model"  # eval opens the store before it loads any model: a config.json is enough
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "llama"}', encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    args = [part.replace("{model}", str(model)) for part in command]
    result = run_cli(*args, "--store", UNREACHABLE, cwd=work)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert "cannot open results store postgresql+psycopg://nobody:***@127.0.0.1:1/x" in result.stderr
    assert "hunter2" not in result.stderr
    assert list(work.iterdir()) == []  # nothing written


def test_a_missing_database_is_one_line(cluster, capsys):
    url = cluster.url("no_such_database")
    assert main(["compare", "a", "b", "--store", url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'database "no_such_database" does not exist' in err


def test_a_server_that_never_answers_is_given_up_on_in_seconds(monkeypatch):
    import time

    from spin_bench.core.errors import UserError

    monkeypatch.setattr("spin_bench.store.engine.PG_CONNECT_TIMEOUT_S", 2)  # libpq's smallest; default 10 s
    with socket.socket() as silent:  # accepts TCP connections (the kernel's backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        started = time.monotonic()
        with pytest.raises(UserError, match="cannot open results store postgresql") as caught:
            ResultsStore(f"postgresql+psycopg://nobody@127.0.0.1:{silent.getsockname()[1]}/x")
    assert time.monotonic() - started < 30 and "timeout" in str(caught.value).lower()
