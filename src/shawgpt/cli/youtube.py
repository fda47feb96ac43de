"""The YouTube commands of the command line: fetch, post and auth youtube (docs/youtube.md).

Like cli.py, each only parses, calls one core function in shawgpt.youtube and prints;
`register` adds them to the app. Every ShawGPTError ends as one line and exit 1 (exits.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shawgpt.cli.exits import err as _err
from shawgpt.cli.exits import handled
from shawgpt.config import load_settings
from shawgpt.errors import ShawGPTError


@handled
def fetch(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Option(help="Channel id: all its videos.")] = None,
    video: Annotated[list[str] | None, typer.Option(help="Video id; may be repeated.")]
    = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="CSV (or .jsonl) to write.")]
    = Path("comments.csv"),
    since: Annotated[str | None, typer.Option(help="Only comments from this date on.")]
    = None,
    max_comments: Annotated[int | None, typer.Option("--max", help="At most N comments.")]
    = None,
    include_answered: Annotated[bool, typer.Option(
        "--include-answered", help="Keep threads you answered and ones in the history.")]
    = False,
) -> None:
    """Fetch new top-level comments from YouTube into the CSV `batch` reads (docs/youtube.md).

    Example: shawgpt fetch --channel UC_x5XG1OV2P6uZZ5FSM9Ttw -o comments.csv --max 50
    """
    from shawgpt.youtube.fetch import parse_since, run_fetch

    settings = load_settings(ctx.obj)
    report = run_fetch(settings, out, channel, list(video or []),
                       parse_since(since) if since else None, max_comments, include_answered,
                       _err)
    typer.echo(report.summary())
    if report.stopped:
        raise ShawGPTError(f"stopped early: {report.stopped}")


@handled
def post(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="Approved replies: comment_id and reply.")],
    apply: Annotated[bool, typer.Option("--apply", help="Post for real (default: dry run).")]
    = False,
    max_posts: Annotated[int | None, typer.Option(help="Most replies this run.")] = None,
) -> None:
    """Post approved replies under their comments on YouTube; a dry run unless --apply.

    Example: shawgpt post approved.csv --apply
    """
    from shawgpt.youtube.post import run_post

    settings = load_settings({**(ctx.obj or {}), "max_posts": max_posts})
    report = run_post(settings, src, apply, _err)
    for item in report.items:
        if not apply and item.outcome == "pending":
            text = " ".join(item.reply.split())
            typer.echo(f"would post under {item.comment_id}: {text[:100]}"
                       f"{'...' if len(text) > 100 else ''}")
        elif item.outcome in ("skipped", "failed") or (apply and item.reason):
            typer.echo(f"row {item.row} {item.outcome}: {item.reason}")
    typer.echo(report.summary(settings))
    if report.stopped:
        raise ShawGPTError(f"stopped early: {report.stopped}")
    if report.count("failed"):
        raise typer.Exit(1)


@handled
def auth_youtube(
    ctx: typer.Context,
    logout: Annotated[bool, typer.Option("--logout", help="Remove the saved token.")]
    = False,
    client_secrets: Annotated[Path | None, typer.Option(
        help="OAuth client JSON (Desktop app) from the Google Cloud console.")] = None,
    no_browser: Annotated[bool, typer.Option(
        "--no-browser", help="Print the sign-in address instead of opening it.")] = False,
) -> None:
    """Sign in to YouTube (needed to post; fetch can use an API key instead).

    Example: shawgpt auth youtube --client-secrets client_secret.json
    """
    from shawgpt.youtube import auth

    if logout:
        removed = auth.logout()
        typer.echo(f"Signed out: removed {removed}" if removed else "Not signed in.")
        return
    settings = load_settings(ctx.obj)
    path = auth.sign_in(client_secrets or Path(settings.youtube_client_secrets),
                        open_browser=not no_browser)
    typer.echo(f"Signed in; token saved to {path} (readable by you only).")


def register(app: typer.Typer) -> None:
    app.command()(fetch)
    app.command()(post)
    auth_app = typer.Typer(help="Sign in to the services shawgpt talks to.",
                           no_args_is_help=True)
    auth_app.command("youtube")(auth_youtube)
    app.add_typer(auth_app, name="auth")
