"""Serve: keep the generator warm for `reply`, `batch` and `review` of one data folder.

`run_server` loads the generator once, puts the system prompt into the engine's prefix cache
with a one-token warm-up, and hands both to models/server.py until Ctrl-C, SIGTERM or
`--idle` minutes. `start_server` is `serve = "auto"`: Ollama's way, a server started on
first use that exits when idle, for a user who asked for it.

It leaves the socket loop to models/server.py and the caller's side to models/remote.py;
wiring.py decides when a caller looks for a server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from shawgpt.config import Settings
from shawgpt.errors import ServeError
from shawgpt.models.remote import GENERATION_KEYS, ServerGone, hello, identity, socket_path
from shawgpt.reply.prompts import build_prompt, process_canary

# `serve = "auto"`: the server it starts exits after this many idle minutes (Ollama's
# keep-alive), and a caller waits this long for it before generating in-process (a first
# load may convert the model for the engine: minutes on 2 cores)
AUTO_IDLE_MINUTES = 5.0
AUTO_WAIT_S = 600.0


def run_server(s: Settings, idle_minutes: float, log: Callable[[str], None]) -> None:
    """`shawgpt serve`: the foreground server for the settings' data folder."""
    from shawgpt.models.generate import make_generator
    from shawgpt.models.server import claim, serve

    if s.backend == "openai":
        raise ServeError("the openai backend has no engine to keep warm: its server is one")
    if idle_minutes < 0:
        raise ServeError(f"--idle must be 0 (no limit) or more minutes, got {idle_minutes:g}")
    path = socket_path(s)
    claim(path)  # before the load: a second server is refused at once
    started = time.monotonic()
    generator = make_generator(s)
    canary = process_canary()
    folder = Path(s.prompts_dir) if s.prompts_dir else None
    warm = build_prompt("Thanks!", [], s.template, s.signature, folder, canary=canary)
    generator.generate([replace(warm, max_new_tokens=1)])
    log(f"loaded {generator.name} and its system prompt in {time.monotonic() - started:.1f} s")
    said = {"identity": identity(s), "pid": os.getpid(), "canary": canary,
            "name": generator.name, "settings": {k: getattr(s, k) for k in GENERATION_KEYS}}
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    serve(generator, path, said, idle_minutes=idle_minutes, stop=stop, log=log)


def start_server(s: Settings, wait_s: float = AUTO_WAIT_S) -> bool:
    """Start `shawgpt serve --idle 5` in the background for these settings and wait until it
    answers; False (the caller generates in-process) when it exits or does not answer in
    time. Settings given as flags reach it as SHAWGPT_* variables, the layer just below."""
    path = socket_path(s)
    s.data_path.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SHAWGPT_SERVE": "use"}
    for name, origin in s.sources.items():
        if origin == "flag":
            value = getattr(s, name)
            env[f"SHAWGPT_{name.upper()}"] = str(value).lower() if isinstance(value, bool) \
                else str(value)
    with open(s.data_path / "serve.log", "ab") as out:
        child = subprocess.Popen(
            [sys.executable, "-c", "from shawgpt.cli.commands import main; main()",
             "serve", "--idle", f"{AUTO_IDLE_MINUTES:g}"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env,
            start_new_session=True)  # not stopped by the caller's Ctrl-C
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and child.poll() is None:
        try:
            if hello(path).get("identity") == identity(s):
                return True
        except (OSError, ServerGone):
            pass
        time.sleep(0.25)
    return False
