"""Start the local judge server as a child process on loopback, and stop it whatever happens."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from spin_bench.core.errors import UserError

READY_TIMEOUT_S = 300.0


@contextlib.contextmanager
def local_judge_server(model_dir: Path, served_name: str, threads: int | None = None) -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:PORT/v1``) of a judge serving ``model_dir`` as ``served_name``.

    The server is terminated on exit from the block, on error and on Ctrl-C; a parent killed outright is
    noticed by the server itself, which exits within a second.
    """
    command = [sys.executable, "-m", "spin_bench.mtbench.server", "--model", str(model_dir),
               "--served-model-name", served_name, "--port", "0"]
    if threads:
        command += ["--threads", str(threads)]
    env = {**os.environ, "TRANSFORMERS_VERBOSITY": "error", "TOKENIZERS_PARALLELISM": "false"}
    # stderr goes to a file, not a pipe: a chatty library filling an unread pipe would block the server.
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True, env=env,
                                   start_new_session=True)
        try:
            yield _wait_ready(process, errors) + "/v1"
        finally:
            _stop(process)


def _wait_ready(process: subprocess.Popen, errors) -> str:
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            process.wait()
            errors.seek(0)
            error = errors.read().strip().splitlines()
            raise UserError(f"the local judge server exited before it was ready: {error[-1] if error else 'no output'}")
        if line.startswith("listening on "):
            return line.removeprefix("listening on ").strip()
    raise UserError(f"the local judge server was not ready within {READY_TIMEOUT_S:.0f} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
