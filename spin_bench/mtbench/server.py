"""A small OpenAI-compatible chat server over a local transformers model: the offline MT-Bench judge.

Written by hand because none of the field's servers fits a 2-core CPU machine without a GPU:
`transformers serve` (5.23) ignores ``logprobs``/``top_logprobs`` and cannot continue a prefilled assistant
message, which the expected-rating mode needs; vLLM needs a GPU; llama-cpp-python has no binary wheel here.
It speaks the subset of the chat-completions API the judge uses, with vLLM's names for the prefill flags
(``continue_final_message``, ``add_generation_prompt``), so the same judge code runs against vLLM.

Run: ``python -m spin_bench.mtbench.server --model DIR [--port 0] [--served-model-name NAME]``. It prints
``listening on http://127.0.0.1:PORT`` once ready, binds loopback only, and exits when its parent dies.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections import OrderedDict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_TOP_LOGPROBS = 20  # OpenAI's limit
# Keys/values kept for prefix reuse, by size: enough for every prompt of one model's judging (the main job's
# 40 turns of SmolLM2 hold about 550 MiB), so the next model's prompts find their shared question and
# reference (everything before the answer, more than half of each prompt) still cached.
CACHE_BYTES = 1 << 30


def _common_prefix(a: tuple[int, ...], b: list[int], limit: int) -> int:
    n = 0
    for x, y in zip(a, b[:limit]):
        if x != y:
            break
        n += 1
    return n


class RequestError(ValueError):
    """A malformed request: answered with 400 and the message."""


class ChatModel:
    """The model, its tokenizer, and a one-entry prefix cache (the rating prefix is asked twice)."""

    def __init__(self, path: str, name: str) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name = name
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
        self.lock = threading.Lock()  # one forward at a time: the model is not re-entrant
        # Recent prompts' keys/values, least recently used first, with their size in bytes: the
        # expected-rating judge asks each prompt twice ("[[" and "[[1"), concurrent clients interleave their
        # requests, and the next model's prompts share each question's head.
        self._entries: OrderedDict[tuple[int, ...], tuple[Any, int]] = OrderedDict()
        self._cached_bytes = 0

    def render(self, body: dict[str, Any]) -> list[int]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise RequestError("'messages' must be a non-empty list")
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or not isinstance(message.get("content"), str) or \
                    message.get("role") not in ("system", "user", "assistant"):
                raise RequestError(f"messages[{index}] needs a role (system, user, assistant) and string content")
        continue_final = bool(body.get("continue_final_message", False))
        generation_prompt = bool(body.get("add_generation_prompt", not continue_final))
        if continue_final and messages[-1]["role"] != "assistant":
            raise RequestError("continue_final_message needs the last message to be the assistant's")
        return self.tokenizer.apply_chat_template(
            messages, tokenize=True, add_generation_prompt=generation_prompt,
            continue_final_message=continue_final, return_dict=False)

    def next_token_logits(self, ids: list[int]):
        """Logits after ``ids``, reusing the cached keys/values of the longest shared prefix."""
        import torch

        best, shared = None, 0
        for cached in self._entries:
            common = _common_prefix(cached, ids, len(ids) - 1)  # keep one new token to compute
            if common > shared:
                best, shared = cached, common
        past = None
        if best is not None:
            if shared == len(best):  # a continuation: extend that entry in place (it becomes this prompt's)
                past = self._pop(best)
            else:  # a shared head (the judge's system prompt): keep the entry, copy the head
                past = copy.deepcopy(self._entries[best][0])
                self._entries.move_to_end(best)
                # transformers 5.23's crop takes the number of tokens to drop, as a negative count.
                past.crop(-(len(best) - shared))
        with torch.no_grad():  # grad mode is per thread: the handler threads must switch it off themselves
            # logits_to_keep=1: only the last position's logits are read; the other positions' would be a
            # fifth of the forward's work (a 49k-word head on every prompt token).
            out = self.model(input_ids=torch.tensor([ids[shared:]]), past_key_values=past, use_cache=True,
                             logits_to_keep=1)
        self._keep(tuple(ids), out.past_key_values)
        return out.logits[0, -1].float()

    def _pop(self, key: tuple[int, ...]) -> Any:
        past, size = self._entries.pop(key)
        self._cached_bytes -= size
        return past

    def _keep(self, key: tuple[int, ...], past: Any) -> None:
        """Cache ``past`` as the newest entry, then drop the oldest ones beyond CACHE_BYTES (never the newest)."""
        size = sum(t.nbytes for layer in past.layers for t in (layer.keys, layer.values) if t is not None)
        if key in self._entries:
            self._pop(key)
        self._entries[key] = (past, size)
        self._cached_bytes += size
        while self._cached_bytes > CACHE_BYTES and len(self._entries) > 1:
            self._pop(next(iter(self._entries)))

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:  # the tokenizer too: a Rust tokenizer used from two threads raises "Already borrowed"
            ids = self.render(body)
        max_tokens = _int(body.get("max_tokens", body.get("max_completion_tokens", 256)), "max_tokens", 1)
        top = _int(body.get("top_logprobs", 0) or 0, "top_logprobs", 0)
        if top > MAX_TOP_LOGPROBS:
            raise RequestError(f"top_logprobs must be at most {MAX_TOP_LOGPROBS}")
        temperature = float(body.get("temperature", 1.0) or 0.0)
        want_logprobs = bool(body.get("logprobs", False))
        with self.lock:
            tokens, entries, finish = self._decode(ids, max_tokens, temperature, want_logprobs, top)
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": text},
                                  "finish_reason": finish, "logprobs": {"content": entries} if want_logprobs else None}
        return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
                "model": self.name, "choices": [choice],
                "usage": {"prompt_tokens": len(ids), "completion_tokens": len(tokens),
                          "total_tokens": len(ids) + len(tokens)}}

    def _decode(self, ids: list[int], max_tokens: int, temperature: float, want_logprobs: bool, top: int):
        """Token by token over the prefix cache: judge outputs are short, and the logprobs come for free."""
        import torch

        stop = {t for t in (self.tokenizer.eos_token_id,) if t is not None}
        tokens: list[int] = []
        entries: list[dict[str, Any]] = []
        context = list(ids)
        finish = "length"
        for _ in range(max_tokens):
            logprobs = torch.log_softmax(self.next_token_logits(context), dim=-1)
            if temperature > 0.0:
                token = int(torch.multinomial(torch.softmax(logprobs / temperature, dim=-1), 1))
            else:
                token = int(torch.argmax(logprobs))
            if want_logprobs:
                entries.append(self._logprob_entry(logprobs, token, top))
            if token in stop:
                finish = "stop"
                break
            tokens.append(token)
            context.append(token)
        return tokens, entries, finish

    def _logprob_entry(self, logprobs, token: int, top: int) -> dict[str, Any]:
        import torch

        def entry(index: int) -> dict[str, Any]:
            text = self.tokenizer.decode([index])
            return {"token": text, "logprob": float(logprobs[index]), "bytes": list(text.encode("utf-8"))}

        best = torch.topk(logprobs, top).indices.tolist() if top else []
        return {**entry(token), "top_logprobs": [entry(i) for i in best]}


def _int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RequestError(f"'{name}' must be an integer >= {minimum}")
    return value


def make_handler(model: ChatModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
            """Quiet: one line per request would bury the caller's progress bar."""

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: HTTPStatus, message: str) -> None:
            self._send(status, {"error": {"message": message, "type": "invalid_request_error", "code": status}})

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            if self.path == "/health":
                self._send(HTTPStatus.OK, {"status": "ok"})
            elif self.path == "/v1/models":
                self._send(HTTPStatus.OK, {"object": "list", "data": [
                    {"id": model.name, "object": "model", "created": 0, "owned_by": "spin-bench"}]})
            else:
                self._error(HTTPStatus.NOT_FOUND, f"no route {self.path}")

        def do_POST(self) -> None:  # noqa: N802
            if self.path != "/v1/chat/completions":
                self._error(HTTPStatus.NOT_FOUND, f"no route {self.path}")
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(body, dict):
                    raise RequestError("the request body must be a JSON object")
                if body.get("model") not in (None, model.name):
                    self._error(HTTPStatus.NOT_FOUND, f"model {body.get('model')!r} is not served (have {model.name!r})")
                    return
                self._send(HTTPStatus.OK, model.complete(body))
            except (RequestError, json.JSONDecodeError, ValueError) as err:
                self._error(HTTPStatus.BAD_REQUEST, str(err))
            except Exception as err:  # noqa: BLE001 - a server answers every request, even on its own bugs
                traceback.print_exc(file=sys.stderr)
                self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(err).__name__}: {err}")

    return Handler


def _exit_with_parent(parent: int) -> None:
    """A server whose parent died (even by kill -9) must not linger holding a port and a model."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spin_bench.mtbench.server", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a local model directory (safetensors and tokenizer)")
    parser.add_argument("--served-model-name", default=None, help="the name clients ask for (default: directory name)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    model = ChatModel(args.model, args.served_model_name or os.path.basename(os.path.normpath(args.model)))
    server = ThreadingHTTPServer((args.host, args.port), make_handler(model))
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
