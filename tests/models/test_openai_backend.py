"""The `openai` backend against a real HTTP server on loopback.

No OpenAI-compatible server can run here, so the test serves a small one: it answers
chat-completion requests with the user's message reversed, after a short wait, and counts
how many requests are in flight at once. That is enough to check what the backend
promises: the request shape, replies in prompt order, at most `batch_size` requests at a
time, and one-line errors for a server that fails.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from shawgpt.config import load_settings
from shawgpt.errors import ConfigError, ModelError
from shawgpt.models.base import Prompt
from shawgpt.models.generate import make_generator


class ChatServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ChatHandler)
        self.lock = threading.Lock()
        self.in_flight = self.peak = 0
        self.bodies: list[dict] = []
        self.headers_seen: list[str | None] = []
        self.fail_with = 0  # an HTTP status to answer with instead, when set
        self.fail_first = 0  # answer this many requests with 429 before answering well
        self.retry_after = ""  # the Retry-After header those 429s carry, when set
        self.stall_first = 0  # sleep past the client's timeout on this many requests


class ChatHandler(BaseHTTPRequestHandler):
    server: ChatServer

    def log_message(self, *_args: object) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:
        srv = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with srv.lock:
            srv.in_flight += 1
            srv.peak = max(srv.peak, srv.in_flight)
            srv.bodies.append(body)
            srv.headers_seen.append(self.headers.get("Authorization"))
        time.sleep(0.05)  # long enough for concurrent requests to overlap
        with srv.lock:
            srv.in_flight -= 1
        with srv.lock:
            throttled = srv.fail_first > 0
            srv.fail_first -= throttled
            stalled = srv.stall_first > 0
            srv.stall_first -= stalled
        if stalled:
            time.sleep(0.6)
        if srv.fail_with or throttled:
            self.send_response(srv.fail_with or 429, "Overloaded")
            if srv.retry_after:
                self.send_header("Retry-After", srv.retry_after)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        user = body["messages"][-1]["content"]
        data = json.dumps({"choices": [{"message": {"content": user[::-1]}}],
                           "usage": {"completion_tokens": len(user)}}).encode()
        self.send_response(200 if self.path == "/v1/chat/completions" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[ChatServer]:
    srv = ChatServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def generator(srv: ChatServer, **flags: object):
    url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    return make_generator(load_settings(
        {"profile": "openai", "base_url": url, "llm_model": "tiny", **flags}))


def test_replies_come_back_in_order_with_at_most_batch_size_in_flight(
        server: ChatServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    gen = generator(server, batch_size=3, max_new_tokens=42)
    prompts = [Prompt(user=f"comment {i}", system="Be kind.") for i in range(10)]
    assert gen.generate(prompts) == [f"comment {i}"[::-1] for i in range(10)]
    assert server.peak == 3  # concurrent, and never more than the limit
    first = server.bodies[0]
    assert first["model"] == "tiny" and first["max_tokens"] == 42 and first["temperature"] == 0
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    assert set(server.headers_seen) == {"Bearer sk-test"}
    # it stops where the signature starts (OpenAI takes at most 4 stop sequences) and counts
    # the completion tokens the server reports, for batch's throughput line
    assert first["stop"] == ["–ShawGPT", "– ShawGPT", "-ShawGPT", "\nUser:"]
    assert gen.new_tokens == sum(len(f"comment {i}") for i in range(10))
    # batch's bar: told of each reply as it arrives, on the caller's own thread
    import threading

    told: list[tuple[int, str]] = []
    out = gen.generate(prompts[:4], lambda k: told.append((k, threading.current_thread().name)))
    assert sorted(k for k, _ in told) == [0, 1, 2, 3] and len(out) == 4
    assert {name for _, name in told} == {threading.current_thread().name}


def test_a_raw_prompt_is_sent_as_one_user_message(server: ChatServer) -> None:
    gen = generator(server, batch_size=1)
    assert gen.generate([Prompt(user="[INST] hi [/INST]")]) == ["]TSNI/[ ih ]TSNI["]
    assert [m["role"] for m in server.bodies[0]["messages"]] == ["user"]
    assert server.headers_seen == [None]  # no key in the environment: no header


def test_server_failures_are_one_line_errors(server: ChatServer) -> None:
    server.fail_with = 503
    with pytest.raises(ModelError, match=r"chat/completions answered HTTP 503: Overloaded$"):
        generator(server).generate([Prompt(user="hi")])
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    with pytest.raises(ModelError, match=rf"cannot reach http://127.0.0.1:{port}/v1/chat"):
        generator(server).generate([Prompt(user="hi")])


def test_the_openai_profile_needs_a_server_and_a_model() -> None:
    with pytest.raises(ConfigError, match="the openai backend needs --base-url and --model"):
        make_generator(load_settings({"profile": "openai"}))


def test_429_and_5xx_are_retried_with_backoff_then_reported(server: ChatServer) -> None:
    from shawgpt.models.openai_llm import RETRIES, OpenAIGenerator

    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    gen = OpenAIGenerator(url, "tiny", "", 8, concurrency=1, backoff=0.01)
    server.fail_first = 2
    assert gen.generate([Prompt(user="hi")]) == ["ih"]
    assert len(server.bodies) == 3  # two throttled tries, then the answer
    server.fail_first = RETRIES + 1
    with pytest.raises(ModelError, match=r"answered HTTP 429: Overloaded$"):
        gen.generate([Prompt(user="hi")])


def test_retry_after_is_honoured_and_a_timeout_is_retried(server: ChatServer) -> None:
    from shawgpt.models.openai_llm import RETRIES, OpenAIGenerator

    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    gen = OpenAIGenerator(url, "tiny", "", 8, concurrency=1, backoff=0.01)
    server.fail_first, server.retry_after = 1, "0.4"
    started = time.monotonic()
    assert gen.generate([Prompt(user="hi")]) == ["ih"]
    assert time.monotonic() - started >= 0.4  # waited as the server asked, not 0.01 s
    server.retry_after = ""
    gen._client.timeout = httpx.Timeout(0.3)
    server.stall_first = 2  # two tries time out, the third is answered
    before = len(server.bodies)
    assert gen.generate([Prompt(user="hi")]) == ["ih"]
    assert len(server.bodies) - before == 3
    server.stall_first = RETRIES + 1  # every try times out: one line, bounded tries
    with pytest.raises(ModelError, match=r"did not answer in time$"):
        gen.generate([Prompt(user="hi")])


def test_a_draft_is_sampled_with_its_seed(server: ChatServer) -> None:
    gen = generator(server, temperature=0.9)
    gen.generate([Prompt(user="hi", draft=3)])
    assert server.bodies[0]["temperature"] == 0.9 and server.bodies[0]["seed"] == 3
