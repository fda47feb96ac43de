"""Server: `shawgpt serve`'s loop, one loaded generator answering callers over a Unix socket.

It runs in the foreground until `stop` is set (Ctrl-C or SIGTERM, by the caller's signal
handler) or until it has been idle `idle_minutes`. One request generates at a time, since the
engine is one pipeline whose prefix cache keeps what earlier prompts shared (the system
prompt above all); a hello is answered at once, even in mid-generation, so a caller never
waits to learn whether it may use the server. The socket is made with mode 0600 (only its
owner may connect) and removed on the way out, unless another server has taken its place.

It leaves building the generator and the warm-up prompt to reply/serve.py, and the wire
and the caller's side to remote.py.
"""

from __future__ import annotations

import contextlib
import os
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shawgpt.errors import ServeError
from shawgpt.models.base import Generator, Prompt
from shawgpt.models.remote import ServerGone, hello, receive, send

Log = Callable[[str], None]
# the longest socket path Linux takes (sun_path is 108 bytes with its terminating zero)
_MAX_PATH = 107


def claim(path: Path) -> None:
    """Make way for a server at `path`: ServeError when a live one answers there, and a
    socket left by a dead one is removed."""
    if len(os.fsencode(path)) > _MAX_PATH:
        raise ServeError(f"the socket path {path} is over {_MAX_PATH} bytes, too long for a "
                         f"Unix socket; use a shorter --data-dir")
    if not path.exists() and not path.is_symlink():
        return
    try:
        said = hello(path)
    except (OSError, ServerGone):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    raise ServeError(f"a server already runs for this data folder (pid {said.get('pid')}, "
                     f"{path}); stop it first")


@dataclass
class _State:
    generator: Generator
    said: dict[str, Any]
    log: Log
    lock: threading.Lock = field(default_factory=threading.Lock)
    active: int = 0
    last: float = field(default_factory=time.monotonic)

    def idle_for(self) -> float:
        return 0.0 if self.active else time.monotonic() - self.last

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
            self.last = time.monotonic()


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        state: _State = self.server.state  # type: ignore[attr-defined]
        try:
            message = receive(self.rfile)
        except ServerGone:
            return
        if message.get("op") == "hello":
            state.last = time.monotonic()  # a caller about to generate: not idle
            send(self.wfile, state.said)
            return
        if message.get("op") != "generate":
            send(self.wfile, {"error": f"unknown op {message.get('op')!r}"})
            return
        if message.get("identity") != state.said["identity"]:
            send(self.wfile, {"error": "the server runs other generation settings"})
            return
        try:
            prompts = [Prompt(**p) for p in message.get("prompts") or []]
        except TypeError as exc:
            send(self.wfile, {"error": f"bad prompts: {exc}"})
            return
        with state.busy(), state.lock:
            self._generate(state, prompts)

    def _generate(self, state: _State, prompts: list[Prompt]) -> None:
        gone = False

        def done(k: int) -> None:
            nonlocal gone
            if not gone:  # a caller that left lets the engine finish its requests cleanly
                try:
                    send(self.wfile, {"done": k})
                except OSError:
                    gone = True

        started, before = time.monotonic(), _tokens(state.generator)
        try:
            replies = state.generator.generate(prompts, done)
        except Exception as exc:  # noqa: BLE001 - the caller generates in-process instead
            state.log(f"generation failed: {exc}")
            with contextlib.suppress(OSError):
                send(self.wfile, {"error": f"generation failed: {exc}"})
            return
        made = _tokens(state.generator) - before
        state.log(f"{len(prompts)} prompt(s), {made} new tokens, "
                  f"{time.monotonic() - started:.1f} s")
        with contextlib.suppress(OSError):
            send(self.wfile, {"replies": replies, "new_tokens": made})


def _tokens(generator: Generator) -> int:
    return int(getattr(generator, "new_tokens", 0) or 0)


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True  # a reply in flight at exit is the caller's to finish in-process


def serve(generator: Generator, path: Path, said: dict[str, Any], *, idle_minutes: float,
          stop: threading.Event, log: Log) -> None:
    """Answer callers at `path` until `stop` is set or `idle_minutes` pass with no request
    (0: no limit). `said` is the hello: identity, pid, canary, name and settings."""
    claim(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    umask = os.umask(0o177)  # the socket is born 0600: no moment when others may connect
    try:
        server = _Server(str(path), _Handler)
    except OSError as exc:
        raise ServeError(f"cannot listen on {path}: {exc.strerror or exc}") from None
    finally:
        os.umask(umask)
    os.chmod(path, 0o600)
    mine = path.stat().st_ino
    server.state = _State(generator, said, log)  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="serve", daemon=True)
    thread.start()
    limit = f"; it stops after {idle_minutes:g} idle minutes" if idle_minutes else ""
    log(f"serving {said.get('name')} at {path} (pid {os.getpid()}){limit}; Ctrl-C stops it")
    try:
        while not stop.wait(0.2):
            if idle_minutes and server.state.idle_for() >= idle_minutes * 60:  # type: ignore
                log(f"idle for {idle_minutes:g} minutes: stopping")
                break
    finally:
        server.shutdown()
        server.server_close()
        with contextlib.suppress(OSError):
            if path.stat().st_ino == mine:  # not a newer server's socket
                path.unlink()
    log("stopped")

