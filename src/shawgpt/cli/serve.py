"""The `serve` command: a warm engine for this data folder until Ctrl-C (reply/serve.py).

Like commands.py, it only parses, calls one core function and prints; `register` adds it to
the app. Every ShawGPTError ends as one line and exit 1 (exits.py).
"""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from shawgpt.cli.exits import handled
from shawgpt.config import load_settings


@handled
def serve(
    ctx: typer.Context,
    idle: Annotated[float, typer.Option(
        help="Stop after this many idle minutes (0: never).", metavar="MINUTES")] = 0.0,
) -> None:
    """Keep the generator loaded so reply, batch and review skip the load.

    They use it while it runs, for the same data folder and generation settings (else they
    generate in-process, saying why in one line). It listens on <data_dir>/serve.sock,
    keeps the system prompt in the engine's prefix cache, and stops on Ctrl-C or SIGTERM.

    Example: shawgpt serve --idle 30
    """
    from shawgpt.reply.serve import run_server

    def log(text: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)

    try:
        run_server(load_settings(ctx.obj), idle, log)
    except KeyboardInterrupt:
        log("stopped (Ctrl-C)")


def register(app: typer.Typer) -> None:
    app.command()(serve)
