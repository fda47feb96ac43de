"""The bad-input corpus, made at test time: every file a careless or hostile user might give.

`make_inputs(folder)` writes one file per case and returns their paths by name; nothing
binary is committed. `GOOD` rows are what must come back byte for byte. `ChatServer` is a
stand-in OpenAI-compatible server on loopback: the corpus is about what goes in and comes
out, not about the model, and a server can answer with a hostile reply (a formula, a
terminal escape) on cue, which a real model cannot be made to do reliably.
"""

from __future__ import annotations

import csv
import io
import json
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# Good rows: accents, emoji, quotes, a comma inside a quoted field. Each must round-trip.
GOOD = ["Café owner here — which “mother wavelet” is best? 🙏",
        "How does kurtosis reveal fat tails?", 'She said "wow", then asked about sym4',
        "naïve question: what is a Gaussian?"]
FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0"]
CONTROLS = ["Red \x1b[31malert\x1b[0m text", "Bell\x07 ring", "Back\x08space", "Nul\x00byte",
            "\x1b]0;owned\x07Title change"]
HUGE = 5 * 1024 * 1024  # a 5 MB cell
REPLY_FORMULA, REPLY_ESCAPE = "CUE-FORMULA", "CUE-ESCAPE"  # the server's cues


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def make_inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    # 1. UTF-8 with one stray cp1252 byte on row 3 (the "é" of "déjà" as 0xE9)
    rows = [["id", "Comment"], ["1", GOOD[0]], ["2", GOOD[1]]]
    body = csv_bytes(rows) + b'3,"d\xe9j\xe0 vu, stray byte"\r\n' + csv_bytes(
        [["4", GOOD[2]], ["5", GOOD[3]]])
    files["stray_byte.csv"] = body
    # 2. a one-column export with an unquoted comma (and a good row after it)
    files["ragged_one_column.csv"] = (
        f"Comment\r\nMerci, très bien expliqué\r\n{GOOD[1]}\r\n".encode())
    # 3. more fields than the header in a three-column file
    files["ragged_columns.csv"] = csv_bytes([["id", "Comment", "likes"], ["1", GOOD[1], "3"]]) \
        + b"2,What is sym4?,5,extra one,extra two\r\n"
    # 4. formula injection, and cues for the server to answer with a formula or an escape
    files["formulas.csv"] = csv_bytes([["Comment"], *([f] for f in FORMULAS), [GOOD[1]],
                                       [f"Tell me about kurtosis {REPLY_FORMULA}"],
                                       [f"Tell me about wavelets {REPLY_ESCAPE}"]])
    # 5. control characters and terminal escapes in comments
    files["controls.csv"] = csv_bytes([["Comment"], *([c] for c in CONTROLS), [GOOD[0]]])
    # 6. random bytes named .csv
    files["binary.csv"] = random.Random(15).randbytes(4096)
    # 7. one 5 MB cell among good rows
    files["huge_cell.csv"] = csv_bytes([["Comment"], [GOOD[1]], ["kurtosis " * (HUGE // 9)],
                                        [GOOD[3]]])
    # 8. JSON lines whose comments are not strings
    files["not_text.jsonl"] = "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in (
        {"text": 42}, {"text": ["a"]}, {"text": {"k": 1}}, {"text": True},
        {"text": GOOD[1]})).encode()
    # 9. three good comments, for the journal and -o cases
    files["three.csv"] = csv_bytes([["Comment"], *([g] for g in GOOD[:3])])
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in files}


@pytest.fixture(scope="module", name="server")
def server_fixture() -> Iterator[ChatServer]:
    """The stand-in server, for one test module (import this into it)."""
    srv = ChatServer()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


class ChatServer(ThreadingHTTPServer):
    """Answers every chat completion with a short reply; while `fail_on` is set, a request
    whose comment contains it fails (HTTP 400, which is not retried), to stop a batch midway."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests = 0
        self.fail_on = ""
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: ChatServer

    def log_message(self, *_args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        user = body["messages"][-1]["content"]
        with self.server.lock:
            self.server.requests += 1
            fail = bool(self.server.fail_on) and self.server.fail_on in user
        if fail:
            self.send_error(400, "Not this one")
            return
        text = "Thanks for the question, it is a good one."
        if REPLY_FORMULA in user:
            text = "=SUM(1,2) is what the article says."
        elif REPLY_ESCAPE in user:
            text = "Wavelets \x1b[2J localize events in time."
        data = json.dumps({"choices": [{"message": {"content": text}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
