"""Real HTTP judges on loopback whose answers a test scripts: the judge client under test talks to them
over TCP exactly as it talks to vLLM or OpenAI (no mocked client)."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


def completion(text: str = "", top_logprobs: dict[str, float] | None = None) -> tuple[int, dict[str, Any]]:
    logprobs = None
    if top_logprobs is not None:
        entries = [{"token": t, "logprob": math.log(p), "bytes": None, "top_logprobs": []} for t, p in top_logprobs.items()]
        first = {**entries[0], "top_logprobs": [dict(e) for e in entries]}
        logprobs = {"content": [first]}
    return 200, {"id": "x", "object": "chat.completion", "created": 0, "model": "judge",
                 "choices": [{"index": 0, "finish_reason": "stop", "logprobs": logprobs,
                              "message": {"role": "assistant", "content": text}}]}


def error(status: int, message: str = "boom") -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": "server_error", "code": status}}


class ScriptedJudge:
    """``reply(body)`` answers every POST; every request body and Authorization header is recorded."""

    def __init__(self, reply: Reply, delay_s: float = 0.0) -> None:
        self.reply = reply
        self.delay_s = delay_s
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []
        self._lock = threading.Lock()
        judge = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with judge._lock:
                    judge.requests.append(body)
                    judge.authorizations.append(self.headers.get("Authorization"))
                if judge.delay_s:
                    time.sleep(judge.delay_s)
                status, payload = judge.reply(body)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedJudge:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def prefill(body: dict[str, Any]) -> str | None:
    """The assistant prefix an expected-mode request continues, or None."""
    last = body["messages"][-1]
    return last["content"] if last["role"] == "assistant" else None
