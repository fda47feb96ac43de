"""Remote: the caller's side of `shawgpt serve`, and the wire both sides speak.

A server (server.py) keeps one generator loaded for one data folder, listening on the Unix
socket `<data_dir>/serve.sock` (mode 0600). `find_server` says whether one runs there on the
caller's generation settings; `RemoteGenerator` is then the caller's generator, with the
same batch-first contract as every backend (base.py). Three rules keep it from ever
costing a reply:
- a server on other generation settings (`identity`) is never used silently: the caller
  generates in-process and says why in one line;
- a dead server (a socket left behind) costs one line and an in-process load, as today;
- a server killed in mid-reply (kill -9) costs the time: the same prompts are generated
  in-process and the caller gets every reply.

Retrieval, prompts and checks stay in the caller, so the index a server was started on does
not matter: each reply reads the caller's own index. The wire is one JSON object per line.
It leaves the server loop to server.py and when to look for one to reply/wiring.py.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from shawgpt.config import Settings
from shawgpt.models.base import Done, Generator, Prompt

SOCKET_NAME = "serve.sock"
# The settings a generator is built from (models/*: what from_settings reads): a server
# built on others would write other replies. Prompts, retrieval and checks are the caller's.
GENERATION_KEYS = ("backend", "llm_model", "adapter", "cache_dir", "exact", "device", "dtype",
                   "max_new_tokens", "repetition_penalty", "no_repeat_ngram_size",
                   "temperature", "signature", "batch_size")
# how long a caller waits for a server's hello: a live server answers at once, even
# while it generates for another caller
HELLO_TIMEOUT_S = 2.0


class Writer(Protocol):
    def write(self, data: bytes, /) -> int: ...
    def flush(self) -> None: ...


class Reader(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


class ServerGone(Exception):
    """The server closed the connection or answered nonsense before the replies came."""


def socket_path(s: Settings) -> Path:
    return s.data_path / SOCKET_NAME


def identity(s: Settings) -> str:
    """A digest of what the generator is made of: the generation settings, and the size and
    time of a model or adapter file named by path (retrained in place, it is another)."""
    from importlib.metadata import version

    made: dict[str, Any] = {k: getattr(s, k) for k in GENERATION_KEYS}
    made["version"] = version("shawgpt")
    for key in ("llm_model", "adapter"):
        path = Path(getattr(s, key)).expanduser()
        if getattr(s, key) and path.exists():
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            made[f"{key}_files"] = [(str(p), p.stat().st_size, p.stat().st_mtime_ns)
                                    for p in files[:50]]
    return hashlib.sha256(json.dumps(made, sort_keys=True, default=str).encode()).hexdigest()


def differences(s: Settings, theirs: dict[str, Any]) -> str:
    """The generation settings a server's hello shows that differ from ours, for the note."""
    ours = {k: getattr(s, k) for k in GENERATION_KEYS}
    diff = [k for k in GENERATION_KEYS if k in theirs and theirs[k] != ours[k]]
    return ", ".join(diff) if diff else "its model or adapter files, or shawgpt's version"


def send(out: Writer, message: dict[str, Any]) -> None:
    out.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
    out.flush()


def receive(stream: Reader) -> dict[str, Any]:
    line = stream.readline()
    if not line:
        raise ServerGone("it closed the connection")
    try:
        message = json.loads(line)
    except ValueError:
        raise ServerGone("it sent a line that is not JSON") from None
    if not isinstance(message, dict):
        raise ServerGone("it sent JSON that is not an object")
    return message


def _connect(path: Path, timeout: float | None) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        raise
    return sock


def hello(path: Path) -> dict[str, Any]:
    """The running server's hello (identity, pid, canary, settings); OSError or ServerGone
    when nothing answers."""
    with _connect(path, HELLO_TIMEOUT_S) as sock, sock.makefile("rwb") as stream:
        send(stream, {"op": "hello"})
        return receive(stream)


def note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr)


def find_server(s: Settings, make_local: Callable[[], Generator]) -> RemoteGenerator | None:
    """A RemoteGenerator for the server of this data folder when one runs on our settings;
    None (having said why in one line, except when there is no socket at all) otherwise."""
    path = socket_path(s)
    if s.serve == "off" or s.backend == "openai" or not path.exists():
        return None  # no socket: nobody ran `serve` here, today's behaviour and no word of it
    try:
        said = hello(path)
    except (OSError, ServerGone) as why:
        note(f"the server at {path} does not answer ({_why(why)}); generating in-process")
        return None
    if said.get("identity") != identity(s):
        note(f"the server at {path} (pid {said.get('pid')}) runs other generation settings "
             f"({differences(s, said.get('settings') or {})}); generating in-process")
        return None
    return RemoteGenerator(path, said, make_local)


def _why(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        return "it has stopped"
    return str(exc) or type(exc).__name__


@dataclass
class RemoteGenerator:
    """The caller's generator while a server runs: the prompts go over the socket and the
    replies come back in order, `done(k)` as each is made; in-process from the first
    failure on."""

    path: Path
    said: dict[str, Any]
    make_local: Callable[[], Generator] = field(repr=False)
    new_tokens: int = 0  # as the engine counts them (reply/log.py reads it)
    name: str = ""
    _local: Generator | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.name = self.name or str(self.said.get("name", "server"))

    @property
    def canary(self) -> str:
        """The server's prompt reference: with it, this process's system prompt is the one
        the engine already holds in its prefix cache."""
        return str(self.said.get("canary", ""))

    def generate(self, prompts: Sequence[Prompt], done: Done | None = None) -> list[str]:
        if self._local is None:
            told: set[int] = set()

            def tell(k: int) -> None:
                told.add(k)
                if done is not None:
                    done(k)

            try:
                return self._remote(prompts, tell)
            except (OSError, ServerGone) as why:
                note(f"the server at {self.path} failed this reply ({_why(why)}); "
                     f"generating in-process")
                self._local = self.make_local()
            done = _skipping(done, told)
        before = int(getattr(self._local, "new_tokens", 0) or 0)
        replies = self._local.generate(prompts, done)
        self.new_tokens += int(getattr(self._local, "new_tokens", 0) or 0) - before
        return replies

    def _remote(self, prompts: Sequence[Prompt], done: Done) -> list[str]:
        with _connect(self.path, None) as sock, sock.makefile("rwb") as stream:
            send(stream, {"op": "generate", "identity": self.said.get("identity"),
                          "prompts": [asdict(p) for p in prompts]})
            while True:
                message = receive(stream)
                if "done" in message:
                    done(int(message["done"]))
                elif "replies" in message:
                    replies = [str(r) for r in message["replies"]]
                    if len(replies) != len(prompts):
                        raise ServerGone(f"{len(replies)} replies for {len(prompts)} prompts")
                    self.new_tokens += int(message.get("new_tokens", 0))
                    return replies
                elif "error" in message:
                    raise ServerGone(str(message["error"]))


def _skipping(done: Done | None, told: set[int]) -> Done | None:
    """`done` for the prompts the server had not yet reported, so a progress bar counts
    each comment once."""
    if done is None:
        return None

    def tell(k: int) -> None:
        if k not in told:
            done(k)

    return tell
