"""The review and finetune commands of the command line (docs/review.md, docs/finetune.md).

Like cli.py, each only parses, calls one core function and prints; `register_review` and
`register_finetune` add them to the app. Every ShawGPTError ends as one line and exit 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shawgpt.cli.exits import err as _err
from shawgpt.cli.exits import handled
from shawgpt.cli.exits import json_text as _json
from shawgpt.config import load_settings


def _parts(ctx: typer.Context, **more: Any) -> Any:
    from shawgpt.reply.wiring import build

    flags = {**(ctx.obj or {}), **{k: v for k, v in more.items() if v is not None}}
    return build(load_settings(flags))


@handled
def review(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="The CSV or JSONL that `batch` wrote.")],
    column: Annotated[str | None, typer.Option(help="Name of the comment column.")] = None,
    approve_ok: Annotated[bool, typer.Option(
        "--approve-ok", help="Approve every `ok` row, no screen.")] = False,
    export: Annotated[Path | None, typer.Option(
        help="Write the approved rows (input columns, final reply) to this .csv/.jsonl.")]
    = None,
    write: Annotated[bool, typer.Option(
        "--write", help="Write the decisions and final replies into OUT now.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    restart: Annotated[bool, typer.Option(
        "--restart", help="Start a new review (the old journal is kept as .old).")] = False,
) -> None:
    """Review batch's replies before posting: approve, edit, regenerate, reject, skip.

    Every decision is saved at once to OUT.review.jsonl; run the same command to resume.
    Approved and skipped-forever comments are not answered again by a later batch.

    Example: shawgpt review replies.csv --export approved.csv
    """
    from shawgpt.review.run import review_out

    # the person reviews every reply: keep the text of needs_review ones (strict empties it)
    parts = _parts(ctx, strict=False)
    report = review_out(parts, out, column, restart, approve_ok, export, write)
    if as_json:
        typer.echo(_json(report.as_json()))
        return
    for line in report.summary():
        typer.echo(line)


@handled
def finetune(
    ctx: typer.Context,
    pairs: Annotated[Path | None, typer.Argument(
        help="CSV or JSONL of past comments and replies (optional with --answers).")] = None,
    name: Annotated[str, typer.Option(help="Adapter name (.shawgpt/adapters/NAME).")] = "voice",
    epochs: Annotated[int | None, typer.Option(help="Passes over the pairs.")] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate.")] = None,
    rank: Annotated[int | None, typer.Option(help="LoRA rank.")] = None,
    val_fraction: Annotated[float | None, typer.Option(help="Share held out.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the split and the run.")] = None,
    no_context: Annotated[bool, typer.Option("--no-context", help="Bare comments.")] = False,
    comment_column: Annotated[str | None, typer.Option(help="Comment column.")] = None,
    reply_column: Annotated[str | None, typer.Option(help="Reply column.")] = None,
    encoding: Annotated[str | None, typer.Option(help="Encoding (default: detected).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an adapter.")] = False,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Continue NAME after Ctrl-C (same pairs file).")] = False,
    answers: Annotated[int, typer.Option(
        "--answers", min=0, max=200,
        help="Also train on questions the model writes for up to N sentences of each "
             "indexed article, the sentence as the answer (an answer adapter).")] = 0,
) -> None:
    """Train a LoRA adapter in the creator's voice from their past replies (docs/finetune.md).

    Each comment is rendered through the prompts `reply` uses, with the context it would
    retrieve; the loss is on the reply. The best epoch by validation loss is kept; Ctrl-C
    keeps the best finished epoch, or nothing. Use it with --adapter NAME.

    With --answers N, the model also writes a question for up to N sentences of each
    indexed article, and each question whose sentence retrieval finds again is trained with
    that sentence as its answer (docs/finetune.md, "Answer adapters").

    Example: shawgpt finetune YT-comments.csv --name voice
    """
    import os

    from shawgpt.cli.finetune_view import TrainingView
    from shawgpt.voice.finetune import run_finetune

    # as batch: spinning OpenMP threads on a shared CPU made each step ~50x slower here
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    parts = _parts(ctx, finetune_epochs=epochs, finetune_lr=lr, lora_rank=rank,
                   finetune_val_fraction=val_fraction, finetune_seed=seed)
    with TrainingView() as view:
        report = run_finetune(
            parts, pairs, name, _err, use_context=not no_context, answers=answers,
            force=force, resume=resume,
            comment_column=comment_column, reply_column=reply_column, encoding=encoding,
            events=view.events(), preparing=view.preparing)
    *lines, last = view.summary(report)
    for line in lines:
        _err(line)
    if report.outcome.interrupted:
        _err(last)
        raise typer.Exit(130)
    typer.echo(last)


def register_review(app: typer.Typer) -> None:
    app.command()(review)


def register_finetune(app: typer.Typer) -> None:
    app.command()(finetune)
