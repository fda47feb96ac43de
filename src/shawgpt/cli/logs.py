"""The `logs` command: the replies shawgpt generated, newest first (reply/log.py).

Like commands.py, it only parses, calls one core function and prints; `register` adds it to
the app. Every ShawGPTError ends as one line and exit 1 (exits.py).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shawgpt.cli.exits import handled, shown
from shawgpt.config import load_settings


def _cut(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def line(item: dict[str, Any]) -> str:
    """One readable line: time, command, status, the comment (60) and the reply (80)."""
    return (f"{item['time']}  {item['command']:<11} {item['status']:<12} "
            f"{_cut(item['comment'], 60)!r} -> {_cut(item['reply'], 80)!r}")


@handled
def logs(
    ctx: typer.Context,
    n: Annotated[int, typer.Option("-n", help="How many, newest first.", min=1)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines, every field.")] = False,
    status: Annotated[str | None, typer.Option(
        help="Only this status: ok, needs_review, error.")] = None,
    search: Annotated[str | None, typer.Option(
        help="Only entries whose comment or reply contains TEXT.", metavar="TEXT")] = None,
) -> None:
    """List the replies generated (reply, batch, review), newest first, from the data folder.

    Each entry holds the comment, the prompt as sent, the reply, its status and reasons,
    sources, evidence, candidates, model (and sha256), adapter, settings, tokens, seconds.

    Example: shawgpt logs -n 5 --status needs_review
    """
    import json

    from shawgpt.reply.log import FILE, read
    from shawgpt.safety.sanitize import json_safe

    settings = load_settings(ctx.obj)
    found = read(settings.data_path, n, status, search)
    if as_json:
        for item in found:
            typer.echo(json_safe(json.dumps(item, ensure_ascii=False)))
        return
    if not found:
        where = settings.data_path / FILE
        typer.echo(f"No logged reply in {where} matches." if status or search else
                   f"No replies logged yet in {where}.")
    for item in found:
        typer.echo(shown(line(item)))


def register(app: typer.Typer) -> None:
    app.command()(logs)
