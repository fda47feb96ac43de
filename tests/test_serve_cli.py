"""`shawgpt serve` as a process: what the command refuses, kill -9 of the server in mid-reply
(the caller still gets every reply), and `serve = "auto"` (a reply starts a server, which
uses it, and SIGTERM stops it and removes its socket). Tiny profile (SmolLM2-135M).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shawgpt.cli.commands import app
from shawgpt.config import load_settings
from shawgpt.models.generate import make_generator
from shawgpt.models.remote import RemoteGenerator, ServerGone, find_server, hello, socket_path
from shawgpt.reply.prompts import build_prompt

pytestmark = pytest.mark.slow
runner = CliRunner()
SHAWGPT = [sys.executable, "-c", "from shawgpt.cli.commands import main; main()"]


def wait_for_server(path: Path, proc: subprocess.Popen[bytes] | None = None,
                    within: float = 300) -> dict[str, object]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert proc is None or proc.poll() is None, "the server exited"
        try:
            return hello(path)
        except (OSError, ServerGone):
            time.sleep(0.2)
    raise AssertionError(f"no server at {path} after {within} s")


def test_serve_refuses_the_openai_backend_and_a_negative_idle() -> None:
    result = runner.invoke(app, ["--profile", "openai", "--base-url", "http://127.0.0.1:9/v1",
                                 "--model", "m", "serve"])
    assert (result.exit_code, result.stderr) == (
        1, "Error: the openai backend has no engine to keep warm: its server is one\n")
    result = runner.invoke(app, ["serve", "--idle", "-1"])
    assert (result.exit_code, result.stderr) == (
        1, "Error: --idle must be 0 (no limit) or more minutes, got -1\n")


def test_kill_9_of_the_server_in_mid_reply_loses_no_reply(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen([*SHAWGPT, "--data-dir", str(data), "serve"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        said = wait_for_server(data / "serve.sock", proc)
        second = runner.invoke(app, ["--data-dir", str(data), "serve"])
        assert second.exit_code == 1
        assert second.stderr.startswith(f"Error: a server already runs for this data folder "
                                        f"(pid {said['pid']}, ")
        s = load_settings({"data_dir": str(data)})
        remote = find_server(s, lambda: make_generator(s))
        assert isinstance(remote, RemoteGenerator)
        prompts = [build_prompt(c, [], "chat", s.signature, canary=remote.canary)
                   for c in ("Thanks!", "What is a wavelet?", "How do I start with AI?")]
        prompts[0] = dataclasses.replace(prompts[0], max_new_tokens=2)
        told: list[int] = []

        def done(k: int) -> None:
            if not told:
                proc.kill()  # kill -9 as the first reply arrives, the others in flight
                proc.wait()
            told.append(k)

        replies = remote.generate(prompts, done)
        assert proc.returncode == -signal.SIGKILL
        assert len(replies) == 3 and all(r.strip() for r in replies[1:])
        assert sorted(told) == [0, 1, 2]  # each comment counted once
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_serve_auto_starts_a_server_that_the_next_reply_uses_and_sigterm_stops(
        index_dir: Path) -> None:
    data = index_dir.parent
    path = data / "serve.sock"
    env = {"SHAWGPT_SERVE": "auto"}
    first = runner.invoke(app, ["--data-dir", str(data), "reply", "Thanks, loved it!"], env=env)
    assert first.exit_code == 0, first.stderr
    assert first.stderr.startswith(f'note: starting a server for {data} (serve = "auto"; '
                                   f"it stops after 5 idle minutes)\n")
    said = wait_for_server(path, within=5)
    try:
        second = runner.invoke(app, ["--data-dir", str(data), "reply", "Thanks, loved it!"],
                               env=env)
        assert second.exit_code == 0
        assert "note:" not in second.stderr  # the running server was used, nothing said
        assert second.stdout == first.stdout  # the same engine, the same reply
        assert "1 prompt(s)" in (data / "serve.log").read_text()
        assert find_server(load_settings({"data_dir": str(data), "serve": "auto"}),
                           make_generator) is not None
    finally:
        os.kill(int(str(said["pid"])), signal.SIGTERM)
    log = data / "serve.log"
    for _ in range(100):  # it removes its socket, then says so
        if not path.exists() and log.read_text().rstrip().endswith("stopped"):
            break
        time.sleep(0.1)
    assert not path.exists()
    assert log.read_text().rstrip().endswith("stopped")
    assert socket_path(load_settings({"data_dir": str(data)})) == path
