"""The tiny policy served over vLLM's wire format, field for field as the project's TypeScript
stub (testing/vllm-stub/) and vLLM itself: `/v1/models` (with `max_model_len`),
`/v1/chat/completions` (non-streaming; tools with hermes-style parsing; `return_token_ids`,
`logprobs`, `return_tokens_as_token_ids`, `seed` and the sampling keys), `/tokenize`,
`/detokenize`, `/pause?mode=keep|wait|abort`, `/resume`, `/is_paused`, `/health`, and
`/collective_rpc` with `reload_weights` ({weights_path}: a checkpoint directory), the call the
farm's policy updates send. vLLM's `--api-key` guards the /v1 routes.

    /usr/bin/python3 -m examples.tiny.server --port 8000 --weights ckpt/0   # from trainer-bridge/python
    sandfarm doctor --policy-url http://127.0.0.1:8000/v1 --model tiny

It prints `tiny vLLM-wire server listening on http://HOST:PORT` once it answers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlparse

import torch

from sandfarm_bridge.blas import single_blas_thread

from .engine import Aborted, Engine
from .init import fresh
from .model import TinyLM
from .template import parse_completion, render
from .tokenizer import IM_END, IM_START, PAD, TinyTokenizer

SKIPPED = {IM_START, IM_END, PAD}  # special tokens left out of returned text, as vLLM does
SAMPLING_KEYS = ("temperature", "top_p", "top_k", "min_p", "repetition_penalty",
                 "presence_penalty", "frequency_penalty", "seed")


class HttpError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(str(body))
        self.status = status
        self.body = body


def error_body(status: int, message: str) -> Dict[str, Any]:
    kinds = {400: "BadRequestError", 404: "NotFoundError", 401: "Unauthorized"}
    kind = kinds.get(status, "InternalServerError" if status >= 500 else "BadRequestError")
    return {"error": {"message": message, "type": kind, "param": None, "code": status}}


def fail(status: int, message: str) -> HttpError:
    return HttpError(status, error_body(status, message))


class TinyServer:
    def __init__(self, engine: Engine, model_name: str, max_model_len: int,
                 api_key: Optional[str] = None, root: str = "tiny"):
        self.engine = engine
        self.tokenizer = engine.tokenizer
        self.model_name = model_name
        self.max_model_len = max_model_len
        self.api_key = api_key
        self.root = root
        self.created = int(time.time())

    # ---- routes ----
    def models(self) -> Dict[str, Any]:
        return {"object": "list", "data": [{
            "id": self.model_name, "object": "model", "created": self.created, "owned_by": "vllm",
            "root": self.root, "parent": None, "max_model_len": self.max_model_len,
            "permission": [{
                "id": f"modelperm-{uuid.uuid4().hex}", "object": "model_permission",
                "created": self.created, "allow_create_engine": False, "allow_sampling": True,
                "allow_logprobs": True, "allow_search_indices": False, "allow_view": True,
                "allow_fine_tuning": False, "organization": "*", "group": None,
                "is_blocking": False,
            }],
        }]}

    def check_model(self, body: Dict[str, Any]) -> str:
        model = body.get("model") or self.model_name
        if model != self.model_name:
            raise fail(404, f"The model `{model}` does not exist.")
        return model

    def prompt_ids(self, body: Dict[str, Any], generation_prompt: bool) -> List[int]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise fail(400, "messages: give at least one message")
        kwargs = body.get("chat_template_kwargs")
        if kwargs is not None and not isinstance(kwargs, dict):
            raise fail(400, "chat_template_kwargs: Input should be a valid dictionary")
        return self.tokenizer.encode(render(messages, body.get("tools") or None, generation_prompt))

    def chat(self, body: Dict[str, Any]) -> Dict[str, Any]:
        model = self.check_model(body)
        if body.get("stream"):
            raise fail(400, "the tiny server answers non-streaming requests only (stream: false)")
        if (body.get("n") or 1) != 1:
            raise fail(400, "the tiny server samples one choice per request (n: 1)")
        prompt = self.prompt_ids(body, True)
        prompt_tokens = len(prompt)
        if prompt_tokens >= self.max_model_len:
            raise fail(400, f"This model's maximum context length is {self.max_model_len} tokens. "
                            f"However, your request has {prompt_tokens} input tokens. Please reduce "
                            "the length of the input messages.")
        requested = body.get("max_tokens", body.get("max_completion_tokens"))
        max_tokens = self.max_model_len - prompt_tokens if requested is None else int(requested)
        if max_tokens < 1:
            raise fail(400, "max_tokens must be at least 1")
        if prompt_tokens + max_tokens > self.max_model_len:
            raise fail(400, f"'max_tokens' or 'max_completion_tokens' is too large: {max_tokens}. "
                            f"This model's maximum context length is {self.max_model_len} tokens and "
                            f"your request has {prompt_tokens} input tokens ({max_tokens} > "
                            f"{self.max_model_len} - {prompt_tokens}).")
        sampling = {key: body[key] for key in SAMPLING_KEYS if body.get(key) is not None}
        try:
            generation = self.engine.generate(prompt, max_tokens, sampling)
        except Aborted as aborted:
            raise fail(500, str(aborted))
        ids = generation.ids
        text = self._visible(ids)
        tools = body.get("tools") or []
        offered = bool(tools) and body.get("tool_choice") != "none"
        content, calls = parse_completion(text, offered and generation.finished)
        finish = "length" if not generation.finished else ("tool_calls" if calls else "stop")
        with_ids = body.get("return_token_ids") is True
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion",
            "created": int(time.time()), "model": model,
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant", "content": content, "refusal": None, "annotations": None,
                    "audio": None, "function_call": None,
                    "tool_calls": [{"id": f"chatcmpl-tool-{uuid.uuid4().hex}", "type": "function",
                                    "function": call} for call in calls],
                    "reasoning_content": None,
                },
                "logprobs": self.logprobs(ids, generation.logprobs, body) if body.get("logprobs") else None,
                "finish_reason": finish, "stop_reason": None,
                "token_ids": ids if with_ids else None,
            }],
            "service_tier": None, "system_fingerprint": None,
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens + len(ids),
                      "completion_tokens": len(ids), "prompt_tokens_details": None},
            "prompt_logprobs": None, "prompt_token_ids": prompt if with_ids else None,
            "kv_transfer_params": None,
        }

    def _visible(self, ids: List[int]) -> str:
        hidden = {self.tokenizer.piece_ids[text] for text in SKIPPED}
        return self.tokenizer.decode([i for i in ids if i not in hidden])

    def logprobs(self, ids: List[int], logprobs: List[float], body: Dict[str, Any]) -> Dict[str, Any]:
        as_ids = body.get("return_tokens_as_token_ids") is True

        def entry(token: int, logprob: float) -> Dict[str, Any]:
            data = self.tokenizer.token_bytes(token)
            return {"token": f"token_id:{token}" if as_ids else data.decode("utf-8", "replace"),
                    "logprob": logprob, "bytes": list(data)}

        return {"content": [dict(entry(token, logprob), top_logprobs=[])
                            for token, logprob in zip(ids, logprobs)]}

    def tokenize(self, body: Dict[str, Any]) -> Dict[str, Any]:
        self.check_model(body)
        if isinstance(body.get("prompt"), str):
            tokens = self.tokenizer.encode(body["prompt"])
        elif isinstance(body.get("messages"), list):
            tokens = self.prompt_ids(body, body.get("add_generation_prompt", True) is not False)
        else:
            raise fail(400, "a tokenize request needs 'prompt' (a string) or 'messages'")
        strings = [self.tokenizer.token_text(t) for t in tokens] if body.get("return_token_strs") else None
        return {"count": len(tokens), "max_model_len": self.max_model_len, "tokens": tokens,
                "token_strs": strings}

    def detokenize(self, body: Dict[str, Any]) -> Dict[str, Any]:
        self.check_model(body)
        tokens = body.get("tokens")
        if not isinstance(tokens, list) or not all(isinstance(t, int) for t in tokens):
            raise fail(400, "tokens: give a list of token ids")
        if any(t < 0 or t >= self.tokenizer.vocab_size for t in tokens):
            raise fail(400, f"token ids must be in [0, {self.tokenizer.vocab_size})")
        return {"prompt": self.tokenizer.decode(tokens)}

    def collective_rpc(self, body: Dict[str, Any]) -> Dict[str, Any]:
        method = body.get("method")
        if not isinstance(method, str) or not method:
            raise fail(400, "'method' must be provided for collective_rpc.")
        if method != "reload_weights":
            # vLLM looks the method up on each worker: an unknown one is a server error there.
            raise fail(500, f"the tiny worker has no method '{method}' (it has reload_weights)")
        path = (body.get("kwargs") or {}).get("weights_path")
        if not isinstance(path, str) or not os.path.isfile(os.path.join(path, "model.pt")):
            raise fail(400, f"reload_weights: no checkpoint at weights_path {path!r} (a directory with model.pt)")
        try:
            self.engine.reload(path)
        except (RuntimeError, OSError) as error:
            raise fail(400, f"reload_weights: {error}")
        return {"results": [None]}

    # ---- dispatch ----
    def handle(self, method: str, path: str, query: Dict[str, List[str]], headers,
               raw: bytes) -> Tuple[int, Any]:
        if self.api_key is not None and path.startswith("/v1") and \
                headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, {"error": "Unauthorized"}
        body: Dict[str, Any] = {}
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return 400, error_body(400, "the request body is not valid JSON")
        routes = {
            ("GET", "/health"): lambda: None,
            ("GET", "/v1/models"): self.models,
            ("POST", "/v1/chat/completions"): lambda: self.chat(body),
            ("POST", "/tokenize"): lambda: self.tokenize(body),
            ("POST", "/detokenize"): lambda: self.detokenize(body),
            ("POST", "/pause"): lambda: self.pause(query),
            ("POST", "/resume"): lambda: (self.engine.resume(), {"status": "resumed"})[1],
            ("GET", "/is_paused"): lambda: {"is_paused": self.engine.paused is not None},
            ("POST", "/collective_rpc"): lambda: self.collective_rpc(body),
        }
        route = routes.get((method, path))
        if route is None:
            if any(known == path for _, known in routes):
                return 405, {"detail": "Method Not Allowed"}
            return 404, {"detail": "Not Found"}
        try:
            return 200, route()
        except HttpError as error:
            return error.status, error.body

    def pause(self, query: Dict[str, List[str]]) -> Dict[str, Any]:
        mode = (query.get("mode") or ["abort"])[0]
        if mode not in ("abort", "wait", "keep"):
            raise fail(400, f"mode must be one of abort, wait, keep; got '{mode}'")
        self.engine.pause(mode)
        return {"status": "paused"}


def make_handler(server: TinyServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes: with Nagle on, the body waits for the client's
        # delayed ACK of the headers (40 ms on Linux), for every response. Servers vLLM runs on
        # (uvicorn) set TCP_NODELAY too.
        disable_nagle_algorithm = True

        def _serve(self, method: str) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, body = server.handle(method, url.path, parse_qs(url.query),
                                         {k.lower(): v for k, v in self.headers.items()}, raw)
            data = b"" if body is None else json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's names)
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


def build(weights: Optional[str], seed: int) -> Engine:
    tokenizer = TinyTokenizer.load()
    if weights:
        model = TinyLM.load(weights)
        if model.config.vocab_size != tokenizer.vocab_size:
            raise SystemExit(f"{weights}: vocabulary of {model.config.vocab_size} tokens, the "
                             f"tokenizer has {tokenizer.vocab_size}; pieces.json changed since")
    else:
        model = fresh(seed)
    return Engine(model, tokenizer)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="the tiny policy over vLLM's wire format")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model", default="tiny", help="the served model name")
    parser.add_argument("--weights", help="a checkpoint directory (config.json, model.pt); "
                                          "default: fresh weights from --seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-model-len", type=int, default=4096)
    parser.add_argument("--api-key", default=os.environ.get("VLLM_API_KEY"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    single_blas_thread()
    engine = build(args.weights, args.seed)
    if args.max_model_len > engine.model.config.max_len:
        raise SystemExit(f"--max-model-len {args.max_model_len} exceeds the model's {engine.model.config.max_len}")
    tiny = TinyServer(engine, args.model, args.max_model_len, args.api_key or None,
                      root=args.weights or f"tiny-seed-{args.seed}")
    httpd = ThreadingHTTPServer((args.host, args.port), make_handler(tiny))
    httpd.daemon_threads = True
    host, port = httpd.server_address[:2]
    print(f"tiny vLLM-wire server listening on http://{host}:{port}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
